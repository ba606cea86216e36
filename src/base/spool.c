/*
 * spool: a private directory of published files, and the writer that
 * fills it as a file is rendered (see spool.h).
 *
 * The writer keeps one chunk of HL_BLOB_CHUNK input bytes in memory.  A
 * full chunk is compressed alone (raw deflate ended by a full flush, as
 * hl_blob_make does) only once the next byte arrives, since the last
 * chunk of a file is ended differently (Z_FINISH).  Its input goes to the
 * file and the hashes, its output to the .gz file and the .gz hashes, its
 * CRC into the running CRC of the gzip trailer.  What stays in memory
 * after close is the memo: the sizes and CRCs of the compressed chunks
 * (not their bytes, which an append reads back from the .gz file) and the
 * hash states, which let an append redo the last chunk only.
 *
 * Where the files go.  A spool's files are spread over SPOOL_DIRS
 * subdirectories ("0.<tag>" to "7.<tag>" by sequence number, the tag
 * being the spool's own random suffix), and the spool's own directory is
 * marked as the top of a hierarchy (FS_TOPDIR_FL).  ext4 puts a file's
 * inode in the block group of its directory, and a directory made under
 * an ordinary one beside its parent, but one made under a top directory
 * in a group with inodes to spare, searched from a hash of its name: the
 * tag makes each spool's names, and so its groups, new.  Without a
 * journal, ext4 passes over every inode of the group freed in the last
 * minute or more, reading its table block, before it takes one: a spool
 * made after thousands of files were removed near it (the last build's
 * spool, the tree a restart swept) paid about 0.7 ms a file, 4 s of
 * system time for the 4,100 files of a 1M-item publish.  Spread, the
 * subdirectories start in groups with nothing freed, and the two threads
 * that spool files (listseg.c) no longer queue on one directory's lock.
 * The flag is a hint: a file system that does not know it (tmpfs, xfs)
 * refuses it, which is no error.
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "spool.h"

_Static_assert(HL_BLOB_CHUNK == HL_BLOB_GZIP_BIG,
    "a file of one chunk is exactly a file not over HL_BLOB_GZIP_BIG");

struct hl_spool {
	char		 dir[4096];
	const char	*tag;		/* dir's random suffix */
	unsigned long	 seq;
	int		 lockfd;	/* the directory, flock'd while alive */
};

#define SPOOL_PREFIX	"helios-spool."
#define SPOOL_DIRS	8


struct hl_spool_w {
	struct hl_spool	*sp;
	int		 level;
	int		 fd;
	int		 gzfd;
	char		*path;
	char		*gzpath;
	unsigned char	*chunk;		/* HL_BLOB_CHUNK bytes */
	size_t		 clen;
	size_t		 len;		/* bytes written, chunk included */
	size_t		 gzlen;
	unsigned long	 crc;		/* of the chunks flushed */
	EVP_MD_CTX	*sha, *md5, *gsha, *gmd5;
	struct hl_blob_memo m;		/* chunks flushed, for the memo */
	size_t		 capz;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *q = p;
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, q, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * The spool's top flag and its subdirectories (see the top of this
 * file), in the directory open on fd.  0, or -1 (errno) when a
 * subdirectory cannot be made.
 */
static int
spread(int fd, const char *tag)
{
	char name[32];
	int fl, k;

	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && !(fl & FS_TOPDIR_FL)) {
		fl |= FS_TOPDIR_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &fl);
	}
	for (k = 0; k < SPOOL_DIRS; k++) {
		snprintf(name, sizeof(name), "%d.%s", k, tag);
		if (mkdirat(fd, name, 0700) != 0)
			return -1;
	}
	return 0;
}

int
hl_spool_new(struct hl_spool **out, const char *parent, struct hl_err *err)
{
	struct hl_spool *sp;

	*out = NULL;
	if (parent == NULL || *parent == '\0')
		parent = getenv("TMPDIR");
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	sp->lockfd = -1;
	if (snprintf(sp->dir, sizeof(sp->dir), "%s/" SPOOL_PREFIX "XXXXXX",
	    parent) >= (int)sizeof(sp->dir)) {
		free(sp);
		return hl_err_set(err, HL_EINVAL, "spool: path too long");
	}
	if (mkdtemp(sp->dir) == NULL) {
		hl_err_set(err, HL_EIO, "spool: mkdtemp %s: %s", sp->dir,
		    strerror(errno));
		free(sp);
		return HL_EIO;
	}
	/* Held until hl_spool_free: hl_spool_sweep leaves a live spool. */
	if ((sp->lockfd = open(sp->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 || flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		hl_err_set(err, HL_EIO, "spool: lock %s: %s", sp->dir,
		    strerror(errno));
		hl_spool_free(sp);
		return HL_EIO;
	}
	sp->tag = sp->dir + strlen(sp->dir) - 6;	/* mkdtemp's XXXXXX */
	if (spread(sp->lockfd, sp->tag) != 0) {
		hl_err_set(err, HL_EIO, "spool: mkdir in %s: %s", sp->dir,
		    strerror(errno));
		hl_spool_free(sp);
		return HL_EIO;
	}
	*out = sp;
	return 0;
}

/*
 * Removes what directory fd holds (taken over): files, and at depth 0
 * the subdirectories with their files (a spool's layout; a spool a crash
 * left in the flat layout of earlier versions has files only).  No link
 * is followed.
 */
static void
empty_dir(int fd, int depth)
{
	struct dirent *de;
	DIR *d;
	int sub;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* A file (or a link) goes; so does a subdirectory at depth 0. */
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 || depth > 0)
			continue;
		if ((sub = openat(dirfd(d), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		empty_dir(sub, depth + 1);
		(void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void
hl_spool_free(struct hl_spool *sp)
{
	int fd;

	if (sp == NULL)
		return;
	if ((fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		empty_dir(fd, 0);
	(void)rmdir(sp->dir);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	free(sp);
}

/* Is name one hl_spool_new makes (SPOOL_PREFIX and 6 characters)? */
static int
spool_name(const char *name)
{
	size_t n = strlen(SPOOL_PREFIX);

	return strncmp(name, SPOOL_PREFIX, n) == 0 && strlen(name + n) == 6 &&
	    strchr(name + n, '/') == NULL;
}

int
hl_spool_sweep(size_t *removed, const char *parent, struct hl_err *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	*removed = 0;
	if (parent == NULL || *parent == '\0')
		parent = getenv("TMPDIR");
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if ((d = opendir(parent)) == NULL)
		return hl_err_set(err, HL_EIO, "spool: open %s: %s", parent,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!spool_name(de->d_name) || fstatat(dirfd(d), de->d_name,
		    &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		/* Its maker holds the lock while it runs: not stale. */
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);
			continue;
		}
		empty_dir(fd, 0);	/* closes fd, and the lock with it */
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
			(*removed)++;
	}
	closedir(d);
	return 0;
}

const char *
hl_spool_dir(const struct hl_spool *sp)
{
	return sp->dir;
}

/* A new file of the spool, opened for writing; *path malloc'd. */
static int
spool_create(char **path, int *fd, struct hl_spool *sp, const char *suffix,
    struct hl_err *err)
{
	/* Atomic: the segments' thread (listseg.c) spools files too. */
	unsigned long seq = __atomic_add_fetch(&sp->seq, 1, __ATOMIC_RELAXED);

	*fd = -1;
	if (asprintf(path, "%s/%lu.%s/%lu%s", sp->dir, seq % SPOOL_DIRS,
	    sp->tag, seq, suffix) < 0) {
		*path = NULL;
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if ((*fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0) {
		hl_err_set(err, HL_EIO, "spool: create %s: %s", *path,
		    strerror(errno));
		free(*path);
		*path = NULL;
		return HL_EIO;
	}
	return 0;
}

int
hl_spool_blob(struct hl_blob *b, struct hl_spool *sp, struct hl_err *err)
{
	char *path;
	int fd, rc;

	if ((rc = spool_create(&path, &fd, sp, "", err)) != 0)
		return rc;
	if (write_all(fd, b->data, b->len) != 0 || close(fd) != 0) {
		rc = hl_err_set(err, HL_EIO, "spool: write %s: %s", path,
		    strerror(errno));
		(void)unlink(path);
		free(path);
		return rc;
	}
	free(b->data);
	b->data = NULL;
	b->spool = path;
	return 0;
}

/* level as a file over HL_BLOB_GZIP_BIG takes it, its flags kept. */
static int
big_level(int level)
{
	return HL_BLOB_LEVEL(level) > HL_BLOB_GZIP_BIG_LEVEL ?
	    (level & ~0xff) | HL_BLOB_GZIP_BIG_LEVEL : level;
}

/* Compresses the chunk in w (last: the file's end) and writes both. */
static int
flush_chunk(struct hl_spool_w *w, int last)
{
	unsigned char *z = NULL;
	size_t zlen = 0;
	unsigned long c;

	/*
	 * A file of more than one chunk is over HL_BLOB_GZIP_BIG and takes
	 * the big files' level (as snapshot.c gives hl_blob_make).
	 */
	if (!last && HL_BLOB_LEVEL(w->level) > HL_BLOB_GZIP_BIG_LEVEL)
		w->level = w->m.level = big_level(w->level);
	c = libdeflate_crc32(0, w->chunk, w->clen);
	if (hl_blob__deflate_chunk(&z, &zlen, w->chunk, w->clen, w->level,
	    last) != 0)
		return HL_EIO;
	if (write_all(w->fd, w->chunk, w->clen) != 0 ||
	    write_all(w->gzfd, z, zlen) != 0 ||
	    EVP_DigestUpdate(w->gsha, z, zlen) != 1 ||
	    EVP_DigestUpdate(w->gmd5, z, zlen) != 1)
		goto fail;
	w->crc = w->m.n == 0 ? c : crc32_combine(w->crc, c,
	    (z_off_t)w->clen);
	w->gzlen += zlen;
	/* Not kept: an append reads it back from the .gz file. */
	free(z);
	z = NULL;
	if (last)
		return 0;
	/* A whole chunk that is not last: hashed now, its size kept. */
	if (EVP_DigestUpdate(w->sha, w->chunk, w->clen) != 1 ||
	    EVP_DigestUpdate(w->md5, w->chunk, w->clen) != 1)
		goto fail;
	if (w->m.n == w->capz) {
		size_t cap = w->capz ? w->capz * 2 : 64;
		unsigned char **nz;
		size_t *nl;
		unsigned long *nc;

		if ((nz = realloc(w->m.z, cap * sizeof(*nz))) == NULL)
			goto fail;
		w->m.z = nz;
		if ((nl = realloc(w->m.zlen, cap * sizeof(*nl))) == NULL)
			goto fail;
		w->m.zlen = nl;
		if ((nc = realloc(w->m.crc, cap * sizeof(*nc))) == NULL)
			goto fail;
		w->m.crc = nc;
		w->capz = cap;
	}
	w->m.z[w->m.n] = NULL;
	w->m.zlen[w->m.n] = zlen;
	w->m.crc[w->m.n] = c;
	w->m.n++;
	w->m.at += w->clen;
	w->clen = 0;
	return 0;
fail:
	free(z);
	return HL_EIO;
}

int
hl_spool_w_write(struct hl_spool_w *w, const void *p, size_t n,
    struct hl_err *err)
{
	const unsigned char *q = p;
	size_t k;

	while (n > 0) {
		if (w->clen == HL_BLOB_CHUNK && flush_chunk(w, 0) != 0)
			return hl_err_set(err, HL_EIO, "spool: write %s: %s",
			    w->path, strerror(errno));
		k = HL_BLOB_CHUNK - w->clen < n ? HL_BLOB_CHUNK - w->clen : n;
		memcpy(w->chunk + w->clen, q, k);
		w->clen += k;
		w->len += k;
		q += k;
		n -= k;
	}
	return 0;
}

void
hl_spool_w_abort(struct hl_spool_w *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->gzfd >= 0)
		close(w->gzfd);
	if (w->path != NULL)
		(void)unlink(w->path);
	if (w->gzpath != NULL)
		(void)unlink(w->gzpath);
	free(w->path);
	free(w->gzpath);
	free(w->chunk);
	EVP_MD_CTX_free(w->sha);
	EVP_MD_CTX_free(w->md5);
	EVP_MD_CTX_free(w->gsha);
	EVP_MD_CTX_free(w->gmd5);
	hl_blob_memo_clear(&w->m);
	free(w);
}

/* Copies the first n bytes of prev to w's file (the reused chunks). */
static int
copy_prefix(struct hl_spool_w *w, const struct hl_blob *prev, size_t n)
{
	loff_t in = 0;
	ssize_t k;
	int fd;

	if (prev->spool == NULL)
		return write_all(w->fd, prev->data, n);
	if ((fd = open(prev->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (n > 0) {
		k = copy_file_range(fd, &in, w->fd, NULL, n, 0);
		if (k <= 0) {
			/* Not supported here: read and write. */
			unsigned char buf[65536];
			size_t m = n < sizeof(buf) ? n : sizeof(buf);

			if (k < 0 && errno == EINTR)
				continue;
			if ((k = pread(fd, buf, m, in)) <= 0 ||
			    write_all(w->fd, buf, (size_t)k) != 0) {
				close(fd);
				return -1;
			}
			in += k;
		}
		n -= (size_t)k;
	}
	close(fd);
	return 0;
}

/* Feeds prev's bytes [from, to) through the writer. */
static int
feed_prefix(struct hl_spool_w *w, const struct hl_blob *prev, size_t from,
    size_t to, struct hl_err *err)
{
	unsigned char buf[65536];
	ssize_t k;
	int fd, rc = 0;

	if (prev->spool == NULL)
		return hl_spool_w_write(w, prev->data + from, to - from, err);
	if ((fd = open(prev->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return hl_err_set(err, HL_EIO, "spool: open %s: %s",
		    prev->spool, strerror(errno));
	while (rc == 0 && from < to) {
		k = pread(fd, buf, to - from < sizeof(buf) ? to - from :
		    sizeof(buf), (off_t)from);
		if (k <= 0) {
			rc = hl_err_set(err, HL_EIO, "spool: read %s: %s",
			    prev->spool, k < 0 ? strerror(errno) : "short");
			break;
		}
		rc = hl_spool_w_write(w, buf, (size_t)k, err);
		from += (size_t)k;
	}
	close(fd);
	return rc;
}

/*
 * Writes compressed chunk k of the memo to w's .gz file and its hashes:
 * from memory (hl_blob_make's memo), or read back from prevgz, the .gz
 * file the memo's writer made, where it follows the header and the
 * chunks before it.
 */
static int
gz_chunk(struct hl_spool_w *w, const struct hl_blob_memo *old, size_t k,
    const struct hl_blob *prevgz)
{
	unsigned char buf[65536];
	size_t off = sizeof(hl_blob__gz_header), i, left, m;
	ssize_t got;
	int fd, rc = 0;

	if (old->z[k] != NULL)
		return write_all(w->gzfd, old->z[k], old->zlen[k]) != 0 ||
		    EVP_DigestUpdate(w->gsha, old->z[k], old->zlen[k]) != 1 ||
		    EVP_DigestUpdate(w->gmd5, old->z[k], old->zlen[k]) != 1 ?
		    -1 : 0;
	if (prevgz == NULL || prevgz->spool == NULL ||
	    (fd = open(prevgz->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (i = 0; i < k; i++)
		off += old->zlen[i];
	for (left = old->zlen[k]; rc == 0 && left > 0; left -= m, off += m) {
		m = left < sizeof(buf) ? left : sizeof(buf);
		if ((got = pread(fd, buf, m, (off_t)off)) != (ssize_t)m ||
		    write_all(w->gzfd, buf, m) != 0 ||
		    EVP_DigestUpdate(w->gsha, buf, m) != 1 ||
		    EVP_DigestUpdate(w->gmd5, buf, m) != 1)
			rc = -1;
	}
	close(fd);
	return rc;
}

int
hl_spool_w_open(struct hl_spool_w **out, struct hl_spool *sp, int level,
    struct hl_blob_memo *memo, const struct hl_blob *prev,
    const struct hl_blob *prevgz, size_t keep, struct hl_err *err)
{
	struct hl_blob_memo old;
	struct hl_spool_w *w;
	size_t k, reuse = 0;
	int rc;

	*out = NULL;
	memset(&old, 0, sizeof(old));
	if (memo != NULL) {
		old = *memo;
		memset(memo, 0, sizeof(*memo));
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		hl_blob_memo_clear(&old);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	w->sp = sp;
	w->level = level;
	w->fd = w->gzfd = -1;
	w->m.level = level;
	if ((w->chunk = malloc(HL_BLOB_CHUNK)) == NULL ||
	    (w->sha = EVP_MD_CTX_new()) == NULL ||
	    (w->md5 = EVP_MD_CTX_new()) == NULL ||
	    (w->gsha = EVP_MD_CTX_new()) == NULL ||
	    (w->gmd5 = EVP_MD_CTX_new()) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = spool_create(&w->path, &w->fd, sp, "", err)) != 0 ||
	    (rc = spool_create(&w->gzpath, &w->gzfd, sp, ".gz", err)) != 0)
		goto fail;
	/* Whole chunks of prev that stay whole and unchanged (blob.c). */
	if (prev != NULL && keep > 0 && old.n > 0 &&
	    old.level == big_level(level) && old.at < keep &&
	    old.at % HL_BLOB_CHUNK == 0 && old.n == old.at / HL_BLOB_CHUNK &&
	    old.sha != NULL && old.md5 != NULL)
		reuse = old.n;
	if (EVP_DigestInit_ex(w->gsha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(w->gmd5, EVP_md5(), NULL) != 1 ||
	    (reuse > 0 ? EVP_MD_CTX_copy_ex(w->sha, old.sha) != 1 ||
	    EVP_MD_CTX_copy_ex(w->md5, old.md5) != 1 :
	    EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1) ||
	    write_all(w->gzfd, hl_blob__gz_header,
	    sizeof(hl_blob__gz_header)) != 0 ||
	    EVP_DigestUpdate(w->gsha, hl_blob__gz_header,
	    sizeof(hl_blob__gz_header)) != 1 ||
	    EVP_DigestUpdate(w->gmd5, hl_blob__gz_header,
	    sizeof(hl_blob__gz_header)) != 1) {
		rc = hl_err_set(err, HL_EIO, "spool: %s: %s", w->gzpath,
		    strerror(errno));
		goto fail;
	}
	w->gzlen = sizeof(hl_blob__gz_header);
	if (reuse > 0) {
		if (copy_prefix(w, prev, old.at) != 0) {
			rc = hl_err_set(err, HL_EIO, "spool: copy %s: %s",
			    prev->spool ? prev->spool : "(memory)",
			    strerror(errno));
			goto fail;
		}
		for (k = 0; k < reuse; k++) {
			if (gz_chunk(w, &old, k, prevgz) != 0) {
				rc = hl_err_set(err, HL_EIO, "spool: %s: %s",
				    w->gzpath, strerror(errno));
				goto fail;
			}
			w->crc = k == 0 ? old.crc[0] : crc32_combine(w->crc,
			    old.crc[k], HL_BLOB_CHUNK);
			w->gzlen += old.zlen[k];
		}
		/* The memo's arrays become the writer's. */
		w->m.z = old.z;
		w->m.zlen = old.zlen;
		w->m.crc = old.crc;
		w->m.n = reuse;
		w->m.at = old.at;
		w->capz = old.n;
		w->len = old.at;
		w->level = w->m.level = old.level;
		old.z = NULL;
		old.zlen = NULL;
		old.crc = NULL;
		old.n = 0;
	}
	hl_blob_memo_clear(&old);
	if (prev != NULL && keep > w->len &&
	    (rc = feed_prefix(w, prev, w->len, keep, err)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	hl_blob_memo_clear(&old);
	hl_spool_w_abort(w);
	return rc;
}

int
hl_spool_w_close(struct hl_blob *id, struct hl_blob *gz,
    struct hl_blob_memo *memo, struct hl_spool_w *w, struct hl_err *err)
{
	unsigned char d[EVP_MAX_MD_SIZE], trailer[8];
	unsigned int dn;
	int rc = HL_EIO;

	memset(id, 0, sizeof(*id));
	memset(gz, 0, sizeof(*gz));
	if (memo != NULL)
		hl_blob_memo_clear(memo);
	/* The hash states at the start of the last chunk, for the memo. */
	if ((w->m.sha = EVP_MD_CTX_new()) == NULL ||
	    (w->m.md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(w->m.sha, w->sha) != 1 ||
	    EVP_MD_CTX_copy_ex(w->m.md5, w->md5) != 1 ||
	    EVP_DigestUpdate(w->sha, w->chunk, w->clen) != 1 ||
	    EVP_DigestUpdate(w->md5, w->chunk, w->clen) != 1)
		goto fail;
	if (flush_chunk(w, 1) != 0)
		goto fail;
	hl_blob__put_le32(trailer, w->crc);
	hl_blob__put_le32(trailer + 4, (unsigned long)(w->len & 0xffffffffu));
	if (write_all(w->gzfd, trailer, sizeof(trailer)) != 0 ||
	    EVP_DigestUpdate(w->gsha, trailer, sizeof(trailer)) != 1 ||
	    EVP_DigestUpdate(w->gmd5, trailer, sizeof(trailer)) != 1)
		goto fail;
	w->gzlen += sizeof(trailer);
	if (close(w->fd) != 0) {
		w->fd = -1;
		goto fail;
	}
	w->fd = -1;
	if (close(w->gzfd) != 0) {
		w->gzfd = -1;
		goto fail;
	}
	w->gzfd = -1;
	EVP_DigestFinal_ex(w->sha, d, &dn);
	hl_blob__hex(id->sha256, d, dn);
	EVP_DigestFinal_ex(w->md5, d, &dn);
	hl_blob__hex(id->md5, d, dn);
	EVP_DigestFinal_ex(w->gsha, d, &dn);
	hl_blob__hex(gz->sha256, d, dn);
	EVP_DigestFinal_ex(w->gmd5, d, &dn);
	hl_blob__hex(gz->md5, d, dn);
	id->len = w->len;
	id->spool = w->path;
	gz->len = w->gzlen;
	gz->spool = w->gzpath;
	w->path = w->gzpath = NULL;
	if (memo != NULL) {
		*memo = w->m;
		memset(&w->m, 0, sizeof(w->m));
	}
	hl_spool_w_abort(w);
	return 0;
fail:
	rc = hl_err_set(err, HL_EIO, "spool: finish %s: %s", w->path,
	    strerror(errno));
	hl_spool_w_abort(w);
	return rc;
}
