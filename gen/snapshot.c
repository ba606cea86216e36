/*
 * snapshot: renders the rows of a source into the published tree (see
 * snapshot.h, tree.h, and manifest.c for the manifest's layout).
 *
 * What a build makes, for version V:
 *
 *   lists/<id>.json       {"list", "file", "format", "version", "numItems",
 *                          "items": [item JSON, see item.h]}, or for a
 *                          list of more than HL_LSEG_MIN_ITEMS items,
 *                          "segments" in place of "items": its index
 *   objects/<sha256>      a big list's segments, {"items": [...]}
 *                          (listseg.h), with their .gz
 *   lists/<id>.<txt|yml>  SmokeDetector's file, byte for byte (textfmt.c)
 *   notifications.json    {"version", "numItems", "items": [...]}
 *   proposals.json        the pending proposals (gen/proposals.h)
 *   changes.json          {"version", "oldest", "segments": [{"from", "to",
 *                          "path", "sha256", "bytes", "gz": {...}}]}
 *   changes/<a>-<b>.json  {"from", "to", "events": [event JSON]}
 *   index.html, ...       the site's pages (site.h)
 *   objects/<sha256>      a copy of each mutable file above (and .gz), and
 *                         of manifest.json itself, so that the chain of
 *                         "previous" hashes can be walked back (helios
 *                         verify --chain)
 *   manifest.json[.sig]   manifest.c
 *   objects/<sha256>.sigs every signature of manifest.json, whose hash
 *                         names it (manifest.h), when it is signed
 *
 * Every mutable file has a .gz sibling.  Rendered files are cached with the
 * version they show; the segments with their range.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "keyring.h"
#include "listseg.h"
#include "manifest.h"
#include "par.h"
#include "proposals_json.h"
#include "signer.h"
#include "site.h"
#include "snapshot.h"
#include "spool.h"
#include "textfmt.h"

/* A mutable file and its gzip. */
struct entry {
	char		*path;
	char		*gzpath;
	char		*objpath;
	char		*gzobjpath;
	struct hl_blob	 id;
	struct hl_blob	 gz;
	struct hl_blob_memo memo;
};

struct list_cache {
	struct hl_list	 info;
	int		 valid;
	struct entry	 json;
	struct entry	 text;
	size_t		 json_body;	/* bytes of json up to its last item */
	struct hl_lsegs	 segs;		/* a big list's segments (listseg.h);
					   json is then their index */
};

struct seg {
	int64_t		 from;
	int64_t		 to;
	struct entry	 e;
};

struct hl_snap {
	struct hl_snap_opts	 o;
	struct hl_signer	*signer;	/* NULL: unsigned */
	struct hl_spool		*spool;		/* made at the first big list */
	struct hl_par		*par;		/* a second thread (par.h) */

	struct list_cache	*lists;
	size_t			 nlists;
	int64_t			 notif_version;
	int			 notif_valid;
	struct entry		 notifs;
	int64_t			 prop_version;
	struct entry		 props;
	struct seg		*segs;
	size_t			 nsegs;
	struct entry		 changes;
	struct entry		*pages;		/* the site's pages */
	size_t			 npages;
	struct hl_site_cache	*site_cache;
	struct entry		*assets;
	size_t			 nassets;
	struct hl_manifest_cache *manifest_cache;	/* made at the first */
	struct hl_blob		 manifest;
	struct hl_blob		 manifest_gz;
	struct hl_blob		 sig;
	struct hl_blob		 sigs;		/* every signature */
	char			 manifest_obj[80];	/* objects/<sha256> */
	char			 sigs_obj[80];		/* ... .sigs */

	char			 previous[65];
	int64_t			 version;
	int64_t			 expires;
	char			*summary;
	struct hl_snap_stats	 stats;

	struct hl_file		*files;
	size_t			 nfiles;
	size_t			 capfiles;
	struct hl_tree		 tree;
	/* src->early's: the lists' objects, then the rest's (tell_early) */
	struct hl_file		*early[2];
	size_t			 nearly[2];
	size_t			 capearly[2];
};

/* Empties e, keeping its memo (what a later append can reuse). */
static void
entry_reset(struct entry *e)
{
	struct hl_blob_memo memo = e->memo;

	free(e->path);
	free(e->gzpath);
	free(e->objpath);
	free(e->gzobjpath);
	hl_blob_clear(&e->id);
	hl_blob_clear(&e->gz);
	memset(e, 0, sizeof(*e));
	e->memo = memo;
}

static void
entry_clear(struct entry *e)
{
	entry_reset(e);
	hl_blob_memo_clear(&e->memo);
}

static int entry_name(struct entry *, const char *, struct hl_err *);

/*
 * Makes e hold data (malloc'd, taken) under path, with its gzip and the
 * object names.  keep: how many leading bytes are those of e's previous
 * content (an append), which the chunked gzip and the hashes reuse; 0
 * when unknown.  On error e is empty.
 */
static int
entry_set(struct entry *e, const char *path, char *data, size_t len,
    int level, size_t keep, struct hl_err *err)
{
	int rc;

	entry_reset(e);
	if (len > HL_BLOB_GZIP_BIG &&
	    HL_BLOB_LEVEL(level) > HL_BLOB_GZIP_BIG_LEVEL)
		level = (level & ~0xff) | HL_BLOB_GZIP_BIG_LEVEL;
	if ((rc = hl_blob_make(&e->id, &e->gz, &e->memo, data, len, keep,
	    level, err)) != 0)
		goto fail;
	return entry_name(e, path, err);
fail:
	entry_clear(e);
	return rc;
}

/*
 * Gives e (holding its blobs) its path and object names.  On error e is
 * empty.
 */
static int
entry_name(struct entry *e, const char *path, struct hl_err *err)
{
	int rc;

	if ((e->path = strdup(path)) == NULL ||
	    asprintf(&e->gzpath, "%s.gz", path) < 0 ||
	    asprintf(&e->objpath, "objects/%s", e->id.sha256) < 0 ||
	    asprintf(&e->gzobjpath, "objects/%s.gz", e->id.sha256) < 0) {
		e->gzpath = e->objpath = e->gzobjpath = NULL;
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	entry_clear(e);
	return rc;
}

/* Serialises j (stolen) deterministically into e. */
static int
entry_json(struct entry *e, const char *path, json_t *j, int level,
    struct hl_err *err)
{
	char *s;

	if (j == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	/* A final newline, so the file reads well with cat and curl. */
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);

		if (t == NULL) {
			free(s);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		t[n] = '\n';
		t[n + 1] = '\0';
		return entry_set(e, path, t, n + 1, level, 0, err);
	}
}

int
hl_snap_new(struct hl_snap **out, const struct hl_snap_opts *o,
    struct hl_err *err)
{
	struct hl_snap *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	s->o = *o;
	if (s->o.gzip_level <= 0 || s->o.gzip_level > 9)
		s->o.gzip_level = HL_BLOB_GZIP_LEVEL;
	/* Every file's last chunk by libdeflate (blob.h). */
	s->o.gzip_level |= HL_BLOB_LIBDEFLATE;
	if (s->o.manifest_ttl <= 0)
		s->o.manifest_ttl = 604800;
	if (s->o.poll_interval <= 0)
		s->o.poll_interval = 60;
	if ((rc = hl_par_new(&s->par, err)) != 0) {
		free(s);
		return rc;
	}
	if (o->signing_key != NULL &&
	    (rc = hl_signer_open(&s->signer, o->signing_key, err)) != 0) {
		hl_par_free(s->par);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
hl_snap_free(struct hl_snap *s)
{
	size_t i;

	if (s == NULL)
		return;
	hl_par_free(s->par);
	for (i = 0; i < s->nlists; i++) {
		hl_list_clear(&s->lists[i].info);
		entry_clear(&s->lists[i].json);
		entry_clear(&s->lists[i].text);
		hl_lsegs_clear(&s->lists[i].segs);
	}
	free(s->lists);
	entry_clear(&s->notifs);
	entry_clear(&s->props);
	for (i = 0; i < s->nsegs; i++)
		entry_clear(&s->segs[i].e);
	free(s->segs);
	entry_clear(&s->changes);
	for (i = 0; i < s->npages; i++)
		entry_clear(&s->pages[i]);
	free(s->pages);
	hl_site_cache_free(s->site_cache);
	for (i = 0; i < s->nassets; i++)
		entry_clear(&s->assets[i]);
	free(s->assets);
	hl_manifest_cache_free(s->manifest_cache);
	hl_blob_clear(&s->manifest);
	hl_blob_clear(&s->manifest_gz);
	hl_blob_clear(&s->sig);
	hl_blob_clear(&s->sigs);
	free(s->summary);
	free(s->files);
	free(s->early[0]);
	free(s->early[1]);
	hl_signer_free(s->signer);
	hl_spool_free(s->spool);
	free(s);
}

void
hl_snap_set_previous(struct hl_snap *s, const char *sha256)
{
	snprintf(s->previous, sizeof(s->previous), "%s", sha256);
}

void
hl_snap_stats(struct hl_snap_stats *out, const struct hl_snap *s)
{
	*out = s->stats;
}

int64_t
hl_snap_version(const struct hl_snap *s)
{
	return s->version;
}

int64_t
hl_snap_expires(const struct hl_snap *s)
{
	return s->expires;
}

static int64_t
clock_now(const struct hl_snap *s)
{
	return s->o.now ? s->o.now : (int64_t)time(NULL);
}

int
hl_snap_keys_stale(const struct hl_snap *s)
{
	return s->signer != NULL && hl_signer_stale(s->signer, clock_now(s));
}

/*
 * The document of list l without its items, split where the items go:
 * jansson writes (and escapes) everything but the item array, whose items
 * are streamed in between by hl_item_json_write.
 */
static int
list_doc_ends(char **head, char **tail, const struct hl_list *l)
{
	json_t *h, *t;

	*head = *tail = NULL;
	h = json_pack("{s:s, s:s}", "file", l->file,
	    "format", hl_fmt_name(l->fmt));
	t = json_pack("{s:s, s:I, s:I}", "list", l->id,
	    "numItems", (json_int_t)l->count,
	    "version", (json_int_t)l->version);
	if (h != NULL && t != NULL) {
		*head = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
		*tail = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(h);
	json_decref(t);
	if (*head == NULL || *tail == NULL) {
		free(*head);
		free(*tail);
		return HL_ENOMEM;
	}
	return 0;
}

/*
 * How many leading bytes of p the previous content b shares: a change in
 * the middle of a big text file (a delete) then compresses and hashes
 * again only the chunks from the change on (blob.h), not the whole file.
 */
static size_t
same_prefix(const struct hl_blob *b, const char *p, size_t len)
{
	size_t n = b->len < len ? b->len : len, k = 0;

	if (b->data == NULL)
		return 0;
	while (k + 4096 <= n && memcmp(b->data + k, p + k, 4096) == 0)
		k += 4096;
	while (k < n && b->data[k] == (unsigned char)p[k])
		k++;
	return k;
}

/*
 * One rendering of a list, fed its items in batches (render_list): the
 * text file and the JSON (whole, or segments) each on a thread of its own,
 * a lane, while the source reads the next batch on the caller's.  A
 * spooled list's text goes to a spool writer as it is made; another's
 * collects in text.
 */
struct render;

struct lane {
	struct render	*r;
	void		(*run)(struct render *, const struct hl_item *,
			    size_t);
	pthread_t	 thr;
	int		 busy;		/* the batch posted, not done */
};

struct render {
	struct list_cache	*lc;
	int			 level;
	/* the text */
	struct hl_buf		 text;
	struct hl_spool_w	*tw;		/* spooled: the writer */
	int			 nl;		/* the last batch ended on a line
						   cut short: '\n' first */
	int			 trc;
	struct hl_err		 terr;
	/* the JSON */
	struct hl_buf		 json;
	size_t			 njson;		/* items written */
	char			*tail;
	struct hl_lseg_bld	*seg;		/* segmented: the builder */
	int			 jrc;
	struct hl_err		 jerr;
	/* the hand-over of a batch to the lanes */
	struct lane		 lanes[2];	/* text, JSON */
	int			 threaded;	/* both lanes run */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	const struct hl_item	*batch;
	size_t			 n;
	int			 quit;
};

/* The text of one batch (plain and tsv are line by line). */
static void
text_batch(struct render *r, const struct hl_item *v, size_t n)
{
	const char *src;
	size_t len;

	if (r->trc != 0)
		return;
	if (r->nl && hl_buf_putc(&r->text, '\n') != 0) {
		r->trc = hl_err_set(&r->terr, HL_ENOMEM, "out of memory");
		return;
	}
	r->nl = 0;
	if ((r->trc = hl_textfmt_render(&r->text, r->lc->info.fmt, v, n,
	    &r->terr)) != 0)
		return;
	/* A line kept cut short gets its '\n' once it is not last. */
	src = n > 0 ? v[n - 1].src : NULL;
	if (src != NULL && ((len = strlen(src)) == 0 || src[len - 1] != '\n'))
		r->nl = 1;
	if (r->tw != NULL) {
		r->trc = hl_spool_w_write(r->tw, r->text.data, r->text.len,
		    &r->terr);
		hl_buf_reset(&r->text);
	}
}

/* The JSON of one batch: into segments, or the whole document. */
static void
json_batch(struct render *r, const struct hl_item *v, size_t n)
{
	size_t i;

	if (r->jrc != 0)
		return;
	if (r->seg != NULL) {
		r->jrc = hl_lseg_put(r->seg, v, n, &r->jerr);
		return;
	}
	for (i = 0; i < n && r->jrc == 0; i++) {
		if (v[i].verbatim)
			continue;
		if ((r->njson++ > 0 && hl_buf_putc(&r->json, ',') != 0) ||
		    hl_item_json_write(&r->json, &v[i], r->lc->info.id,
		    r->lc->info.fmt) != 0)
			r->jrc = hl_err_set(&r->jerr, HL_ENOMEM,
			    "out of memory");
	}
}

static void *
lane_thread(void *arg)
{
	struct lane *l = arg;
	struct render *r = l->r;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!l->busy && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!l->busy)
			break;
		pthread_mutex_unlock(&r->mu);
		l->run(r, r->batch, r->n);
		pthread_mutex_lock(&r->mu);
		l->busy = 0;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Starts the lanes; r->threaded 0 when they cannot run (then inline). */
static void
lanes_start(struct render *r)
{
	int i;

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->lanes[0].run = text_batch;
	r->lanes[1].run = json_batch;
	for (i = 0; i < 2; i++) {
		r->lanes[i].r = r;
		if (pthread_create(&r->lanes[i].thr, NULL, lane_thread,
		    &r->lanes[i]) != 0)
			break;
	}
	r->threaded = i == 2;
	if (i == 1) {
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->lanes[0].thr, NULL);
	}
}

/* Stops the lanes, idle since items_each's last call (render_batch). */
static void
lanes_stop(struct render *r)
{
	int i;

	if (r->threaded) {
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		for (i = 0; i < 2; i++)
			pthread_join(r->lanes[i].thr, NULL);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/*
 * items_each's callback: waits for the lanes to be done with the batch
 * before (the source's again once this returns), then posts v to both and
 * returns while they render it.  v NULL is the end: only the wait.
 */
static int
render_batch(const struct hl_item *v, size_t n, void *arg)
{
	struct render *r = arg;
	int rc;

	if (!r->threaded) {
		if (v != NULL) {
			text_batch(r, v, n);
			json_batch(r, v, n);
		}
		return r->trc != 0 ? r->trc : r->jrc;
	}
	pthread_mutex_lock(&r->mu);
	while (r->lanes[0].busy || r->lanes[1].busy)
		pthread_cond_wait(&r->cv, &r->mu);
	/* Read while the lanes are idle: they write it as they render. */
	rc = r->trc != 0 ? r->trc : r->jrc;
	if (v != NULL && rc == 0) {
		r->batch = v;
		r->n = n;
		r->lanes[0].busy = r->lanes[1].busy = 1;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* The items of lc's list, in batches, to fn. */
static int
each_item(const struct hl_snap_source *src, const struct list_cache *lc,
    int (*fn)(const struct hl_item *, size_t, void *), void *arg,
    struct hl_err *err)
{
	static const struct hl_item none;
	struct hl_item *items = NULL;
	size_t n = 0;
	int rc, end;

	/* yaml is rendered as a whole (its header counts the items). */
	if (src->items_each != NULL && !hl_fmt_is_yaml(lc->info.fmt))
		return src->items_each(src->payload, lc->info.id,
		    HL_SNAP_BATCH, fn, arg, err);
	if ((rc = src->items(&items, &n, src->payload, lc->info.id, err)) != 0)
		return rc;
	/* An empty list is one empty batch too: a yaml file has its header. */
	rc = fn(items != NULL ? items : &none, n, arg);
	/* The end (snapshot.h): fn lets go of the batch. */
	end = fn(NULL, 0, arg);
	hl_items_free(items, n);
	return rc != 0 ? rc : end;
}

/*
 * The index of a segmented list into lc->json: the whole-list document
 * with "segments" (listseg.h) where "items" would be, the same bytes as
 * json_dumps with sorted keys would give.  jansson writes the keys
 * before "segments" (names to escape), hl_lseg_index the array.
 */
static int
render_index(struct list_cache *lc, const struct hl_list *l, int level,
    struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	char path[128], *head = NULL, *data;
	size_t len;
	json_t *h;

	snprintf(path, sizeof(path), "lists/%s.json", l->id);
	lc->json_body = 0;
	h = json_pack("{s:s, s:s, s:s, s:I}", "file", l->file,
	    "format", hl_fmt_name(l->fmt), "list", l->id,
	    "numItems", (json_int_t)l->count);
	if (h != NULL)
		head = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(h);
	if (head == NULL || hl_buf_put(&b, head, strlen(head) - 1) != 0 ||
	    hl_buf_puts(&b, ",\"segments\":") != 0 ||
	    hl_lseg_index(&b, &lc->segs) != 0 ||
	    hl_buf_printf(&b, ",\"version\":%lld}\n",
	    (long long)l->version) != 0) {
		free(head);
		hl_buf_free(&b);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	free(head);
	data = hl_buf_detach(&b, &len);
	return entry_set(&lc->json, path, data, len, level, 0, err);
}

/* Is this list written to the spool (spool.h)? */
static int
spooled(const struct hl_snap *s, const struct hl_list *l)
{
	int64_t min = s->o.spool_items > 0 ? s->o.spool_items :
	    HL_SNAP_SPOOL_ITEMS;

	return l->count >= min && (l->fmt == HL_FMT_PLAIN ||
	    l->fmt == HL_FMT_TSV);
}

/*
 * The level of a list's JSON segments: a big list's take the big files'
 * level (HL_BLOB_GZIP_BIG_LEVEL), as its text file does, whatever their
 * size; the others' take level.  Either way libdeflate makes each one's
 * last chunk (blob.h, HL_BLOB_LIBDEFLATE).
 */
static int
seg_level(const struct hl_snap *s, const struct hl_list *l, int level)
{
	int64_t min = s->o.big_items > 0 ? s->o.big_items :
	    HL_SNAP_BIG_ITEMS;

	if (l->count < min)
		return level;
	return (HL_BLOB_LEVEL(level) > HL_BLOB_GZIP_BIG_LEVEL ?
	    HL_BLOB_GZIP_BIG_LEVEL : HL_BLOB_LEVEL(level)) |
	    HL_BLOB_LIBDEFLATE;
}

static int
spool_ready(struct hl_snap *s, struct hl_err *err)
{
	if (s->spool != NULL)
		return 0;
	return hl_spool_new(&s->spool, s->o.spool_dir, err);
}

/* The path of lc's text file. */
static void
text_path(char *path, size_t len, const struct list_cache *lc)
{
	const char *dot = strrchr(lc->info.file, '.');

	snprintf(path, len, "lists/%s%s", lc->info.id, dot ? dot : ".txt");
}

/*
 * Renders one list's JSON and text files from its items, read in batches
 * (each_item), the text on a second thread.  The JSON is the same bytes
 * as json_dumps of the whole document with sorted keys would give
 * ("file", "format", "items", "list", "numItems", "version"), written in
 * one pass without a JSON tree; a big list's is an index of segments
 * instead (render_index), the segments kept when their bytes did not
 * change.  A spooled list's text and segments go to the spool as they are
 * made, so memory holds a batch of items and a few MB of output whatever
 * the list's size.  *made counts the segments compressed.
 */
static int
render_list(struct hl_snap *s, struct list_cache *lc,
    const struct hl_snap_source *src, int level, size_t *made,
    struct hl_err *err)
{
	struct render r;
	struct hl_lsegs old = { NULL, 0 };
	struct hl_blob_memo memo;
	struct hl_blob id, gz;
	char path[128], *head = NULL, *data;
	size_t len;
	int rc = 0, spool = spooled(s, &lc->info);

	lc->valid = 0;
	memset(&r, 0, sizeof(r));
	r.lc = lc;
	r.level = level;
	if (spool && ((rc = spool_ready(s, err)) != 0 ||
	    (rc = hl_spool_w_open(&r.tw, s->spool, level, NULL, NULL, NULL,
	    0, err)) != 0))
		return rc;
	if (hl_lseg_wanted(lc->info.count)) {
		/* The builder takes over old's segments (cleared at finish). */
		old = lc->segs;
		memset(&lc->segs, 0, sizeof(lc->segs));
		if ((rc = hl_lseg_start(&r.seg, &old, spool ? s->spool : NULL,
		    lc->info.id, lc->info.fmt, seg_level(s, &lc->info, level),
		    err)) != 0)
			goto out;
	} else {
		hl_lsegs_clear(&lc->segs);
		if (list_doc_ends(&head, &r.tail, &lc->info) != 0 ||
		    hl_buf_grow(&r.json, 256 * (size_t)(lc->info.count > 0 ?
		    lc->info.count : 0) + 1024) != 0 ||
		    hl_buf_put(&r.json, head, strlen(head) - 1) != 0 ||
		    hl_buf_puts(&r.json, ",\"items\":[") != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
	}
	lanes_start(&r);
	rc = each_item(src, lc, render_batch, &r, err);
	lanes_stop(&r);
	if (r.trc != 0) {
		rc = r.trc;
		if (err != NULL)
			*err = r.terr;
		goto out;
	}
	if (r.jrc != 0) {
		rc = r.jrc;
		if (err != NULL)
			*err = r.jerr;
	}
	if (rc != 0)
		goto out;

	/* The JSON. */
	if (r.seg != NULL) {
		rc = hl_lseg_finish(&lc->segs, r.seg, made, err);
		r.seg = NULL;
		if (rc == 0)
			rc = render_index(lc, &lc->info, level, err);
	} else {
		lc->json_body = r.json.len;
		if (hl_buf_puts(&r.json, "],") != 0 ||
		    hl_buf_puts(&r.json, r.tail + 1) != 0 ||
		    hl_buf_putc(&r.json, '\n') != 0)
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		else {
			snprintf(path, sizeof(path), "lists/%s.json",
			    lc->info.id);
			data = hl_buf_detach(&r.json, &len);
			rc = entry_set(&lc->json, path, data, len, level, 0,
			    err);
		}
	}
	if (rc != 0)
		goto out;

	/* The text. */
	text_path(path, sizeof(path), lc);
	if (r.tw != NULL) {
		memset(&memo, 0, sizeof(memo));
		rc = hl_spool_w_close(&id, &gz, &memo, r.tw, err);
		r.tw = NULL;
		if (rc == 0) {
			entry_clear(&lc->text);
			lc->text.id = id;
			lc->text.gz = gz;
			lc->text.memo = memo;
			rc = entry_name(&lc->text, path, err);
		}
	} else {
		data = hl_buf_detach(&r.text, &len);
		rc = entry_set(&lc->text, path, data, len, level,
		    same_prefix(&lc->text.id, data, len), err);
	}
	if (rc == 0)
		lc->valid = 1;
out:
	hl_spool_w_abort(r.tw);
	hl_lseg_abort(r.seg);
	hl_lsegs_clear(&old);
	hl_buf_free(&r.text);
	hl_buf_free(&r.json);
	free(head);
	free(r.tail);
	return rc;
}

/*
 * The events that brought list l from version `from` to l->version, when
 * they are all additions of ordinary items (not verbatim lines): the usual
 * change, a new pattern.  Returns 0 with the new items in *out, or -1 when
 * the list must be rendered in full (any delete, too many events, an
 * import of comment lines, a count that does not add up).
 */
static int
appended_items(struct hl_item **out, size_t *nout,
    const struct hl_snap_source *src, const struct hl_list *l, int64_t from,
    int64_t count_before)
{
	struct hl_event *ev = NULL;
	struct hl_item *v = NULL;
	json_t *r;
	size_t n = 0, i, k = 0;
	int ok = 1;

	*out = NULL;
	*nout = 0;
	if (l->version - from > 256 ||
	    src->events(&ev, &n, src->payload, from, 256, NULL) != 0)
		return -1;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		ok = 0;
	for (i = 0; ok && i < n && ev[i].version <= l->version; i++) {
		if (strcmp(ev[i].list, l->id) != 0)
			continue;
		r = json_loads(ev[i].record, 0, NULL);
		ok = strcmp(ev[i].op, "add") == 0 &&
		    hl_item_from_json(&v[k], r) == 0;
		json_decref(r);
		if (ok && v[k++].verbatim)
			ok = 0;
	}
	/* Every event up to the list's version was read, and they add up. */
	ok = ok && k > 0 && count_before + (int64_t)k == l->count &&
	    !(n == 256 && ev[n - 1].version < l->version);
	hl_events_free(ev, n);
	if (!ok) {
		hl_items_free(v, k);
		return -1;
	}
	*out = v;
	*nout = k;
	return 0;
}

/* The last byte of b (in memory or spooled), or -1. */
static int
blob_last(const struct hl_blob *b)
{
	unsigned char c;
	int fd;
	ssize_t k;

	if (b->len == 0)
		return -1;
	if (b->data != NULL)
		return b->data[b->len - 1];
	if (b->spool == NULL ||
	    (fd = open(b->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	k = pread(fd, &c, 1, (off_t)(b->len - 1));
	close(fd);
	return k == 1 ? c : -1;
}

/*
 * Appends the lines of items to lc's text file: a spooled file is written
 * again as a new spool file from its unchanged chunks (copied, with their
 * gzip and hash states from the memo) and the new lines; one in memory is
 * copied and made again with the same reuse (entry_set's keep).  0, or -1
 * with lc's text as it was or empty.
 */
static int
append_text(struct hl_snap *s, struct list_cache *lc,
    const struct hl_item *items, size_t n, int fmt, int level)
{
	struct hl_buf text = HL_BUF_INIT;
	struct hl_spool_w *w = NULL;
	struct hl_blob id, gz;
	struct hl_blob_memo memo;
	char tpath[128], *data;
	size_t keep = lc->text.id.len, len;
	int rc = -1;

	snprintf(tpath, sizeof(tpath), "%s", lc->text.path);
	if (lc->text.id.spool != NULL) {
		if (hl_textfmt_render(&text, fmt, items, n, NULL) != 0 ||
		    s->spool == NULL ||
		    hl_spool_w_open(&w, s->spool, level, &lc->text.memo,
		    &lc->text.id, &lc->text.gz, keep, NULL) != 0 ||
		    hl_spool_w_write(w, text.data, text.len, NULL) != 0)
			goto out;
		memset(&memo, 0, sizeof(memo));
		rc = hl_spool_w_close(&id, &gz, &memo, w, NULL);
		w = NULL;
		if (rc != 0) {
			rc = -1;
			goto out;
		}
		entry_clear(&lc->text);
		lc->text.id = id;
		lc->text.gz = gz;
		lc->text.memo = memo;
		rc = entry_name(&lc->text, tpath, NULL) == 0 ? 0 : -1;
		goto out;
	}
	/*
	 * The new lines go at the end of the old text's own buffer: a
	 * realloc, not a copy of the whole file (for a big buffer glibc
	 * moves the mapping, it does not copy it).  The entry gives the
	 * buffer up first; on failure the caller renders the list in full.
	 */
	text.data = (char *)lc->text.id.data;
	text.len = lc->text.id.len;
	text.cap = text.len;	/* at least: the next write reallocs */
	lc->text.id.data = NULL;
	lc->text.id.len = 0;
	if (hl_textfmt_render(&text, fmt, items, n, NULL) != 0)
		goto out;
	data = hl_buf_detach(&text, &len);
	rc = entry_set(&lc->text, tpath, data, len, level, keep, NULL) == 0 ?
	    0 : -1;
out:
	hl_spool_w_abort(w);
	hl_buf_free(&text);
	return rc;
}

/* append_text's arguments, for a thread of its own. */
struct text_job {
	struct hl_snap		*s;
	struct list_cache	*lc;
	const struct hl_item	*items;
	size_t			 n;
	int			 fmt;
	int			 level;
};

static int
text_job(void *arg)
{
	struct text_job *j = arg;

	return append_text(j->s, j->lc, j->items, j->n, j->fmt, j->level);
}

/*
 * Appends items to an already rendered plain or tsv list: the JSON keeps
 * its bytes up to the last item and gets the new items and a new tail (a
 * segmented list: its open segment is made again with them, and its
 * index), the text file gets their lines.  Exactly the bytes a full
 * render of the list would give (test_snapshot checks).  -1: render in
 * full instead.
 */
static int
append_list(struct hl_snap *s, struct list_cache *lc,
    const struct hl_list *now, const struct hl_snap_source *src, int level,
    size_t *made)
{
	struct hl_item *items = NULL;
	struct hl_buf json = HL_BUF_INIT;
	char *head = NULL, *tail = NULL, *data;
	struct text_job tj;
	struct hl_par_job text;
	struct hl_spool *sp;
	char jpath[128];
	size_t n = 0, i, len, body;
	int rc = -1, seg = hl_lseg_wanted(now->count);

	/*
	 * A file kept cut short (no last '\n') is rendered in full, and so
	 * is a list that changes form (whole / segmented).
	 */
	if (!lc->valid || (now->fmt != HL_FMT_PLAIN &&
	    now->fmt != HL_FMT_TSV) || seg != (lc->segs.n > 0) ||
	    seg_level(s, now, 0) != seg_level(s, &lc->info, 0) ||
	    (!seg && lc->json_body == 0) ||
	    (lc->text.id.len > 0 && blob_last(&lc->text.id) != '\n') ||
	    appended_items(&items, &n, src, now, lc->info.version,
	    lc->info.count) != 0)
		return -1;
	snprintf(jpath, sizeof(jpath), "%s", lc->json.path);
	/* The text file on a second thread, the JSON here (par.h). */
	tj.s = s;
	tj.lc = lc;
	tj.items = items;
	tj.n = n;
	tj.fmt = now->fmt;
	tj.level = level;
	sp = lc->text.id.spool != NULL ? s->spool : NULL;
	hl_par_start(s->par, &text, text_job, &tj);
	if (seg) {
		rc = hl_lseg_append(&lc->segs, items, n, now->id, now->fmt,
		    seg_level(s, now, level), sp, made, NULL) != 0 ||
		    render_index(lc, now, level, NULL) != 0 ? -1 : 0;
		goto out;
	}
	if (list_doc_ends(&head, &tail, now) != 0 ||
	    hl_buf_grow(&json, lc->json.id.len + 512 * n) != 0 ||
	    hl_buf_put(&json, lc->json.id.data, lc->json_body) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((lc->info.count + (int64_t)i > 0 &&
		    hl_buf_putc(&json, ',') != 0) ||
		    hl_item_json_write(&json, &items[i], now->id,
		    now->fmt) != 0)
			goto out;
	body = json.len;
	if (hl_buf_puts(&json, "],") || hl_buf_puts(&json, tail + 1) ||
	    hl_buf_putc(&json, '\n'))
		goto out;
	data = hl_buf_detach(&json, &len);
	if (entry_set(&lc->json, jpath, data, len, level, lc->json_body,
	    NULL) == 0) {
		lc->json_body = body;
		rc = 0;
	}
out:
	if (hl_par_join(s->par, &text) != 0)
		rc = -1;
	if (rc != 0)
		lc->valid = 0;
	free(head);
	free(tail);
	hl_buf_free(&json);
	hl_items_free(items, n);
	return rc;
}

/* Brings the list cache in line with the store's lists. */
static int
render_lists(struct hl_snap *s, const struct hl_snap_source *src,
    struct hl_err *err)
{
	struct hl_list *lists = NULL;
	struct list_cache *lc;
	size_t n = 0, i, j, made = 0;
	int rc;

	if ((rc = src->lists(&lists, &n, src->payload, err)) != 0)
		return rc;
	if (n != s->nlists) {
		/* The set of lists changed (a migration): start over. */
		for (i = 0; i < s->nlists; i++) {
			hl_list_clear(&s->lists[i].info);
			entry_clear(&s->lists[i].json);
			entry_clear(&s->lists[i].text);
			hl_lsegs_clear(&s->lists[i].segs);
		}
		free(s->lists);
		s->nlists = 0;
		if ((s->lists = calloc(n, sizeof(*s->lists))) == NULL) {
			hl_lists_free(lists, n);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		s->nlists = n;
	}
	for (i = 0; i < n; i++) {
		lc = &s->lists[i];
		j = lc->info.id && strcmp(lc->info.id, lists[i].id) == 0;
		if (j && lc->valid && lc->info.version == lists[i].version &&
		    lc->info.count == lists[i].count)
			continue;
		if (j && append_list(s, lc, &lists[i], src, s->o.gzip_level,
		    &made) == 0) {
			hl_list_clear(&lc->info);
			lc->info = lists[i];
			memset(&lists[i], 0, sizeof(lists[i]));
			s->stats.lists_appended++;
			continue;
		}
		hl_list_clear(&lc->info);
		lc->info = lists[i];
		memset(&lists[i], 0, sizeof(lists[i]));
		if ((rc = render_list(s, lc, src, s->o.gzip_level, &made,
		    err)) != 0)
			break;
		s->stats.lists_rendered++;
		s->stats.bytes_compressed += (int64_t)(lc->json.id.len +
		    lc->text.id.len);
	}
	hl_lists_free(lists, n);
	s->stats.list_segments_made += (int64_t)made;
	return rc;
}

static int
render_notifs(struct hl_snap *s, const struct hl_snap_source *src,
    struct hl_err *err)
{
	struct hl_notif *v = NULL;
	json_t *arr;
	size_t n = 0, i;
	int64_t version = src->notifs_version(src->payload);
	int rc;

	if (s->o.no_notifications ||
	    (s->notif_valid && s->notif_version == version))
		return 0;
	s->notif_valid = 0;
	if ((rc = src->notifs(&v, &n, src->payload, err)) != 0)
		return rc;
	if ((arr = json_array()) == NULL) {
		hl_notifs_free(v, n);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, hl_notif_json(&v[i]));
	hl_notifs_free(v, n);
	rc = entry_json(&s->notifs, "notifications.json",
	    json_pack("{s:I, s:I, s:o}", "version", (json_int_t)version,
	    "numItems", (json_int_t)n, "items", arr), s->o.gzip_level, err);
	if (rc == 0) {
		s->notif_valid = 1;
		s->notif_version = version;
	}
	return rc;
}

/* proposals.json, from one read of the pending proposals. */
static int
render_proposals(struct hl_snap *s, const struct hl_snap_source *src,
    struct hl_err *err)
{
	json_t *arr = NULL;
	int64_t version;
	int rc;

	if (src->proposals_version == NULL)
		return 0;
	version = src->proposals_version(src->payload);
	if (s->props.path != NULL && s->prop_version == version)
		return 0;
	if ((rc = src->proposals(&arr, src->payload, HL_GEN_PROPOSALS_MAX,
	    err)) != 0)
		return rc;
	rc = entry_json(&s->props, HL_GEN_PROPOSALS_PATH,
	    hl_gen_proposals(arr, version), s->o.gzip_level, err);
	if (rc == 0)
		s->prop_version = version;
	return rc;
}

/*
 * The window of change segments for version v: from the oldest version
 * kept, whole HL_SNAP_SEG_BIG segments, then HL_SNAP_SEG_MID ones, then
 * single versions up to v.  Every version in the window is in exactly one
 * segment.  No segment reaches down to low, the last version whose
 * events the source lacks (0 for none; a database restored from a
 * published tree starts at that tree's version): such a segment would
 * bear the name of one published before with the events in it, and say
 * that nothing happened.  Writes at most nmax ranges to from[]/to[];
 * returns the count.
 */
static size_t
window(int64_t *from, int64_t *to, size_t nmax, int64_t v, int64_t low)
{
	static const int64_t sizes[] = { HL_SNAP_SEG_BIG, HL_SNAP_SEG_MID, 1 };
	int64_t pos, oldest;
	size_t n = 0, k;

	oldest = v > HL_SNAP_WINDOW ? v - HL_SNAP_WINDOW : 0;
	/* Start on a big boundary so old segments stay the same files. */
	pos = oldest / HL_SNAP_SEG_BIG * HL_SNAP_SEG_BIG + 1;
	if (pos <= low)
		pos = low + 1;
	for (k = 0; k < 3; k++)
		while (pos + sizes[k] - 1 <= v && n < nmax) {
			from[n] = pos;
			to[n] = pos + sizes[k] - 1;
			pos += sizes[k];
			n++;
		}
	return n;
}

/*
 * The last version whose event the source lacks: the first event's
 * version - 1, or v when it holds none (0 for a source that has every
 * event since the first version).
 */
static int
events_floor(int64_t *out, const struct hl_snap_source *src, int64_t v,
    struct hl_err *err)
{
	struct hl_event *ev = NULL;
	size_t n = 0;
	int rc;

	if ((rc = src->events(&ev, &n, src->payload, 0, 1, err)) != 0)
		return rc;
	*out = n > 0 ? ev[0].version - 1 : v;
	hl_events_free(ev, n);
	return 0;
}

static int
render_seg(struct seg *g, int64_t from, int64_t to,
    const struct hl_snap_source *src, int level, struct hl_err *err)
{
	struct hl_event *ev = NULL;
	json_t *arr;
	char path[96];
	size_t n = 0, i;
	int rc;

	if ((rc = src->events(&ev, &n, src->payload, from - 1,
	    (size_t)(to - from + 1), err)) != 0)
		return rc;
	if ((arr = json_array()) == NULL) {
		hl_events_free(ev, n);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, hl_event_json(&ev[i]));
	hl_events_free(ev, n);
	snprintf(path, sizeof(path), "changes/%lld-%lld.json",
	    (long long)from, (long long)to);
	g->from = from;
	g->to = to;
	return entry_json(&g->e, path, json_pack("{s:I, s:I, s:o}",
	    "from", (json_int_t)from, "to", (json_int_t)to, "events", arr),
	    level, err);
}

static json_t *
file_ref(const struct entry *e)
{
	return json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:I}}",
	    "path", e->path, "sha256", e->id.sha256,
	    "bytes", (json_int_t)e->id.len,
	    "gz", "path", e->gzpath, "sha256", e->gz.sha256,
	    "bytes", (json_int_t)e->gz.len);
}

/* Updates the segment window to version v and writes changes.json. */
static int
render_changes(struct hl_snap *s, const struct hl_snap_source *src,
    int64_t v, struct hl_err *err)
{
	int64_t from[HL_SNAP_WINDOW / HL_SNAP_SEG_BIG + 2 * HL_SNAP_SEG_MID];
	int64_t to[sizeof(from) / sizeof(from[0])];
	struct seg *segs;
	json_t *arr;
	size_t n, i, j;
	int64_t low;
	int rc;

	if ((rc = events_floor(&low, src, v, err)) != 0)
		return rc;
	n = window(from, to, sizeof(from) / sizeof(from[0]), v, low);
	if ((segs = calloc(n ? n : 1, sizeof(*segs))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		/* Keep a segment already made: it is immutable. */
		for (j = 0; j < s->nsegs; j++)
			if (s->segs[j].from == from[i] &&
			    s->segs[j].to == to[i] && s->segs[j].e.path) {
				segs[i] = s->segs[j];
				memset(&s->segs[j], 0, sizeof(s->segs[j]));
				break;
			}
		if (j == s->nsegs && rc == 0) {
			rc = render_seg(&segs[i], from[i], to[i], src,
			    s->o.gzip_level, err);
			s->stats.segments_rendered++;
		}
	}
	for (j = 0; j < s->nsegs; j++)
		entry_clear(&s->segs[j].e);
	free(s->segs);
	s->segs = segs;
	s->nsegs = n;
	if (rc != 0)
		return rc;
	if ((arr = json_array()) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *r = file_ref(&segs[i].e);

		json_object_set_new(r, "from", json_integer(segs[i].from));
		json_object_set_new(r, "to", json_integer(segs[i].to));
		json_array_append_new(arr, r);
	}
	return entry_json(&s->changes, "changes.json", json_pack(
	    "{s:I, s:I, s:I, s:o}", "version", (json_int_t)v,
	    "oldest", (json_int_t)(n ? from[0] - 1 : v),
	    "window", (json_int_t)HL_SNAP_WINDOW, "segments", arr),
	    s->o.gzip_level, err);
}

/*
 * The one-line summary of what changed since the last build, for commit
 * messages and logs: "v12: +3 -1 blacklist-website; +1 watch-keyword
 * (by alice)".
 */
static int
summarise(struct hl_snap *s, const struct hl_snap_source *src,
    int64_t v, struct hl_err *err)
{
	struct hl_event *ev = NULL;
	struct hl_buf b = HL_BUF_INIT;
	size_t n = 0, i, j;
	int rc, adds, dels;

	free(s->summary);
	s->summary = NULL;
	if ((rc = src->events(&ev, &n, src->payload, s->version, 10000,
	    err)) != 0)
		return rc;
	hl_buf_printf(&b, "v%lld:", (long long)v);
	for (i = 0; i < n; i++) {
		/* Each list once, at its first event. */
		for (j = 0; j < i; j++)
			if (strcmp(ev[j].list, ev[i].list) == 0)
				break;
		if (j < i)
			continue;
		adds = dels = 0;
		for (j = i; j < n; j++)
			if (strcmp(ev[j].list, ev[i].list) == 0) {
				if (strcmp(ev[j].op, "add") == 0)
					adds++;
				else
					dels++;
			}
		hl_buf_printf(&b, "%s", i ? ";" : "");
		if (adds)
			hl_buf_printf(&b, " +%d", adds);
		if (dels)
			hl_buf_printf(&b, " -%d", dels);
		hl_buf_printf(&b, " %s", ev[i].list);
	}
	if (n == 0)
		hl_buf_puts(&b, " refresh");
	else {
		hl_buf_puts(&b, " (by ");
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++)
				if (strcmp(ev[j].actor, ev[i].actor) == 0)
					break;
			if (j == i)
				hl_buf_printf(&b, "%s%s", i ? ", " : "",
				    ev[i].actor);
		}
		hl_buf_puts(&b, ")");
	}
	hl_events_free(ev, n);
	s->summary = hl_buf_detach(&b, NULL);
	return s->summary ? 0 : hl_err_set(err, HL_ENOMEM, "out of memory");
}

/* Appends path, with b's bytes, to the files v (n of cap).  HL_ENOMEM. */
static int
file_push(struct hl_file **v, size_t *n, size_t *cap, const char *path,
    const struct hl_blob *b)
{
	struct hl_file *f;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		if ((f = realloc(*v, c * sizeof(*f))) == NULL)
			return HL_ENOMEM;
		*v = f;
		*cap = c;
	}
	f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->data = b->data;
	f->spool = b->spool;
	f->len = b->len;
	memcpy(f->sha256, b->sha256, sizeof(f->sha256));
	memcpy(f->md5, b->md5, sizeof(f->md5));
	f->cache = hl_tree_cache_class(path);
	f->content_type = hl_tree_content_type(path);
	return 0;
}

static int
add_file(struct hl_snap *s, const char *path, const struct hl_blob *b)
{
	return file_push(&s->files, &s->nfiles, &s->capfiles, path, b);
}

static int
add_entry(struct hl_snap *s, const struct entry *e, int objects)
{
	if (objects)
		return add_file(s, e->objpath, &e->id) ||
		    add_file(s, e->gzobjpath, &e->gz) ? HL_ENOMEM : 0;
	return add_file(s, e->path, &e->id) || add_file(s, e->gzpath, &e->gz) ?
	    HL_ENOMEM : 0;
}

/*
 * Publication order: by class, then by path, except that manifest.json
 * itself comes last of all, after its .gz and .sig, and its object copy
 * last of the immutable files (assemble), so that a file keeps its place
 * from one build to the next whatever the manifest's hash.
 */
static int
cmp_file(const void *a, const void *b)
{
	const struct hl_file *x = a, *y = b;
	int xm = strcmp(x->path, "manifest.json") == 0;
	int ym = strcmp(y->path, "manifest.json") == 0;

	if (x->cache != y->cache)
		return x->cache - y->cache;
	if (xm != ym)
		return xm - ym;
	return strcmp(x->path, y->path);
}

/* Every mutable entry of the tree, for the manifest and the file list. */
static size_t
mutable_entries(const struct entry **out, size_t max, const struct hl_snap *s)
{
	size_t n = 0, i;

	for (i = 0; i < s->nlists && n + 2 <= max; i++) {
		out[n++] = &s->lists[i].json;
		out[n++] = &s->lists[i].text;
	}
	if (n < max && s->notifs.path != NULL)
		out[n++] = &s->notifs;
	if (n < max && s->props.path != NULL)
		out[n++] = &s->props;
	if (n < max)
		out[n++] = &s->changes;
	for (i = 0; i < s->npages && n < max; i++)
		out[n++] = &s->pages[i];
	for (i = 0; i < s->nassets && n < max; i++)
		out[n++] = &s->assets[i];
	return n;
}

static int
early_push(struct hl_snap *s, int part, const char *path,
    const struct hl_blob *b)
{
	return file_push(&s->early[part], &s->nearly[part],
	    &s->capearly[part], path, b);
}

/*
 * Tells src->early of objects of the tree being built (snapshot.h).  Part
 * 0, after the lists: their files' copies and a big list's segments.
 * Part 1, after the site: the copies of every other file, and the change
 * segments.  Each part has its own array, since the first may still be
 * read while the second is made.  Out of memory, it tells of fewer (the
 * publish writes the rest).
 */
static void
tell_early(struct hl_snap *s, const struct hl_snap_source *src, int part)
{
	const struct entry *m[512];
	size_t i, k, n;
	int rc = 0;

	if (src->early == NULL)
		return;
	s->nearly[part] = 0;
	n = mutable_entries(m, sizeof(m) / sizeof(m[0]), s);
	/* The lists' files come first (mutable_entries): 2 a list. */
	for (i = part ? 2 * s->nlists : 0;
	    i < (part ? n : 2 * s->nlists) && i < n && rc == 0; i++)
		if (m[i]->objpath != NULL)
			rc = early_push(s, part, m[i]->objpath, &m[i]->id) ||
			    early_push(s, part, m[i]->gzobjpath, &m[i]->gz);
	for (i = 0; part == 0 && i < s->nlists && rc == 0; i++) {
		const struct hl_lsegs *g = &s->lists[i].segs;

		for (k = 0; k < g->n && rc == 0; k++)
			rc = early_push(s, part, g->v[k].obj, &g->v[k].id) ||
			    early_push(s, part, g->v[k].gzobj, &g->v[k].gz);
	}
	for (i = 0; part == 1 && i < s->nsegs && rc == 0; i++)
		rc = early_push(s, part, s->segs[i].e.path, &s->segs[i].e.id) ||
		    early_push(s, part, s->segs[i].e.gzpath, &s->segs[i].e.gz);
	src->early(s->early[part], s->nearly[part], src->early_payload);
}

static int
assemble(struct hl_snap *s, struct hl_err *err)
{
	const struct entry *m[512];
	size_t n, i;
	int rc = 0;

	s->nfiles = 0;
	n = mutable_entries(m, sizeof(m) / sizeof(m[0]), s);
	for (i = 0; i < n && rc == 0; i++)
		rc = add_entry(s, m[i], 1) || add_entry(s, m[i], 0);
	for (i = 0; i < s->nsegs && rc == 0; i++)
		rc = add_entry(s, &s->segs[i].e, 0);
	/* A big list's segments: objects only, named by its index. */
	for (i = 0; i < s->nlists && rc == 0; i++) {
		const struct hl_lsegs *g = &s->lists[i].segs;
		size_t k;

		for (k = 0; k < g->n && rc == 0; k++)
			rc = add_file(s, g->v[k].obj, &g->v[k].id) ||
			    add_file(s, g->v[k].gzobj, &g->v[k].gz) ?
			    HL_ENOMEM : 0;
	}
	if (rc == 0)
		rc = add_file(s, "manifest.json", &s->manifest);
	if (rc == 0)
		rc = add_file(s, "manifest.json.gz", &s->manifest_gz);
	if (rc == 0 && s->sig.data != NULL)
		rc = add_file(s, "manifest.json.sig", &s->sig);
	if (rc != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	qsort(s->files, s->nfiles, sizeof(*s->files), cmp_file);
	/* Objects are named by content: two equal files share one. */
	for (i = 1, n = s->nfiles ? 1 : 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].path, s->files[n - 1].path) != 0)
			s->files[n++] = s->files[i];
	s->nfiles = n;
	if (add_file(s, s->manifest_obj, &s->manifest) != 0 ||
	    (s->sigs.data != NULL && add_file(s, s->sigs_obj, &s->sigs) != 0))
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < n && s->files[i].cache == HL_CACHE_IMMUTABLE; i++)
		;
	/* Both go last of the immutable files, before the manifest. */
	for (; n < s->nfiles; n++, i++) {
		struct hl_file mo = s->files[n];

		memmove(&s->files[i + 1], &s->files[i],
		    (n - i) * sizeof(*s->files));
		s->files[i] = mo;
	}
	return 0;
}

/* The site's static files, read once. */
static int
load_assets(struct hl_snap *s, struct hl_err *err)
{
	struct hl_site_file *v = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = hl_site_files(&v, &n, s->o.site_dir, err)) != 0)
		return rc;
	if ((s->assets = calloc(n + 1, sizeof(*s->assets))) == NULL) {
		hl_site_files_free(v, n);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = entry_set(&s->assets[i], v[i].path, v[i].data, v[i].len,
		    s->o.gzip_level, 0, err);
		v[i].data = NULL;
		s->nassets++;
	}
	hl_site_files_free(v, n);
	return rc;
}

static void
site_ref(struct hl_site_ref *r, const struct entry *e)
{
	r->path = e->path;
	r->sha256 = e->id.sha256;
	r->bytes = e->id.len;
	r->gzpath = e->gzpath;
	r->gzsha256 = e->gz.sha256;
	r->gzbytes = e->gz.len;
}

/* The site's changed pages, gzipped and hashed by two threads at once. */
struct page_set {
	struct entry		*pages;
	struct hl_site_file	*f;
	const size_t		*todo;	/* indexes of both, biggest first */
	size_t			 n;
	size_t			 next;	/* taken with an atomic add */
	int			 level;
};

struct page_worker {
	struct page_set		*set;
	struct hl_err		 err;
};

static int
page_worker(void *arg)
{
	struct page_worker *w = arg;
	struct page_set *ps = w->set;
	size_t i, k;
	int rc = 0;

	while ((i = __atomic_fetch_add(&ps->next, 1, __ATOMIC_RELAXED)) <
	    ps->n) {
		k = ps->todo[i];
		if (entry_set(&ps->pages[k], ps->f[k].path, ps->f[k].data,
		    ps->f[k].len, ps->level, 0, rc == 0 ? &w->err : NULL) !=
		    0 && rc == 0)
			rc = w->err.code;
		ps->f[k].data = NULL;	/* entry_set's now */
	}
	return rc;
}

/*
 * Makes the entries of pages todo[0..n) from f (taking their bytes), the
 * second thread (s->par) taking every other one.  On error some are left
 * empty.
 */
static int
make_pages(struct hl_snap *s, struct entry *pages, struct hl_site_file *f,
    size_t *todo, size_t n, struct hl_err *err)
{
	struct page_set ps = { pages, f, todo, n, 0, s->o.gzip_level };
	struct page_worker a = { &ps, HL_ERR_INIT }, b = { &ps, HL_ERR_INIT };
	struct hl_par_job j;
	size_t i, k, t;
	int rc, brc;

	/* The biggest first, so the two threads end close together. */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && f[todo[k]].len > f[todo[k - 1]].len;
		    k--) {
			t = todo[k];
			todo[k] = todo[k - 1];
			todo[k - 1] = t;
		}
	hl_par_start(n > 1 ? s->par : NULL, &j, page_worker, &b);
	rc = page_worker(&a);
	brc = hl_par_join(n > 1 ? s->par : NULL, &j);
	if (rc != 0 || brc != 0) {
		if (err != NULL)
			*err = rc != 0 ? a.err : b.err;
		return rc != 0 ? rc : brc;
	}
	return 0;
}

/* The site's pages (site.h), made again with every build. */
static int
render_site(struct hl_snap *s, const struct hl_snap_source *src, int64_t v,
    struct hl_err *err)
{
	struct hl_snap_prop pr[HL_SNAP_MAX_PROPS];
	struct hl_site_prop sp[HL_SNAP_MAX_PROPS];
	struct hl_site_list sl[64];
	struct hl_site_seg sg[HL_SNAP_WINDOW / HL_SNAP_SEG_BIG +
	    2 * HL_SNAP_SEG_MID];
	struct hl_site_in in = { 0 };
	struct hl_site_file *f = NULL;
	struct entry *pages;
	unsigned char raw[32];
	char fpr[HL_SITE_FPR_LEN];
	size_t *todo, i, j, n = 0, ntodo = 0, rawlen = sizeof(raw);
	int rc;

	for (i = 0; i < s->nlists && i < 64; i++) {
		sl[i].info = &s->lists[i].info;
		site_ref(&sl[i].json, &s->lists[i].json);
		site_ref(&sl[i].text, &s->lists[i].text);
	}
	in.lists = sl;
	in.nlists = i;
	for (i = 0; i < s->nsegs && i < sizeof(sg) / sizeof(sg[0]); i++) {
		sg[i].from = s->segs[i].from;
		sg[i].to = s->segs[i].to;
		sg[i].data = (const char *)s->segs[i].e.id.data;
		sg[i].len = s->segs[i].e.id.len;
	}
	in.segs = sg;
	in.nsegs = i;
	in.version = v;
	in.notif_version = s->notifs.path ? s->notif_version : 0;
	in.ttl = s->o.manifest_ttl;
	if (src->propagation != NULL) {
		n = src->propagation(pr, HL_SNAP_MAX_PROPS, src->prop_payload);
		for (i = 0; i < n && i < HL_SNAP_MAX_PROPS; i++) {
			sp[i].url = pr[i].url;
			sp[i].version = pr[i].version;
			sp[i].seconds = pr[i].seconds;
			sp[i].measured_at = pr[i].measured_at;
		}
		in.props = sp;
		in.nprops = i;
		n = 0;
	}
	if (s->signer != NULL && EVP_PKEY_get_raw_public_key(
	    hl_signer_current(s->signer), raw, &rawlen) == 1) {
		hl_site_key_fpr(fpr, raw, rawlen);
		in.key_fpr = fpr;
	}
	if (s->site_cache == NULL &&
	    (rc = hl_site_cache_new(&s->site_cache, err)) != 0)
		return rc;
	in.cache = s->site_cache;
	in.par = s->par;
	if ((rc = hl_site_build(&f, &n, s->o.site_dir, &in, err)) != 0)
		return rc;
	if ((pages = calloc(n + 1, sizeof(*pages))) == NULL ||
	    (todo = calloc(n + 1, sizeof(*todo))) == NULL) {
		free(pages);
		hl_site_files_free(f, n);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		/* A page that did not change keeps its gzip and hashes. */
		for (j = 0; j < s->npages; j++)
			if (s->pages[j].path != NULL &&
			    strcmp(s->pages[j].path, f[i].path) == 0 &&
			    s->pages[j].id.len == f[i].len &&
			    memcmp(s->pages[j].id.data, f[i].data,
			    f[i].len) == 0)
				break;
		if (j < s->npages) {
			pages[i] = s->pages[j];
			memset(&s->pages[j], 0, sizeof(s->pages[j]));
		} else
			todo[ntodo++] = i;
	}
	rc = make_pages(s, pages, f, todo, ntodo, err);
	free(todo);
	hl_site_files_free(f, n);
	for (j = 0; j < s->npages; j++)
		entry_clear(&s->pages[j]);
	free(s->pages);
	s->pages = pages;
	s->npages = i;
	if (rc == 0 && s->assets == NULL)
		rc = load_assets(s, err);
	return rc;
}

static int
render_manifest(struct hl_snap *s, int64_t v, struct hl_err *err)
{
	const struct entry *m[512];
	struct hl_manifest_file mf[512];
	struct hl_manifest_list ml[64];
	struct hl_manifest_info info;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_blob sigs[HL_SIGNER_MAX];
	char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1];
	const char *idp[HL_SIGNER_MAX];
	char *data;
	size_t n, i, len, nids = 0, nsigs;
	int64_t now = clock_now(s);
	int rc;

	/* A rotation (signer.h) is seen here, without a restart. */
	if (s->signer != NULL) {
		if ((rc = hl_signer_refresh(s->signer, err)) != 0)
			return rc;
		nids = hl_signer_ids(ids, s->signer, now);
		for (i = 0; i < nids; i++)
			idp[i] = ids[i];
	}

	n = mutable_entries(m, sizeof(m) / sizeof(m[0]), s);
	for (i = 0; i < n; i++) {
		mf[i].path = m[i]->path;
		mf[i].object = m[i]->objpath;
		mf[i].id = &m[i]->id;
		mf[i].gzpath = m[i]->gzpath;
		mf[i].gzobject = m[i]->gzobjpath;
		mf[i].gz = &m[i]->gz;
	}
	for (i = 0; i < s->nlists && i < sizeof(ml) / sizeof(ml[0]); i++) {
		ml[i].info = &s->lists[i].info;
		ml[i].json = s->lists[i].json.path;
		ml[i].text = s->lists[i].text.path;
	}
	memset(&info, 0, sizeof(info));
	info.version = v;
	info.generated_at = now;
	info.expires_at = info.generated_at + s->o.manifest_ttl;
	info.poll_interval = s->o.poll_interval;
	info.previous = s->previous[0] ? s->previous : NULL;
	info.key_id = nids > 0 ? idp[0] : NULL;
	info.key_ids = idp;
	info.nkey_ids = nids;
	info.notifications_version = s->notif_version;
	info.files = mf;
	info.nfiles = n;
	info.lists = ml;
	info.nlists = i;
	if (s->manifest_cache == NULL &&
	    (rc = hl_manifest_cache_new(&s->manifest_cache, err)) != 0)
		return rc;
	info.cache = s->manifest_cache;
	if ((rc = hl_manifest_render(&b, &info, err)) != 0) {
		hl_buf_free(&b);
		return rc;
	}
	hl_blob_clear(&s->manifest);
	hl_blob_clear(&s->manifest_gz);
	hl_blob_clear(&s->sig);
	hl_blob_clear(&s->sigs);
	data = hl_buf_detach(&b, &len);
	if ((rc = hl_blob_make(&s->manifest, &s->manifest_gz, NULL, data, len,
	    0, s->o.gzip_level, err)) != 0)
		return rc;
	snprintf(s->manifest_obj, sizeof(s->manifest_obj), "objects/%s",
	    s->manifest.sha256);
	if (s->signer != NULL) {
		if ((rc = hl_signer_sign(sigs, &nsigs, s->signer,
		    info.generated_at, s->manifest.data, s->manifest.len,
		    err)) != 0)
			return rc;
		/* The same keys, in the same order, as the manifest names. */
		assert(nsigs == nids);
		rc = hl_manifest_sigs_render(&b, idp, sigs, nsigs, err);
		s->sig = sigs[0];
		for (i = 1; i < nsigs; i++)
			hl_blob_clear(&sigs[i]);
		if (rc != 0) {
			hl_buf_free(&b);
			return rc;
		}
		data = hl_buf_detach(&b, &len);
		if ((rc = hl_blob_take(&s->sigs, data, len, err)) != 0)
			return rc;
		snprintf(s->sigs_obj, sizeof(s->sigs_obj), "objects/%s.sigs",
		    s->manifest.sha256);
	}
	s->expires = info.expires_at;
	return 0;
}

int
hl_snap_build(const struct hl_tree **tree, struct hl_snap *s,
    const struct hl_snap_source *src, struct hl_err *err)
{
	struct timespec t0, t1;
	int64_t v;
	int rc;

	*tree = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = src->begin(src->payload, err)) != 0)
		return rc;
	v = src->version(src->payload);
	if ((rc = render_lists(s, src, err)) != 0)
		goto out;
	tell_early(s, src, 0);
	if ((rc = render_notifs(s, src, err)) != 0 ||
	    (rc = render_proposals(s, src, err)) != 0 ||
	    (rc = render_changes(s, src, v, err)) != 0 ||
	    (rc = summarise(s, src, v, err)) != 0)
		goto out;
	if ((rc = render_site(s, src, v, err)) != 0)
		goto out;
	tell_early(s, src, 1);
	if ((rc = render_manifest(s, v, err)) != 0 ||
	    (rc = assemble(s, err)) != 0)
		goto out;
	s->version = v;
	memcpy(s->previous, s->manifest.sha256, sizeof(s->previous));
	s->tree.version = v;
	s->tree.files = s->files;
	s->tree.n = s->nfiles;
	s->tree.summary = s->summary;
	*tree = &s->tree;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->stats.builds++;
	s->stats.last_build_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
out:
	src->end(src->payload);
	return rc;
}
