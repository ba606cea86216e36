/*
 * gitimport: replays SmokeDetector's list history (gitimport.h).
 *
 * State: one entry per (list, value key) seen, with how many copies the
 * list's files hold now and the commit that added it (its origin), in a
 * hash table.  A commit is applied in two passes, removals then additions,
 * so that a value leaving one file of a list and entering another in the
 * same commit finds its entry at zero copies, marked as removed by this
 * commit, and is restored instead of being reported twice.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitimport.h"
#include "textfmt.h"

struct entry {
	char		*key;		/* list '\0' value key */
	size_t		 klen;
	size_t		 count;
	size_t		 origin;	/* commit index, or HL_GITSRC_BEFORE */
	size_t		 removed_by;	/* commit index that took the last
					   copy away, or SIZE_MAX */
	struct entry	*next;
};

/* A yaml file's items as last parsed (the state a broken file keeps). */
struct yfile {
	struct hl_item	*items;
	size_t		 n;
};

/* One value a commit added or removed, before it is counted. */
struct delta {
	const struct hl_gitimport_path	*p;
	struct hl_item			 item;
	char				*key;
};

struct hl_gitimport {
	struct hl_gitsrc			*g;
	const struct hl_gitimport_path		*paths;
	size_t					 npaths;
	struct yfile				*yaml;	/* per path */
	struct entry				**tab;
	size_t					 cap, n;
	char					**req;	/* per commit */
	size_t					 nreq;
	size_t					 commits, events;
	hl_gitimport_cb				 cb;
	void					*payload;
	struct hl_buf				*report;
	struct hl_err				*err;
	struct delta				*dv;	/* this commit's */
	size_t					 ndv, cdv;
};

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* "list\0key": the table's key of a value. */
static char *
table_key(size_t *len, const char *list, const char *key)
{
	size_t a = strlen(list), b = strlen(key);
	char *k;

	if ((k = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(k, list, a + 1);
	memcpy(k + a + 1, key, b + 1);
	*len = a + 1 + b;
	return k;
}

static struct entry *
lookup(struct hl_gitimport *gi, const char *k, size_t len)
{
	struct entry *e;

	for (e = gi->tab[hash(k, len) & (gi->cap - 1)]; e; e = e->next)
		if (e->klen == len && memcmp(e->key, k, len) == 0)
			return e;
	return NULL;
}

static int
grow(struct hl_gitimport *gi)
{
	struct entry **t, *e, *next;
	size_t cap = gi->cap * 2, i;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < gi->cap; i++)
		for (e = gi->tab[i]; e; e = next) {
			size_t h = hash(e->key, e->klen) & (cap - 1);

			next = e->next;
			e->next = t[h];
			t[h] = e;
		}
	free(gi->tab);
	gi->tab = t;
	gi->cap = cap;
	return 0;
}

/* The entry of k, made (count 0) when missing; takes k either way. */
static struct entry *
intern(struct hl_gitimport *gi, char *k, size_t len)
{
	struct entry *e;
	size_t h;

	if ((e = lookup(gi, k, len)) != NULL) {
		free(k);
		return e;
	}
	if (gi->n * 2 >= gi->cap && grow(gi) != 0) {
		free(k);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		free(k);
		return NULL;
	}
	e->key = k;
	e->klen = len;
	e->origin = HL_GITSRC_BEFORE;
	e->removed_by = SIZE_MAX;
	h = hash(k, len) & (gi->cap - 1);
	e->next = gi->tab[h];
	gi->tab[h] = e;
	gi->n++;
	return e;
}

static const struct hl_gitimport_path *
path_of(const struct hl_gitimport *gi, const char *path)
{
	size_t i;

	for (i = 0; i < gi->npaths; i++)
		if (strcmp(gi->paths[i].path, path) == 0)
			return &gi->paths[i];
	return NULL;
}

/* The requester a bot commit names: "Auto ... by NAME". */
static char *
requester(const char *subject)
{
	const char *by = NULL, *p;

	if (strncmp(subject, "Auto ", 5) != 0)
		return NULL;
	for (p = subject; (p = strstr(p, " by ")) != NULL; p += 4)
		by = p + 4;
	return by && *by ? strdup(by) : NULL;
}

static void
origin_fill(struct hl_gitimport_origin *o, const struct hl_gitimport *gi,
    size_t ci)
{
	const struct hl_gitsrc_commit *c = hl_gitsrc_commit_at(gi->g, ci);

	o->commit = c->id;
	o->author = c->author;
	o->subject = c->subject;
	o->time = c->time;
	o->requester = ci < gi->nreq ? gi->req[ci] : NULL;
}

static int
delta_add(struct hl_gitimport *gi, const struct hl_gitimport_path *p,
    struct hl_item *it)
{
	struct delta *d;

	if (gi->ndv == gi->cdv) {
		size_t cap = gi->cdv ? 2 * gi->cdv : 64;

		if ((d = realloc(gi->dv, cap * sizeof(*d))) == NULL)
			return -1;
		gi->dv = d;
		gi->cdv = cap;
	}
	d = &gi->dv[gi->ndv];
	d->p = p;
	d->item = *it;
	if ((d->key = hl_item_key(p->fmt, it->value)) == NULL)
		return -1;
	memset(it, 0, sizeof(*it));
	gi->ndv++;
	return 0;
}

/*
 * Parses the text of one plain or tsv line into *it.  Returns 1 when it is
 * a value, 0 when SmokeDetector skips it (a comment, a bad tsv line).
 */
static int
parse_line(struct hl_item *it, const struct hl_gitimport_path *p,
    const struct hl_linetrack_line *l, struct hl_err *err)
{
	struct hl_item *v = NULL;
	char *text;
	size_t n = 0;
	int rc;

	memset(it, 0, sizeof(*it));
	if ((text = malloc(l->len + 2)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(text, l->text, l->len);
	text[l->len] = '\n';
	text[l->len + 1] = '\0';
	rc = hl_textfmt_parse(&v, &n, p->fmt, text, l->len + 1, p->path, err);
	free(text);
	if (rc != 0 || n != 1 || v[0].verbatim) {
		hl_items_free(v, n);
		return 0;
	}
	*it = v[0];
	free(v);
	return 1;
}

/* The values a plain or tsv file's change removed and added. */
static int
line_deltas(struct hl_gitimport *gi, const struct hl_gitimport_path *p,
    const struct hl_gitsrc_change *ch, int removed)
{
	struct hl_item it;
	size_t i;

	if (removed) {
		for (i = 0; i < ch->nremoved; i++)
			if (parse_line(&it, p, &ch->removed[i], gi->err) &&
			    delta_add(gi, p, &it) != 0)
				goto nomem;
		return 0;
	}
	for (i = 0; i < ch->nlines; i++)
		if (ch->added[i] && parse_line(&it, p, &ch->lines[i],
		    gi->err) && delta_add(gi, p, &it) != 0)
			goto nomem;
	return 0;
nomem:
	hl_item_clear(&it);
	return hl_err_set(gi->err, HL_ENOMEM, "out of memory");
}

static int
cmp_item_key(const void *a, const void *b)
{
	const struct hl_item *x = a, *y = b;

	return strcmp(x->value, y->value);
}

/*
 * A yaml file's change: the items before (as last parsed) and after,
 * compared as multisets of values; removed ones first (removed != 0),
 * then, in a second call, the added ones.  A file that does not parse is
 * reported and keeps its last state.
 */
static int
yaml_deltas(struct hl_gitimport *gi, const struct hl_gitimport_path *p,
    const struct hl_gitsrc_change *ch, const struct hl_gitsrc_commit *c,
    int removed)
{
	struct yfile *y = &gi->yaml[p - gi->paths];
	struct hl_item *nv = NULL, *a, *b, it;
	struct hl_err pe = HL_ERR_INIT;
	size_t nn = 0, i, j;
	int rc = 0;

	if (ch->exists && hl_textfmt_parse(&nv, &nn, p->fmt, ch->data,
	    ch->len, p->path, &pe) != 0) {
		if (removed && gi->report != NULL)
			hl_buf_printf(gi->report, "%.12s %s: does not parse,"
			    " kept as before: %s\n", c->id, p->path, pe.msg);
		return 0;
	}
	/* Drop what is not a value, then sort both sides by value. */
	for (i = j = 0; i < nn; i++) {
		if (nv[i].verbatim) {
			hl_item_clear(&nv[i]);
			continue;
		}
		nv[j++] = nv[i];
	}
	nn = j;
	qsort(nv, nn, sizeof(*nv), cmp_item_key);
	a = y->items;
	b = nv;
	for (i = j = 0; i < y->n || j < nn;) {
		int d = i == y->n ? 1 : j == nn ? -1 :
		    strcmp(a[i].value, b[j].value);

		if (d == 0) {
			i++;
			j++;
			continue;
		}
		if ((d < 0) == (removed != 0)) {
			if (hl_item_copy(&it, d < 0 ? &a[i] : &b[j]) != 0 ||
			    delta_add(gi, p, &it) != 0) {
				rc = hl_err_set(gi->err, HL_ENOMEM,
				    "out of memory");
				break;
			}
		}
		if (d < 0)
			i++;
		else
			j++;
	}
	if (removed || rc != 0) {
		hl_items_free(nv, nn);
		return rc;
	}
	hl_items_free(y->items, y->n);
	y->items = nv;
	y->n = nn;
	return 0;
}

static void
deltas_clear(struct hl_gitimport *gi)
{
	size_t i;

	for (i = 0; i < gi->ndv; i++) {
		hl_item_clear(&gi->dv[i].item);
		free(gi->dv[i].key);
	}
	gi->ndv = 0;
}

static int
emit(struct hl_gitimport *gi, char op, const struct delta *d, size_t ci,
    const struct hl_gitsrc_commit *c)
{
	struct hl_gitimport_event ev;
	struct hl_item it = d->item;

	gi->events++;
	if (gi->cb == NULL)
		return 0;
	ev.op = op;
	ev.list = d->p->list;
	ev.fmt = d->p->fmt;
	origin_fill(&ev.origin, gi, ci);
	if (d->p->fmt != HL_FMT_TSV || it.created_at == 0) {
		it.created_at = c->time;
		it.created_by = (char *)(ev.origin.requester ?
		    ev.origin.requester : c->author);
	}
	ev.item = &it;
	return gi->cb(&ev, gi->payload);
}

/*
 * Counts the commit's deltas (dv[0..nrem) removals, the rest additions),
 * then reports the values whose last copy went, then the new ones.
 */
static int
apply(struct hl_gitimport *gi, size_t nrem, size_t ci,
    const struct hl_gitsrc_commit *c)
{
	struct entry *e;
	unsigned char *is_new;
	char *k;
	size_t i, len;
	int rc = 0;

	if ((is_new = calloc(gi->ndv + 1, 1)) == NULL)
		return hl_err_set(gi->err, HL_ENOMEM, "out of memory");
	for (i = 0; i < gi->ndv; i++) {
		if ((k = table_key(&len, gi->dv[i].p->list,
		    gi->dv[i].key)) == NULL ||
		    (e = intern(gi, k, len)) == NULL) {
			free(is_new);
			return hl_err_set(gi->err, HL_ENOMEM,
			    "out of memory");
		}
		if (i < nrem) {
			if (e->count > 0 && --e->count == 0)
				e->removed_by = ci;
			continue;
		}
		if (e->count++ > 0)
			continue;
		if (e->removed_by == ci) {	/* moved, not added */
			e->removed_by = SIZE_MAX;
			continue;
		}
		e->origin = ci;
		is_new[i] = 1;
	}
	/* Values whose last copy this commit took away (once each). */
	for (i = 0; i < nrem && rc == 0; i++) {
		if ((k = table_key(&len, gi->dv[i].p->list,
		    gi->dv[i].key)) == NULL) {
			rc = hl_err_set(gi->err, HL_ENOMEM, "out of memory");
			break;
		}
		e = lookup(gi, k, len);
		free(k);
		if (e == NULL || e->count != 0 || e->removed_by != ci)
			continue;
		e->removed_by = SIZE_MAX;
		rc = emit(gi, 'd', &gi->dv[i], ci, c);
	}
	for (i = nrem; i < gi->ndv && rc == 0; i++)
		if (is_new[i])
			rc = emit(gi, 'a', &gi->dv[i], ci, c);
	free(is_new);
	return rc;
}

static int
on_commit(const struct hl_gitsrc_commit *c, size_t ci,
    const struct hl_gitsrc_change *ch, size_t nch, void *payload)
{
	struct hl_gitimport *gi = payload;
	const struct hl_gitimport_path *p;
	size_t i, nrem;
	int rc = 0, pass;
	char **r;

	if ((r = realloc(gi->req, (ci + 1) * sizeof(*r))) == NULL)
		return hl_err_set(gi->err, HL_ENOMEM, "out of memory");
	gi->req = r;
	for (; gi->nreq <= ci; gi->nreq++)
		gi->req[gi->nreq] = NULL;
	gi->req[ci] = requester(c->subject);
	gi->commits++;
	deltas_clear(gi);
	nrem = 0;
	for (pass = 1; pass >= 0 && rc == 0; pass--) {
		for (i = 0; i < nch && rc == 0; i++) {
			if ((p = path_of(gi, ch[i].path)) == NULL)
				continue;
			rc = hl_fmt_is_yaml(p->fmt) ?
			    yaml_deltas(gi, p, &ch[i], c, pass) :
			    line_deltas(gi, p, &ch[i], pass);
		}
		if (pass == 1)
			nrem = gi->ndv;
	}
	if (rc == 0)
		rc = apply(gi, nrem, ci, c);
	deltas_clear(gi);
	return rc;
}

/* The values of the files at since: their copies, of unknown origin. */
static int
preload(struct hl_gitimport *gi, const char *since)
{
	struct hl_item *v = NULL;
	struct hl_err pe = HL_ERR_INIT;
	struct entry *e;
	char *data, *k, *key;
	size_t len, n, i, j, klen;
	int rc;

	for (i = 0; i < gi->npaths; i++) {
		const struct hl_gitimport_path *p = &gi->paths[i];

		rc = hl_gitsrc_read(&data, &len, gi->g, since, p->path,
		    gi->err);
		if (rc == HL_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		rc = hl_textfmt_parse(&v, &n, p->fmt, data, len, p->path,
		    &pe);
		free(data);
		if (rc != 0)
			continue;	/* a broken file holds nothing */
		for (j = 0; j < n; j++) {
			if (v[j].verbatim)
				continue;
			if ((key = hl_item_key(p->fmt, v[j].value)) == NULL ||
			    (k = table_key(&klen, p->list, key)) == NULL ||
			    (e = intern(gi, k, klen)) == NULL) {
				free(key);
				hl_items_free(v, n);
				return hl_err_set(gi->err, HL_ENOMEM,
				    "out of memory");
			}
			free(key);
			e->count++;
		}
		if (hl_fmt_is_yaml(p->fmt)) {
			for (j = n; j-- > 0;)
				if (v[j].verbatim) {
					hl_item_clear(&v[j]);
					memmove(&v[j], &v[j + 1],
					    (n - j - 1) * sizeof(*v));
					n--;
				}
			qsort(v, n, sizeof(*v), cmp_item_key);
			gi->yaml[i].items = v;
			gi->yaml[i].n = n;
		} else
			hl_items_free(v, n);
		v = NULL;
	}
	return 0;
}

int
hl_gitimport_run(struct hl_gitimport **out, struct hl_gitsrc *g,
    const char *since, const char *rev,
    const struct hl_gitimport_path *paths, size_t n, hl_gitimport_cb cb,
    void *payload, struct hl_buf *report, struct hl_err *err)
{
	struct hl_gitimport *gi;
	const char *pv[64];
	size_t i;
	int rc;

	*out = NULL;
	if (n > 64)
		return hl_err_set(err, HL_EINVAL, "at most 64 files");
	if ((gi = calloc(1, sizeof(*gi))) == NULL ||
	    (gi->yaml = calloc(n + 1, sizeof(*gi->yaml))) == NULL ||
	    (gi->tab = calloc(1024, sizeof(*gi->tab))) == NULL) {
		hl_gitimport_free(gi);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	gi->cap = 1024;
	gi->g = g;
	gi->paths = paths;
	gi->npaths = n;
	gi->cb = cb;
	gi->payload = payload;
	gi->report = report;
	gi->err = err;
	for (i = 0; i < n; i++)
		pv[i] = paths[i].path;
	if (since != NULL && (rc = preload(gi, since)) != 0) {
		hl_gitimport_free(gi);
		return rc;
	}
	rc = hl_gitsrc_walk(g, since, rev, pv, n, on_commit, gi, err);
	if (rc != 0) {
		hl_gitimport_free(gi);
		return rc;
	}
	gi->err = NULL;
	*out = gi;
	return 0;
}

void
hl_gitimport_free(struct hl_gitimport *gi)
{
	struct entry *e, *next;
	size_t i;

	if (gi == NULL)
		return;
	for (i = 0; gi->tab && i < gi->cap; i++)
		for (e = gi->tab[i]; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	for (i = 0; gi->yaml && i < gi->npaths; i++)
		hl_items_free(gi->yaml[i].items, gi->yaml[i].n);
	for (i = 0; i < gi->nreq; i++)
		free(gi->req[i]);
	deltas_clear(gi);
	free(gi->dv);
	free(gi->req);
	free(gi->yaml);
	free(gi->tab);
	free(gi);
}

size_t
hl_gitimport_commits(const struct hl_gitimport *gi)
{
	return gi->commits;
}

size_t
hl_gitimport_events(const struct hl_gitimport *gi)
{
	return gi->events;
}

int
hl_gitimport_origin(struct hl_gitimport_origin *out,
    const struct hl_gitimport *gi, const char *list, int fmt,
    const struct hl_item *it)
{
	struct entry *e;
	char *key, *k;
	size_t len;

	memset(out, 0, sizeof(*out));
	if ((key = hl_item_key(fmt, it->value)) == NULL)
		return -1;
	k = table_key(&len, list, key);
	free(key);
	if (k == NULL)
		return -1;
	e = lookup((struct hl_gitimport *)gi, k, len);
	free(k);
	if (e == NULL || e->origin == HL_GITSRC_BEFORE)
		return -1;
	origin_fill(out, gi, e->origin);
	return 0;
}

const char *
hl_gitimport_file(size_t *len, const char **path,
    const struct hl_gitimport *gi, const char *list)
{
	const char *d;
	size_t i;

	for (i = 0; i < gi->npaths; i++) {
		if (strcmp(gi->paths[i].list, list) != 0)
			continue;
		if ((d = hl_gitsrc_file(len, gi->g, gi->paths[i].path))) {
			if (path != NULL)
				*path = gi->paths[i].path;
			return d;
		}
	}
	*len = 0;
	return NULL;
}

char *
hl_gitimport_origin_json(const struct hl_gitimport_origin *o)
{
	json_t *j;
	char *s;

	j = json_pack("{s:s, s:s, s:I, s:s}", "commit", o->commit,
	    "author", o->author, "time", (json_int_t)o->time,
	    "subject", o->subject);
	if (j == NULL)
		return NULL;
	if (o->requester != NULL)
		json_object_set_new(j, "requester", json_string(o->requester));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}
