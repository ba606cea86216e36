/*
 * tree: the cache classes and content types of published files (see
 * tree.h).  The daemon's static server, the S3 target and the manifest all
 * take them from here, so every target serves a file the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree.h"

int
hl_file_read(const struct hl_file *f, uint64_t off, void *buf, size_t n,
    size_t *got, struct hl_err *err)
{
	ssize_t k;
	int fd;

	*got = 0;
	if (off >= f->len)
		return 0;
	if (n > f->len - off)
		n = (size_t)(f->len - off);
	if (f->spool == NULL) {
		memcpy(buf, f->data + off, n);
		*got = n;
		return 0;
	}
	if ((fd = open(f->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return hl_err_set(err, HL_EIO, "open %s: %s", f->spool,
		    strerror(errno));
	while ((k = pread(fd, buf, n, (off_t)off)) < 0 && errno == EINTR)
		;
	close(fd);
	if (k < 0)
		return hl_err_set(err, HL_EIO, "read %s: %s", f->spool,
		    strerror(errno));
	*got = (size_t)k;
	return 0;
}

int
hl_file_each(const struct hl_file *f,
    int (*fn)(const void *p, size_t n, void *arg), void *arg,
    struct hl_err *err)
{
	unsigned char *buf;
	size_t off = 0;
	ssize_t k;
	int fd, rc = 0;

	if (f->spool == NULL)
		return f->len > 0 ? fn(f->data, f->len, arg) : 0;
	if ((fd = open(f->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return hl_err_set(err, HL_EIO, "open %s: %s", f->spool,
		    strerror(errno));
	if ((buf = malloc(HL_FILE_PIECE)) == NULL) {
		close(fd);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	while (rc == 0 && off < f->len) {
		k = read(fd, buf, f->len - off < HL_FILE_PIECE ?
		    f->len - off : HL_FILE_PIECE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = hl_err_set(err, HL_EIO, "read %s: %s", f->spool,
			    k < 0 ? strerror(errno) : "shorter than listed");
			break;
		}
		off += (size_t)k;
		rc = fn(buf, (size_t)k, arg);
	}
	free(buf);
	close(fd);
	return rc;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *
hl_tree_cache_control(int cache)
{
	switch (cache) {
	case HL_CACHE_IMMUTABLE:
		return "public, max-age=31536000, immutable";
	case HL_CACHE_REVALIDATE:
		return "no-cache";
	default:
		return "public, max-age=60";
	}
}

const char *
hl_tree_content_type(const char *path)
{
	if (ends_with(path, ".gz"))
		return "application/gzip";
	if (ends_with(path, ".json"))
		return "application/json; charset=utf-8";
	if (ends_with(path, ".txt") || ends_with(path, ".yml") ||
	    ends_with(path, ".yaml") || ends_with(path, ".py") ||
	    ends_with(path, ".md"))
		return "text/plain; charset=utf-8";
	if (ends_with(path, ".html"))
		return "text/html; charset=utf-8";
	if (ends_with(path, ".css"))
		return "text/css; charset=utf-8";
	if (ends_with(path, ".js") || ends_with(path, ".mjs"))
		return "text/javascript; charset=utf-8";
	if (ends_with(path, ".map"))
		return "application/json; charset=utf-8";
	if (ends_with(path, ".xml"))
		return "application/atom+xml; charset=utf-8";
	if (ends_with(path, ".svg"))
		return "image/svg+xml";
	if (ends_with(path, ".png"))
		return "image/png";
	if (ends_with(path, ".ico"))
		return "image/x-icon";
	if (ends_with(path, ".woff2"))
		return "font/woff2";
	return "application/octet-stream";
}

int
hl_tree_cache_class(const char *path)
{
	if (strncmp(path, "objects/", 8) == 0 ||
	    strncmp(path, "changes/", 8) == 0)
		return HL_CACHE_IMMUTABLE;
	if (strcmp(path, "manifest.json") == 0 ||
	    strncmp(path, "manifest.json.", 14) == 0)
		return HL_CACHE_REVALIDATE;
	return HL_CACHE_SHORT;
}
