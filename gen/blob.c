/*
 * blob: hashing and gzip for published files (see blob.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "blob.h"

static void
hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
hl_digest(char sha256[65], char md5[33], const void *p, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (sha256 != NULL) {
		EVP_Digest(p, len, d, &n, EVP_sha256(), NULL);
		hex(sha256, d, n);
	}
	if (md5 != NULL) {
		EVP_Digest(p, len, d, &n, EVP_md5(), NULL);
		hex(md5, d, n);
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

int
hl_blob_gzip(struct hl_blob *out, const struct hl_blob *b, int level,
    struct hl_err *err)
{
	struct hl_buf z = HL_BUF_INIT;
	char *data;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = hl_gzip(&z, b->data, b->len, level, err)) != 0) {
		hl_buf_free(&z);
		return rc;
	}
	data = hl_buf_detach(&z, &len);
	return hl_blob_take(out, data, len, err);
}

void
hl_blob_clear(struct hl_blob *b)
{
	if (b == NULL)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}
