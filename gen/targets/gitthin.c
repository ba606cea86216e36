/*
 * gitthin: the thin pack of a push and its deltas (see gitthin.h).
 *
 * The pack format (version 2): "PACK", the version and the object count
 * in network order; each object a header (type and size, 7 bits a byte,
 * low bits first after the first byte's 4), for a REF_DELTA the 20-byte id
 * of its base, then the zlib stream of its content or delta; at the end
 * the SHA-1 of all that.
 *
 * The delta is git's: the sizes of source and target as little-endian
 * base-128 numbers, then instructions: a byte 1..127 inserts that many
 * literal bytes that follow; a byte with bit 7 set copies from the source,
 * its bits 0-3 saying which offset bytes follow and bits 4-6 which size
 * bytes.  Matches are found the way git's diff-delta does, simplified: the
 * source indexed by the hash of each aligned 16-byte block, the target
 * scanned with a rolling hash of its next 16 bytes, a hit checked,
 * extended forwards and backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "gitthin.h"
#include "pub_git.h"

#define BLOCK		16
#define MAX_COPY	0x10000		/* per copy instruction */
#define MAX_INSERT	127
#define OBJ_REF_DELTA	7
/*
 * Bigger objects (a spooled list's text: 14 MB at 200,000 items; at a
 * million, 70 MB and its gzip 5 MB) go whole, read and deflated as a
 * stream: a delta holds the object, its base, an index of the base and
 * the delta in memory at once, over twice the object's size.  The
 * biggest list SmokeDetector has (1.85 MB) is well below.
 */
#define DELTA_MAX	(4 * 1024 * 1024)
#define OUT_PIECE	(64 * 1024)	/* the sink's pieces */
#define STREAM_MIN	(1024 * 1024)	/* bigger whole objects: streamed */

/* B^(BLOCK-1), B = 257, modulo 2^32. */
static uint32_t
top_power(void)
{
	uint32_t p = 1;
	int i;

	for (i = 0; i < BLOCK - 1; i++)
		p *= 257;
	return p;
}

static uint32_t
block_hash(const unsigned char *p)
{
	uint32_t h = 0;
	int i;

	for (i = 0; i < BLOCK; i++)
		h = h * 257 + p[i];
	return h;
}

static int
put_varint(struct hl_buf *b, size_t v)
{
	unsigned char c[10];
	size_t n = 0;

	do {
		c[n] = v & 0x7f;
		v >>= 7;
		if (v != 0)
			c[n] |= 0x80;
		n++;
	} while (v != 0);
	return hl_buf_put(b, c, n);
}

static int
put_insert(struct hl_buf *b, const unsigned char *p, size_t n)
{
	size_t k;
	int rc;

	while (n > 0) {
		k = n > MAX_INSERT ? MAX_INSERT : n;
		if ((rc = hl_buf_putc(b, (int)k)) != 0 ||
		    (rc = hl_buf_put(b, p, k)) != 0)
			return rc;
		p += k;
		n -= k;
	}
	return 0;
}

static int
put_copy(struct hl_buf *b, size_t off, size_t n)
{
	unsigned char c[8];
	size_t k, len;
	int i;

	while (n > 0) {
		k = n > MAX_COPY ? MAX_COPY : n;
		c[0] = 0x80;
		len = 1;
		for (i = 0; i < 4; i++)
			if ((off >> (8 * i)) & 0xff) {
				c[0] |= 1 << i;
				c[len++] = (off >> (8 * i)) & 0xff;
			}
		for (i = 0; i < 3; i++)
			if ((k >> (8 * i)) & 0xff) {
				c[0] |= 0x10 << i;
				c[len++] = (k >> (8 * i)) & 0xff;
			}
		if (hl_buf_put(b, c, len) != 0)
			return HL_ENOMEM;
		off += k;
		n -= k;
	}
	return 0;
}

int
hl_gitthin_delta(struct hl_buf *out, const unsigned char *src, size_t srclen,
    const unsigned char *tgt, size_t tgtlen, size_t max)
{
	uint32_t *index = NULL, h = 0, pw;
	size_t nidx = 1, mask, start = out->len, i, lit, o, len, back;
	int rc = 0;

	/* Offsets are 32-bit in the format. */
	if (srclen >= UINT32_MAX || tgtlen >= UINT32_MAX)
		return HL_ETOOBIG;
	while (nidx < srclen / BLOCK + 1)
		nidx <<= 1;
	mask = nidx - 1;
	if ((index = calloc(nidx, sizeof(*index))) == NULL)
		return HL_ENOMEM;
	/* The first block of each hash wins: offsets stored plus one. */
	for (o = 0; o + BLOCK <= srclen; o += BLOCK) {
		h = block_hash(src + o) & mask;
		if (index[h] == 0)
			index[h] = (uint32_t)o + 1;
	}
	if ((rc = put_varint(out, srclen)) != 0 ||
	    (rc = put_varint(out, tgtlen)) != 0)
		goto out;
	pw = top_power();
	lit = 0;	/* literal bytes pending: tgt[i - lit .. i) */
	i = 0;
	if (tgtlen >= BLOCK)
		h = block_hash(tgt);
	while (i < tgtlen) {
		if (out->len - start >= max) {
			rc = HL_ETOOBIG;
			goto out;
		}
		if (i + BLOCK > tgtlen || srclen < BLOCK ||
		    (o = index[h & mask]) == 0 ||
		    memcmp(src + o - 1, tgt + i, BLOCK) != 0) {
			if (i + BLOCK < tgtlen)
				h = (h - tgt[i] * pw) * 257 + tgt[i + BLOCK];
			i++;
			lit++;
			if (i + BLOCK > tgtlen) {
				/* No block left to match: the rest is literal. */
				lit += tgtlen - i;
				i = tgtlen;
			}
			continue;
		}
		o--;
		len = BLOCK;
		while (o + len < srclen && i + len < tgtlen &&
		    src[o + len] == tgt[i + len])
			len++;
		for (back = 0; back < lit && back < o &&
		    src[o - back - 1] == tgt[i - back - 1]; back++)
			;
		if ((rc = put_insert(out, tgt + i - lit, lit - back)) != 0 ||
		    (rc = put_copy(out, o - back, len + back)) != 0)
			goto out;
		i += len;
		lit = 0;
		if (i + BLOCK <= tgtlen)
			h = block_hash(tgt + i);
	}
	if ((rc = put_insert(out, tgt + tgtlen - lit, lit)) != 0)
		goto out;
	if (out->len - start >= max)
		rc = HL_ETOOBIG;
out:
	if (rc != 0)
		out->len = start;
	free(index);
	return rc;
}

/* A set of object ids: open addressing, the ids' first bytes as hash. */
struct oidset {
	git_oid	*v;
	char	*used;
	size_t	 n;		/* slots, a power of 2 */
	size_t	 count;
};

static size_t
oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

/* 1 if id was added, 0 if it was there, HL_ENOMEM. */
static int
oidset_add(struct oidset *s, const git_oid *id)
{
	struct oidset ns;
	size_t i;

	if (2 * (s->count + 1) > s->n) {
		ns.n = s->n ? 2 * s->n : 64;
		ns.count = 0;
		ns.v = calloc(ns.n, sizeof(*ns.v));
		ns.used = calloc(ns.n, 1);
		if (ns.v == NULL || ns.used == NULL) {
			free(ns.v);
			free(ns.used);
			return HL_ENOMEM;
		}
		for (i = 0; i < s->n; i++)
			if (s->used[i])
				(void)oidset_add(&ns, &s->v[i]);
		free(s->v);
		free(s->used);
		*s = ns;
	}
	for (i = oid_hash(id) & (s->n - 1); s->used[i];
	    i = (i + 1) & (s->n - 1))
		if (git_oid_equal(&s->v[i], id))
			return 0;
	s->used[i] = 1;
	git_oid_cpy(&s->v[i], id);
	s->count++;
	return 1;
}

/* One object of the pack: base set, a delta against it is tried. */
struct entry {
	git_oid		 id;
	git_oid		 base;
	int		 has_base;
};

struct hl_gitthin_pack {
	git_repository	*repo;
	git_odb		*odb;
	struct oidset	 sent;
	struct entry	*e;
	size_t		 n;
	size_t		 cap;
	int		 thin;
	struct hl_err	*err;		/* while planning */
	const struct hl_gitthin_blob *known;	/* see hl_gitthin_known() */
	size_t		 nknown;
};

/* The pack's bytes on their way to the sink: hashed, in 64 KB pieces. */
struct out {
	hl_gitthin_sink	 sink;
	void		*arg;
	EVP_MD_CTX	*sha;
	unsigned char	 buf[OUT_PIECE];
	size_t		 len;
	int		 sink_rc;	/* the sink's error, if it failed */
};

static int
out_flush(struct out *o)
{
	int rc;

	if (o->len == 0)
		return 0;
	if (EVP_DigestUpdate(o->sha, o->buf, o->len) != 1)
		return HL_EIO;
	if ((rc = o->sink(o->buf, o->len, o->arg)) != 0) {
		o->sink_rc = rc;
		return HL_EIO;
	}
	o->len = 0;
	return 0;
}

static int
out_put(struct out *o, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t k;
	int rc;

	while (n > 0) {
		if (o->len == sizeof(o->buf) && (rc = out_flush(o)) != 0)
			return rc;
		k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, c, k);
		o->len += k;
		c += k;
		n -= k;
	}
	return 0;
}

static int
put_header(struct out *o, int type, size_t size)
{
	unsigned char c[16];
	size_t n = 0;

	c[n] = (unsigned char)(type << 4 | (size & 15));
	size >>= 4;
	while (size != 0) {
		c[n++] |= 0x80;
		c[n] = size & 0x7f;
		size >>= 7;
	}
	return out_put(o, c, n + 1);
}

/*
 * One zlib stream in pieces: data[0..len) deflated into the pack, the end
 * of the stream with last.
 */
static int
deflate_piece(struct out *o, z_stream *z, const void *data, size_t len,
    int last)
{
	unsigned char tmp[16384];
	int zrc, rc;

	z->next_in = (Bytef *)(uintptr_t)data;
	z->avail_in = (uInt)len;
	do {
		z->next_out = tmp;
		z->avail_out = sizeof(tmp);
		zrc = deflate(z, last ? Z_FINISH : Z_NO_FLUSH);
		if (zrc == Z_STREAM_ERROR)
			return HL_ENOMEM;
		if ((rc = out_put(o, tmp, sizeof(tmp) - z->avail_out)) != 0)
			return rc;
	} while (z->avail_out == 0 || (last && zrc != Z_STREAM_END));
	return 0;
}

static int
put_deflated(struct out *o, const void *data, size_t len)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, Z_DEFAULT_COMPRESSION) != Z_OK)
		return HL_ENOMEM;
	rc = deflate_piece(o, &z, data, len, 1);
	deflateEnd(&z);
	return rc;
}

/* An object's bytes in memory: libgit2's, or read from a stream. */
struct obj {
	git_odb_object	*o;
	struct hl_buf	 b;
	const unsigned char *data;
	size_t		 len;
	git_object_t	 type;
};

static void
obj_free(struct obj *x)
{
	git_odb_object_free(x->o);
	hl_buf_free(&x->b);
	memset(x, 0, sizeof(*x));
}

/*
 * Reads object id whole: a blob the caller knows from memory, else a loose
 * object through a stream, which inflates it once and does not hash it
 * again (the cache wrote it).
 */
static int
obj_read(struct obj *x, const struct hl_gitthin_pack *pk, const git_oid *id)
{
	git_odb *odb = pk->odb;
	git_odb_stream *st = NULL;
	size_t len, i;
	git_object_t type;
	ssize_t got;
	int rc;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < pk->nknown; i++)
		if (git_oid_equal(&pk->known[i].id, id)) {
			x->data = pk->known[i].data;
			x->len = pk->known[i].len;
			x->type = GIT_OBJECT_BLOB;
			return 0;
		}
	if (git_odb_open_rstream(&st, &len, &type, odb, id) == 0) {
		if ((rc = hl_buf_grow(&x->b, len + 1)) != 0) {
			git_odb_stream_free(st);
			return HL_ENOMEM;
		}
		while (x->b.len < len && (got = git_odb_stream_read(st,
		    x->b.data + x->b.len, len - x->b.len)) > 0)
			x->b.len += (size_t)got;
		git_odb_stream_free(st);
		if (x->b.len == len) {
			x->data = (const unsigned char *)x->b.data;
			x->len = len;
			x->type = type;
			return 0;
		}
		hl_buf_free(&x->b);	/* short: try the whole read */
	}
	if ((rc = git_odb_read(&x->o, odb, id)) < 0)
		return rc;
	x->data = git_odb_object_data(x->o);
	x->len = git_odb_object_size(x->o);
	x->type = git_odb_object_type(x->o);
	return 0;
}

/* Object id whole, its size and type known, read and deflated in pieces. */
static int
put_streamed(struct out *o, const struct hl_gitthin_pack *pk,
    const git_oid *id, size_t len)
{
	git_odb *odb = pk->odb;
	git_odb_stream *st = NULL;
	struct obj x;
	z_stream z;
	char piece[OUT_PIECE];
	size_t left = len, want;
	ssize_t got;
	git_object_t type;
	int rc;

	if (len <= STREAM_MIN || git_odb_open_rstream(&st, &want, &type, odb,
	    id) != 0 || want != len) {
		if (st != NULL)
			git_odb_stream_free(st);
		if ((rc = obj_read(&x, pk, id)) != 0)
			return rc;
		rc = x.len == len ? put_deflated(o, x.data, x.len) : HL_EIO;
		obj_free(&x);
		return rc;
	}
	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, Z_DEFAULT_COMPRESSION) != Z_OK) {
		git_odb_stream_free(st);
		return HL_ENOMEM;
	}
	rc = 0;
	while (rc == 0 && left > 0) {
		want = left < sizeof(piece) ? left : sizeof(piece);
		if ((got = git_odb_stream_read(st, piece, want)) <= 0) {
			rc = HL_EIO;
			break;
		}
		left -= (size_t)got;
		rc = deflate_piece(o, &z, piece, (size_t)got, left == 0);
	}
	deflateEnd(&z);
	git_odb_stream_free(st);
	return rc;
}

/*
 * Writes entry e: as a delta against its base when that is less than
 * half its size, else whole.
 */
static int
put_object(struct hl_gitthin_pack *pk, struct out *o, const struct entry *e,
    struct hl_buf *delta, size_t *ndelta, struct hl_err *err)
{
	struct obj x, bx;
	size_t len;
	git_object_t type;
	int rc;

	memset(&x, 0, sizeof(x));
	memset(&bx, 0, sizeof(bx));
	if ((rc = git_odb_read_header(&len, &type, pk->odb, &e->id)) < 0)
		return hl_pub_git__error(err, rc, NULL, "git thin pack");
	if (pk->thin && e->has_base && len >= 64 && len <= DELTA_MAX) {
		if ((rc = obj_read(&x, pk, &e->id)) < 0 ||
		    (rc = obj_read(&bx, pk, &e->base)) < 0) {
			rc = hl_pub_git__error(err, rc, NULL, "git thin pack");
			goto out;
		}
		delta->len = 0;
		if (bx.type == type && x.len == len &&
		    hl_gitthin_delta(delta, bx.data, bx.len, x.data, x.len,
		    len / 2) == 0) {
			obj_free(&bx);
			if ((rc = put_header(o, OBJ_REF_DELTA,
			    delta->len)) != 0 ||
			    (rc = out_put(o, e->base.id, GIT_OID_RAWSZ)) != 0 ||
			    (rc = put_deflated(o, delta->data, delta->len)) != 0)
				goto fail;
			(*ndelta)++;
			goto out;
		}
		obj_free(&bx);
	}
	if ((rc = put_header(o, type, len)) != 0)
		goto fail;
	if (x.data != NULL)
		rc = put_deflated(o, x.data, x.len);
	else
		rc = put_streamed(o, pk, &e->id, len);
	if (rc != 0)
		goto fail;
out:
	obj_free(&bx);
	obj_free(&x);
	return rc;
fail:
	obj_free(&bx);
	obj_free(&x);
	if (o->sink_rc != 0)
		return hl_pub_git__error(err, o->sink_rc, NULL, "git push");
	if (rc == HL_ENOMEM)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	return hl_err_set(err, HL_EIO, "git thin pack: an object could not "
	    "be read");
}

/* Adds object id (base: the remote's version at its path, or NULL). */
static int
add_object(struct hl_gitthin_pack *pk, const git_oid *id, const git_oid *base)
{
	struct entry *ne;
	size_t cap;
	int rc;

	if ((rc = oidset_add(&pk->sent, id)) <= 0)
		return rc == 0 ? 0 : hl_err_set(pk->err, HL_ENOMEM,
		    "out of memory");
	if (pk->n == pk->cap) {
		cap = pk->cap ? 2 * pk->cap : 64;
		if ((ne = realloc(pk->e, cap * sizeof(*ne))) == NULL)
			return hl_err_set(pk->err, HL_ENOMEM, "out of memory");
		pk->e = ne;
		pk->cap = cap;
	}
	ne = &pk->e[pk->n++];
	git_oid_cpy(&ne->id, id);
	ne->has_base = base != NULL && pk->thin;
	if (ne->has_base)
		git_oid_cpy(&ne->base, base);
	return 0;
}

/*
 * Adds the tree t and what under it the tree old (the first parent's at
 * that path; NULL: none) lacks.  base is the remote's tree at that path
 * (NULL: none), where delta bases are looked up by name.
 */
static int
add_tree(struct hl_gitthin_pack *pk, const git_tree *t, const git_tree *old,
    const git_tree *base)
{
	const git_tree_entry *e, *oe, *be;
	git_tree *sub = NULL, *osub = NULL, *bsub = NULL;
	size_t i, n = git_tree_entrycount(t);
	int rc = 0;

	if ((rc = add_object(pk, git_tree_id(t), base != NULL ?
	    git_tree_id(base) : NULL)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		e = git_tree_entry_byindex(t, i);
		oe = old != NULL ? git_tree_entry_byname(old,
		    git_tree_entry_name(e)) : NULL;
		if (oe != NULL && git_oid_equal(git_tree_entry_id(oe),
		    git_tree_entry_id(e)))
			continue;
		be = base != NULL ? git_tree_entry_byname(base,
		    git_tree_entry_name(e)) : NULL;
		if (be != NULL && git_tree_entry_type(be) !=
		    git_tree_entry_type(e))
			be = NULL;
		switch (git_tree_entry_type(e)) {
		case GIT_OBJECT_BLOB:
			rc = add_object(pk, git_tree_entry_id(e), be != NULL ?
			    git_tree_entry_id(be) : NULL);
			break;
		case GIT_OBJECT_TREE:
			if ((rc = git_tree_lookup(&sub, pk->repo,
			    git_tree_entry_id(e))) < 0 ||
			    (oe != NULL && git_tree_entry_type(oe) ==
			    GIT_OBJECT_TREE && (rc = git_tree_lookup(&osub,
			    pk->repo, git_tree_entry_id(oe))) < 0) ||
			    (be != NULL && (rc = git_tree_lookup(&bsub,
			    pk->repo, git_tree_entry_id(be))) < 0))
				rc = hl_pub_git__error(pk->err, rc, NULL,
				    "git thin pack");
			else
				rc = add_tree(pk, sub, osub, bsub);
			git_tree_free(sub);
			git_tree_free(osub);
			git_tree_free(bsub);
			sub = osub = bsub = NULL;
			break;
		default:	/* a submodule's commit: not ours to send */
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
hl_gitthin_plan(struct hl_gitthin_pack **out, git_repository *repo,
    const git_oid *tip, const git_oid *base, int thin, struct hl_err *err)
{
	struct hl_gitthin_pack *pk;
	git_revwalk *rw = NULL;
	git_commit *c = NULL, *parent = NULL, *bc = NULL;
	git_tree *t = NULL, *pt = NULL, *bt = NULL;
	git_oid id;
	int rc;

	*out = NULL;
	if (base != NULL && !git_oid_equal(tip, base) &&
	    git_graph_descendant_of(repo, tip, base) != 1)
		return hl_err_set(err, HL_EINVAL, "git thin pack: the remote's "
		    "tip is not under the commit to push");
	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pk->repo = repo;
	pk->thin = thin && base != NULL;
	pk->err = err;
	if ((rc = git_repository_odb(&pk->odb, repo)) < 0 ||
	    (base != NULL && ((rc = git_commit_lookup(&bc, repo, base)) < 0 ||
	    (rc = git_commit_tree(&bt, bc)) < 0)) ||
	    (rc = git_revwalk_new(&rw, repo)) < 0 ||
	    (rc = git_revwalk_push(rw, tip)) < 0 ||
	    (base != NULL && (rc = git_revwalk_hide(rw, base)) < 0)) {
		rc = hl_pub_git__error(err, rc, NULL, "git thin pack");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, rw)) == 0) {
		if ((rc = git_commit_lookup(&c, repo, &id)) < 0 ||
		    (rc = git_commit_tree(&t, c)) < 0 ||
		    (git_commit_parentcount(c) > 0 &&
		    ((rc = git_commit_parent(&parent, c, 0)) < 0 ||
		    (rc = git_commit_tree(&pt, parent)) < 0))) {
			rc = hl_pub_git__error(err, rc, NULL, "git thin pack");
			goto out;
		}
		if ((rc = add_object(pk, &id, NULL)) < 0 ||
		    (rc = add_tree(pk, t, pt, bt)) < 0)
			goto out;
		git_tree_free(pt);
		git_commit_free(parent);
		git_tree_free(t);
		git_commit_free(c);
		pt = NULL;
		parent = NULL;
		t = NULL;
		c = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = hl_pub_git__error(err, rc, NULL, "git thin pack");
		goto out;
	}
	rc = 0;
out:
	git_tree_free(pt);
	git_commit_free(parent);
	git_tree_free(t);
	git_commit_free(c);
	git_tree_free(bt);
	git_commit_free(bc);
	git_revwalk_free(rw);
	free(pk->sent.v);
	free(pk->sent.used);
	pk->sent.v = NULL;
	pk->sent.used = NULL;
	pk->err = NULL;
	if (rc != 0)
		hl_gitthin_free(pk);
	else
		*out = pk;
	return rc;
}

size_t
hl_gitthin_count(const struct hl_gitthin_pack *pk)
{
	return pk->n;
}

int
hl_gitthin_write(struct hl_gitthin_pack *pk, size_t *ndelta,
    hl_gitthin_sink sink, void *arg, struct hl_err *err)
{
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct hl_buf delta = HL_BUF_INIT;
	struct out *o;
	size_t i;
	int rc;

	*ndelta = 0;
	if (pk->n > UINT32_MAX)
		return hl_err_set(err, HL_ETOOBIG, "git thin pack: too many "
		    "objects");
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(o->sha, EVP_sha1(), NULL) != 1) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	o->sink = sink;
	o->arg = arg;
	hdr[8] = (unsigned char)(pk->n >> 24);
	hdr[9] = (unsigned char)(pk->n >> 16);
	hdr[10] = (unsigned char)(pk->n >> 8);
	hdr[11] = (unsigned char)pk->n;
	if ((rc = out_put(o, hdr, sizeof(hdr))) != 0)
		goto fail;
	for (i = 0; i < pk->n; i++)
		if ((rc = put_object(pk, o, &pk->e[i], &delta, ndelta,
		    err)) != 0)
			goto out;
	if ((rc = out_flush(o)) != 0)
		goto fail;
	if (EVP_DigestFinal_ex(o->sha, md, &mdlen) != 1 ||
	    mdlen != GIT_OID_RAWSZ) {
		rc = hl_err_set(err, HL_EIO, "git thin pack: SHA-1 failed");
		goto out;
	}
	if ((o->sink_rc = sink(md, mdlen, arg)) != 0)
		goto fail;
	goto out;
fail:
	rc = o->sink_rc != 0 ? hl_pub_git__error(err, o->sink_rc, NULL,
	    "git push") : hl_err_set(err, HL_EIO, "git thin pack: SHA-1 "
	    "failed");
out:
	if (o != NULL)
		EVP_MD_CTX_free(o->sha);
	free(o);
	hl_buf_free(&delta);
	return rc;
}

void
hl_gitthin_known(struct hl_gitthin_pack *pk, const struct hl_gitthin_blob *v,
    size_t n)
{
	pk->known = v;
	pk->nknown = n;
}

void
hl_gitthin_free(struct hl_gitthin_pack *pk)
{
	if (pk == NULL)
		return;
	git_odb_free(pk->odb);
	free(pk->sent.v);
	free(pk->sent.used);
	free(pk->e);
	free(pk);
}
