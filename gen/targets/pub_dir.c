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
 * manifest last).  The manifest files (manifest.json and its .gz and .sig)
 * are written to their temporary names with the rest; then one syncfs(2)
 * makes every byte durable, the manifest files included, and only then are
 * they renamed into place and the directory fsynced, so after a crash the
 * manifest on disk never names a file that is not there whole, and is
 * itself whole.  That costs one wait for the disk before the manifest
 * shows, not one per manifest file.
 *
 * Each file written carries its ETag in an extended attribute
 * (src/base/etagmark.h), so the daemon's server of this directory does not
 * hash it again.
 *
 * Immutable files already present are not written again; a mutable file
 * is written only when its hash differs from what this target last wrote,
 * and then as a hard link to its object copy (objects/<sha256>), which
 * holds the same bytes, so each new content is written to disk once.
 *
 * A build's new objects may be written before its publish (dir_stage):
 * the stager thread writes them while the rest of the tree is rendered,
 * and the publish, which first writes beside it those it has not taken
 * yet and waits for the rest, finds them present.  Until
 * a manifest names them they are objects nobody reads, pruned as any.
 *
 * Files are not made and freed but kept (spares.h): a file pruned, or a
 * manifest file replaced (renameat2 RENAME_EXCHANGE: the name is never
 * missing), goes to a pool of emptied files in the hidden directory
 * .spares/ of the root, and a file is written into a spare where there is
 * one, before a new one is made.  The pool also keeps up to `spares`
 * (URL option or HELIOS_SPARES; default HL_SPARES_FRESH, 0 for none)
 * empty files made ahead, for publishes before any file is pruned.
 * A publish in the steady state then makes no inode and frees none, which
 * on ext4 without a journal is what a file's creation costs most (0.5 to
 * 1 ms a file once many were freed in the last minutes).  The temporary
 * name of a file written into a spare is the spare's own dot name.
 * Pruning.  A file under objects/ or changes/ (objects, change segments,
 * a big list's segments) is "named" by every publish whose tree holds it,
 * so nothing the current manifest, its lists' indexes or the change window
 * name is ever removed.  A file no longer named is kept while all three
 * limits hold, and removed as soon as one does not:
 *
 *   retention        seconds since a publish last named it (default
 *                    HL_DIR_RETENTION)
 *   retain_versions  publishes since one last named it (default
 *                    HL_DIR_RETAIN_VERSIONS; 0: no limit)
 *   retain_bytes     bytes of such files, the most recently named kept
 *                    first (default HL_DIR_RETAIN_BYTES; 0: no limit)
 *
 * so the directory holds the current tree plus at most retain_bytes of
 * older files, whatever the rate of change.  Each is set in the target's
 * URL (dir:/srv/public?retain_versions=32&retain_bytes=64M&retention=600)
 * or from the environment (HELIOS_RETENTION, HELIOS_RETAIN_VERSIONS,
 * HELIOS_RETAIN_BYTES); the URL wins.  The files this process wrote or saw
 * are checked after every publish; the directory is also scanned, at most
 * every sixth of the retention time, for files an earlier run left, which
 * count from their mtime.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "etagmark.h"
#include "spares.h"
#include "target.h"

#define HL_DIR_RETENTION	3600	/* default; HELIOS_RETENTION overrides */
#define HL_DIR_RETAIN_VERSIONS	64
#define HL_DIR_RETAIN_BYTES	((int64_t)256 << 20)
/* Manifest files a publish renames last: manifest.json, .gz, .sig. */
#define DIR_LATER		4
/* Batches the stager holds at once: a build hands it two. */
#define DIR_STAGE_QUEUE		4

struct seen {
	char	*path;
	char	 sha256[65];	/* "" when not (or no longer) on disk */
	int64_t	 named_at;	/* time of the last publish that named it */
	int64_t	 named_gen;	/* that publish's number */
	int64_t	 bytes;
};

struct dir {
	char		*root;
	struct seen	*seen;
	size_t		 nseen;
	size_t		 capseen;
	/* seen by path: open addressing, 0 empty, else index + 1. */
	size_t		*slots;
	size_t		 nslots;	/* a power of two, > 2 * nseen */
	int		 dropped;	/* files unlinked: compact seen */
	int64_t		 pruned_at;
	int64_t		 retention;
	int64_t		 retain_versions;
	int64_t		 retain_bytes;
	int64_t		 spares_fresh;	/* made ahead (spares.h) */
	int64_t		 gen;		/* publishes so far */
	unsigned	 tmpn;
	int64_t		 stamp;		/* mtime of the manifest files */
	struct hl_spares *spares;	/* files to write again, or NULL */
	/*
	 * The stager (dir_stage): batches of files handed to it, queued (a
	 * build hands two), written by its thread file by file; the publish
	 * writes those it has not taken yet beside it, then waits for the
	 * rest.  While files are staged, the stager and the publish touch
	 * nothing else of this struct but tmpn (atomic), seen (read) and the
	 * spares (locked); otherwise only the publish's thread does.
	 */
	pthread_t	 stager;
	int		 staging;	/* the thread runs */
	pthread_mutex_t	 smu;		/* guards the six below */
	pthread_cond_t	 scv;
	struct {
		const struct hl_file *files;
		size_t		 n;
	}		 sq[DIR_STAGE_QUEUE];	/* sq[0]: the one being taken */
	size_t		 sqn;
	size_t		 snext;		/* sq[0]'s next file to take */
	size_t		 sactive;	/* files taken, not yet written */
	int		 sstop;
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
	/* (atomic: the stager and the publish both write files) */
	n = snprintf(tmp, sz, "%.*s.%s.tmp.%d.%u", dirlen, path, base,
	    (int)getpid(), __atomic_fetch_add(&d->tmpn, 1,
	    __ATOMIC_RELAXED));
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

/* Makes the directory that holds path, with its parents. */
static int
parent_make(const char *path, struct hl_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return hl_err_set(err, HL_EINVAL, "path too long: %s", path);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return mkdirs(dir, err);
}

/*
 * A limit: digits, with an optional k, M or G (powers of 1024) when
 * bytes; at least min.  -1 if it is not one.
 */
static int
limit_parse(int64_t *out, const char *s, size_t len, int bytes, int64_t min)
{
	char buf[32], *end;
	long long v;
	int shift = 0;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (bytes && strchr("kMG", buf[len - 1]) != NULL) {
		shift = buf[len - 1] == 'k' ? 10 : buf[len - 1] == 'M' ? 20 : 30;
		buf[--len] = '\0';
	}
	if (len == 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > (INT64_MAX >> 30))
		return -1;
	*out = (int64_t)v << shift;
	return 0;
}

/* The limits of the environment, then of the URL's ?query. */
static int
limits(struct dir *d, const char *query, struct hl_err *err)
{
	static const struct {
		const char	*key;
		const char	*env;
		int		 bytes;
		int64_t		 min;
		size_t		 off;
	} opt[] = {
		{ "retention", "HELIOS_RETENTION", 0, 1,
		    offsetof(struct dir, retention) },
		{ "retain_versions", "HELIOS_RETAIN_VERSIONS", 0, 0,
		    offsetof(struct dir, retain_versions) },
		{ "retain_bytes", "HELIOS_RETAIN_BYTES", 1, 0,
		    offsetof(struct dir, retain_bytes) },
		{ "spares", "HELIOS_SPARES", 0, 0,
		    offsetof(struct dir, spares_fresh) },
	};
	const char *env, *p, *eq, *amp;
	size_t i;

	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		if ((env = getenv(opt[i].env)) != NULL &&
		    limit_parse((int64_t *)((char *)d + opt[i].off), env,
		    strlen(env), opt[i].bytes, opt[i].min) != 0)
			return hl_err_set(err, HL_EINVAL, "%s: want a number"
			    "%s, not \"%s\"", opt[i].env, opt[i].bytes ?
			    " of bytes (k, M, G)" : "", env);
	for (p = query; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		eq = strchr(p, '=');
		if (eq == NULL || (amp != NULL && eq > amp))
			return hl_err_set(err, HL_EINVAL, "dir target: want"
			    " key=value, not \"%.*s\"", amp ? (int)(amp - p) :
			    (int)strlen(p), p);
		for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
			if (strlen(opt[i].key) == (size_t)(eq - p) &&
			    strncmp(p, opt[i].key, (size_t)(eq - p)) == 0)
				break;
		if (i == sizeof(opt) / sizeof(opt[0]))
			return hl_err_set(err, HL_EINVAL, "dir target: unknown"
			    " option \"%.*s\" (retention, retain_versions,"
			    " retain_bytes, spares)", (int)(eq - p), p);
		if (limit_parse((int64_t *)((char *)d + opt[i].off), eq + 1,
		    amp ? (size_t)(amp - eq - 1) : strlen(eq + 1),
		    opt[i].bytes, opt[i].min) != 0)
			return hl_err_set(err, HL_EINVAL, "dir target: %s:"
			    " want a number%s", opt[i].key, opt[i].bytes ?
			    " of bytes (k, M, G)" : "");
	}
	return 0;
}

static int
dir_open(void **state, const char *url, struct hl_err *err)
{
	struct dir *d;
	const char *q;
	int rc;

	if (strncmp(url, "dir:", 4) == 0)
		url += 4;
	if (*url == '\0' || *url == '?')
		return hl_err_set(err, HL_EINVAL, "dir target: empty path");
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutex_init(&d->smu, NULL);
	pthread_cond_init(&d->scv, NULL);
	q = strchr(url, '?');
	d->root = q ? strndup(url, (size_t)(q - url)) : strdup(url);
	if (d->root == NULL) {
		free(d);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	d->retention = HL_DIR_RETENTION;
	d->retain_versions = HL_DIR_RETAIN_VERSIONS;
	d->spares_fresh = HL_SPARES_FRESH;
	d->retain_bytes = HL_DIR_RETAIN_BYTES;
	if ((rc = limits(d, q ? q + 1 : NULL, err)) != 0 ||
	    (rc = mkdirs(d->root, err)) != 0) {
		free(d->root);
		free(d);
		return rc;
	}
	d->pruned_at = (int64_t)time(NULL);
	{
		struct hl_err e2 = HL_ERR_INIT;
		char odir[PATH_MAX];

		/* None (another process holds it): files made and freed. */
		if (snprintf(odir, sizeof(odir), "%s/.spares", d->root) <
		    (int)sizeof(odir))
			(void)hl_spares_open(&d->spares, odir, 0,
			    (size_t)d->spares_fresh, &e2);
	}
	{
		char mpath[PATH_MAX];
		struct stat sb;

		if (snprintf(mpath, sizeof(mpath), "%s/manifest.json",
		    d->root) < (int)sizeof(mpath) && stat(mpath, &sb) == 0)
			d->stamp = (int64_t)sb.st_mtime;
	}
	*state = d;
	return 0;
}

/* FNV-1a of a path. */
static size_t
path_hash(const char *p)
{
	uint64_t h = 14695981039346656037ULL;

	while (*p != '\0')
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return (size_t)h;
}

static struct seen *
seen_find(struct dir *d, const char *path)
{
	size_t h, mask = d->nslots - 1;

	if (d->nslots == 0)
		return NULL;
	for (h = path_hash(path) & mask; d->slots[h] != 0; h = (h + 1) & mask)
		if (strcmp(d->seen[d->slots[h] - 1].path, path) == 0)
			return &d->seen[d->slots[h] - 1];
	return NULL;
}

static void
slot_put(struct dir *d, size_t i)
{
	size_t h, mask = d->nslots - 1;

	for (h = path_hash(d->seen[i].path) & mask; d->slots[h] != 0;
	    h = (h + 1) & mask)
		;
	d->slots[h] = i + 1;
}

/* Makes the index again for room for want entries.  -1: no memory. */
static int
seen_reindex(struct dir *d, size_t want)
{
	size_t n = 512, i, *v;

	while (n < 2 * want + 1)
		n *= 2;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	free(d->slots);
	d->slots = v;
	d->nslots = n;
	for (i = 0; i < d->nseen; i++)
		slot_put(d, i);
	return 0;
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
	if (2 * (d->nseen + 1) >= d->nslots &&
	    seen_reindex(d, d->nseen + 1) != 0)
		return NULL;
	s = &d->seen[d->nseen];
	memset(s, 0, sizeof(*s));
	if ((s->path = strdup(path)) == NULL)
		return NULL;
	slot_put(d, d->nseen++);
	return s;
}

/*
 * Forgets the files pruned from disk that the last publish did not name,
 * so that what a long-running daemon remembers stays the size of what
 * the directory holds.  A file named again is written again either way.
 */
static void
seen_compact(struct dir *d)
{
	size_t i, o = 0;

	if (!d->dropped)
		return;
	for (i = 0; i < d->nseen; i++) {
		if (d->seen[i].sha256[0] == '\0' &&
		    d->seen[i].named_gen < d->gen) {
			free(d->seen[i].path);
			continue;
		}
		d->seen[o++] = d->seen[i];
	}
	d->nseen = o;
	if (seen_reindex(d, o) == 0)
		d->dropped = 0;
	else {
		/* No index: find nothing, so everything is written again. */
		free(d->slots);
		d->slots = NULL;
		d->nslots = 0;
	}
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

/* hl_file_each's callback: the bytes to the file descriptor. */
static int
put_piece(const void *p, size_t left, void *arg)
{
	const unsigned char *q = p;
	int fd = *(int *)arg;
	ssize_t n;

	while (left > 0) {
		if ((n = write(fd, q, left)) < 0) {
			if (errno == EINTR)
				continue;
			return HL_EIO;
		}
		q += n;
		left -= (size_t)n;
	}
	return 0;
}

/*
 * The bytes of a spooled file into fd: copy_file_range (a reflink or an
 * in-kernel copy), else read and write in pieces.  -1 with errno set.
 */
static int
put_spooled(int fd, const struct hl_file *f)
{
	struct hl_err e = HL_ERR_INIT;
	loff_t in = 0;
	ssize_t n = 0;
	int src;

	if ((src = open(f->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((size_t)in < f->len &&
	    (n = copy_file_range(src, &in, fd, NULL, f->len - (size_t)in,
	    0)) > 0)
		;
	close(src);
	if ((size_t)in == f->len)
		return 0;
	if (in > 0 || (n < 0 && errno != EXDEV && errno != ENOSYS &&
	    errno != EOPNOTSUPP && errno != EINVAL))
		return -1;
	if (n == 0 && in == 0 && f->len > 0) {
		errno = EIO;	/* the spool file is shorter than listed */
		return -1;
	}
	if (hl_file_each(f, put_piece, &fd, &e) != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * A spare (spares.h) opened to be written, its name put in tmp (PATH_MAX
 * bytes), in place of a new temporary file; -1 when there is none.
 */
static int
spare_open(struct dir *d, char *tmp)
{
	char spare[PATH_MAX];
	int fd;

	if (hl_spares_take(d->spares, spare, sizeof(spare)) != 0)
		return -1;
	if ((fd = open(spare, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) <
	    0) {
		(void)unlink(spare);
		return -1;
	}
	memcpy(tmp, spare, strlen(spare) + 1);
	return fd;
}

/*
 * tmp renamed to path; with replaces (path may be there: a mutable
 * file), path's old file goes to the spares.  path's directory is made
 * when missing (a spare lives elsewhere).
 */
static int
move_in(struct dir *d, const char *tmp, const char *path, int replaces)
{
	struct hl_err e = HL_ERR_INIT;
	struct hl_spares *s = replaces ? d->spares : NULL;

	if (hl_spares_replace(s, tmp, path) == 0)
		return 0;
	if (errno != ENOENT || parent_make(path, &e) != 0)
		return -1;
	return hl_spares_replace(s, tmp, path);
}

/*
 * Is an immutable file already there, whole?  An object's name is the
 * SHA-256 of its bytes, so its size tells it from a torn copy.  Its gzip
 * (objects/<sha256>.gz) is named by the identity bytes, not its own
 * (listseg.h): a compressor of another version gives other bytes under
 * the same name, which clients would refuse, so a gzip found there must
 * also have the MD5 this build gives it, from its ETag mark (etagmark.h)
 * or, unmarked (linked in from a spool), by reading it.  That read comes
 * only after a restart: a file this process wrote is known by its hash.
 */
static int
present(struct dir *d, const struct hl_file *f)
{
	char path[PATH_MAX], etag[HL_ETAGMARK_LEN];
	size_t n = strlen(f->path);
	struct stat sb;
	int fd, ok;

	if (snprintf(path, sizeof(path), "%s/%s", d->root, f->path) >=
	    (int)sizeof(path))
		return 0;
	if (n < 3 || strcmp(f->path + n - 3, ".gz") != 0 || f->md5[0] == '\0')
		return stat(path, &sb) == 0 && (size_t)sb.st_size == f->len;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (size_t)sb.st_size == f->len;
	ok = ok && (hl_etagmark_get(etag, fd, &sb) == 0 ||
	    hl_etagmark_hash(etag, fd, &sb) == 0) &&
	    strncmp(etag + 1, f->md5, 32) == 0;
	close(fd);
	return ok;
}

/*
 * Writes data to root/path through a temporary file and rename; with
 * later set, only to the temporary name, left in tmp (PATH_MAX bytes) for
 * the caller to rename (the manifest files, after the syncfs).  The
 * caller makes the bytes durable (syncfs before the manifest).
 */
static int
write_file(struct dir *d, const struct hl_file *f, char *later,
    struct hl_err *err)
{
	char path[PATH_MAX], tmpbuf[PATH_MAX], *tmp;
	struct hl_err e = HL_ERR_INIT;	/* the link's: a copy follows */
	struct stat sb;
	int fd;

	tmp = later != NULL ? later : tmpbuf;

	if (snprintf(path, sizeof(path), "%s/%s", d->root, f->path) >=
	    (int)sizeof(path) || tmp_name(tmp, PATH_MAX, path, d) != 0)
		return hl_err_set(err, HL_EINVAL, "path too long: %s",
		    f->path);
	/*
	 * A spooled object is linked in under its own name at once: link(2)
	 * makes the name whole or fails, and an object already there (EEXIST)
	 * of its size is this content, named by it.  One call where a
	 * temporary name and a rename took three (a million-item list's
	 * publish links 4,000 of them).  Anything else takes the paths below.
	 */
	if (f->spool != NULL && f->cache == HL_CACHE_IMMUTABLE &&
	    later == NULL) {
		if (link(f->spool, path) == 0 || (errno == ENOENT &&
		    parent_make(path, &e) == 0 && link(f->spool, path) == 0))
			return 0;
		if (errno == EEXIST && present(d, f))
			return 0;
	}
	/*
	 * A spooled file (spool.h) is linked in where the spool shares the
	 * file system, since it never changes once written: no copy.  The
	 * file's directory is made only when it is missing (ENOENT), which
	 * saves a mkdir(2) per directory level on every other file.
	 */
	if (f->spool != NULL && f->cache != HL_CACHE_REVALIDATE &&
	    later == NULL && (link(f->spool, tmp) == 0 || (errno == ENOENT &&
	    parent_make(path, &e) == 0 && link(f->spool, tmp) == 0))) {
		fd = -1;
		if (rename(tmp, path) != 0)
			goto fail;
		return 0;
	}
	fd = spare_open(d, tmp);
	if (fd < 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		if (parent_make(path, err) != 0)
			return HL_EIO;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return hl_err_set(err, HL_EIO, "create %s: %s", tmp,
		    strerror(errno));
	if (f->spool != NULL ? put_spooled(fd, f) != 0 :
	    put_piece(f->data, f->len, &fd) != 0)
		goto fail;
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
	/* The ETag, for a server of this directory (etagmark.h). */
	if (fstat(fd, &sb) == 0)
		(void)hl_etagmark_set(fd, &sb, f->md5);
	/*
	 * An object (the stager's, mostly) goes to the disk now, not in the
	 * publish's syncfs, and a name renamed over the object's link later
	 * finds no delayed allocation to flush (ext4's auto_da_alloc): both
	 * were a millisecond of the publish.  Durability is still syncfs's.
	 */
	if (f->cache == HL_CACHE_IMMUTABLE)
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (later != NULL)
		return 0;
	if (move_in(d, tmp, path, f->cache != HL_CACHE_IMMUTABLE) != 0) {
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
		} else if (s->named_gen >= d->gen ||
		    now - s->named_at < d->retention)
			continue;
		(void)hl_spares_put(d->spares, path);
		if (s != NULL) {
			s->sha256[0] = '\0';	/* written again if named */
			d->dropped = 1;
		}
	}
	closedir(dp);
}

/* Newest first: by the last publish that named it, then by path. */
static int
cmp_recent(const void *a, const void *b)
{
	const struct seen *x = *(const struct seen *const *)a;
	const struct seen *y = *(const struct seen *const *)b;

	if (x->named_gen != y->named_gen)
		return x->named_gen > y->named_gen ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * Applies the three limits (see the top of this file) to the files under
 * objects/ and changes/ this process knows are on disk and the last
 * publish did not name.  On an allocation failure nothing is pruned this
 * time.
 */
static void
prune_known(struct dir *d, int64_t now)
{
	struct seen **v;
	char path[PATH_MAX];
	int64_t kept = 0;
	size_t i, n = 0;

	if ((v = calloc(d->nseen + 1, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < d->nseen; i++)
		if (d->seen[i].sha256[0] != '\0' &&
		    d->seen[i].named_gen < d->gen &&
		    (strncmp(d->seen[i].path, "objects/", 8) == 0 ||
		    strncmp(d->seen[i].path, "changes/", 8) == 0))
			v[n++] = &d->seen[i];
	qsort(v, n, sizeof(*v), cmp_recent);
	for (i = 0; i < n; i++) {
		kept += v[i]->bytes;
		if (now - v[i]->named_at < d->retention &&
		    (d->retain_versions == 0 ||
		    d->gen - v[i]->named_gen < d->retain_versions) &&
		    (d->retain_bytes == 0 || kept <= d->retain_bytes))
			continue;
		kept -= v[i]->bytes;
		if (snprintf(path, sizeof(path), "%s/%s", d->root,
		    v[i]->path) >= (int)sizeof(path))
			continue;
		if (hl_spares_put(d->spares, path) == 0 || errno == ENOENT) {
			v[i]->sha256[0] = '\0';	/* written again if named */
			d->dropped = 1;
		}
	}
	free(v);
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

/* Drops sq[0] once every file of it is taken.  Under smu. */
static void
stage_pop(struct dir *d)
{
	while (d->sqn > 0 && d->snext >= d->sq[0].n) {
		memmove(&d->sq[0], &d->sq[1], --d->sqn * sizeof(d->sq[0]));
		d->snext = 0;
	}
}

/*
 * The next staged file to write, counted as being written (sactive); NULL
 * when none is left.  A batch stays queued while it has a file not taken,
 * so the stager is idle when no batch is queued and none is active.
 * Under smu.
 */
static const struct hl_file *
stage_take(struct dir *d)
{
	const struct hl_file *f;

	stage_pop(d);
	if (d->sqn == 0)
		return NULL;
	f = &d->sq[0].files[d->snext++];
	d->sactive++;
	stage_pop(d);
	return f;
}

/*
 * Writes f, an immutable file of a build, unless this target wrote it
 * under that name or finds it present; then counts it done.  A file it
 * cannot write is left to the publish, which reports it.
 */
static void
stage_one(struct dir *d, const struct hl_file *f)
{
	struct hl_err e = HL_ERR_INIT;
	struct seen *s;

	if (f->cache == HL_CACHE_IMMUTABLE &&
	    ((s = seen_find(d, f->path)) == NULL ||
	    strcmp(s->sha256, f->sha256) != 0) && !present(d, f))
		(void)write_file(d, f, NULL, &e);
	pthread_mutex_lock(&d->smu);
	d->sactive--;
	pthread_cond_broadcast(&d->scv);
	pthread_mutex_unlock(&d->smu);
}

/* The stager's thread: writes the files handed to it, until stopped. */
static void *
stager_main(void *arg)
{
	struct dir *d = arg;
	const struct hl_file *f;

	(void)pthread_setname_np(pthread_self(), "hl-stage");
	pthread_mutex_lock(&d->smu);
	for (;;) {
		while (!d->sstop && (f = stage_take(d)) == NULL)
			pthread_cond_wait(&d->scv, &d->smu);
		if (d->sstop)
			break;
		pthread_mutex_unlock(&d->smu);
		stage_one(d, f);
		pthread_mutex_lock(&d->smu);
	}
	pthread_mutex_unlock(&d->smu);
	return NULL;
}

/*
 * Waits until what the stager was handed is written; with help, this
 * thread writes what the stager has not taken yet meanwhile (the publish:
 * two threads write the last of a build's objects).
 */
static void
stage_wait(struct dir *d, int help)
{
	const struct hl_file *f;

	pthread_mutex_lock(&d->smu);
	while (help && (f = stage_take(d)) != NULL) {
		pthread_mutex_unlock(&d->smu);
		stage_one(d, f);
		pthread_mutex_lock(&d->smu);
	}
	while (d->sqn > 0 || d->sactive > 0)
		pthread_cond_wait(&d->scv, &d->smu);
	pthread_mutex_unlock(&d->smu);
}

/* Hands files to the stager, started on first use (target.h). */
static void
dir_stage(void *state, const struct hl_file *files, size_t n)
{
	struct dir *d = state;

	if (n == 0) {
		stage_wait(d, 0);
		return;
	}
	pthread_mutex_lock(&d->smu);
	while (d->sqn == DIR_STAGE_QUEUE)
		pthread_cond_wait(&d->scv, &d->smu);
	if (!d->staging && !d->sstop)
		d->staging = pthread_create(&d->stager, NULL, stager_main,
		    d) == 0;
	if (d->staging) {
		d->sq[d->sqn].files = files;
		d->sq[d->sqn++].n = n;
		pthread_cond_broadcast(&d->scv);
	}
	pthread_mutex_unlock(&d->smu);
}

static int
dir_publish(void *state, const struct hl_tree *tree, struct hl_err *err)
{
	struct dir *d = state;
	const struct hl_file *f;
	struct seen *s;
	/* The manifest files, written, to rename after the syncfs. */
	char tmp[DIR_LATER][PATH_MAX], path[PATH_MAX];
	const struct hl_file *lf[DIR_LATER];
	int64_t now = (int64_t)time(NULL);
	size_t i, k, nl = 0;
	int rc = 0, last = 0;

	stage_wait(d, 1);
	d->stamp = now > d->stamp ? now : d->stamp + 1;
	/* A publish counts once it is whole: see d->gen below. */
	for (i = 0; i < tree->n; i++) {
		f = &tree->files[i];
		if ((s = seen_add(d, f->path)) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto fail;
		}
		last |= f->cache == HL_CACHE_REVALIDATE;
		s->named_gen = d->gen + 1;
		s->bytes = (int64_t)f->len;
		/* (A spooled object's link finds it there: write_file.) */
		if (strcmp(s->sha256, f->sha256) == 0 ||
		    (f->cache == HL_CACHE_IMMUTABLE && f->spool == NULL &&
		    present(d, f))) {
			memcpy(s->sha256, f->sha256, sizeof(s->sha256));
			s->named_at = now;
			continue;
		}
		if (f->cache == HL_CACHE_REVALIDATE) {
			if (nl == DIR_LATER) {
				rc = hl_err_set(err, HL_EINVAL, "%s: more than"
				    " %d manifest files", f->path, DIR_LATER);
				goto fail;
			}
			if ((rc = write_file(d, f, tmp[nl], err)) != 0)
				goto fail;
			lf[nl++] = f;
			continue;
		}
		if ((f->cache != HL_CACHE_SHORT ||
		    link_object(d, tree, f) != 0) &&
		    (rc = write_file(d, f, NULL, err)) != 0)
			goto fail;
		memcpy(s->sha256, f->sha256, sizeof(s->sha256));
		s->named_at = now;
	}
	/*
	 * Everything the manifest names is durable, and the manifest files'
	 * own bytes, before any of them takes its name: in the tree's order,
	 * manifest.json last.
	 */
	if (last && (rc = sync_all(d, err)) != 0)
		goto fail;
	for (k = 0; k < nl; k++) {
		if (snprintf(path, sizeof(path), "%s/%s", d->root,
		    lf[k]->path) >= (int)sizeof(path) ||
		    move_in(d, tmp[k], path, 1) != 0) {
			rc = hl_err_set(err, HL_EIO, "rename %s: %s",
			    lf[k]->path, strerror(errno));
			goto fail;
		}
		tmp[k][0] = '\0';
		/* (seen_add may have moved what an earlier call returned) */
		if ((s = seen_find(d, lf[k]->path)) != NULL) {
			memcpy(s->sha256, lf[k]->sha256, sizeof(s->sha256));
			s->named_at = now;
		}
	}
	if (fsync_dir(d->root) != 0)
		return hl_err_set(err, HL_EIO, "fsync %s: %s", d->root,
		    strerror(errno));
	d->gen++;
	hl_spares_settle(d->spares);
	prune_known(d, now);
	if (now - d->pruned_at >= d->retention / 6) {
		prune(d, "objects", now);
		prune(d, "changes", now);
		d->pruned_at = now;
	}
	seen_compact(d);
	return 0;
fail:
	for (k = 0; k < nl; k++)
		if (tmp[k][0] != '\0')
			(void)unlink(tmp[k]);
	hl_spares_settle(d->spares);
	return rc;
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
	stage_wait(d, 0);
	pthread_mutex_lock(&d->smu);
	d->sstop = 1;
	pthread_cond_broadcast(&d->scv);
	pthread_mutex_unlock(&d->smu);
	if (d->staging)
		pthread_join(d->stager, NULL);
	pthread_cond_destroy(&d->scv);
	pthread_mutex_destroy(&d->smu);
	for (i = 0; i < d->nseen; i++)
		free(d->seen[i].path);
	free(d->seen);
	free(d->slots);
	free(d->root);
	hl_spares_close(d->spares);
	free(d);
}

const struct hl_target_ops hl_pub_dir_ops = {
	.kind = "dir",
	.open = dir_open,
	.publish = dir_publish,
	.manifest = dir_manifest,
	.close = dir_close,
	.stage = dir_stage,
};
