/*
 * blob: hashing and gzip for published files (see blob.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "blob.h"

void
hl_blob__hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hl_digest_is_sha256(const char *s)
{
	return s != NULL && strlen(s) == 64 &&
	    strspn(s, "0123456789abcdef") == 64;
}

void
hl_digest(char sha256[65], char md5[33], const void *p, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (sha256 != NULL) {
		EVP_Digest(p, len, d, &n, EVP_sha256(), NULL);
		hl_blob__hex(sha256, d, n);
	}
	if (md5 != NULL) {
		EVP_Digest(p, len, d, &n, EVP_md5(), NULL);
		hl_blob__hex(md5, d, n);
	}
}

int
hl_blob_take(struct hl_blob *b, void *data, size_t len, struct hl_err *err)
{
	memset(b, 0, sizeof(*b));
	if (data == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	b->data = data;
	b->len = len;
	hl_digest(b->sha256, b->md5, data, len);
	return 0;
}

int
hl_gzip(struct hl_buf *out, const void *p, size_t len, int level,
    struct hl_err *err)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper with an empty header. */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return hl_err_set(err, HL_ENOMEM, "deflateInit2 failed");
	if (hl_buf_grow(out, deflateBound(&z, len)) != 0) {
		deflateEnd(&z);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)(out->cap - out->len - 1);
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		return hl_err_set(err, HL_EIO, "deflate: %d", rc);
	}
	out->len += z.total_out;
	out->data[out->len] = '\0';
	deflateEnd(&z);
	return 0;
}

int
hl_gunzip(struct hl_buf *out, const void *p, size_t len, size_t max,
    struct hl_err *err)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return hl_err_set(err, HL_ENOMEM, "inflateInit2 failed");
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	do {
		if (hl_buf_grow(out, 65536) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = 65536;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += 65536 - z.avail_out;
		out->data[out->len] = '\0';
		if (out->len > max) {
			rc = hl_err_set(err, HL_ETOOBIG, "gunzip: more than"
			    " %zu bytes", max);
			goto out;
		}
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END || z.avail_in != 0)
		rc = hl_err_set(err, HL_EINVAL, "gunzip: %s",
		    rc == Z_BUF_ERROR ? "truncated stream" :
		    z.msg ? z.msg : "trailing or corrupt data");
	else
		rc = 0;
out:
	inflateEnd(&z);
	return rc;
}

void
hl_blob_clear(struct hl_blob *b)
{
	if (b == NULL)
		return;
	if (b->spool != NULL) {
		(void)unlink(b->spool);
		free(b->spool);
	}
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
hl_blob_memo_clear(struct hl_blob_memo *m)
{
	size_t i;

	if (m == NULL)
		return;
	EVP_MD_CTX_free(m->sha);
	EVP_MD_CTX_free(m->md5);
	EVP_MD_CTX_free(m->gzsha);
	EVP_MD_CTX_free(m->gzmd5);
	for (i = 0; i < m->n; i++)
		free(m->z[i]);
	free(m->z);
	free(m->zlen);
	free(m->crc);
	memset(m, 0, sizeof(*m));
}

const unsigned char hl_blob__gz_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0,
    0, 0, 3 };

/*
 * This thread's compressors, kept for its next chunk and freed when the
 * thread ends: a libdeflate compressor (allocating one costs more than
 * compressing a small file) and a zlib stream, reset between chunks
 * (deflateInit2 and deflateEnd for each 64 KB chunk cost a third of its
 * compression: a 256 KB state allocated and its hash table cleared).  A
 * reset stream gives the bytes a new one would.
 */
static pthread_key_t zc_key;
static pthread_once_t zc_once = PTHREAD_ONCE_INIT;
static int zc_key_ok;

struct zcache {
	struct libdeflate_compressor	*ld;
	int				 ldlevel;
	z_stream			 z;
	int				 zlevel;
	int				 zok;	/* z initialized */
};

static void
zc_free(void *p)
{
	struct zcache *zc = p;

	libdeflate_free_compressor(zc->ld);
	if (zc->zok)
		deflateEnd(&zc->z);
	free(zc);
}

static void
zc_key_make(void)
{
	zc_key_ok = pthread_key_create(&zc_key, zc_free) == 0;
}

static struct zcache *
zcache(void)
{
	struct zcache *zc;

	pthread_once(&zc_once, zc_key_make);
	if (!zc_key_ok)
		return NULL;
	if ((zc = pthread_getspecific(zc_key)) == NULL) {
		if ((zc = calloc(1, sizeof(*zc))) == NULL)
			return NULL;
		if (pthread_setspecific(zc_key, zc) != 0) {
			free(zc);
			return NULL;
		}
	}
	return zc;
}

static struct libdeflate_compressor *
ld_compressor(int level)
{
	struct zcache *zc;

	if ((zc = zcache()) == NULL)
		return NULL;
	if (zc->ld != NULL && zc->ldlevel != level) {
		libdeflate_free_compressor(zc->ld);
		zc->ld = NULL;
	}
	if (zc->ld == NULL) {
		zc->ld = libdeflate_alloc_compressor(level);
		zc->ldlevel = level;
	}
	return zc->ld;
}

/* This thread's raw deflate stream at level, as deflateInit2 leaves it. */
static z_stream *
z_stream_at(int level)
{
	struct zcache *zc;

	if ((zc = zcache()) == NULL)
		return NULL;
	if (zc->zok && zc->zlevel != level) {
		deflateEnd(&zc->z);
		zc->zok = 0;
	}
	if (zc->zok)
		return deflateReset(&zc->z) == Z_OK ? &zc->z : NULL;
	memset(&zc->z, 0, sizeof(zc->z));
	if (deflateInit2(&zc->z, level, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	zc->zok = 1;
	zc->zlevel = level;
	return &zc->z;
}

/* The last chunk by libdeflate: raw deflate, the stream ended. */
static int
ld_chunk(unsigned char **out, size_t *outlen, const unsigned char *p,
    size_t len, int level)
{
	struct libdeflate_compressor *c;
	unsigned char *buf;
	size_t cap, n;

	if ((c = ld_compressor(level)) == NULL)
		return HL_ENOMEM;
	cap = libdeflate_deflate_compress_bound(c, len);
	if ((buf = malloc(cap)) == NULL)
		return HL_ENOMEM;
	if ((n = libdeflate_deflate_compress(c, p, len, buf, cap)) == 0) {
		free(buf);
		return HL_EIO;
	}
	*outlen = n;
	if ((*out = realloc(buf, n)) == NULL)
		*out = buf;
	return 0;
}

/*
 * One chunk as raw deflate; a full flush unless it is the last, which
 * libdeflate makes when level asks for it (HL_BLOB_LIBDEFLATE).  With
 * dict (dictlen bytes, the input just before p, at most 32 KB) as zlib's
 * preset dictionary, the chunk may refer back into the chunk before, as
 * one stream does, and a file of small chunks compresses almost as well
 * as a file of big ones; every chunk is then zlib's, the last too
 * (libdeflate takes no dictionary).
 */
static int
deflate_chunk(unsigned char **out, size_t *outlen, const unsigned char *p,
    size_t len, int level, int last, const unsigned char *dict,
    size_t dictlen)
{
	z_stream *z;
	unsigned char *buf;
	size_t cap;
	int rc;

	if (last && (level & HL_BLOB_LIBDEFLATE) && dictlen == 0)
		return ld_chunk(out, outlen, p, len, HL_BLOB_LEVEL(level));
	if ((z = z_stream_at(HL_BLOB_LEVEL(level))) == NULL)
		return HL_ENOMEM;
	if (dictlen > 0 && deflateSetDictionary(z, dict, (uInt)dictlen) !=
	    Z_OK)
		return HL_EIO;
	cap = deflateBound(z, len) + 16;
	if ((buf = malloc(cap)) == NULL)
		return HL_ENOMEM;
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)len;
	z->next_out = buf;
	z->avail_out = (uInt)cap;
	rc = deflate(z, last ? Z_FINISH : Z_FULL_FLUSH);
	if ((last && rc != Z_STREAM_END) || (!last && rc != Z_OK) ||
	    z->avail_in != 0) {
		free(buf);
		return HL_EIO;
	}
	*outlen = cap - z->avail_out;
	/* deflateBound is about the input's size: give the rest back. */
	if ((*out = realloc(buf, *outlen ? *outlen : 1)) == NULL)
		*out = buf;
	return 0;
}

int
hl_blob__deflate_chunk(unsigned char **out, size_t *outlen,
    const unsigned char *p, size_t len, int level, int last)
{
	return deflate_chunk(out, outlen, p, len, level, last, NULL, 0);
}

/* The input bytes of a chunk at level (blob.h, HL_BLOB_SMALL_CHUNKS). */
static size_t
chunk_of(int level)
{
	return level & HL_BLOB_SMALL_CHUNKS ? HL_BLOB_CHUNK_SMALL :
	    HL_BLOB_CHUNK;
}

struct zjob {
	const unsigned char	*data;
	size_t			 len;
	size_t			 cs;	/* chunk size */
	size_t			 first;	/* chunk index to start at */
	size_t			 nchunks;
	int			 level;
	unsigned char		**z;
	size_t			*zlen;
	unsigned long		*crc;
	int			 rc;
};

static void *
zjob_run(void *arg)
{
	struct zjob *j = arg;
	size_t k, off, n, dn;

	for (k = j->first; k < j->nchunks && j->rc == 0; k++) {
		off = k * j->cs;
		n = j->len - off < j->cs ? j->len - off : j->cs;
		/* Small chunks see the 32 KB before them (deflate_chunk). */
		dn = !(j->level & HL_BLOB_SMALL_CHUNKS) ? 0 :
		    off < 32768 ? off : 32768;
		j->crc[k] = libdeflate_crc32(0, j->data + off, n);
		j->rc = deflate_chunk(&j->z[k], &j->zlen[k], j->data + off, n,
		    j->level, k == j->nchunks - 1, j->data + off - dn, dn);
	}
	return NULL;
}

void
hl_blob__put_le32(unsigned char *p, unsigned long v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
	p[2] = (unsigned char)((v >> 16) & 0xff);
	p[3] = (unsigned char)((v >> 24) & 0xff);
}

/*
 * A file's SHA-256 and MD5 side by side; md5 NULL for a file made with
 * HL_BLOB_NO_MD5 (blob.h), whose md5 is then left "".
 */
struct dig {
	EVP_MD_CTX	*sha;
	EVP_MD_CTX	*md5;
};

static int
dig_new(struct dig *g, int md5)
{
	g->sha = EVP_MD_CTX_new();
	g->md5 = md5 ? EVP_MD_CTX_new() : NULL;
	if (g->sha != NULL && (!md5 || g->md5 != NULL))
		return 0;
	EVP_MD_CTX_free(g->sha);
	EVP_MD_CTX_free(g->md5);
	g->sha = g->md5 = NULL;
	return HL_ENOMEM;
}

static void
dig_free(struct dig *g)
{
	EVP_MD_CTX_free(g->sha);
	EVP_MD_CTX_free(g->md5);
}

static int
dig_init(struct dig *g)
{
	return EVP_DigestInit_ex(g->sha, EVP_sha256(), NULL) == 1 &&
	    (g->md5 == NULL || EVP_DigestInit_ex(g->md5, EVP_md5(), NULL) ==
	    1) ? 0 : HL_EIO;
}

/* g takes from's states; from must hold an MD5 state if g has one. */
static int
dig_copy(struct dig *g, const struct dig *from)
{
	return from->sha != NULL && EVP_MD_CTX_copy_ex(g->sha, from->sha) ==
	    1 && (g->md5 == NULL || (from->md5 != NULL &&
	    EVP_MD_CTX_copy_ex(g->md5, from->md5) == 1)) ? 0 : HL_EIO;
}

static int
dig_update(struct dig *g, const void *p, size_t n)
{
	return EVP_DigestUpdate(g->sha, p, n) == 1 && (g->md5 == NULL ||
	    EVP_DigestUpdate(g->md5, p, n) == 1) ? 0 : HL_EIO;
}

/* Ends g into b's hex digests. */
static int
dig_final(struct dig *g, struct hl_blob *b)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dn;

	if (EVP_DigestFinal_ex(g->sha, d, &dn) != 1)
		return HL_EIO;
	hl_blob__hex(b->sha256, d, dn);
	if (g->md5 != NULL) {
		if (EVP_DigestFinal_ex(g->md5, d, &dn) != 1)
			return HL_EIO;
		hl_blob__hex(b->md5, d, dn);
	}
	return 0;
}

/*
 * The gzip's hashes, chunk by chunk as hl_blob_make lays it out: header,
 * m->z[0..m->n), trailer.  They start from old's states when those cover
 * exactly the chunks reused (an append), so that only the new chunks are
 * hashed; with keep, m keeps the states before its last chunk for the
 * next call.  Always with its MD5, HL_BLOB_NO_MD5 or not (blob.h).
 */
static int
gz_digest(struct hl_blob *gz, struct hl_blob_memo *m,
    const struct hl_blob_memo *old, size_t reuse,
    const unsigned char trailer[8], int keep)
{
	struct dig g, kept = { NULL, NULL };
	struct dig was = { old->gzsha, old->gzmd5 };
	size_t k = 0, last = m->n - 1;
	int rc;

	rc = dig_new(&g, 1);
	if (rc == 0 && keep && (rc = dig_new(&kept, 1)) == 0) {
		m->gzsha = kept.sha;
		m->gzmd5 = kept.md5;
	}
	if (rc == 0 && reuse > 0 && old->n == reuse && dig_copy(&g, &was) ==
	    0)
		k = reuse;
	else if (rc == 0 && (rc = dig_init(&g)) == 0)
		rc = dig_update(&g, hl_blob__gz_header,
		    sizeof(hl_blob__gz_header));
	for (; rc == 0 && k < last; k++)
		rc = dig_update(&g, m->z[k], m->zlen[k]);
	if (rc == 0 && keep)
		rc = dig_copy(&kept, &g);
	if (rc == 0 && (rc = dig_update(&g, m->z[last], m->zlen[last])) == 0 &&
	    (rc = dig_update(&g, trailer, 8)) == 0)
		rc = dig_final(&g, gz);
	dig_free(&g);
	return rc;
}

int
hl_blob_make(struct hl_blob *id, struct hl_blob *gz,
    struct hl_blob_memo *memo, void *data, size_t len, size_t keep,
    int level, struct hl_err *err)
{
	const unsigned char *header = hl_blob__gz_header;
	struct hl_blob_memo old, m;
	struct hl_buf out = HL_BUF_INIT;
	struct zjob job;
	struct dig g = { NULL, NULL }, kept = { NULL, NULL }, was;
	unsigned char trailer[8];
	const unsigned char *p = data;
	unsigned long crc = 0;
	size_t nchunks, reuse, hashed, k, gzlen, cs = chunk_of(level);
	pthread_t thr;
	int rc = HL_ENOMEM, threaded, md5 = !(level & HL_BLOB_NO_MD5);
	char *gzdata;

	memset(id, 0, sizeof(*id));
	memset(gz, 0, sizeof(*gz));
	memset(&m, 0, sizeof(m));
	memset(&old, 0, sizeof(old));
	if (memo != NULL) {
		old = *memo;
		memset(memo, 0, sizeof(*memo));
	}
	if (data == NULL)
		goto fail;
	was.sha = old.sha;
	was.md5 = old.md5;
	nchunks = len == 0 ? 1 : (len + cs - 1) / cs;
	/* Whole chunks of the old file that are still whole and unchanged. */
	reuse = old.level == level && old.at <= keep && old.at < len ?
	    old.at / cs : 0;
	if (reuse > nchunks - 1)
		reuse = nchunks - 1;
	/* A spool writer's memo keeps no chunks (spool.c): none to reuse. */
	for (k = 0; k < reuse; k++)
		if (old.z == NULL || old.z[k] == NULL)
			reuse = 0;
	m.level = level;
	m.n = nchunks;
	if ((m.z = calloc(nchunks, sizeof(*m.z))) == NULL ||
	    (m.zlen = calloc(nchunks, sizeof(*m.zlen))) == NULL ||
	    (m.crc = calloc(nchunks, sizeof(*m.crc))) == NULL)
		goto fail;
	for (k = 0; k < reuse; k++) {
		m.z[k] = old.z[k];
		m.zlen[k] = old.zlen[k];
		m.crc[k] = old.crc[k];
		old.z[k] = NULL;
	}
	/* Compress the rest on another core while this one hashes. */
	memset(&job, 0, sizeof(job));
	job.data = p;
	job.len = len;
	job.cs = cs;
	job.first = reuse;
	job.nchunks = nchunks;
	job.level = level;
	job.z = m.z;
	job.zlen = m.zlen;
	job.crc = m.crc;
	threaded = len - reuse * cs >= HL_BLOB_CHUNK &&
	    pthread_create(&thr, NULL, zjob_run, &job) == 0;
	if (!threaded)
		zjob_run(&job);

	/* Hashes: from the old state when it covers an unchanged prefix. */
	if ((rc = dig_new(&g, md5)) == 0 && reuse > 0 &&
	    old.at == reuse * cs && dig_copy(&g, &was) == 0)
		hashed = old.at;
	else {
		hashed = 0;
		if (rc == 0)
			rc = dig_init(&g);
	}
	/* Keep the states at the start of the last chunk, for next time. */
	m.at = (nchunks - 1) * cs;
	if (rc == 0 && hashed < m.at)
		rc = dig_update(&g, p + hashed, m.at - hashed);
	if (rc == 0 && (rc = dig_new(&kept, md5)) == 0) {
		m.sha = kept.sha;
		m.md5 = kept.md5;
		rc = dig_copy(&kept, &g);
	}
	if (rc == 0 && (rc = dig_update(&g, p + m.at, len - m.at)) == 0)
		rc = dig_final(&g, id);
	if (threaded)
		pthread_join(thr, NULL);
	if (rc == 0 && job.rc != 0)
		rc = job.rc;
	if (rc != 0)
		goto fail;

	/* header, chunks, CRC-32 and length of the whole input */
	gzlen = sizeof(hl_blob__gz_header) + sizeof(trailer);
	for (k = 0; k < nchunks; k++) {
		gzlen += m.zlen[k];
		crc = k == 0 ? m.crc[0] : crc32_combine(crc, m.crc[k],
		    (z_off_t)(k == nchunks - 1 ? len - k * cs : cs));
	}
	if (hl_buf_grow(&out, gzlen) != 0) {
		rc = HL_ENOMEM;
		goto fail;
	}
	hl_buf_put(&out, header, sizeof(hl_blob__gz_header));
	for (k = 0; k < nchunks; k++)
		hl_buf_put(&out, m.z[k], m.zlen[k]);
	hl_blob__put_le32(trailer, crc);
	hl_blob__put_le32(trailer + 4, (unsigned long)(len & 0xffffffffu));
	hl_buf_put(&out, trailer, sizeof(trailer));
	gzdata = hl_buf_detach(&out, &gzlen);
	id->data = data;
	id->len = len;
	gz->data = (unsigned char *)gzdata;
	gz->len = gzlen;
	if ((rc = gz_digest(gz, &m, &old, reuse, trailer, memo != NULL)) != 0)
		goto fail;
	/* Only whole chunks before the last are worth keeping. */
	free(m.z[nchunks - 1]);
	m.z[nchunks - 1] = NULL;
	m.n = nchunks - 1;
	if (memo != NULL)
		*memo = m;
	else
		hl_blob_memo_clear(&m);
	dig_free(&g);
	hl_blob_memo_clear(&old);
	return 0;
fail:
	dig_free(&g);
	hl_blob_memo_clear(&m);
	hl_blob_memo_clear(&old);
	hl_buf_free(&out);
	free(data);
	return hl_err_set(err, rc ? rc : HL_ENOMEM, "hashing or compressing"
	    " a file failed");
}
