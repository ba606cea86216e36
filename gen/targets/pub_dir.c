/*
 * pub_dir: the local directory target, the default one (var/public), which
 * the daemon itself serves and any web server can serve too.
 *
 * Each file is written to a temporary name in its directory and renamed
 * over the old one, so a reader sees the old bytes or the new, never a
 * mix.  The temporary name starts with a dot (lists/watch-keyword.txt is
 * written as lists/.watch-keyword.txt.tmp.<pid>.<n>), so neither the
 * daemon's server nor a web server set to hide dot files ever serves a
 * half-written file.  Files go in the tree's order (immutable objects, mutable files,
 * manifest last); one syncfs(2) makes them all durable before the manifest
 * is written, fsynced and renamed into place, so after a crash the manifest
 * on disk never names a file that is not there whole.
 *
 * Immutable files already present are not written again; a mutable file
 * is written only when its hash differs from what this target last wrote,
 * and then as a hard link to its object copy (objects/<sha256>), which
 * holds the same bytes, so each new content is written to disk once.
 * Objects and change segments that no published manifest has named for
 * the retention time (HL_DIR_RETENTION seconds, or HELIOS_RETENTION from
 * the environment) are pruned, at most every sixth of that time; a file is
 * "named" by every manifest that lists it, so one that a recent manifest
 * names is never removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "target.h"

#define HL_DIR_RETENTION	3600	/* default; HELIOS_RETENTION overrides */

struct seen {
	char	*path;
	char	 sha256[65];
	int64_t	 named_at;	/* last publish that named it */
};

struct dir {
	char		*root;
	struct seen	*seen;
	size_t		 nseen;
	size_t		 capseen;
	int64_t		 pruned_at;
	int64_t		 retention;
	unsigned	 tmpn;
	int64_t		 stamp;		/* mtime of the manifest files */
};

/*
 * The temporary name for path: a dot before its last component and
 * ".tmp.<pid>.<n>" after it.  -1 when it does not fit in tmp.
 */
static int
tmp_name(char *tmp, size_t sz, const char *path, struct dir *d)
{
	const char *base = strrchr(path, '/');
	int dirlen = base ? (int)(base - path + 1) : 0;
	int n;

	base = base ? base + 1 : path;
	n = snprintf(tmp, sz, "%.*s.%s.tmp.%d.%u", dirlen, path, base,
	    (int)getpid(), d->tmpn++);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

static int
mkdirs(const char *path, struct hl_err *err)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return hl_err_set(err, HL_EINVAL, "path too long: %s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return hl_err_set(err, HL_EIO, "mkdir %s: %s", buf,
			    strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return hl_err_set(err, HL_EIO, "mkdir %s: %s", buf,
		    strerror(errno));
	return 0;
}

static int
dir_open(void **state, const char *url, struct hl_err *err)
{
	struct dir *d;
	const char *env;
	char *end;
	int rc;

	if (strncmp(url, "dir:", 4) == 0)
		url += 4;
	if (*url == '\0')
		return hl_err_set(err, HL_EINVAL, "dir target: empty path");
	if ((rc = mkdirs(url, err)) != 0)
		return rc;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->root = strdup(url)) == NULL) {
		free(d);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	d->pruned_at = (int64_t)time(NULL);
	d->retention = HL_DIR_RETENTION;
	{
		char mpath[PATH_MAX];
		struct stat sb;

		if (snprintf(mpath, sizeof(mpath), "%s/manifest.json",
		    d->root) < (int)sizeof(mpath) && stat(mpath, &sb) == 0)
			d->stamp = (int64_t)sb.st_mtime;
	}
	if ((env = getenv("HELIOS_RETENTION")) != NULL) {
		d->retention = strtoll(env, &end, 10);
		if (*env == '\0' || *end != '\0' || d->retention < 1) {
			free(d->root);
			free(d);
			return hl_err_set(err, HL_EINVAL, "HELIOS_RETENTION:"
			    " want a number of seconds, not \"%s\"", env);
		}
	}
	*state = d;
	return 0;
}

static struct seen *
seen_find(struct dir *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->nseen; i++)
		if (strcmp(d->seen[i].path, path) == 0)
			return &d->seen[i];
	return NULL;
}

static struct seen *
seen_add(struct dir *d, const char *path)
{
	struct seen *s;

	if ((s = seen_find(d, path)) != NULL)
		return s;
	if (d->nseen == d->capseen) {
		size_t cap = d->capseen ? d->capseen * 2 : 256;

		if ((s = realloc(d->seen, cap * sizeof(*s))) == NULL)
			return NULL;
		d->seen = s;
		d->capseen = cap;
	}
	s = &d->seen[d->nseen];
	memset(s, 0, sizeof(*s));
	if ((s->path = strdup(path)) == NULL)
		return NULL;
	d->nseen++;
	return s;
}

static int
fsync_dir(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Writes data to root/path through a temporary file and rename.  With
 * sync, the file is fsynced before the rename; otherwise the caller makes
 * it durable later (syncfs before the manifest).
 */
static int
write_file(struct dir *d, const struct hl_file *f, int sync,
    struct hl_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX], *slash;
	const unsigned char *p = f->data;
	size_t left = f->len;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", d->root, f->path) >=
	    (int)sizeof(path) || tmp_name(tmp, sizeof(tmp), path, d) != 0)
		return hl_err_set(err, HL_EINVAL, "path too long: %s",
		    f->path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (mkdirs(path, err) != 0)
			return HL_EIO;
		*slash = '/';
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0)
		return hl_err_set(err, HL_EIO, "create %s: %s", tmp,
		    strerror(errno));
	while (left > 0) {
		if ((n = write(fd, p, left)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	/*
	 * The manifest files take a modification time one second past the
	 * last manifest's at least: servers such as nginx make their ETag
	 * and Last-Modified of the mtime and size, and two manifests of one
	 * size written in one second would otherwise look the same to a
	 * client's conditional GET.
	 */
	if (f->cache == HL_CACHE_REVALIDATE) {
		struct timespec ts[2] = { { 0, UTIME_OMIT },
		    { (time_t)d->stamp, 0 } };

		if (futimens(fd, ts) != 0)
			goto fail;
	}
	if (sync && fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	hl_err_set(err, HL_EIO, "write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return HL_EIO;
}

/* Is an immutable file already there, whole? */
static int
present(struct dir *d, const struct hl_file *f)
{
	char path[PATH_MAX];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/%s", d->root, f->path) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &sb) == 0 && (size_t)sb.st_size == f->len;
}

/* Removes files under root/sub not named for the retention time. */
static void
prune(struct dir *d, const char *sub, int64_t now)
{
	char dir[PATH_MAX], rel[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct seen *s;
	struct stat sb;
	DIR *dp;

	if (snprintf(dir, sizeof(dir), "%s/%s", d->root, sub) >=
	    (int)sizeof(dir) || (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(rel, sizeof(rel), "%s/%s", sub, de->d_name) >=
		    (int)sizeof(rel) || snprintf(path, sizeof(path), "%s/%s",
		    d->root, rel) >= (int)sizeof(path))
			continue;
		s = seen_find(d, rel);
		if (s == NULL) {
			/* Left by an earlier run: count from its mtime. */
			if (stat(path, &sb) != 0 ||
			    now - (int64_t)sb.st_mtime < d->retention)
				continue;
		} else if (now - s->named_at < d->retention)
			continue;
		(void)unlink(path);
		if (s != NULL)
			s->named_at = now;	/* re-created if named again */
	}
	closedir(dp);
}

/*
 * Makes every file written so far durable, with their directory entries:
 * one syncfs(2) of the target's file system costs far less than an fsync
 * per file and per directory.
 */
static int
sync_all(struct dir *d, struct hl_err *err)
{
	int fd, rc;

	if ((fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hl_err_set(err, HL_EIO, "open %s: %s", d->root,
		    strerror(errno));
	rc = syncfs(fd);
	close(fd);
	if (rc != 0)
		return hl_err_set(err, HL_EIO, "syncfs %s: %s", d->root,
		    strerror(errno));
	return 0;
}

/*
 * A mutable file whose bytes are those of an object of the same tree is
 * made a hard link to that object, so the bytes are written (and synced)
 * once, not twice.  Returns 0 when linked, -1 when the caller should
 * write the file instead (no such object, or a file system without links).
 */
static int
link_object(struct dir *d, const struct hl_tree *tree, const struct hl_file *f)
{
	char obj[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	size_t i;

	for (i = 0; i < tree->n; i++)
		if (tree->files[i].cache == HL_CACHE_IMMUTABLE &&
		    tree->files[i].len == f->len &&
		    strcmp(tree->files[i].sha256, f->sha256) == 0)
			break;
	if (i == tree->n ||
	    snprintf(obj, sizeof(obj), "%s/%s", d->root,
	    tree->files[i].path) >= (int)sizeof(obj) ||
	    snprintf(path, sizeof(path), "%s/%s", d->root, f->path) >=
	    (int)sizeof(path) ||
	    tmp_name(tmp, sizeof(tmp), path, d) != 0)
		return -1;
	if (link(obj, tmp) != 0)
		return -1;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	/*
	 * When path already was a link to obj, rename(2) leaves both names
	 * in place and succeeds: remove the temporary name.
	 */
	(void)unlink(tmp);
	return 0;
}

static int
dir_publish(void *state, const struct hl_tree *tree, struct hl_err *err)
{
	struct dir *d = state;
	const struct hl_file *f;
	struct seen *s;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc, synced = 0;

	d->stamp = now > d->stamp ? now : d->stamp + 1;
	for (i = 0; i < tree->n; i++) {
		f = &tree->files[i];
		if ((s = seen_add(d, f->path)) == NULL)
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		if (f->cache == HL_CACHE_REVALIDATE && !synced) {
			/* Everything the manifest names is durable first. */
			if ((rc = sync_all(d, err)) != 0)
				return rc;
			synced = 1;
		}
		if (strcmp(s->sha256, f->sha256) == 0 ||
		    (f->cache == HL_CACHE_IMMUTABLE && present(d, f))) {
			memcpy(s->sha256, f->sha256, sizeof(s->sha256));
			s->named_at = now;
			continue;
		}
		if ((f->cache != HL_CACHE_SHORT ||
		    link_object(d, tree, f) != 0) &&
		    (rc = write_file(d, f, f->cache == HL_CACHE_REVALIDATE,
		    err)) != 0)
			return rc;
		memcpy(s->sha256, f->sha256, sizeof(s->sha256));
		s->named_at = now;
	}
	if (fsync_dir(d->root) != 0)
		return hl_err_set(err, HL_EIO, "fsync %s: %s", d->root,
		    strerror(errno));
	if (now - d->pruned_at >= d->retention / 6) {
		prune(d, "objects", now);
		prune(d, "changes", now);
		d->pruned_at = now;
	}
	return 0;
}

/* The manifest.json in the directory, read with a bound. */
static int
dir_manifest(struct hl_buf *out, void *state, struct hl_err *err)
{
	struct dir *d = state;
	struct hl_buf b = HL_BUF_INIT;
	char path[PATH_MAX], chunk[8192];
	size_t n;
	FILE *f;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/manifest.json", d->root) >=
	    (int)sizeof(path))
		return hl_err_set(err, HL_EINVAL, "path too long: %s",
		    d->root);
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? hl_err_set(err, HL_ENOTFOUND,
		    "%s: no manifest yet", path) : hl_err_set(err, HL_EIO,
		    "open %s: %s", path, strerror(errno));
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > HL_TARGET_MAX_MANIFEST)
			rc = hl_err_set(err, HL_ETOOBIG, "%s: over %d bytes",
			    path, HL_TARGET_MAX_MANIFEST);
		else if (hl_buf_put(&b, chunk, n) != 0)
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if (rc == 0 && ferror(f))
		rc = hl_err_set(err, HL_EIO, "read %s: %s", path,
		    strerror(errno));
	fclose(f);
	if (rc == 0 && hl_buf_put(out, b.data ? b.data : "", b.len) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	hl_buf_free(&b);
	return rc;
}

static void
dir_close(void *state)
{
	struct dir *d = state;
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nseen; i++)
		free(d->seen[i].path);
	free(d->seen);
	free(d->root);
	free(d);
}

const struct hl_target_ops hl_pub_dir_ops = {
	.kind = "dir",
	.open = dir_open,
	.publish = dir_publish,
	.manifest = dir_manifest,
	.close = dir_close,
};
