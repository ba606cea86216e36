/*
 * gitmem: an in-memory odb backend for a publish's new objects (see
 * gitmem.h).
 *
 * The objects are kept in the order written, with an open-addressing
 * table of their ids for lookups.  A write libgit2 offers that this
 * backend declines (GIT_PASSTHROUGH: too big, or over the total) goes on
 * to the next backend, the loose objects.  The flush
 * writes through a loose backend of its own on the same directory
 * (libgit2's write of an id already computed: no second hash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/odb_backend.h>

#include "gitmem.h"

#define PRIORITY	100	/* ahead of the loose (1) and packs (2) */

struct mobj {
	git_oid		 id;
	git_object_t	 type;
	size_t		 len;
	unsigned char	*data;
};

struct hl_gitmem {
	git_odb_backend	 parent;
	struct mobj	*v;		/* in the order written */
	size_t		 n, cap;
	size_t		*slot;		/* index + 1 into v; 0: empty */
	size_t		 nslot;		/* a power of 2, >= 2 * cap */
	size_t		 held;		/* bytes */
	git_odb		*loose_odb;	/* the flush's */
	git_odb_backend	*loose;
};

static size_t
hash_of(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static struct mobj *
find(const struct hl_gitmem *m, const git_oid *id)
{
	size_t i, s;

	if (m->nslot == 0)
		return NULL;
	for (i = hash_of(id) & (m->nslot - 1); (s = m->slot[i]) != 0;
	    i = (i + 1) & (m->nslot - 1))
		if (git_oid_equal(&m->v[s - 1].id, id))
			return &m->v[s - 1];
	return NULL;
}

static void
index_all(struct hl_gitmem *m)
{
	size_t k, i;

	memset(m->slot, 0, m->nslot * sizeof(*m->slot));
	for (k = 0; k < m->n; k++) {
		i = hash_of(&m->v[k].id) & (m->nslot - 1);
		while (m->slot[i] != 0)
			i = (i + 1) & (m->nslot - 1);
		m->slot[i] = k + 1;
	}
}

/* Room for one more object: 0, or -1 out of memory. */
static int
grow(struct hl_gitmem *m)
{
	struct mobj *nv;
	size_t cap, *ns;

	if (m->n < m->cap)
		return 0;
	cap = m->cap ? 2 * m->cap : 64;
	if ((nv = realloc(m->v, cap * sizeof(*nv))) == NULL)
		return -1;
	m->v = nv;
	if ((ns = calloc(2 * cap, sizeof(*ns))) == NULL)
		return -1;
	free(m->slot);
	m->slot = ns;
	m->nslot = 2 * cap;
	m->cap = cap;
	index_all(m);
	return 0;
}

static int
b_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len,
    git_object_t type)
{
	struct hl_gitmem *m = (struct hl_gitmem *)b;
	struct mobj *o;
	size_t i;

	if (find(m, id) != NULL)
		return 0;
	if (len > HL_GITMEM_OBJECT_MAX || m->held + len > HL_GITMEM_HELD_MAX ||
	    grow(m) != 0)
		return GIT_PASSTHROUGH;		/* to the loose objects */
	o = &m->v[m->n];
	if ((o->data = malloc(len ? len : 1)) == NULL)
		return GIT_PASSTHROUGH;
	memcpy(o->data, data, len);
	git_oid_cpy(&o->id, id);
	o->type = type;
	o->len = len;
	for (i = hash_of(id) & (m->nslot - 1); m->slot[i] != 0;
	    i = (i + 1) & (m->nslot - 1))
		;
	m->slot[i] = ++m->n;
	m->held += len;
	return 0;
}

/* A write stream: the object's bytes gathered, then held as one write. */
struct mstream {
	git_odb_stream	 parent;
	git_object_t	 type;
	unsigned char	*buf;
	size_t		 len, want;
};

static int
s_write(git_odb_stream *st, const char *p, size_t n)
{
	struct mstream *s = (struct mstream *)st;

	if (n > s->want - s->len) {
		git_error_set_str(GIT_ERROR_ODB, "object longer than declared");
		return -1;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static int
s_finalize(git_odb_stream *st, const git_oid *id)
{
	struct mstream *s = (struct mstream *)st;

	if (s->len != s->want) {
		git_error_set_str(GIT_ERROR_ODB, "object shorter than "
		    "declared");
		return -1;
	}
	return b_write(st->backend, id, s->buf, s->len, s->type) == 0 ? 0 :
	    -1;
}

static void
s_free(git_odb_stream *st)
{
	struct mstream *s = (struct mstream *)st;

	free(s->buf);
	free(s);
}

/*
 * libgit2 writes blobs from memory through a stream too.  Declined (to
 * the loose objects) when it would not be held: too big, or over the
 * total (the spooled lists of a million items are both).
 */
static int
b_writestream(git_odb_stream **out, git_odb_backend *b, git_object_size_t len,
    git_object_t type)
{
	struct hl_gitmem *m = (struct hl_gitmem *)b;
	struct mstream *s;

	if (len > HL_GITMEM_OBJECT_MAX || m->held + len > HL_GITMEM_HELD_MAX ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		return GIT_PASSTHROUGH;
	if ((s->buf = malloc(len ? (size_t)len : 1)) == NULL) {
		free(s);
		return GIT_PASSTHROUGH;
	}
	s->want = (size_t)len;
	s->type = type;
	s->parent.backend = b;
	s->parent.mode = GIT_STREAM_WRONLY;
	s->parent.write = s_write;
	s->parent.finalize_write = s_finalize;
	s->parent.free = s_free;
	*out = &s->parent;
	return 0;
}

static int
b_read(void **out, size_t *len, git_object_t *type, git_odb_backend *b,
    const git_oid *id)
{
	struct mobj *o = find((struct hl_gitmem *)b, id);

	if (o == NULL)
		return GIT_ENOTFOUND;
	if ((*out = git_odb_backend_data_alloc(b, o->len ? o->len : 1)) ==
	    NULL)
		return -1;
	memcpy(*out, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
b_read_header(size_t *len, git_object_t *type, git_odb_backend *b,
    const git_oid *id)
{
	struct mobj *o = find((struct hl_gitmem *)b, id);

	if (o == NULL)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
b_exists(git_odb_backend *b, const git_oid *id)
{
	return find((struct hl_gitmem *)b, id) != NULL;
}

static int
b_foreach(git_odb_backend *b, git_odb_foreach_cb cb, void *payload)
{
	struct hl_gitmem *m = (struct hl_gitmem *)b;
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++)
		if ((rc = cb(&m->v[i].id, payload)) != 0)
			return rc;
	return 0;
}

static void
drop(struct hl_gitmem *m, size_t from)
{
	size_t i;

	for (i = from; i < m->n; i++)
		free(m->v[i].data);
}

static void
b_free(git_odb_backend *b)
{
	struct hl_gitmem *m = (struct hl_gitmem *)b;

	drop(m, 0);
	free(m->v);
	free(m->slot);
	git_odb_free(m->loose_odb);
	free(m);
}

int
hl_gitmem_attach(struct hl_gitmem **out, git_repository *repo,
    struct hl_err *err)
{
	struct hl_gitmem *m;
	git_odb *odb = NULL;
	char dir[1100];
	const git_error *e;
	int rc;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	(void)git_odb_init_backend(&m->parent, GIT_ODB_BACKEND_VERSION);
	m->parent.read = b_read;
	m->parent.read_header = b_read_header;
	m->parent.write = b_write;
	m->parent.writestream = b_writestream;
	m->parent.exists = b_exists;
	m->parent.foreach = b_foreach;
	m->parent.free = b_free;
	(void)snprintf(dir, sizeof(dir), "%sobjects",
	    git_repository_path(repo));
	if ((rc = git_odb_new(&m->loose_odb)) < 0 ||
	    (rc = git_odb_backend_loose(&m->loose, dir, -1, 0, 0, 0)) < 0 ||
	    (rc = git_odb_add_backend(m->loose_odb, m->loose, 1)) < 0 ||
	    (rc = git_repository_odb(&odb, repo)) < 0 ||
	    (rc = git_odb_add_backend(odb, &m->parent, PRIORITY)) < 0) {
		e = git_error_last();
		if (m->loose != NULL && m->loose->odb == NULL)
			m->loose->free(m->loose);
		git_odb_free(m->loose_odb);
		free(m);
		git_odb_free(odb);
		return hl_err_set(err, HL_EIO, "git cache: %s",
		    e != NULL && e->message != NULL ? e->message :
		    "cannot add the memory backend");
	}
	git_odb_free(odb);
	*out = m;
	return 0;
}

int
hl_gitmem_put_blob(struct hl_gitmem *m, git_repository *repo,
    const git_oid *id, const void *data, size_t len)
{
	git_odb *odb = NULL;
	int have;

	if (len > HL_GITMEM_OBJECT_MAX || m->held + len > HL_GITMEM_HELD_MAX)
		return 1;
	if (git_repository_odb(&odb, repo) < 0)
		return -1;
	have = git_odb_exists(odb, id);
	git_odb_free(odb);
	if (have)
		return 0;
	return b_write(&m->parent, id, data, len, GIT_OBJECT_BLOB) == 0 ? 0 : 1;
}

int
hl_gitmem_flush(struct hl_gitmem *m, struct hl_err *err)
{
	const git_error *e;
	struct mobj *o;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < m->n; i++) {
		o = &m->v[i];
		if ((rc = m->loose->write(m->loose, &o->id, o->data, o->len,
		    o->type)) < 0)
			break;
	}
	if (rc >= 0) {
		drop(m, 0);
		m->n = 0;
		m->held = 0;
		if (m->nslot > 0)
			memset(m->slot, 0, m->nslot * sizeof(*m->slot));
		return 0;
	}
	/* v[0, i) are out: keep the rest for the next flush. */
	for (k = 0; k < i; k++) {
		m->held -= m->v[k].len;
		free(m->v[k].data);
	}
	memmove(m->v, m->v + i, (m->n - i) * sizeof(*m->v));
	m->n -= i;
	index_all(m);
	e = git_error_last();
	return hl_err_set(err, HL_EIO, "git cache: write objects: %s",
	    e != NULL && e->message != NULL ? e->message : "failed");
}

size_t
hl_gitmem_count(const struct hl_gitmem *m, size_t *bytes)
{
	if (bytes != NULL)
		*bytes = m->held;
	return m->n;
}
