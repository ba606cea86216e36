/*
 * test_store_fault: the store under failing I/O and failing writes.
 *
 * crashvfs (tests/unit/crashvfs.h) fails the n-th read, write or sync,
 * for every n the run reaches, while four threads add values through the
 * store's real write path (so commits group several writes).  A trigger
 * planted in the database refuses some values after their item row is
 * written (the event insert aborts), which is a write failing half-way
 * inside a group commit.  After each run, and again after a reopen:
 *
 *   - every acknowledged write is there, once;
 *   - every refused write is absent, the poisoned ones included;
 *   - the list's count is the number of its items;
 *   - the store still takes a write.
 *
 * And two stores on one file write side by side without a failure.
 *
 * The checkpoint (the copy of the WAL into the database file, the only
 * time the database file is synced) is made slow by crashvfs: a commit
 * still never waits for it, and the WAL stays bounded however busy the
 * writers are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "crashvfs.h"
#include "store.h"
#include "testdb.h"

#define LIST		"watch-keyword"
#define NTHREAD		4
#define NWRITE		9	/* per thread; every third is poisoned */
#define MAXRUN		2000
/* How long crashvfs makes each sync of the database file, in ms. */
#define CKPT_DELAY	150
/* SQLite's page plus its WAL frame header, and the frame header. */
#define FRAME_BYTES	(4096 + 24)

static const struct hl_actor alice = { .name = "alice" };

struct fixture {
	char	base[64];	/* the schema and the trigger */
	char	work[80];	/* a fresh copy for each run */
};

struct writer {
	struct hl_store	*st;
	int		 id;
	int		 rc[NWRITE];
};

static void
value(char *v, size_t sz, int t, int i)
{
	snprintf(v, sz, "%s-%d-%d\\.example", i % 3 == 2 ? "poison" : "fault",
	    t, i);
}

static void *
write_some(void *arg)
{
	struct writer *w = arg;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	char v[64];
	int64_t ver;
	int i;

	for (i = 0; i < NWRITE; i++) {
		value(v, sizeof(v), w->id, i);
		in.value = v;
		w->rc[i] = hl_store_item_add(&out, &ver, w->st, LIST, &in,
		    &alice, &err);
		if (w->rc[i] == 0 && ver <= 0)
			w->rc[i] = -100;	/* acknowledged, no version */
		hl_item_clear(&out);
	}
	return NULL;
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;

	assert_non_null(in = fopen(from, "rb"));
	assert_non_null(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	sqlite3 *db;
	int fd;

	assert_int_equal(hl_crashvfs_register(), SQLITE_OK);
	snprintf(f->base, sizeof(f->base), "/tmp/helios-fault-XXXXXX");
	assert_true((fd = mkstemp(f->base)) >= 0);
	close(fd);
	unlink(f->base);
	snprintf(f->work, sizeof(f->work), "%s.work", f->base);
	assert_int_equal(hl_store_open(&st, f->base, &err), 0);
	hl_store_close(st);
	assert_int_equal(sqlite3_open(f->base, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER poison BEFORE INSERT"
	    " ON events WHEN NEW.value LIKE 'poison-%' BEGIN"
	    " SELECT RAISE(ABORT, 'poisoned'); END", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	hl_testdb_remove(f->base);
	hl_testdb_remove(f->work);
	free(f);
	return 0;
}

/* The invariants after a run; what says which run. */
static void
check(struct hl_store *st, struct writer *w, const char *what)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *items = NULL;
	struct hl_list l;
	char v[64];
	size_t n = 0, j, seen;
	int t, i;

	assert_int_equal(hl_store_items(&items, &n, st, LIST, 1, &err), 0);
	for (t = 0; t < NTHREAD; t++)
		for (i = 0; i < NWRITE; i++) {
			value(v, sizeof(v), t, i);
			for (seen = 0, j = 0; j < n; j++)
				seen += strcmp(items[j].value, v) == 0;
			if (w[t].rc[i] == -100)
				fail_msg("%s: %s acknowledged with no version",
				    what, v);
			if (i % 3 == 2 && w[t].rc[i] == 0)
				fail_msg("%s: poisoned %s acknowledged", what,
				    v);
			if (w[t].rc[i] == 0 && seen != 1)
				fail_msg("%s: acknowledged %s is there %zu"
				    " times", what, v, seen);
			if (w[t].rc[i] != 0 && seen != 0)
				fail_msg("%s: refused %s (error %d) is there",
				    what, v, w[t].rc[i]);
		}
	assert_int_equal(hl_store_list(&l, st, LIST, &err), 0);
	if (l.count != (int64_t)n)
		fail_msg("%s: the list counts %lld items and holds %zu", what,
		    (long long)l.count, n);
	hl_list_clear(&l);
	for (j = 0; j < n; j++)
		hl_item_clear(&items[j]);
	free(items);
}

/*
 * One run with the n-th call of kind failing (n = 0: none).  Returns 1
 * when the fault fired, 0 when the run made fewer than n such calls.
 */
static int
fault_run(struct fixture *f, enum hl_crashvfs_kind kind, long n, int code,
    long *syncs, size_t *acked)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item in = { 0 }, out;
	struct hl_store *st;
	struct writer w[NTHREAD];
	pthread_t th[NTHREAD];
	char what[96];
	int64_t ver;
	int t, i, fired;

	hl_testdb_remove(f->work);
	copy_file(f->base, f->work);
	hl_crashvfs_reset();
	hl_crashvfs_sync_delay(1);
	if (n > 0)
		hl_crashvfs_fail(kind, n, code);
	snprintf(what, sizeof(what), "%s %ld fails",
	    kind == HL_CRASHVFS_READ ? "read" : kind == HL_CRASHVFS_WRITE ?
	    "write" : "sync", n);
	if (hl_store_open(&st, f->work, &err) != 0) {
		/* The fault hit the open: a clean refusal. */
		assert_true(hl_crashvfs_fired());
		return 1;
	}
	for (t = 0; t < NTHREAD; t++) {
		w[t].st = st;
		w[t].id = t;
		pthread_create(&th[t], NULL, write_some, &w[t]);
	}
	for (t = 0; t < NTHREAD; t++)
		pthread_join(th[t], NULL);
	fired = hl_crashvfs_fired();
	hl_crashvfs_fail(kind, 0, 0);
	*syncs = hl_crashvfs_count(HL_CRASHVFS_SYNC);
	for (*acked = 0, t = 0; t < NTHREAD; t++)
		for (i = 0; i < NWRITE; i++)
			*acked += w[t].rc[i] == 0;
	check(st, w, what);

	/* The store goes on after the fault. */
	in.value = "after\\.the\\.fault";
	assert_int_equal(hl_store_item_add(&out, &ver, st, LIST, &in, &alice,
	    &err), 0);
	hl_item_clear(&out);
	hl_store_close(st);

	assert_int_equal(hl_store_open(&st, f->work, &err), 0);
	strncat(what, ", reopened", sizeof(what) - strlen(what) - 1);
	check(st, w, what);
	hl_store_close(st);
	return fired;
}

/* One writer thread: n writes of its own values to st. */
struct side {
	struct hl_store	*st;
	int		 id, n, failed;
	char		 msg[256];
};

static void *
write_beside(void *arg)
{
	struct side *w = arg;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	char v[64];
	int64_t ver;
	int i;

	for (i = 0; i < w->n; i++) {
		snprintf(v, sizeof(v), "beside-%d-%d\\.example", w->id, i);
		in.value = v;
		if (hl_store_item_add(&out, &ver, w->st, LIST, &in, &alice,
		    &err) != 0 && w->failed++ == 0)
			snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
		hl_item_clear(&out);
	}
	return NULL;
}

/*
 * Two stores on one file (the daemon and a helios import beside it):
 * each transaction takes the write lock when it begins, so neither ever
 * fails half-way on a lock upgrade.
 */
static void
two_stores_on_one_file_never_fail_a_write(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st[2];
	struct side w[NTHREAD];
	pthread_t th[NTHREAD];
	int t;

	hl_testdb_remove(f->work);
	copy_file(f->base, f->work);
	hl_crashvfs_reset();
	hl_crashvfs_sync_delay(1);
	assert_int_equal(hl_store_open(&st[0], f->work, &err), 0);
	assert_int_equal(hl_store_open(&st[1], f->work, &err), 0);
	for (t = 0; t < NTHREAD; t++) {
		w[t] = (struct side){ .st = st[t % 2], .id = t,
		    .n = 3 * NWRITE };
		pthread_create(&th[t], NULL, write_beside, &w[t]);
	}
	for (t = 0; t < NTHREAD; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < NTHREAD; t++)
		if (w[t].failed)
			fail_msg("writer %d: %d writes failed, first: %s", t,
			    w[t].failed, w[t].msg);
	hl_store_close(st[0]);
	hl_store_close(st[1]);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The WAL's size in frames. */
static long
wal_frames(const char *db)
{
	struct stat sb;
	char p[128];

	snprintf(p, sizeof(p), "%s-wal", db);
	if (stat(p, &sb) != 0)
		return 0;
	return (long)(sb.st_size / FRAME_BYTES);
}

/*
 * Writes one at a time, a little apart, until the WAL is well past
 * SQLite's automatic checkpoint threshold (1000 frames), each checkpoint
 * taking CKPT_DELAY ms: no write takes that long.
 */
static void
a_commit_never_waits_for_the_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_item in = { 0 }, out;
	struct hl_store *st;
	char v[64];
	double t0, dt, worst = 0;
	int64_t ver;
	long frames = 0;
	int i;

	hl_testdb_remove(f->work);
	copy_file(f->base, f->work);
	hl_crashvfs_reset();
	hl_crashvfs_db_sync_delay(CKPT_DELAY);
	assert_int_equal(hl_store_open(&st, f->work, &err), 0);
	for (i = 0; i < 2000 && frames < 1400; i++) {
		snprintf(v, sizeof(v), "paced-%d\\.example", i);
		in.value = v;
		t0 = now_ms();
		if (hl_store_item_add(&out, &ver, st, LIST, &in, &alice,
		    &err) != 0)
			fail_msg("write %d: %s", i, err.msg);
		dt = now_ms() - t0;
		hl_item_clear(&out);
		if (dt > worst)
			worst = dt;
		frames = wal_frames(f->work);
		usleep(500);
	}
	hl_store_close(st);
	printf("# %d writes, the slowest %.1f ms, the WAL at %ld frames\n",
	    i, worst, frames);
	if (worst >= CKPT_DELAY)
		fail_msg("a write took %.1f ms: it waited for a checkpoint",
		    worst);
	assert_true(frames >= 1400);
}

/*
 * Eight writers that never pause, so that the WAL is never idle when a
 * checkpoint ends (and each checkpoint slow): the WAL still starts over,
 * within a few times the checkpoint threshold (twice it, plus what the
 * writers append during one slow checkpoint), where a WAL that never
 * starts over would take every frame written, some 25,000.
 */
static void
the_wal_stays_bounded_under_writers_that_never_pause(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	struct side w[8];
	pthread_t th[8];
	long frames;
	int t;

	hl_testdb_remove(f->work);
	copy_file(f->base, f->work);
	hl_crashvfs_reset();
	hl_crashvfs_db_sync_delay(20);
	assert_int_equal(hl_store_open(&st, f->work, &err), 0);
	for (t = 0; t < 8; t++) {
		w[t] = (struct side){ .st = st, .id = t, .n = 600 };
		pthread_create(&th[t], NULL, write_beside, &w[t]);
	}
	for (t = 0; t < 8; t++)
		pthread_join(th[t], NULL);
	frames = wal_frames(f->work);
	hl_store_close(st);
	for (t = 0; t < 8; t++)
		if (w[t].failed)
			fail_msg("writer %d: %d writes failed, first: %s", t,
			    w[t].failed, w[t].msg);
	printf("# the WAL grew to %ld frames\n", frames);
	/*
	 * 3,000 to 4,000 on an idle machine, near 8,000 on one running
	 * ten other jobs; without the copy between batches 24,000 or more.
	 */
	if (frames > 12000)
		fail_msg("the WAL grew to %ld frames", frames);
}

static void
sweep(struct fixture *f, enum hl_crashvfs_kind kind, int code)
{
	long n, syncs;
	size_t acked;

	for (n = 1; n < MAXRUN; n++)
		if (!fault_run(f, kind, n, code, &syncs, &acked)) {
			printf("# %ld runs, a fault in each\n", n - 1);
			return;
		}
	fail_msg("the fault still fires after %d runs", MAXRUN);
}

static void
a_clean_run_groups_commits_and_refuses_only_the_poisoned(void **state)
{
	long syncs;
	size_t acked;

	assert_int_equal(fault_run(*state, HL_CRASHVFS_WRITE, 0, 0, &syncs,
	    &acked), 0);
	assert_int_equal(acked, NTHREAD * (NWRITE - NWRITE / 3));
	/* Fewer commits than writes: batches of several writes formed. */
	if (syncs >= (long)acked)
		fail_msg("%ld syncs for %zu writes: no group commit", syncs,
		    acked);
}

static void
a_failing_write_at_any_point_loses_nothing_acknowledged(void **state)
{
	sweep(*state, HL_CRASHVFS_WRITE, SQLITE_IOERR_WRITE);
}

static void
a_full_disk_at_any_point_loses_nothing_acknowledged(void **state)
{
	sweep(*state, HL_CRASHVFS_WRITE, SQLITE_FULL);
}

static void
a_failing_sync_at_any_point_loses_nothing_acknowledged(void **state)
{
	sweep(*state, HL_CRASHVFS_SYNC, SQLITE_IOERR_FSYNC);
}

static void
a_failing_read_at_any_point_loses_nothing_acknowledged(void **state)
{
	sweep(*state, HL_CRASHVFS_READ, SQLITE_IOERR_READ);
}

/* The asynchronous writes of one test: their callbacks' records. */
#define NASYNC		12
struct async_run {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 calls[NASYNC];
	int		 rc[NASYNC];
	int64_t		 version[NASYNC];
	pthread_t	 by[NASYNC];	/* the thread that told it */
	int		 ndone;
	char		 v[NASYNC][64];
	struct hl_item	 in[NASYNC];
};

struct async_slot {
	struct async_run *r;
	int		 i;
};

static void
async_done(int rc, const struct hl_err *err, struct hl_item *it,
    int64_t version, void *arg)
{
	struct async_slot *s = arg;
	struct async_run *r = s->r;

	(void)err;
	pthread_mutex_lock(&r->mu);
	r->calls[s->i]++;
	r->rc[s->i] = rc;
	r->version[s->i] = version;
	r->by[s->i] = pthread_self();
	if (rc == 0 && (it == NULL || it->value == NULL ||
	    strcmp(it->value, r->v[s->i]) != 0))
		r->rc[s->i] = -100;	/* acknowledged, not this item */
	r->ndone++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* A blocking write, of a new value each time. */
static void *
hold_commit(void *arg)
{
	static int nhold;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	char v[64];
	int64_t ver;

	snprintf(v, sizeof(v), "hold-%d\\.example", nhold++);
	in.value = v;
	assert_int_equal(hl_store_item_add(&out, &ver, arg, LIST, &in,
	    &alice, &err), 0);
	hl_item_clear(&out);
	return NULL;
}

/*
 * Submits NASYNC asynchronous adds (every third poisoned) while a
 * blocking writer's commit is under way, then waits for every callback.
 * Returns the worst time one submission took, in ms.
 */
static double
async_batch(struct hl_store *st, struct async_run *r, const char *tag,
    struct async_slot *slot)
{
	pthread_t th;
	double t0, dt, worst = 0;
	int i;

	memset(r->calls, 0, sizeof(r->calls));
	r->ndone = 0;
	pthread_create(&th, NULL, hold_commit, st);
	usleep(50 * 1000);
	for (i = 0; i < NASYNC; i++) {
		snprintf(r->v[i], sizeof(r->v[i]), "%s-%s-%d\\.example",
		    i % 3 == 2 ? "poison" : "async", tag, i);
		r->in[i] = (struct hl_item){ .value = r->v[i] };
		slot[i] = (struct async_slot){ r, i };
		t0 = now_ms();
		assert_int_equal(hl_store_item_add_async(st, LIST, &r->in[i],
		    &alice, async_done, &slot[i]), 0);
		if ((dt = now_ms() - t0) > worst)
			worst = dt;
	}
	pthread_mutex_lock(&r->mu);
	while (r->ndone < NASYNC)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	pthread_join(th, NULL);
	usleep(50 * 1000);	/* a second call would come now */
	for (i = 0; i < NASYNC; i++)
		if (r->calls[i] != 1)
			fail_msg("%s: write %d told %d times", tag, i,
			    r->calls[i]);
	return worst;
}

/* Whether st's list holds v. */
static int
holds(struct hl_store *st, const char *v)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *items = NULL;
	size_t n = 0, j;
	int seen = 0;

	assert_int_equal(hl_store_items(&items, &n, st, LIST, 1, &err), 0);
	for (j = 0; j < n; j++)
		seen += strcmp(items[j].value, v) == 0;
	hl_items_free(items, n);
	return seen;
}

/* A fresh store whose syncs take 200 ms, and r made ready for it. */
static struct hl_store *
async_open(struct fixture *f, struct async_run *r)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	hl_testdb_remove(f->work);
	copy_file(f->base, f->work);
	hl_crashvfs_reset();
	hl_crashvfs_sync_delay(200);
	assert_int_equal(hl_store_open(&st, f->work, &err), 0);
	return st;
}

/*
 * Asynchronous writes keep the group commit's rules: a submission never
 * waits for another writer's commit, the writes queued meanwhile share
 * the next commit, a poisoned one is refused alone (its savepoint), each
 * is told exactly once, after its commit; and a failing commit fails
 * every write of its batch, after which the store takes writes again.
 */
static void
async_writes_keep_the_group_commit_rules(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct async_run r;
	struct async_slot slot[NASYNC];
	struct hl_store *st;
	uint64_t c0, c1, ch0, ch1;
	double worst;
	int i, failed = 0;

	st = async_open(f, &r);

	hl_store_stats(&c0, &ch0, st);
	worst = async_batch(st, &r, "ok", slot);
	hl_store_stats(&c1, &ch1, st);
	if (worst > 100)
		fail_msg("a submission waited %.0f ms for another commit",
		    worst);
	if (c1 - c0 > 3)
		fail_msg("%d writes and a blocking one took %d commits",
		    NASYNC, (int)(c1 - c0));
	for (i = 0; i < NASYNC; i++) {
		if (i % 3 == 2) {
			assert_int_not_equal(r.rc[i], 0);
			assert_int_equal(r.version[i], 0);
			assert_int_equal(holds(st, r.v[i]), 0);
		} else {
			assert_int_equal(r.rc[i], 0);
			assert_true(r.version[i] > 0);
			assert_int_equal(holds(st, r.v[i]), 1);
		}
	}

	/* The next sync fails: the blocking writer's or the batch's. */
	hl_crashvfs_fail(HL_CRASHVFS_SYNC,
	    hl_crashvfs_count(HL_CRASHVFS_SYNC) + 2, SQLITE_IOERR_FSYNC);
	(void)async_batch(st, &r, "fail", slot);
	for (i = 0; i < NASYNC; i++) {
		if (r.rc[i] == -100)
			fail_msg("write %d acknowledged with another item",
			    i);
		if (r.rc[i] != 0) {
			failed++;
			assert_int_equal(r.version[i], 0);
		}
	}
	if (failed != NASYNC)
		fail_msg("%d of %d writes of the batch whose commit failed"
		    " were refused", failed, NASYNC);
	hl_crashvfs_fail(HL_CRASHVFS_SYNC, 0, 0);
	hl_crashvfs_sync_delay(0);
	hl_store_close(st);
	assert_int_equal(hl_store_open(&st, f->work, &err), 0);
	for (i = 0; i < NASYNC; i++)
		assert_int_equal(holds(st, r.v[i]), 0);
	hold_commit(st);
	hl_store_close(st);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
}

/*
 * An asynchronous write made with no commit under way is committed by the
 * store's committer, not by the thread that submitted it: a server's
 * thread never waits for an fsync, and the other connections it serves
 * are not held up behind one.
 */
static void
an_async_write_is_never_committed_on_its_caller(void **state)
{
	struct fixture *f = *state;
	struct async_run r;
	struct async_slot slot = { &r, 0 };
	struct hl_store *st;
	double t0, dt;

	st = async_open(f, &r);
	snprintf(r.v[0], sizeof(r.v[0]), "alone\\.example");
	r.in[0] = (struct hl_item){ .value = r.v[0] };
	t0 = now_ms();
	assert_int_equal(hl_store_item_add_async(st, LIST, &r.in[0], &alice,
	    async_done, &slot), 0);
	dt = now_ms() - t0;
	pthread_mutex_lock(&r.mu);
	while (r.ndone < 1)
		pthread_cond_wait(&r.cv, &r.mu);
	pthread_mutex_unlock(&r.mu);
	hl_crashvfs_sync_delay(0);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(holds(st, r.v[0]), 1);
	if (pthread_equal(r.by[0], pthread_self()))
		fail_msg("the submitting thread committed its own write");
	if (dt > 100)
		fail_msg("the submission took %.0f ms: it waited for its"
		    " commit", dt);
	hl_store_close(st);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_clean_run_groups_commits_and_refuses_only_the_poisoned),
		cmocka_unit_test(two_stores_on_one_file_never_fail_a_write),
		cmocka_unit_test(async_writes_keep_the_group_commit_rules),
		cmocka_unit_test(an_async_write_is_never_committed_on_its_caller),
		cmocka_unit_test(a_commit_never_waits_for_the_checkpoint),
		cmocka_unit_test(
		    the_wal_stays_bounded_under_writers_that_never_pause),
		cmocka_unit_test(
		    a_failing_write_at_any_point_loses_nothing_acknowledged),
		cmocka_unit_test(
		    a_full_disk_at_any_point_loses_nothing_acknowledged),
		cmocka_unit_test(
		    a_failing_sync_at_any_point_loses_nothing_acknowledged),
		cmocka_unit_test(
		    a_failing_read_at_any_point_loses_nothing_acknowledged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
