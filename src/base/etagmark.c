/*
 * etagmark: a file's ETag kept in an extended attribute (see etagmark.h).
 */
#include <sys/xattr.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "etagmark.h"

#define MARK_MAX	128
#define HASH_READ	(64 * 1024)	/* hl_etagmark_hash's reads */

/* "<size> <mtime s> <mtime ns> ": what a mark of st begins with. */
static int
mark_head(char *out, size_t sz, const struct stat *st)
{
	int n;

	n = snprintf(out, sz, "%lld %lld %ld ", (long long)st->st_size,
	    (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
	return n < 0 || (size_t)n >= sz ? -1 : n;
}

int
hl_etagmark_set(int fd, const struct stat *st, const char *md5)
{
	char v[MARK_MAX];
	int n;

	if (md5 == NULL || strlen(md5) != 32 ||
	    strspn(md5, "0123456789abcdef") != 32 ||
	    (n = mark_head(v, sizeof(v), st)) < 0 ||
	    (size_t)n + HL_ETAGMARK_LEN > sizeof(v))
		return -1;
	n += snprintf(v + n, sizeof(v) - (size_t)n, "\"%s\"", md5);
	return fsetxattr(fd, HL_ETAGMARK_XATTR, v, (size_t)n, 0);
}

int
hl_etagmark_get(char etag[HL_ETAGMARK_LEN], int fd, const struct stat *st)
{
	char v[MARK_MAX], head[MARK_MAX];
	const char *q;
	ssize_t n;
	int k;

	if ((k = mark_head(head, sizeof(head), st)) < 0 ||
	    (n = fgetxattr(fd, HL_ETAGMARK_XATTR, v, sizeof(v) - 1)) <= 0)
		return -1;
	v[n] = '\0';
	/* A mark of this size and mtime, with a well-made ETag. */
	q = v + k;
	if (n != k + HL_ETAGMARK_LEN - 1 || memcmp(v, head, (size_t)k) != 0 ||
	    q[0] != '"' || q[HL_ETAGMARK_LEN - 2] != '"' ||
	    strspn(q + 1, "0123456789abcdef") != HL_ETAGMARK_LEN - 3)
		return -1;
	memcpy(etag, q, HL_ETAGMARK_LEN);
	return 0;
}

void
hl_etagmark_quote(char etag[HL_ETAGMARK_LEN], const unsigned char md[16])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	etag[0] = '"';
	for (i = 0; i < 16; i++) {
		etag[1 + 2 * i] = hex[md[i] >> 4];
		etag[2 + 2 * i] = hex[md[i] & 0xf];
	}
	etag[33] = '"';
	etag[34] = '\0';
}

int
hl_etagmark_hash(char etag[HL_ETAGMARK_LEN], int fd, const struct stat *st)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char md[EVP_MAX_MD_SIZE], *buf = NULL;
	unsigned int mdlen = 0;
	off_t off = 0;
	ssize_t n;
	int rc = HL_EIO;

	if ((buf = malloc(HASH_READ)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		rc = HL_ENOMEM;
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_md5(), NULL))
		goto out;
	while (off < st->st_size) {
		size_t want = HASH_READ;

		if ((off_t)want > st->st_size - off)
			want = (size_t)(st->st_size - off);
		n = pread(fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;	/* error, or shrunk under us */
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			goto out;
		off += n;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 16)
		goto out;
	hl_etagmark_quote(etag, md);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}
