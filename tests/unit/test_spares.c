/*
 * test_spares: the directory target's pool of emptied files (gen/targets/
 * spares.c) in a temporary directory.  A file put is handed out again
 * empty, with a new file's mode; a file some reader still holds open, or
 * that has another name, is never emptied (its reader keeps every byte);
 * the pool is bounded; one process at a time owns it; a pool closed with
 * spares on disk is taken over by the next; replace leaves no moment
 * without the name and gives the old file to the pool.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spares.h"
#include "testdb.h"

struct fx {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/helios-spares.XXXXXX");
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

/* dir/name with len bytes of c, made with mode; its path into out. */
static void
mkfile(char *out, size_t outlen, const struct fx *f, const char *name,
    size_t len, int c, mode_t mode)
{
	char buf[4096];
	int fd;

	assert_true(len <= sizeof(buf));
	snprintf(out, outlen, "%s/%s", f->dir, name);
	memset(buf, c, len);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static struct hl_spares *
pool_fresh(const struct fx *f, size_t max, size_t fresh)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_spares *s = NULL;

	if (hl_spares_open(&s, f->dir, max, fresh, &err) != 0)
		fail_msg("open %s: %s", f->dir, err.msg);
	return s;
}

/* A pool that makes no spares of its own: only files put come back. */
static struct hl_spares *
pool(const struct fx *f, size_t max)
{
	return pool_fresh(f, max, 0);
}

/* The names under f->dir that are spares (ready or not yet checked). */
static int
on_disk(const struct fx *f)
{
	struct dirent *de;
	DIR *dp = opendir(f->dir);
	int n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL)
		n += strncmp(de->d_name, ".spare.", 7) == 0 &&
		    de->d_name[7] >= '0' && de->d_name[7] <= '9';
	closedir(dp);
	return n;
}

/*
 * Waits (at most 5 s) until the keeper thread has dealt with every spare
 * queued: want ready, and as many names on disk.
 */
static void
settled(struct hl_spares *s, const struct fx *f, size_t want)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int i;

	for (i = 0; i < 2500; i++) {
		if (hl_spares_count(s) == want && on_disk(f) == (int)want)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("%zu spares ready and %d on disk, want %zu",
	    hl_spares_count(s), on_disk(f), want);
}

static mode_t
new_file_mode(void)
{
	mode_t m = umask(022);

	umask(m);
	return 0644 & ~m;
}

/* A file put comes back empty, with the mode a new file would have. */
static void
test_a_file_put_is_handed_out_empty(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0);
	char path[256], spare[256];
	struct stat a, b;

	mkfile(path, sizeof(path), f, "obj-1", 3000, 'x', 0600);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(hl_spares_put(s, path), 0);
	assert_int_equal(access(path, F_OK), -1);
	settled(s, f, 1);
	assert_int_equal(hl_spares_take(s, spare, sizeof(spare)), 0);
	assert_int_equal(stat(spare, &b), 0);
	assert_int_equal(b.st_ino, a.st_ino);	/* the same inode */
	assert_int_equal(b.st_size, 0);
	assert_int_equal(b.st_mode & 07777, new_file_mode());
	assert_int_equal(hl_spares_count(s), 0);
	assert_int_equal(hl_spares_take(s, spare, sizeof(spare)), -1);
	hl_spares_close(s);
}

/*
 * A reader that opened the file before it was put keeps every byte of
 * it: the file is removed, not emptied, and never handed out.
 */
static void
test_a_file_open_elsewhere_is_never_emptied(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0);
	char path[256], buf[4096];
	struct stat sb;
	int fd, i;

	mkfile(path, sizeof(path), f, "obj-1", 3000, 'x', 0644);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(hl_spares_put(s, path), 0);
	settled(s, f, 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_nlink, 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 3000);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf[i], 'x');
	close(fd);
	hl_spares_close(s);
}

/* A file with another name loses this one and keeps its bytes. */
static void
test_a_file_with_another_name_is_never_emptied(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0);
	char path[256], other[256];
	struct stat sb;

	mkfile(path, sizeof(path), f, "obj-1", 3000, 'x', 0644);
	snprintf(other, sizeof(other), "%s/mutable", f->dir);
	assert_int_equal(link(path, other), 0);
	assert_int_equal(hl_spares_put(s, path), 0);
	settled(s, f, 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(stat(other, &sb), 0);
	assert_int_equal(sb.st_size, 3000);
	assert_int_equal(sb.st_nlink, 1);
	hl_spares_close(s);
}

/*
 * At most max are kept, the ones being checked counted; the rest are
 * removed.
 */
static void
test_the_pool_is_bounded(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 2);
	char path[256], name[32];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "obj-%d", i);
		mkfile(path, sizeof(path), f, name, 100, 'a' + i, 0644);
		assert_int_equal(hl_spares_put(s, path), 0);
		assert_int_equal(access(path, F_OK), -1);
	}
	settled(s, f, 2);
	hl_spares_close(s);
}

/* A second owner is refused while the first holds the pool. */
static void
test_one_owner_at_a_time(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0), *t = NULL;
	struct hl_err err = HL_ERR_INIT;

	assert_int_equal(hl_spares_open(&t, f->dir, 0, 0, &err), HL_EEXISTS);
	assert_null(t);
	/* Without a pool, put removes and take finds nothing. */
	assert_int_equal(hl_spares_take(t, err.msg, sizeof(err.msg)), -1);
	hl_spares_close(s);
	t = pool(f, 0);
	hl_spares_close(t);
}

/*
 * Spares left on disk (some not yet emptied, as after a crash) are taken
 * over, checked and emptied by the next owner; a name that only looks
 * like one is left alone.
 */
static void
test_spares_left_behind_are_taken_over(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0);
	char path[256], spare[256], odd[256];
	struct stat sb;
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(spare, sizeof(spare), "obj-%d", i);
		mkfile(path, sizeof(path), f, spare, 500, 'a', 0644);
		assert_int_equal(hl_spares_put(s, path), 0);
	}
	settled(s, f, 3);
	hl_spares_close(s);
	/* Left full by a process that died before emptying it. */
	mkfile(path, sizeof(path), f, ".spare.7", 900, 'z', 0644);
	mkfile(odd, sizeof(odd), f, ".spare.x7", 900, 'z', 0644);
	s = pool(f, 0);
	settled(s, f, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(hl_spares_take(s, spare, sizeof(spare)), 0);
		assert_int_equal(stat(spare, &sb), 0);
		assert_int_equal(sb.st_size, 0);
		assert_int_equal(unlink(spare), 0);
	}
	assert_int_equal(stat(odd, &sb), 0);
	assert_int_equal(sb.st_size, 900);
	hl_spares_close(s);
}

/*
 * replace: the name always holds the old file or the new; the old one
 * goes to the pool at settle, and a name that was missing is made.
 */
static void
test_replace_gives_the_old_file_to_the_pool(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool(f, 0);
	char cur[256], tmp[256], buf[16];
	struct stat old, sb;
	int fd;

	mkfile(cur, sizeof(cur), f, "manifest.json", 10, 'o', 0644);
	assert_int_equal(stat(cur, &old), 0);
	mkfile(tmp, sizeof(tmp), f, ".manifest.json.tmp", 10, 'n', 0644);
	assert_int_equal(hl_spares_replace(s, tmp, cur), 0);
	fd = open(cur, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 10);
	assert_int_equal(buf[0], 'n');
	close(fd);
	hl_spares_settle(s);
	assert_int_equal(access(tmp, F_OK), -1);
	settled(s, f, 1);
	assert_int_equal(hl_spares_take(s, tmp, sizeof(tmp)), 0);
	assert_int_equal(stat(tmp, &sb), 0);
	assert_int_equal(sb.st_ino, old.st_ino);
	/* No old file: a plain rename. */
	snprintf(cur, sizeof(cur), "%s/new.json", f->dir);
	assert_int_equal(hl_spares_replace(s, tmp, cur), 0);
	assert_int_equal(stat(cur, &sb), 0);
	assert_int_equal(sb.st_ino, old.st_ino);
	hl_spares_settle(s);
	settled(s, f, 0);
	hl_spares_close(s);
}

/*
 * With nothing put, the keeper makes fresh spares, empty and with a new
 * file's mode, up to the number asked and no further; one taken is made
 * again.
 */
static void
test_fresh_spares_are_made_ahead(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool_fresh(f, 8, 3);
	char spare[256];
	struct stat sb;

	settled(s, f, 3);
	assert_int_equal(hl_spares_take(s, spare, sizeof(spare)), 0);
	assert_int_equal(stat(spare, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(sb.st_nlink, 1);
	assert_int_equal(sb.st_mode & 07777, new_file_mode());
	assert_int_equal(unlink(spare), 0);	/* as pub_dir renames it away */
	settled(s, f, 3);
	hl_spares_close(s);
	/* A fresh spare is bounded by max. */
	s = pool_fresh(f, 2, 50);
	settled(s, f, 2);
	hl_spares_close(s);
}

/*
 * Where no spare can be made (here the pool's directory has gone), the
 * keeper stops trying, without spinning, and makes no more; the pool
 * still takes files put.
 */
static void
test_a_pool_that_cannot_make_spares_gives_up(void **state)
{
	struct fx *f = *state;
	struct hl_spares *s = pool_fresh(f, 8, 3);
	char away[256], path[256], t1[256], t2[256];
	struct rusage a, b;

	settled(s, f, 3);
	snprintf(away, sizeof(away), "%s.away", f->dir);
	assert_int_equal(rename(f->dir, away), 0);
	assert_int_equal(hl_spares_take(s, t1, sizeof(t1)), 0);
	assert_int_equal(hl_spares_take(s, t2, sizeof(t2)), 0);
	assert_int_equal(getrusage(RUSAGE_SELF, &a), 0);
	usleep(300 * 1000);
	assert_int_equal(getrusage(RUSAGE_SELF, &b), 0);
	assert_int_equal(rename(away, f->dir), 0);
	/* A spinning keeper would take most of the 300 ms of CPU. */
	assert_true((b.ru_utime.tv_sec - a.ru_utime.tv_sec) * 1000000 +
	    (b.ru_utime.tv_usec - a.ru_utime.tv_usec) +
	    (b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1000000 +
	    (b.ru_stime.tv_usec - a.ru_stime.tv_usec) < 100 * 1000);
	/* The two taken go as pub_dir's are renamed away; none is made. */
	assert_int_equal(unlink(t1), 0);
	assert_int_equal(unlink(t2), 0);
	settled(s, f, 1);
	mkfile(path, sizeof(path), f, "obj-1", 10, 'x', 0644);
	assert_int_equal(hl_spares_put(s, path), 0);
	settled(s, f, 2);
	hl_spares_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_file_put_is_handed_out_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_file_open_elsewhere_is_never_emptied, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_file_with_another_name_is_never_emptied, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_the_pool_is_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fresh_spares_are_made_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_pool_that_cannot_make_spares_gives_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_one_owner_at_a_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_spares_left_behind_are_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_gives_the_old_file_to_the_pool, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
