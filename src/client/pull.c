/*
 * pull: one poll of a published tree into a directory of SmokeDetector
 * files (see pull.h for the steps and the state file, and
 * site/docs/protocol.html for the protocol as a client sees it).
 *
 * The manifest and changes.json are read with jansson into the structs of
 * pull.h; everything the poll will write is held in memory and checked
 * before the first rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "item.h"
#include "manifest.h"
#include "pull.h"
#include "textfmt.h"

/* A list file read from DIR, or about to be written there. */
struct local {
	const struct hl_pull_list	*list;	/* NULL for notifications */
	const struct hl_pull_file	*pf;	/* its manifest entry */
	const char			*file;
	struct hl_buf			 cur;	/* bytes in DIR now */
	int				 exists;
	char				 sha256[65];
	int				 at_state;	/* cur is the state's */
	int				 todo;
	int				 ready;	/* next holds the new bytes */
	struct hl_buf			 next;	/* bytes to write */
	struct hl_item			*items;	/* parsed cur, when patching */
	size_t				 nitems;
	int				 patch_failed;
};

struct state {
	char	*url;
	char	*etag;
	char	*key;		/* sha256 of the public key that checked it */
	int64_t	 version;
	int64_t	 expires_at;
	int64_t	 poll_interval;
	json_t	*lists;		/* {"id": {"file","sha256","version"}} */
	json_t	*notifs;	/* {"file","sha256"} or NULL */
};

/* Reads a whole file, at most max bytes.  HL_ENOTFOUND if missing. */
static int
read_all(struct hl_buf *out, const char *path, size_t max,
    struct hl_err *err)
{
	char tmp[65536];
	ssize_t r;
	int fd, rc = 0;

	hl_buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return hl_err_set(err, errno == ENOENT ? HL_ENOTFOUND : HL_EIO,
		    "%s: %s", path, strerror(errno));
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = hl_err_set(err, HL_EIO, "%s: %s", path,
			    strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if (out->len + (size_t)r > max) {
			rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
			    path, max);
			break;
		}
		if (hl_buf_put(out, tmp, (size_t)r) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
	}
	close(fd);
	if (rc != 0)
		hl_buf_reset(out);
	return rc;
}

/*
 * Writes data to path through a temporary file in the same directory:
 * write, fsync, rename.  path is either old or new, never half-written.
 */
static int
write_atomic(const char *path, const void *data, size_t len,
    struct hl_err *err)
{
	char *tmp = NULL;
	const char *p = data;
	ssize_t w;
	int fd = -1, rc = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((fd = mkstemp(tmp)) == -1) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			rc = hl_err_set(err, HL_EIO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		rc = hl_err_set(err, HL_EIO, "rename %s: %s", path,
		    strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void
sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
sha_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A path inside the tree: relative, no "." or ".." names. */
static int
tree_path_ok(const char *p)
{
	const char *s;
	size_t n;

	if (p == NULL || *p == '\0' || *p == '/' || strchr(p, '\\'))
		return 0;
	for (s = p;;) {
		n = strcspn(s, "/");
		if (n == 0 || (n <= 2 && strncmp(s, "..", n) == 0))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

/* A plain file name for DIR: no '/', not hidden, printable ASCII. */
static int
file_name_ok(const char *p)
{
	const char *s;

	if (p == NULL || *p == '\0' || *p == '.' || strlen(p) > 200)
		return 0;
	for (s = p; *s != '\0'; s++)
		if (*s == '/' || *s == '\\' || (unsigned char)*s <= ' ' ||
		    (unsigned char)*s >= 127)
			return 0;
	return 1;
}

static void
ref_clear(struct hl_pull_ref *r)
{
	free(r->path);
	free(r->object);
	memset(r, 0, sizeof(*r));
}

static void
file_clear(struct hl_pull_file *f)
{
	ref_clear(&f->id);
	ref_clear(&f->gz);
	f->has_gz = 0;
}

static int
ref_parse(struct hl_pull_ref *r, json_t *o, const char *what,
    struct hl_err *err)
{
	json_t *path, *obj, *sha, *bytes;

	path = json_object_get(o, "path");
	obj = json_object_get(o, "object");
	sha = json_object_get(o, "sha256");
	bytes = json_object_get(o, "bytes");
	if (!json_is_string(path) || !tree_path_ok(json_string_value(path)) ||
	    !json_is_string(sha) || !sha_ok(json_string_value(sha)) ||
	    !json_is_integer(bytes) || json_integer_value(bytes) < 0 ||
	    (obj != NULL && (!json_is_string(obj) ||
	    !tree_path_ok(json_string_value(obj)))))
		return hl_err_set(err, HL_EINVAL, "%s: a file entry lacks a"
		    " valid path, sha256 or bytes", what);
	if ((r->path = strdup(json_string_value(path))) == NULL ||
	    (obj && (r->object = strdup(json_string_value(obj))) == NULL))
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(r->sha256, json_string_value(sha), 65);
	r->bytes = json_integer_value(bytes);
	return 0;
}

static int
file_parse(struct hl_pull_file *f, json_t *o, const char *what,
    struct hl_err *err)
{
	json_t *gz;
	int rc;

	if (!json_is_object(o))
		return hl_err_set(err, HL_EINVAL, "%s: a file entry is not an"
		    " object", what);
	if ((rc = ref_parse(&f->id, o, what, err)) != 0)
		return rc;
	if ((gz = json_object_get(o, "gz")) != NULL && !json_is_null(gz)) {
		if (!json_is_object(gz))
			return hl_err_set(err, HL_EINVAL, "%s: bad gz of %s",
			    what, f->id.path);
		if ((rc = ref_parse(&f->gz, gz, what, err)) != 0)
			return rc;
		f->has_gz = 1;
	}
	return 0;
}

static int64_t
int_or(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static char *
str_dup(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

void
hl_pull_manifest_clear(struct hl_pull_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		file_clear(&m->files[i]);
	free(m->files);
	for (i = 0; i < m->nlists; i++) {
		free(m->lists[i].id);
		free(m->lists[i].file);
		free(m->lists[i].text);
		free(m->lists[i].json);
	}
	free(m->lists);
	memset(m, 0, sizeof(*m));
}

int
hl_pull_manifest_parse(struct hl_pull_manifest *m, const void *data,
    size_t len, struct hl_err *err)
{
	json_error_t je;
	json_t *doc, *files, *lists, *v;
	struct hl_pull_list *l;
	size_t i;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if ((doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL)
		return hl_err_set(err, HL_EINVAL, "manifest.json: line %d: %s",
		    je.line, je.text);
	files = json_object_get(doc, "files");
	lists = json_object_get(doc, "lists");
	if (!json_is_object(doc) || !json_is_array(files) ||
	    !json_is_array(lists) ||
	    !json_is_integer(json_object_get(doc, "version")) ||
	    !json_is_integer(json_object_get(doc, "expires_at"))) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: not a manifest"
		    " (version, expires_at, files or lists missing)");
		goto out;
	}
	m->format = int_or(doc, "format", 0);
	m->version = int_or(doc, "version", 0);
	m->generated_at = int_or(doc, "generated_at", 0);
	m->expires_at = int_or(doc, "expires_at", 0);
	m->poll_interval = int_or(doc, "poll_interval", 0);
	if (m->format != HL_MANIFEST_FORMAT) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: format %lld,"
		    " this client reads format %d", (long long)m->format,
		    HL_MANIFEST_FORMAT);
		goto out;
	}
	m->files = calloc(json_array_size(files) + 1, sizeof(*m->files));
	m->lists = calloc(json_array_size(lists) + 1, sizeof(*m->lists));
	if (m->files == NULL || m->lists == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(files, i, v) {
		m->nfiles++;
		if ((rc = file_parse(&m->files[i], v, "manifest.json",
		    err)) != 0)
			goto out;
	}
	json_array_foreach(lists, i, v) {
		l = &m->lists[m->nlists++];
		if (!json_is_object(v)) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: a list"
			    " is not an object");
			goto out;
		}
		l->id = str_dup(v, "id");
		l->file = str_dup(v, "file");
		l->text = str_dup(v, "text");
		l->json = str_dup(v, "json");
		l->version = int_or(v, "version", 0);
		l->count = int_or(v, "count", 0);
		l->fmt = json_is_string(json_object_get(v, "format")) ?
		    hl_fmt_parse(json_string_value(json_object_get(v,
		    "format"))) : -1;
		if (l->id == NULL || !file_name_ok(l->file) ||
		    !tree_path_ok(l->text) || l->fmt < 0) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: list"
			    " %zu: bad id, file, text or format", i);
			goto out;
		}
		if (hl_pull_manifest_file(m, l->text) == NULL) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: list"
			    " %s: %s is not among the files", l->id, l->text);
			goto out;
		}
	}
out:
	json_decref(doc);
	if (rc != 0)
		hl_pull_manifest_clear(m);
	return rc;
}

const struct hl_pull_file *
hl_pull_manifest_file(const struct hl_pull_manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].id.path, path) == 0)
			return &m->files[i];
	return NULL;
}

void
hl_pull_changes_clear(struct hl_pull_changes *c)
{
	size_t i;

	for (i = 0; i < c->nsegs; i++)
		file_clear(&c->segs[i].f);
	free(c->segs);
	memset(c, 0, sizeof(*c));
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct hl_pull_seg *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

int
hl_pull_changes_parse(struct hl_pull_changes *c, const void *data,
    size_t len, struct hl_err *err)
{
	json_error_t je;
	json_t *doc, *segs, *v;
	struct hl_pull_seg *g;
	size_t i;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if ((doc = json_loadb(data, len, 0, &je)) == NULL)
		return hl_err_set(err, HL_EINVAL, "changes.json: line %d: %s",
		    je.line, je.text);
	segs = json_object_get(doc, "segments");
	if (!json_is_array(segs)) {
		rc = hl_err_set(err, HL_EINVAL, "changes.json: no segments");
		goto out;
	}
	c->version = int_or(doc, "version", 0);
	c->oldest = int_or(doc, "oldest", 0);
	if ((c->segs = calloc(json_array_size(segs) + 1,
	    sizeof(*c->segs))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(segs, i, v) {
		g = &c->segs[c->nsegs++];
		if ((rc = file_parse(&g->f, v, "changes.json", err)) != 0)
			goto out;
		g->from = int_or(v, "from", -1);
		g->to = int_or(v, "to", -1);
		if (g->from < 1 || g->to < g->from) {
			rc = hl_err_set(err, HL_EINVAL, "changes.json: segment"
			    " %s: bad from/to", g->f.id.path);
			goto out;
		}
	}
	qsort(c->segs, c->nsegs, sizeof(*c->segs), seg_cmp);
out:
	json_decref(doc);
	if (rc != 0)
		hl_pull_changes_clear(c);
	return rc;
}

/* GETs the first of paths[] that exists, at most max bytes. */
static int
get_first(struct hl_fetch_res *res, struct hl_fetch *f,
    const char *const *paths, size_t max, struct hl_err *err)
{
	size_t i;
	int rc = HL_ENOTFOUND;

	for (i = 0; i < 2 && rc == HL_ENOTFOUND; i++)
		if (paths[i] != NULL)
			rc = hl_fetch_get(res, f, paths[i], NULL, max, 0,
			    err);
	return rc;
}

int
hl_pull_fetch_file(struct hl_buf *out, struct hl_fetch *f,
    const struct hl_pull_file *pf, struct hl_err *err)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	const struct hl_pull_ref *r = pf->has_gz ? &pf->gz : &pf->id;
	const char *paths[2] = { r->object ? r->object : r->path,
	    r->object ? r->path : NULL };
	char sha[65], md5[33];
	int rc;

	hl_buf_reset(out);
	rc = get_first(&res, f, paths, (size_t)r->bytes, err);
	if (rc == HL_ETOOBIG) {
		rc = hl_err_set(err, HL_EINVAL, "%s: longer than the %lld"
		    " bytes the manifest names", r->path,
		    (long long)r->bytes);
		goto out;
	}
	if (rc != 0)
		goto out;
	hl_digest(sha, md5, res.body.data ? res.body.data : "", res.body.len);
	if ((int64_t)res.body.len != r->bytes || strcmp(sha, r->sha256)) {
		rc = hl_err_set(err, HL_EINVAL, "%s: sha256 %s (%zu bytes),"
		    " the manifest names %.12s... (%lld bytes)", r->path,
		    sha, res.body.len, r->sha256, (long long)r->bytes);
		goto out;
	}
	if (!pf->has_gz) {
		*out = res.body;
		memset(&res.body, 0, sizeof(res.body));
		goto out;
	}
	if ((rc = hl_gunzip(out, res.body.data, res.body.len,
	    (size_t)pf->id.bytes, err)) != 0) {
		rc = hl_err_set(err, HL_EINVAL, "%s: %s", r->path, err ?
		    err->msg : "bad gzip");
		goto out;
	}
	hl_digest(sha, md5, out->data ? out->data : "", out->len);
	if ((int64_t)out->len != pf->id.bytes || strcmp(sha, pf->id.sha256))
		rc = hl_err_set(err, HL_EINVAL, "%s: decompresses to sha256"
		    " %s (%zu bytes), the manifest names %.12s... (%lld bytes)",
		    r->path, sha, out->len, pf->id.sha256,
		    (long long)pf->id.bytes);
out:
	if (rc != 0)
		hl_buf_reset(out);
	hl_buf_free(&res.body);
	return rc;
}

static void
state_clear(struct state *s)
{
	free(s->url);
	free(s->etag);
	free(s->key);
	json_decref(s->lists);
	json_decref(s->notifs);
	memset(s, 0, sizeof(*s));
}

/* Loads the state file; a missing one is an empty state. */
static int
state_load(struct state *s, const char *path, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	json_error_t je;
	json_t *doc = NULL, *v;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = read_all(&b, path, (size_t)16 << 20, err)) != 0) {
		if (rc == HL_ENOTFOUND)
			rc = 0;
		goto out;
	}
	if ((doc = json_loadb(b.data, b.len, 0, &je)) == NULL ||
	    !json_is_object(doc)) {
		rc = hl_err_set(err, HL_EINVAL, "%s: not a state file (%s);"
		    " remove it to start over", path, doc ? "not an object" :
		    je.text);
		goto out;
	}
	s->url = str_dup(doc, "url");
	s->etag = str_dup(doc, "etag");
	s->key = str_dup(doc, "key_sha256");
	s->version = int_or(doc, "version", 0);
	s->expires_at = int_or(doc, "expires_at", 0);
	s->poll_interval = int_or(doc, "poll_interval", 0);
	if (json_is_object(v = json_object_get(doc, "lists")))
		s->lists = json_incref(v);
	if (json_is_object(v = json_object_get(doc, "notifications")))
		s->notifs = json_incref(v);
out:
	json_decref(doc);
	hl_buf_free(&b);
	return rc;
}

/* The sha256 the state recorded for a list id (or notifications). */
static const char *
state_sha(const struct state *s, const char *id, const char *file)
{
	json_t *o;

	o = id ? json_object_get(s->lists, id) : s->notifs;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "file")) ||
	    strcmp(json_string_value(json_object_get(o, "file")), file) != 0)
		return NULL;
	return json_string_value(json_object_get(o, "sha256"));
}

static void
local_clear(struct local *l)
{
	hl_buf_free(&l->cur);
	hl_buf_free(&l->next);
	hl_items_free(l->items, l->nitems);
	l->items = NULL;
	l->nitems = 0;
}

/* Reads DIR/file and hashes it. */
static int
local_read(struct local *l, const char *dir, struct hl_err *err)
{
	char *path = NULL, md5[33];
	int rc;

	if (asprintf(&path, "%s/%s", dir, l->file) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = read_all(&l->cur, path, (size_t)1 << 30, err);
	free(path);
	if (rc == HL_ENOTFOUND) {
		l->exists = 0;
		l->sha256[0] = '\0';
		return 0;
	}
	if (rc != 0)
		return rc;
	l->exists = 1;
	hl_digest(l->sha256, md5, l->cur.data ? l->cur.data : "", l->cur.len);
	return 0;
}

/* Builds an item from an add event's record. */
static int
event_item(struct hl_item *it, json_t *ev, int fmt)
{
	json_t *rec = json_object_get(ev, "record"), *ns;
	const char *value;
	size_t i;

	if (hl_item_from_json(it, rec) != 0)
		return -1;
	value = it->value;
	if (fmt == HL_FMT_YAML_NS) {
		ns = json_object_get(rec, "ns");
		it->ns_seq = json_is_array(ns) && json_array_size(ns) > 1;
		for (i = 0; !json_is_array(ns) && value[i] != '\0'; i++)
			if (value[i] == ' ')
				it->ns_seq = 1;
	}
	return 0;
}

/*
 * Applies one event to l's items.  Returns -1 when the event cannot be
 * applied (an unknown operation, a delete of a value that is not there).
 */
static int
apply_event(struct local *l, json_t *ev)
{
	const char *op = json_string_value(json_object_get(ev, "op"));
	const char *value = json_string_value(json_object_get(ev, "value"));
	struct hl_item it, *v;
	char *key = NULL, *k;
	size_t i;
	int found = 0;

	if (op == NULL || value == NULL)
		return -1;
	if (strcmp(op, "add") == 0) {
		if (event_item(&it, ev, l->list->fmt) != 0) {
			hl_item_clear(&it);
			return -1;
		}
		if ((v = realloc(l->items, (l->nitems + 1) *
		    sizeof(*v))) == NULL) {
			hl_item_clear(&it);
			return -1;
		}
		l->items = v;
		it.pos = l->nitems ? l->items[l->nitems - 1].pos + 1 : 0;
		l->items[l->nitems++] = it;
		return 0;
	}
	if (strcmp(op, "delete") != 0)
		return -1;
	if ((key = hl_item_key(l->list->fmt, value)) == NULL)
		return -1;
	for (i = 0; i < l->nitems && !found; i++) {
		if (l->items[i].verbatim || l->items[i].value == NULL)
			continue;
		if ((k = hl_item_key(l->list->fmt, l->items[i].value)) == NULL)
			break;
		if (strcmp(k, key) == 0) {
			found = 1;
			hl_item_clear(&l->items[i]);
			memmove(&l->items[i], &l->items[i + 1],
			    (l->nitems - i - 1) * sizeof(l->items[0]));
			l->nitems--;
		}
		free(k);
	}
	free(key);
	return found ? 0 : -1;
}

/*
 * Fetches the segments covering (from, to] and appends their events in
 * version order to *events.  Returns 1 when the changes cover the range,
 * 0 when they do not (the client is too far behind, or they would cost
 * more than budget bytes), or a negative code.
 */
static int
fetch_events(json_t *events, struct hl_fetch *f,
    const struct hl_pull_manifest *m, int64_t from, int64_t to,
    int64_t budget, struct hl_err *err)
{
	const struct hl_pull_file *cf;
	struct hl_pull_changes c = { 0 };
	struct hl_buf b = HL_BUF_INIT;
	json_error_t je;
	json_t *doc = NULL, *ev, *arr;
	int64_t next = from + 1, cost = 0, ver;
	size_t i, first = 0, last = 0, j;
	int rc = 0, covered = 0;

	if ((cf = hl_pull_manifest_file(m, "changes.json")) == NULL)
		return 0;
	if ((rc = hl_pull_fetch_file(&b, f, cf, err)) != 0 ||
	    (rc = hl_pull_changes_parse(&c, b.data, b.len, err)) != 0)
		goto out;
	/* Find a run of segments from..to without a gap. */
	for (i = 0; i < c.nsegs && c.segs[i].to < next; i++)
		;
	first = i;
	for (; i < c.nsegs && next <= to && c.segs[i].from <= next; i++) {
		next = c.segs[i].to + 1;
		cost += c.segs[i].f.has_gz ? c.segs[i].f.gz.bytes :
		    c.segs[i].f.id.bytes;
	}
	last = i;
	if (next <= to || cost > budget)
		goto out;
	for (i = first; i < last; i++) {
		if ((rc = hl_pull_fetch_file(&b, f, &c.segs[i].f, err)) != 0)
			goto out;
		json_decref(doc);
		if ((doc = json_loadb(b.data, b.len, 0, &je)) == NULL ||
		    !json_is_array(arr = json_object_get(doc, "events"))) {
			rc = hl_err_set(err, HL_EINVAL, "%s: not a change"
			    " segment", c.segs[i].f.id.path);
			goto out;
		}
		json_array_foreach(arr, j, ev) {
			ver = int_or(ev, "version", 0);
			if (ver > from && ver <= to &&
			    json_array_append(events, ev) != 0) {
				rc = hl_err_set(err, HL_ENOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
	covered = 1;
out:
	json_decref(doc);
	hl_buf_free(&b);
	hl_pull_changes_clear(&c);
	return rc != 0 ? rc : covered;
}

/* Brings l to its manifest hash by applying events; 0 if it did. */
static int
patch_list(struct local *l, json_t *events, struct hl_err *err)
{
	struct hl_err e2 = HL_ERR_INIT;
	json_t *ev;
	const char *list;
	char sha[65], md5[33];
	size_t i;

	if (hl_textfmt_parse(&l->items, &l->nitems, l->list->fmt,
	    l->cur.data ? l->cur.data : "", l->cur.len, l->file, &e2) != 0)
		return -1;
	json_array_foreach(events, i, ev) {
		list = json_string_value(json_object_get(ev, "list"));
		if (list == NULL || strcmp(list, l->list->id) != 0)
			continue;
		if (apply_event(l, ev) != 0)
			return -1;
	}
	hl_buf_reset(&l->next);
	if (hl_textfmt_render(&l->next, l->list->fmt, l->items, l->nitems,
	    &e2) != 0)
		return -1;
	hl_digest(sha, md5, l->next.data ? l->next.data : "", l->next.len);
	if (strcmp(sha, l->pf->id.sha256) != 0) {
		hl_buf_reset(&l->next);
		return -1;
	}
	(void)err;
	l->ready = 1;
	return 0;
}

static int
state_write(const char *path, const struct hl_pull_opts *o,
    const char *etag, const char *key, const struct hl_pull_manifest *m,
    const char *msha, struct local *loc, size_t nloc, struct hl_err *err)
{
	json_t *doc, *lists, *x;
	char *text = NULL;
	size_t i;
	int rc;

	if ((doc = json_object()) == NULL || (lists = json_object()) == NULL) {
		json_decref(doc);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	json_object_set_new(doc, "format", json_integer(1));
	json_object_set_new(doc, "url", json_string(o->url ? o->url : ""));
	json_object_set_new(doc, "etag", json_string(etag ? etag : ""));
	json_object_set_new(doc, "key_sha256", json_string(key));
	json_object_set_new(doc, "version", json_integer(m->version));
	json_object_set_new(doc, "expires_at", json_integer(m->expires_at));
	json_object_set_new(doc, "poll_interval",
	    json_integer(m->poll_interval));
	json_object_set_new(doc, "manifest_sha256", json_string(msha));
	for (i = 0; i < nloc; i++) {
		x = json_pack("{s:s, s:s}", "file", loc[i].file, "sha256",
		    loc[i].pf->id.sha256);
		if (x == NULL)
			continue;
		if (loc[i].list) {
			json_object_set_new(x, "version",
			    json_integer(loc[i].list->version));
			json_object_set_new(lists, loc[i].list->id, x);
		} else
			json_object_set_new(doc, "notifications", x);
	}
	json_object_set_new(doc, "lists", lists);
	text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(1));
	json_decref(doc);
	if (text == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = write_atomic(path, text, strlen(text), err);
	free(text);
	return rc;
}

/* Sets rep->status from a failure's code. */
static int
fail(struct hl_pull_report *rep, int status, int rc)
{
	rep->status = status;
	return rc ? rc : HL_EGENERIC;
}

static int
net_status(int rc)
{
	return rc == HL_ENOMEM ? HL_PULL_LOCAL : HL_PULL_NET;
}

int
hl_pull_once(struct hl_pull_report *rep, struct hl_fetch *f,
    const struct hl_pull_opts *o, struct hl_err *err)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT, sig = HL_FETCH_RES_INIT;
	struct hl_pull_manifest m = { 0 };
	struct state s = { 0 };
	struct local *loc = NULL;
	json_t *events = NULL;
	char *statepath = NULL, *path = NULL, msha[65], md5[33];
	char keysha[65] = "";
	const char *ssha, *inm = NULL;
	int64_t now = o->now ? o->now : (int64_t)time(NULL), budget = 0;
	size_t nloc = 0, i, ntodo = 0;
	int rc = 0, match = 1, covered;

	memset(rep, 0, sizeof(*rep));
	rep->retry_after = -1;
	if (o->state)
		statepath = strdup(o->state);
	else if (asprintf(&statepath, "%s/%s", o->dir,
	    HL_PULL_STATE_FILE) < 0)
		statepath = NULL;
	if (statepath == NULL) {
		rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_ENOMEM,
		    "out of memory"));
		goto out;
	}
	if ((rc = state_load(&s, statepath, err)) != 0) {
		rc = fail(rep, HL_PULL_LOCAL, rc);
		goto out;
	}
	rep->from = rep->version = s.version;
	rep->poll_interval = s.poll_interval;
	if (o->pubkey) {
		struct hl_buf kb = HL_BUF_INIT;

		if ((rc = read_all(&kb, o->pubkey, 65536, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		hl_digest(keysha, md5, kb.data ? kb.data : "", kb.len);
		hl_buf_free(&kb);
	}

	/* The ETag is worth sending only if DIR still holds what it names. */
	/* ... and if it was checked with the key required now, if any. */
	if (s.etag && *s.etag && s.url && o->url &&
	    strcmp(s.url, o->url) == 0 && json_object_size(s.lists) > 0 &&
	    (!o->pubkey || (s.key && strcmp(s.key, keysha) == 0))) {
		const char *id, *file, *sha;
		struct local tmp;
		json_t *v;

		json_object_foreach(s.lists, id, v) {
			file = json_string_value(json_object_get(v, "file"));
			sha = json_string_value(json_object_get(v, "sha256"));
			memset(&tmp, 0, sizeof(tmp));
			tmp.file = file;
			if (file == NULL || sha == NULL ||
			    !file_name_ok(file) ||
			    local_read(&tmp, o->dir, NULL) != 0 ||
			    !tmp.exists || strcmp(tmp.sha256, sha) != 0)
				match = 0;
			local_clear(&tmp);
			if (!match)
				break;
		}
		ssha = s.notifs ? json_string_value(json_object_get(s.notifs,
		    "sha256")) : NULL;
		if (match && ssha != NULL) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.file = HL_PULL_NOTIFS_FILE;
			if (local_read(&tmp, o->dir, NULL) != 0 ||
			    !tmp.exists || strcmp(tmp.sha256, ssha) != 0)
				match = 0;
			local_clear(&tmp);
		}
		if (match)
			inm = s.etag;
	}

	rc = hl_fetch_get(&res, f, "manifest.json", inm, HL_PULL_MAX_MANIFEST,
	    HL_FETCH_GZIP, err);
	rep->retry_after = res.retry_after;
	if (rc != 0) {
		rc = fail(rep, net_status(rc), rc);
		goto out;
	}
	if (res.status == 304) {
		/* A frozen mirror may answer 304 for ever: check the expiry. */
		if (s.expires_at > 0 && s.expires_at < now) {
			rc = fail(rep, HL_PULL_EXPIRED, hl_err_set(err,
			    HL_EINVAL, "manifest version %lld (unchanged)"
			    " expired %lld seconds ago: the mirror has stopped"
			    " updating", (long long)s.version,
			    (long long)(now - s.expires_at)));
			goto out;
		}
		rep->unchanged = 1;
		goto out;
	}
	hl_digest(msha, md5, res.body.data ? res.body.data : "", res.body.len);
	if ((rc = hl_pull_manifest_parse(&m, res.body.data, res.body.len,
	    err)) != 0) {
		rc = fail(rep, rc == HL_ENOMEM ? HL_PULL_LOCAL :
		    HL_PULL_INTEGRITY, rc);
		goto out;
	}
	rep->poll_interval = m.poll_interval;
	if (o->pubkey) {
		rc = hl_fetch_get(&sig, f, "manifest.json.sig", NULL,
		    HL_PULL_MAX_SIG, 0, err);
		if (rc == HL_ENOTFOUND) {
			rc = fail(rep, HL_PULL_SIGNATURE, hl_err_set(err,
			    HL_EINVAL, "manifest.json.sig: missing, and a"
			    " signature is required (--key)"));
			goto out;
		}
		if (rc != 0) {
			rep->retry_after = sig.retry_after;
			rc = fail(rep, net_status(rc), rc);
			goto out;
		}
		if ((rc = hl_manifest_verify(o->pubkey, res.body.data,
		    res.body.len, sig.body.data, sig.body.len, err)) != 0) {
			rc = fail(rep, HL_PULL_SIGNATURE, rc);
			goto out;
		}
	}
	if (m.version < s.version) {
		rc = fail(rep, HL_PULL_ROLLBACK, hl_err_set(err, HL_ECONFLICT,
		    "manifest version %lld is older than version %lld already"
		    " seen: refusing to go back (a stale mirror or a replayed"
		    " manifest)", (long long)m.version, (long long)s.version));
		goto out;
	}
	if (m.expires_at < now) {
		rc = fail(rep, HL_PULL_EXPIRED, hl_err_set(err, HL_EINVAL,
		    "manifest version %lld expired %lld seconds ago: the"
		    " mirror has stopped updating", (long long)m.version,
		    (long long)(now - m.expires_at)));
		goto out;
	}

	/* Compare every list (and notifications.json) with DIR. */
	if ((loc = calloc(m.nlists + 1, sizeof(*loc))) == NULL) {
		rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_ENOMEM,
		    "out of memory"));
		goto out;
	}
	for (i = 0; i <= m.nlists; i++) {
		struct local *l = &loc[nloc];

		if (i < m.nlists) {
			l->list = &m.lists[i];
			l->file = m.lists[i].file;
			l->pf = hl_pull_manifest_file(&m, m.lists[i].text);
		} else {
			l->file = HL_PULL_NOTIFS_FILE;
			if ((l->pf = hl_pull_manifest_file(&m,
			    HL_PULL_NOTIFS_FILE)) == NULL)
				break;
		}
		nloc++;
		if ((rc = local_read(l, o->dir, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		ssha = state_sha(&s, l->list ? l->list->id : NULL, l->file);
		l->at_state = l->exists && ssha && strcmp(ssha,
		    l->sha256) == 0;
		l->todo = !l->exists || strcmp(l->sha256, l->pf->id.sha256);
		if (l->todo) {
			ntodo++;
			budget += l->pf->has_gz ? l->pf->gz.bytes :
			    l->pf->id.bytes;
		} else
			rep->kept += l->list != NULL;
	}

	/* Patch what the published changes can patch. */
	if (ntodo > 0 && !o->no_changes && s.version > 0 &&
	    m.version > s.version) {
		for (i = 0; i < nloc; i++)
			if (loc[i].todo && loc[i].list && loc[i].at_state)
				break;
		if (i < nloc) {
			if ((events = json_array()) == NULL) {
				rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err,
				    HL_ENOMEM, "out of memory"));
				goto out;
			}
			covered = fetch_events(events, f, &m, s.version,
			    m.version, budget, err);
			if (covered == HL_ENOTFOUND)
				covered = 0;	/* no changes: download */
			if (covered < 0) {
				rc = fail(rep, covered == HL_EINVAL ?
				    HL_PULL_INTEGRITY : net_status(covered),
				    covered);
				goto out;
			}
			for (i = 0; covered && i < nloc; i++)
				if (loc[i].todo && loc[i].list &&
				    loc[i].at_state &&
				    patch_list(&loc[i], events, err) == 0)
					rep->patched++;
		}
	}

	/* Download the rest. */
	for (i = 0; i < nloc; i++) {
		if (!loc[i].todo || loc[i].ready)
			continue;
		if ((rc = hl_pull_fetch_file(&loc[i].next, f, loc[i].pf,
		    err)) != 0) {
			rc = fail(rep, rc == HL_EINVAL ? HL_PULL_INTEGRITY :
			    net_status(rc), rc);
			goto out;
		}
		loc[i].ready = 1;
		rep->downloaded++;
	}

	/* Everything is checked: write the files, then the state. */
	for (i = 0; i < nloc; i++) {
		if (!loc[i].todo)
			continue;
		free(path);
		if (asprintf(&path, "%s/%s", o->dir, loc[i].file) < 0) {
			path = NULL;
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err,
			    HL_ENOMEM, "out of memory"));
			goto out;
		}
		if ((rc = write_atomic(path, loc[i].next.data ?
		    loc[i].next.data : "", loc[i].next.len, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
	}
	sync_dir(o->dir);
	if ((rc = state_write(statepath, o, res.etag, keysha, &m, msha, loc,
	    nloc, err)) != 0) {
		rc = fail(rep, HL_PULL_LOCAL, rc);
		goto out;
	}
	sync_dir(o->dir);
	rep->unchanged = m.version == s.version && ntodo == 0;
	rep->version = m.version;
out:
	for (i = 0; loc && i < nloc; i++)
		local_clear(&loc[i]);
	free(loc);
	free(path);
	free(statepath);
	json_decref(events);
	hl_buf_free(&res.body);
	hl_buf_free(&sig.body);
	hl_pull_manifest_clear(&m);
	state_clear(&s);
	return rc;
}
