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
 * Bigger objects (a spooled list's text, 70 MB at a million items) go
 * whole: the delta would hold the base and an index of it in memory too.
 */
#define DELTA_MAX	(16 * 1024 * 1024)

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

struct packer {
	git_repository	*repo;
	git_odb		*odb;
	struct hl_buf	*out;
	struct oidset	 sent;
	size_t		 nobj;
	size_t		 ndelta;
	struct hl_buf	 delta;
	struct hl_err	*err;
};

static int
put_header(struct hl_buf *b, int type, size_t size)
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
	return hl_buf_put(b, c, n + 1);
}

static int
put_deflated(struct hl_buf *b, const void *data, size_t len)
{
	uLongf n = compressBound((uLong)len);
	int rc;

	if ((rc = hl_buf_grow(b, n)) != 0)
		return rc;
	if (compress2((Bytef *)b->data + b->len, &n, data, (uLong)len,
	    Z_DEFAULT_COMPRESSION) != Z_OK)
		return HL_ENOMEM;
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * Adds object id to the pack, as a delta against base (NULL: none) when
 * that is less than half its size.
 */
static int
add_object(struct packer *p, const git_oid *id, const git_oid *base)
{
	git_odb_object *o = NULL, *bo = NULL;
	const unsigned char *data;
	size_t len;
	int rc, type;

	if ((rc = oidset_add(&p->sent, id)) <= 0)
		return rc == 0 ? 0 : hl_err_set(p->err, HL_ENOMEM,
		    "out of memory");
	if ((rc = git_odb_read(&o, p->odb, id)) < 0)
		return hl_pub_git__error(p->err, rc, NULL, "git thin pack");
	data = git_odb_object_data(o);
	len = git_odb_object_size(o);
	type = git_odb_object_type(o);
	p->delta.len = 0;
	if (base != NULL && len >= 64 && len <= DELTA_MAX &&
	    git_odb_read(&bo, p->odb, base) == 0 &&
	    git_odb_object_type(bo) == type &&
	    hl_gitthin_delta(&p->delta, git_odb_object_data(bo),
	    git_odb_object_size(bo), data, len, len / 2) == 0) {
		if ((rc = put_header(p->out, OBJ_REF_DELTA, p->delta.len)) != 0 ||
		    (rc = hl_buf_put(p->out, base->id, GIT_OID_RAWSZ)) != 0 ||
		    (rc = put_deflated(p->out, p->delta.data,
		    p->delta.len)) != 0)
			goto nomem;
		p->ndelta++;
	} else if ((rc = put_header(p->out, type, len)) != 0 ||
	    (rc = put_deflated(p->out, data, len)) != 0)
		goto nomem;
	p->nobj++;
	git_odb_object_free(bo);
	git_odb_object_free(o);
	return 0;
nomem:
	git_odb_object_free(bo);
	git_odb_object_free(o);
	return hl_err_set(p->err, HL_ENOMEM, "out of memory");
}

/*
 * Adds the tree t and what under it the tree old (the first parent's at
 * that path; NULL: none) lacks.  base is the remote's tree at that path
 * (NULL: none), where delta bases are looked up by name.
 */
static int
add_tree(struct packer *p, const git_tree *t, const git_tree *old,
    const git_tree *base)
{
	const git_tree_entry *e, *oe, *be;
	git_tree *sub = NULL, *osub = NULL, *bsub = NULL;
	const git_oid *bid;
	size_t i, n = git_tree_entrycount(t);
	int rc = 0;

	be = NULL;
	bid = base != NULL ? git_tree_id(base) : NULL;
	if ((rc = add_object(p, git_tree_id(t), bid)) < 0)
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
			rc = add_object(p, git_tree_entry_id(e), be != NULL ?
			    git_tree_entry_id(be) : NULL);
			break;
		case GIT_OBJECT_TREE:
			if ((rc = git_tree_lookup(&sub, p->repo,
			    git_tree_entry_id(e))) < 0 ||
			    (oe != NULL && git_tree_entry_type(oe) ==
			    GIT_OBJECT_TREE && (rc = git_tree_lookup(&osub,
			    p->repo, git_tree_entry_id(oe))) < 0) ||
			    (be != NULL && (rc = git_tree_lookup(&bsub,
			    p->repo, git_tree_entry_id(be))) < 0))
				rc = hl_pub_git__error(p->err, rc, NULL,
				    "git thin pack");
			else
				rc = add_tree(p, sub, osub, bsub);
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
hl_gitthin_pack(struct hl_buf *out, size_t *nobj, size_t *ndelta,
    git_repository *repo, const git_oid *tip, const git_oid *base,
    struct hl_err *err)
{
	struct packer p;
	git_revwalk *rw = NULL;
	git_commit *c = NULL, *parent = NULL, *bc = NULL;
	git_tree *t = NULL, *pt = NULL, *bt = NULL;
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t start = out->len;
	git_oid id;
	int rc;

	memset(&p, 0, sizeof(p));
	p.repo = repo;
	p.out = out;
	p.err = err;
	*nobj = *ndelta = 0;
	if (!git_oid_equal(tip, base) &&
	    git_graph_descendant_of(repo, tip, base) != 1)
		return hl_err_set(err, HL_EINVAL, "git thin pack: the remote's "
		    "tip is not under the commit to push");
	if ((rc = hl_buf_put(out, hdr, sizeof(hdr))) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((rc = git_repository_odb(&p.odb, repo)) < 0 ||
	    (rc = git_commit_lookup(&bc, repo, base)) < 0 ||
	    (rc = git_commit_tree(&bt, bc)) < 0 ||
	    (rc = git_revwalk_new(&rw, repo)) < 0 ||
	    (rc = git_revwalk_push(rw, tip)) < 0 ||
	    (rc = git_revwalk_hide(rw, base)) < 0) {
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
		if ((rc = add_object(&p, &id, NULL)) < 0 ||
		    (rc = add_tree(&p, t, pt, bt)) < 0)
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
	hdr[8] = (unsigned char)(p.nobj >> 24);
	hdr[9] = (unsigned char)(p.nobj >> 16);
	hdr[10] = (unsigned char)(p.nobj >> 8);
	hdr[11] = (unsigned char)p.nobj;
	memcpy(out->data + start + 8, hdr + 8, 4);
	if (EVP_Digest(out->data + start, out->len - start, md, &mdlen,
	    EVP_sha1(), NULL) != 1 || mdlen != GIT_OID_RAWSZ) {
		rc = hl_err_set(err, HL_EIO, "git thin pack: SHA-1 failed");
		goto out;
	}
	if ((rc = hl_buf_put(out, md, mdlen)) != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	*nobj = p.nobj;
	*ndelta = p.ndelta;
	rc = 0;
out:
	if (rc != 0)
		out->len = start;
	git_tree_free(pt);
	git_commit_free(parent);
	git_tree_free(t);
	git_commit_free(c);
	git_tree_free(bt);
	git_commit_free(bc);
	git_revwalk_free(rw);
	git_odb_free(p.odb);
	free(p.sent.v);
	free(p.sent.used);
	hl_buf_free(&p.delta);
	return rc;
}
