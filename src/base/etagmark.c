/*
 * etagmark: a file's ETag kept in an extended attribute (see etagmark.h).
 */
#include <sys/xattr.h>

#include <stdio.h>
#include <string.h>

#include "etagmark.h"

#define MARK_MAX	128

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
