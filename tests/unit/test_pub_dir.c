/*
 * test_pub_dir: the local directory target's pruning (gen/targets/
 * pub_dir.c) in a temporary directory: files no longer named go when the
 * count of publishes or the bytes kept pass their limits, the current
 * tree is never pruned however big, a pruned object named again is
 * written again, and bad limits are refused.  Every file written carries
 * the ETag mark of its bytes (src/base/etagmark.h), which a change in
 * place voids.  A directory of the tree removed between two publishes is
 * made again.  Once files are pruned, a publish writes into them instead
 * of making new ones (spares.h), but never into one a reader still holds
 * open (spares=0 there: no empty files made ahead to blur which is which;
 * spares=N makes N).  Objects handed to the stager before a publish are
 * written ahead, only they (no name, no manifest), and the publish keeps
 * them as they are.  An object's gzip found with other bytes than this
 * build's is written again.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob.h"
#include "etagmark.h"
#include "target.h"
#include "testdb.h"

struct fx {
	char	dir[64];
	char	url[256];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/helios-pubdir.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hl_testdb_rmtree(f->dir);
	free(f);
	return 0;
}

/* A file of len bytes of c under path. */
static void
mkfile(struct hl_file *file, const char *path, unsigned char *buf, size_t len,
    int c)
{
	char md5[33];

	memset(buf, c, len);
	memset(file, 0, sizeof(*file));
	file->path = path;
	file->data = buf;
	file->len = len;
	hl_digest(file->sha256, md5, buf, len);
	memcpy(file->md5, md5, sizeof(file->md5));
	file->cache = hl_tree_cache_class(path);
	file->content_type = hl_tree_content_type(path);
}

/*
 * Publishes version v: objects/obj-<v> of len bytes, objects/shared, and
 * a manifest.
 */
static void
publish(void *st, int v, size_t len)
{
	static unsigned char obj[8192], shared[16], man[64];
	static char opath[64];
	struct hl_file files[3];
	struct hl_tree t;
	struct hl_err err = HL_ERR_INIT;

	assert_true(len <= sizeof(obj));
	snprintf(opath, sizeof(opath), "objects/obj-%d", v);
	mkfile(&files[0], opath, obj, len, 'a' + v);
	mkfile(&files[1], "objects/shared", shared, sizeof(shared), 's');
	mkfile(&files[2], "manifest.json", man, sizeof(man), '0' + v);
	memset(&t, 0, sizeof(t));
	t.version = v;
	t.files = files;
	t.n = 3;
	if (hl_pub_dir_ops.publish(st, &t, &err) != 0)
		fail_msg("publish %d: %s", v, err.msg);
}

static int
there(const struct fx *f, int v)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/objects/obj-%d", f->dir, v);
	return stat(path, &sb) == 0;
}

static void *
open_dir(struct fx *f, const char *query)
{
	struct hl_err err = HL_ERR_INIT;
	void *st = NULL;

	snprintf(f->url, sizeof(f->url), "dir:%s?%s", f->dir, query);
	if (hl_pub_dir_ops.open(&st, f->url, &err) != 0)
		fail_msg("open %s: %s", f->url, err.msg);
	return st;
}

/* retain_versions=2: the files of the last two publishes stay. */
static void
test_prune_by_count(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=2&retain_bytes=0");
	char path[256];
	struct stat sb;
	int v;

	for (v = 1; v <= 5; v++)
		publish(st, v, 100);
	assert_true(there(f, 5));
	assert_true(there(f, 4));
	for (v = 1; v <= 3; v++)
		assert_false(there(f, v));
	snprintf(path, sizeof(path), "%s/objects/shared", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	hl_pub_dir_ops.close(st);
}

/* retain_bytes=3000: the newest 3000 bytes of older files stay. */
static void
test_prune_by_bytes(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_bytes=3000&retain_versions=0");
	int v;

	for (v = 1; v <= 6; v++)
		publish(st, v, 1000);
	for (v = 3; v <= 6; v++)
		assert_true(there(f, v));
	assert_false(there(f, 2));
	assert_false(there(f, 1));
	hl_pub_dir_ops.close(st);
}

/* The current tree stays, over every limit; a pruned object returns. */
static void
test_current_tree_is_never_pruned(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_bytes=1k&retain_versions=1");

	publish(st, 1, 5000);
	assert_true(there(f, 1));
	publish(st, 2, 5000);
	assert_true(there(f, 2));
	assert_false(there(f, 1));
	publish(st, 1, 5000);
	assert_true(there(f, 1));
	assert_false(there(f, 2));
	hl_pub_dir_ops.close(st);
}

/*
 * Hundreds of files remembered (the index of known files grows), then
 * pruning that forgets them (it shrinks): each publish still finds what
 * it wrote before, so only the files it should prune go.
 */
static void
test_many_files_known_and_forgotten(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=0&retain_bytes=0");
	char path[256];
	struct stat sb;
	int v;

	for (v = 1; v <= 300; v++)
		publish(st, v, 10);
	for (v = 1; v <= 300; v++)
		assert_true(there(f, v));
	hl_pub_dir_ops.close(st);
	st = open_dir(f, "retain_versions=2&retain_bytes=0");
	for (v = 301; v <= 320; v++)
		publish(st, v, 10);
	for (v = 301; v <= 320; v++)
		assert_int_equal(there(f, v), v >= 319);
	publish(st, 305, 10);
	assert_true(there(f, 305));
	snprintf(path, sizeof(path), "%s/objects/shared", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	hl_pub_dir_ops.close(st);
}

static void
test_bad_limits_are_refused(void **state)
{
	static const char *bad[] = { "retain_bytes=abc", "retain_versions=-1",
	    "bogus=1", "retain_bytes", "retention=0", "retain_bytes=5T",
	    "spares=-1", "spares=many" };
	struct fx *f = *state;
	struct hl_err err = HL_ERR_INIT;
	void *st = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(f->url, sizeof(f->url), "dir:%s/x?%s", f->dir,
		    bad[i]);
		assert_int_equal(hl_pub_dir_ops.open(&st, f->url, &err),
		    HL_EINVAL);
		assert_null(st);
	}
}

/* The ETag marked on root/rel, or "" when none holds. */
static void
mark_of(char etag[HL_ETAGMARK_LEN], const struct fx *f, const char *rel)
{
	char path[256];
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	if (hl_etagmark_get(etag, fd, &sb) != 0)
		etag[0] = '\0';
	close(fd);
}

static void
test_files_carry_their_etag(void **state)
{
	struct fx *f = *state;
	unsigned char buf[100];
	struct hl_file file;
	char want[HL_ETAGMARK_LEN], got[HL_ETAGMARK_LEN], path[256];
	void *st = open_dir(f, "retain_versions=8");
	FILE *fp;

	publish(st, 1, 100);
	/* objects/obj-1 is 100 bytes of 'b' (publish: 'a' + v) */
	mkfile(&file, "objects/obj-1", buf, 100, 'b');
	snprintf(want, sizeof(want), "\"%s\"", file.md5);
	mark_of(got, f, "objects/obj-1");
	assert_string_equal(got, want);
	/* the manifest, written before the syncfs and renamed after it */
	mkfile(&file, "manifest.json", buf, 64, '1');
	snprintf(want, sizeof(want), "\"%s\"", file.md5);
	mark_of(got, f, "manifest.json");
	assert_string_equal(got, want);
	/* changed in place, the file's mark no longer holds */
	snprintf(path, sizeof(path), "%s/manifest.json", f->dir);
	assert_non_null(fp = fopen(path, "ab"));
	assert_int_equal(fputc('x', fp), 'x');
	assert_int_equal(fclose(fp), 0);
	mark_of(got, f, "manifest.json");
	assert_string_equal(got, "");
	hl_pub_dir_ops.close(st);
}

/*
 * objects/ removed behind the target's back: the next publish makes it
 * again (a file's directory is made when its creation says ENOENT).
 */
static void
test_missing_directory_is_made_again(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=8");
	char path[256];

	publish(st, 1, 100);
	assert_true(there(f, 1));
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_int_equal(hl_testdb_rmtree(path), 0);
	assert_false(there(f, 1));
	publish(st, 2, 100);
	assert_true(there(f, 2));
	hl_pub_dir_ops.close(st);
}

/* The inode of root/rel, or 0 when it is not there. */
static ino_t
inode_of(const struct fx *f, const char *rel)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

/* The inodes of the spares under .spares/ (spares.h), at most max. */
static size_t
spares_of(ino_t *v, size_t max, const struct fx *f)
{
	char dir[128], rel[128];
	struct dirent *de;
	DIR *dp;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "%s/.spares", f->dir);
	assert_non_null(dp = opendir(dir));
	while ((de = readdir(dp)) != NULL && n < max)
		if (strncmp(de->d_name, ".spare.", 7) == 0) {
			snprintf(rel, sizeof(rel), ".spares/%.100s",
			    de->d_name);
			v[n++] = inode_of(f, rel);
		}
	closedir(dp);
	return n;
}

/*
 * Publishes v, v + 1, ... (at most 50, 20 ms apart, as the spares are
 * checked by a thread of their own) until objects/obj-<v> is written
 * into a file that was a spare before that publish: its version, or 0.
 * Fails when a spare or a new object is the file held (0: none).
 */
static int
publish_until_reused(void *st, const struct fx *f, int v, ino_t held)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	ino_t sp[512], ino;
	char rel[64];
	size_t i, n;
	int end = v + 50;

	for (; v < end; v++) {
		n = spares_of(sp, 512, f);
		for (i = 0; i < n; i++)
			assert_true(sp[i] != held);
		publish(st, v, 100);
		snprintf(rel, sizeof(rel), "objects/obj-%d", v);
		ino = inode_of(f, rel);
		assert_true(ino != held);
		for (i = 0; i < n; i++)
			if (sp[i] == ino)
				return v;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Files pruned (and each manifest replaced) become spares, and later
 * publishes write into them: in the steady state no inode is made or
 * freed.
 */
static void
test_pruned_files_are_written_again(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=1&retain_bytes=0&spares=0");

	assert_true(publish_until_reused(st, f, 1, 0) > 0);
	hl_pub_dir_ops.close(st);
}

/*
 * A reader that holds a file open when it is pruned keeps every byte of
 * it: that file is removed, never emptied, never written again, while
 * the others are.
 */
static void
test_a_file_held_open_is_never_written_again(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=1&retain_bytes=0&spares=0");
	unsigned char buf[200];
	struct stat sb;
	char path[256];
	int fd, i;

	publish(st, 1, 100);
	snprintf(path, sizeof(path), "%s/objects/obj-1", f->dir);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(publish_until_reused(st, f, 2, sb.st_ino) > 0);
	assert_true(publish_until_reused(st, f, 100, sb.st_ino) > 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_nlink, 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(buf[i], 'b');
	close(fd);
	hl_pub_dir_ops.close(st);
}

/* spares=N: N empty files made ahead in the pool; spares=0: none. */
static void
test_spares_sets_the_files_made_ahead(void **state)
{
	struct fx *f = *state;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	ino_t sp[16];
	void *st = open_dir(f, "spares=5");
	int i;

	for (i = 0; i < 300 && spares_of(sp, 16, f) != 5; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(spares_of(sp, 16, f), 5);
	hl_pub_dir_ops.close(st);
	hl_testdb_rmtree(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	st = open_dir(f, "spares=0");
	for (i = 0; i < 20; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(spares_of(sp, 16, f), 0);
	hl_pub_dir_ops.close(st);
}

/*
 * Objects staged are on disk once the stager is done, with their bytes
 * and mark, while no manifest and no other file is; the publish that
 * follows keeps the very files (same inode), and a file of another kind
 * handed over is left to the publish.
 */
static void
test_staged_objects_are_written_ahead(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=4");
	static unsigned char a[3000], b[100], c[10];
	struct hl_file files[3];
	char path[256], etag[HL_ETAGMARK_LEN];
	struct stat sb;
	ino_t ino;
	int fd;

	mkfile(&files[0], "objects/obj-1", a, sizeof(a), 'a' + 1);
	mkfile(&files[1], "objects/obj-1.gz", b, sizeof(b), 'b');
	mkfile(&files[2], "lists/x.txt", c, sizeof(c), 'c');
	hl_pub_dir_ops.stage(st, files, 3);
	hl_pub_dir_ops.stage(st, NULL, 0);	/* waits for the stager */
	snprintf(path, sizeof(path), "%s/objects/obj-1", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(a));
	ino = sb.st_ino;
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(hl_etagmark_get(etag, fd, &sb), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/objects/obj-1.gz", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/lists/x.txt", f->dir);
	assert_int_equal(stat(path, &sb), -1);	/* a name: the publish's */
	snprintf(path, sizeof(path), "%s/manifest.json", f->dir);
	assert_int_equal(stat(path, &sb), -1);
	publish(st, 1, sizeof(a));	/* the same objects/obj-1 */
	assert_int_equal(inode_of(f, "objects/obj-1"), ino);
	hl_pub_dir_ops.close(st);
}

/* The stager skips what the target wrote already under that name. */
static void
test_staging_what_is_there_writes_nothing(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=4");
	static unsigned char a[64];
	struct hl_file file;
	ino_t ino;

	publish(st, 1, 64);
	ino = inode_of(f, "objects/obj-1");
	mkfile(&file, "objects/obj-1", a, sizeof(a), 'a' + 1);
	hl_pub_dir_ops.stage(st, &file, 1);
	hl_pub_dir_ops.stage(st, NULL, 0);
	assert_int_equal(inode_of(f, "objects/obj-1"), ino);
	hl_pub_dir_ops.close(st);
}

/*
 * Two batches a build, staged again and again, then waited for or
 * published (the publish writes beside the stager what it has not taken
 * yet): every object is there each time and nothing waits forever (an
 * alarm turns a wait that never ends into a failure).
 */
static void
test_staging_and_publishing_together_finish(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=4");
	static unsigned char buf[2][8][512];
	static char paths[2][8][64];
	struct hl_file batch[2][8];
	char path[256];
	struct stat sb;
	int round, k, i;

	alarm(60);
	for (round = 0; round < 200; round++) {
		for (k = 0; k < 2; k++) {
			for (i = 0; i < 8; i++) {
				snprintf(paths[k][i], sizeof(paths[k][i]),
				    "objects/r%d-%d-%d", round, k, i);
				mkfile(&batch[k][i], paths[k][i], buf[k][i],
				    sizeof(buf[k][i]), 'a' + (round + i) % 26);
			}
			hl_pub_dir_ops.stage(st, batch[k], 8);
		}
		if (round % 2)
			hl_pub_dir_ops.stage(st, NULL, 0);
		else
			publish(st, round + 1, 16);
		for (k = 0; k < 2; k++)
			for (i = 0; i < 8; i++) {
				snprintf(path, sizeof(path), "%s/%s", f->dir,
				    paths[k][i]);
				assert_int_equal(stat(path, &sb), 0);
				assert_int_equal(sb.st_size, 512);
			}
	}
	alarm(0);
	hl_pub_dir_ops.close(st);
}

/*
 * Version round + 1 in t: files[0], len bytes of buf's first byte under
 * path (spooled in sp when not NULL), and a manifest of the round.
 */
static void
object_tree(struct hl_tree *t, struct hl_file files[2], const char *path,
    unsigned char *buf, size_t len, const char *sp, int round)
{
	static unsigned char man[64];

	mkfile(&files[0], path, buf, len, buf[0]);
	if (sp != NULL) {
		files[0].data = NULL;
		files[0].spool = sp;
	}
	mkfile(&files[1], "manifest.json", man, sizeof(man), '0' + round);
	memset(t, 0, sizeof(*t));
	t->version = round + 1;
	t->files = files;
	t->n = 2;
}

/*
 * A spooled object (spool.h) is linked in under its name, no copy and no
 * temporary name left; an object already there of its size is kept, one
 * of another size (damaged) is replaced.
 */
static void
test_spooled_objects_are_linked_in(void **state)
{
	struct fx *f = *state;
	void *st = open_dir(f, "retain_versions=8");
	static unsigned char bytes[300];
	struct hl_file files[2];
	struct hl_tree t;
	struct hl_err err = HL_ERR_INIT;
	char sp[256], path[256];
	struct dirent *de;
	struct stat sb;
	ino_t ino;
	DIR *dp;
	int fd, round;

	snprintf(sp, sizeof(sp), "%s.spooled", f->dir);
	assert_true((fd = open(sp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	memset(bytes, 'q', sizeof(bytes));
	assert_int_equal(write(fd, bytes, sizeof(bytes)), sizeof(bytes));
	close(fd);
	assert_int_equal(stat(sp, &sb), 0);
	ino = sb.st_ino;
	snprintf(path, sizeof(path), "%s/objects/seg", f->dir);
	for (round = 0; round < 3; round++) {
		object_tree(&t, files, "objects/seg", bytes, sizeof(bytes),
		    sp, round);
		if (round == 1) {	/* another file of its size: kept */
			assert_int_equal(unlink(path), 0);
			assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644))
			    >= 0);
			assert_int_equal(write(fd, bytes, sizeof(bytes)),
			    sizeof(bytes));
			close(fd);
		}
		if (round == 2)		/* cut short: replaced */
			assert_int_equal(truncate(path, 10), 0);
		/* (a new target each round: it knows nothing written) */
		hl_pub_dir_ops.close(st);
		st = open_dir(f, "retain_versions=8");
		if (hl_pub_dir_ops.publish(st, &t, &err) != 0)
			fail_msg("publish: %s", err.msg);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, sizeof(bytes));
		if (round == 1)
			assert_true(sb.st_ino != ino);
		else
			assert_true(sb.st_ino == ino);
	}
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_non_null(dp = opendir(path));
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fail_msg("left behind: objects/%s", de->d_name);
	closedir(dp);
	hl_pub_dir_ops.close(st);
	unlink(sp);
}

/* Puts len bytes of c at path, a new inode, marked with md5 unless NULL. */
static void
put_at(const char *path, size_t len, int c, const char *md5)
{
	unsigned char buf[512];
	struct stat sb;
	int fd;

	assert_true(len <= sizeof(buf));
	memset(buf, c, len);
	(void)unlink(path);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644)) >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fstat(fd, &sb), 0);
	if (md5 != NULL)
		assert_int_equal(hl_etagmark_set(fd, &sb, md5), 0);
	close(fd);
}

/*
 * An object's gzip is named by the identity bytes (listseg.h), so one
 * found under its name with other bytes of the same size (a compressor of
 * another version) is written again, whether it carries the ETag mark of
 * those bytes or none; one of this build's bytes is kept as it is.  The
 * gzip comes from a spool, as a big list's segments do, and from memory.
 */
static void
test_a_gzip_of_other_bytes_is_written_again(void **state)
{
	struct fx *f = *state;
	static unsigned char gz[300], other[300];
	struct hl_file files[2], old;
	struct hl_tree t;
	struct hl_err err = HL_ERR_INIT;
	char sp[256], path[256];
	struct stat sb;
	void *st;
	FILE *fp;
	int fd, round;

	snprintf(sp, sizeof(sp), "%s.spooled", f->dir);
	memset(gz, 'g', sizeof(gz));
	assert_true((fd = open(sp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, gz, sizeof(gz)), sizeof(gz));
	close(fd);
	mkfile(&old, "objects/old", other, sizeof(other), 'h');
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/objects/%064d.gz", f->dir, 7);
	for (round = 0; round < 6; round++) {
		static char gzpath[80];

		snprintf(gzpath, sizeof(gzpath), "objects/%064d.gz", 7);
		object_tree(&t, files, gzpath, gz, sizeof(gz),
		    round % 2 == 0 ? sp : NULL, round);
		switch (round / 2) {
		case 0:		/* other bytes, marked as theirs */
			put_at(path, sizeof(other), 'h', old.md5);
			break;
		case 1:		/* other bytes, no mark */
			put_at(path, sizeof(other), 'h', NULL);
			break;
		default:	/* this build's bytes, no mark: kept */
			put_at(path, sizeof(gz), 'g', NULL);
			break;
		}
		assert_int_equal(stat(path, &sb), 0);
		/* (a new target each round: it knows nothing written) */
		st = open_dir(f, "retain_versions=8");
		if (hl_pub_dir_ops.publish(st, &t, &err) != 0)
			fail_msg("publish: %s", err.msg);
		hl_pub_dir_ops.close(st);
		assert_non_null(fp = fopen(path, "rb"));
		assert_int_equal(fread(other, 1, sizeof(other), fp),
		    sizeof(other));
		fclose(fp);
		if (memcmp(other, gz, sizeof(gz)) != 0)
			fail_msg("round %d: the gzip of other bytes stayed",
			    round);
		if (round >= 4) {
			struct stat now;

			assert_int_equal(stat(path, &now), 0);
			assert_true(now.st_ino == sb.st_ino);
		}
	}
	unlink(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prune_by_count, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prune_by_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_current_tree_is_never_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_files_known_and_forgotten,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_limits_are_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_carry_their_etag,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_directory_is_made_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_spooled_objects_are_linked_in, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_gzip_of_other_bytes_is_written_again, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pruned_files_are_written_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_spares_sets_the_files_made_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_staged_objects_are_written_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_staging_what_is_there_writes_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_staging_and_publishing_together_finish, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_file_held_open_is_never_written_again, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
