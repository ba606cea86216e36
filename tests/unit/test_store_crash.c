/*
 * test_store_crash: every write the store acknowledged survives a power
 * loss at any point.
 *
 * A kill -9 cannot show a missing fsync: the kernel's page cache outlives
 * the process.  Here crashvfs (tests/unit/crashvfs.h) keeps the bytes each
 * unsynced write replaced; a child process writes through the store's
 * real path (hl_store_item_add from four threads, so commits group) and
 * reports on a pipe each write the store acknowledged.  At a chosen
 * write or sync the VFS puts back every unsynced byte, as a disk losing
 * power would, and the child dies.  The parent reopens the database and
 * wants every acknowledged write, with the list's count and version in
 * step.  The cut points are random (seeded, the seed printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "crashvfs.h"
#include "store.h"

#define LIST		"watch-keyword"
#define NTHREAD		4
#define NWRITE		12	/* per thread and run */
#define NRUN		60
#define MAXACK		(NRUN * NTHREAD * NWRITE)

static const struct hl_actor alice = { .name = "alice" };

struct writer {
	struct hl_store	*st;
	int		 run, id, fd;
};

static void *
write_some(void *arg)
{
	struct writer *w = arg;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	char v[64], line[80];
	int64_t ver;
	int i, n;

	for (i = 0; i < NWRITE; i++) {
		snprintf(v, sizeof(v), "crash-%d-%d-%d\\.example", w->run,
		    w->id, i);
		in.value = v;
		if (hl_store_item_add(&out, &ver, w->st, LIST, &in, &alice,
		    &err) != 0)
			_exit(3);
		hl_item_clear(&out);
		/* One write(2) under PIPE_BUF: lines never interleave. */
		n = snprintf(line, sizeof(line), "%s\n", v);
		if (write(w->fd, line, (size_t)n) != n)
			_exit(4);
	}
	return NULL;
}

/*
 * The child: opens the store through crashvfs, writes, and loses power
 * at the cut-th write or sync (or after the last write when cut is past
 * them).  Never returns.
 */
static void
child(const char *path, int run, long cut, int fd)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	struct writer w[NTHREAD];
	pthread_t th[NTHREAD];
	char line[32];
	int i, n;

	hl_crashvfs_reset();
	if (hl_store_open(&st, path, &err) != 0)
		_exit(2);
	hl_crashvfs_crash_at(cut);
	for (i = 0; i < NTHREAD; i++) {
		w[i] = (struct writer){ st, run, i, fd };
		pthread_create(&th[i], NULL, write_some, &w[i]);
	}
	for (i = 0; i < NTHREAD; i++)
		pthread_join(th[i], NULL);
	n = snprintf(line, sizeof(line), "ops %ld\n", hl_crashvfs_ops());
	if (write(fd, line, (size_t)n) != n)
		_exit(4);
	hl_crashvfs_power_loss();
	_exit(0);
}

/* Reads the child's report: acknowledged values into acks; *ops if told. */
static void
read_report(int fd, char **acks, size_t *nack, long *ops)
{
	char buf[65536], *p, *nl;
	size_t len = 0;
	ssize_t r;

	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strncmp(p, "ops ", 4) == 0)
			*ops = atol(p + 4);
		else if (*nack < MAXACK)
			acks[(*nack)++] = strdup(p);
	}
}

/* Runs one child to its end or its cut; returns how it ended. */
static int
crash_run(const char *path, int run, long cut, char **acks, size_t *nack,
    long *ops)
{
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(path, run, cut, fds[1]);
	}
	close(fds[1]);
	read_report(fds[0], acks, nack, ops);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Every acknowledged value is in the reopened store, count in step. */
static void
check_acks(const char *path, char **acks, size_t nack, const char *what)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	struct hl_item *items = NULL;
	struct hl_list l;
	size_t n = 0, i, j;

	hl_crashvfs_reset();
	if (hl_store_open(&st, path, &err) != 0)
		fail_msg("%s: reopen: %s", what, err.msg);
	assert_int_equal(hl_store_items(&items, &n, st, LIST, 1, &err), 0);
	for (i = 0; i < nack; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(items[j].value, acks[i]) == 0)
				break;
		if (j == n)
			fail_msg("%s: acknowledged %s is lost (%zu of %zu"
			    " acknowledged writes kept)", what, acks[i], n,
			    nack);
	}
	assert_int_equal(hl_store_list(&l, st, LIST, &err), 0);
	assert_int_equal(l.count, (int64_t)n);
	assert_int_equal(l.version, hl_store_version(st));
	hl_list_clear(&l);
	for (j = 0; j < n; j++)
		hl_item_clear(&items[j]);
	free(items);
	hl_store_close(st);
}

static void
rm_db(const char *path)
{
	char p[128];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void
acknowledged_writes_survive_a_power_loss_at_any_write_or_sync(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	char path[64], what[96];
	char **acks = calloc(MAXACK, sizeof(*acks));
	size_t nack = 0, i;
	long ops = 0, cut;
	unsigned seed;
	int run, fd, crashed = 0, rc;

	assert_non_null(acks);
	snprintf(path, sizeof(path), "/tmp/helios-crash-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(hl_crashvfs_register(), SQLITE_OK);
	/* The schema, on disk before the first cut. */
	assert_int_equal(hl_store_open(&st, path, &err), 0);
	hl_store_close(st);

	/* Run 0 goes to the end: how many writes and syncs a run has. */
	rc = crash_run(path, 0, 0, acks, &nack, &ops);
	assert_int_equal(rc, 0);
	assert_true(ops > 0);
	check_acks(path, acks, nack, "after a run with no cut");

	seed = getenv("HELIOS_SEED") ? (unsigned)atoi(getenv("HELIOS_SEED"))
	    : (unsigned)time(NULL);
	printf("# seed %u (HELIOS_SEED), %ld writes and syncs a run\n", seed,
	    ops);
	srand(seed);
	for (run = 1; run <= NRUN; run++) {
		cut = 1 + rand() % (ops + ops / 4);
		rc = crash_run(path, run, cut, acks, &nack, &ops);
		assert_true(rc == 0 || rc == HL_CRASHVFS_EXIT);
		crashed += rc == HL_CRASHVFS_EXIT;
		snprintf(what, sizeof(what), "run %d, power lost at op %ld",
		    run, cut);
		check_acks(path, acks, nack, what);
	}
	assert_true(crashed > NRUN / 2);
	assert_true(nack > 0);
	for (i = 0; i < nack; i++)
		free(acks[i]);
	free(acks);
	rm_db(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    acknowledged_writes_survive_a_power_loss_at_any_write_or_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
