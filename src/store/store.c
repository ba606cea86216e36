/*
 * store: the SQLite database behind Helios (see store.h for the contract,
 * the schema/ migrations for the tables).
 *
 * One writer connection under one recursive mutex, and a few readers
 * (rd_enter()): in WAL mode a reader sees the last commit and neither
 * waits for a writer nor holds one up, so a request's token lookup or the
 * publisher's snapshot never sits behind a commit's fsync.  Writes are
 * short transactions begun with BEGIN IMMEDIATE, so a writer never fails
 * half-way on a lock upgrade; with journal_mode=WAL and synchronous=FULL,
 * COMMIT returns only after the WAL is on disk (fdatasync), and a change
 * is acknowledged only after its COMMIT: the group commit (submit())
 * makes that one fsync serve every writer that queued meanwhile.  The
 * statements on the hot paths, the group commit's BEGIN, SAVEPOINT and
 * COMMIT among them, are prepared once per connection and kept.  The WAL
 * is copied into the database by a thread of its own (checkpointer()),
 * not inside a COMMIT.
 *
 * A list change is three statements in one transaction: the item row, the
 * audit event (whose rowid is the new version) and lists.version.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "migrate.h"
#include "store.h"
#include "store_int.h"

#define NOTIFS_LIST	"notifications"
/* The page cache, KiB: 32 MiB, a real-size list stays in memory. */
#define STORE_CACHE	"-32768"

enum {
	Q_LIST_FMT,
	Q_LIST_CLEARS,
	Q_ITEM_BY_KEY,
	Q_ITEM_NEXT_POS,
	Q_ITEM_INSERT,
	Q_ITEM_DELETE,
	Q_EVENT_INSERT,
	Q_LIST_SET_VERSION,
	Q_TOKEN_FIND,
	Q_LIST_BY_ID,
	Q_TARGET_PUBLISHED,
	Q_TARGET_FAILED,
	/* Every build's reads (hl_snap_build): parsed once, not each time. */
	Q_READ_BEGIN,
	Q_READ_PIN,
	Q_VERSION,
	Q_NOTIFS_VERSION,
	Q_ADMIN_COUNT,
	Q_EVENTS_SINCE,
	Q_LISTS,
	/* The group commit's own statements (run_batch()). */
	Q_BEGIN,
	Q_SAVEPOINT,
	Q_ROLLBACK_TO,
	Q_RELEASE,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_N
};

#define LIST_COLS "SELECT l.id, l.file, l.format, l.version, l.count," \
	" l.policy FROM lists l"

static const char *const queries[Q_N] = {
	[Q_LIST_FMT] = "SELECT format FROM lists WHERE id = ?1",
	[Q_LIST_CLEARS] = "SELECT clears FROM lists WHERE id = ?1",
	[Q_ITEM_BY_KEY] = "SELECT id, pos, value, comment, disabled, pass,"
	    " ns_seq, verbatim, created_at, created_by, modified_at,"
	    " modified_by, token_id, yaml_keys, src, dup_of, origin, review"
	    " FROM items WHERE list_id = ?1 AND vkey = ?2",
	[Q_ITEM_NEXT_POS] = "SELECT COALESCE(MAX(pos) + 1, 0) FROM items"
	    " WHERE list_id = ?1",
	[Q_ITEM_INSERT] = "INSERT INTO items (list_id, pos, value, vkey,"
	    " verbatim, comment, disabled, pass, ns_seq, created_at,"
	    " created_by, modified_at, modified_by, token_id, yaml_keys,"
	    " src, dup_of, origin, review)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	    " ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[Q_ITEM_DELETE] = "DELETE FROM items WHERE id = ?1",
	[Q_EVENT_INSERT] = "INSERT INTO events (at, op, list_id, value,"
	    " record, actor, token_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_LIST_SET_VERSION] = "UPDATE lists SET version = ?2,"
	    " count = count + ?3 WHERE id = ?1",
	[Q_TOKEN_FIND] = "SELECT id, name, scopes, created_at, created_by,"
	    " revoked_at, last_used_at, hash, lists, expires_at FROM tokens"
	    " WHERE hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL"
	    " OR expires_at > ?2)",
	[Q_LIST_BY_ID] = LIST_COLS " WHERE l.id = ?1",
	/* A failure keeps the last published version and time. */
	[Q_TARGET_PUBLISHED] = "INSERT INTO targets (name, version,"
	    " published_at, attempted_at, last_error) VALUES (?1, ?2, ?3, ?3,"
	    " NULL) ON CONFLICT (name) DO UPDATE SET version = ?2,"
	    " published_at = ?3, attempted_at = ?3, last_error = NULL",
	[Q_TARGET_FAILED] = "INSERT INTO targets (name, attempted_at,"
	    " last_error) VALUES (?1, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
	    " attempted_at = ?3, last_error = ?4",
	[Q_READ_BEGIN] = "BEGIN",
	[Q_READ_PIN] = "SELECT 1 FROM lists LIMIT 1",
	/*
	 * The sequence, not MAX(version): after a restore from an archive the
	 * versions go on from the archive's, with no events behind them.
	 */
	[Q_VERSION] = "SELECT COALESCE((SELECT seq FROM sqlite_sequence"
	    " WHERE name = 'events'), 0)",
	[Q_NOTIFS_VERSION] = "SELECT CAST(value AS INTEGER) FROM meta"
	    " WHERE key = 'notifications_version'",
	[Q_ADMIN_COUNT] = "SELECT count(*) FROM tokens WHERE revoked_at IS"
	    " NULL AND (',' || scopes || ',') LIKE '%,admin,%'",
	[Q_EVENTS_SINCE] = "SELECT version, at, op, list_id, value, record,"
	    " actor, token_id FROM events WHERE version > ?1 ORDER BY version"
	    " LIMIT ?2",
	[Q_LISTS] = LIST_COLS " ORDER BY l.ord",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_SAVEPOINT] = "SAVEPOINT w",
	[Q_ROLLBACK_TO] = "ROLLBACK TO w",
	[Q_RELEASE] = "RELEASE w",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

/* Read connections beside the writer (none for ":memory:" or a URI). */
#define NREADERS	4
/*
 * The WAL frames (pages) after which the checkpointer copies the WAL into
 * the database: SQLite's own automatic checkpoint threshold.
 */
#define CKPT_FRAMES	1000

struct hl_store;

/*
 * Group commit.  Every change is a struct wop whose fn runs inside a
 * transaction under a savepoint of its own.  A writer queues its wop; if
 * no commit is under way it becomes the leader: it takes every queued wop,
 * runs them all in one transaction and commits once, so one fsync
 * acknowledges a whole batch.  Writers that arrive meanwhile wait for the
 * next batch.  A wop that fails is rolled back to its savepoint alone; if
 * the COMMIT itself fails, every wop of the batch fails.  Nobody is told
 * "done" before the COMMIT that made their change durable has returned.
 *
 * An asynchronous wop (submit_async()) has a done function instead of a
 * waiting writer: its writer returns at once, and whoever commits its
 * batch calls done.  A lead that would go to an asynchronous wop, whose
 * writer is not waiting, goes to the committer thread (committer()):
 * a server's thread that submits one never waits for an fsync, so the
 * other connections it serves are not held up by it.
 */
struct wop {
	int			(*fn)(struct wop *, struct hl_store *);
	void			(*undo)(struct wop *);	/* clears outputs */
	/* Asynchronous: called once its batch is over; frees the wop. */
	void			(*done)(struct wop *);
	struct wop		*next;
	sem_t			 wake;	/* its writer waits here */
	int			 lead;	/* handed the lead (under qmu) */
	int			 rc;
	int			 finished; /* its batch is over (under qmu) */
	struct hl_err		 err;
	int64_t			 version;
	const struct hl_actor	*who;
	const char		*list;
	const char		*value;
	const struct hl_item	*in;
	size_t			 nin;
	const struct hl_notif	*nin_notif;
	struct hl_item		*out;
	struct hl_notif		*nout;
	size_t			 added;
	size_t			 removed;
	int			 mirror;	/* import: remove what the file
						   does not hold */
	int			 dry_run;	/* import: roll back */
	struct hl_buf		*diff;		/* import: what changes */
	struct hl_store_change	*changes;	/* apply */
	size_t			 nchanges;
	const char		*meta_key;	/* apply: also set */
	const char		*meta_value;
	int			(*xfn)(struct hl_store *, void *,
				    struct hl_err *);
	void			*arg;
};

static int	op_run(struct wop *, struct hl_store *);
static int	committer_start(struct hl_store *, struct hl_err *);
static void	committer_stop(struct hl_store *);

/*
 * What a thread works on: the connection it holds, for the store it holds
 * it in.  Every helper below (q, prep, exec, the error) uses this thread's
 * connection, so a read nested in a write (or in a snapshot) sees what
 * that connection sees.
 */
struct bind {
	struct hl_store	*st;
	struct conn	*c;
};

struct conn {
	sqlite3		*db;
	sqlite3_stmt	*q[Q_N];
	int		 busy;		/* a reader: lent out (under rmu) */
	int		 depth;		/* nested enters by its holder */
	struct bind	 saved;		/* the holder's binding before */
};

struct hl_store {
	/* The writer: one connection, under one recursive mutex. */
	struct conn	 w;
	pthread_mutex_t	 mu;
	/* The readers, lent one to a thread at a time (see rd_enter()). */
	struct conn	 r[NREADERS];
	int		 nr;
	pthread_mutex_t	 rmu;
	pthread_cond_t	 rcv;
	/* The group commit queue (see submit()). */
	pthread_mutex_t	 qmu;
	struct wop	*queue;
	struct wop	**qtail;
	int		 committing;
	int		 ckhold;	/* the checkpointer waits to lead */
	pthread_cond_t	 qcv;		/* it waits here */
	/* The committer thread (see committer()), under qmu. */
	pthread_t	 cmth;
	int		 cmrun;		/* the thread was started */
	int		 cmwant;	/* it is handed the lead */
	int		 cmstop;
	pthread_cond_t	 cmcv;		/* it waits here */
	/* Batches committed and the changes they held (hl_store_stats). */
	uint64_t	 commits;
	uint64_t	 committed;
	/* The checkpointer (see checkpointer()), when there are readers. */
	sqlite3		*ckdb;
	pthread_t	 ckth;
	int		 ckrun;		/* the thread was started */
	pthread_mutex_t	 ckmu;
	pthread_cond_t	 ckcv;
	int		 ckwant;	/* the WAL passed cknext */
	int		 cknext;	/* frames that call for a checkpoint */
	int		 cklast;	/* frames after the last COMMIT */
	int		 ckstop;
};

static _Thread_local struct bind tl;

/* The connection this thread works on: the one it holds, or the writer. */
static struct conn *
cur(struct hl_store *st)
{
	return tl.st == st && tl.c != NULL ? tl.c : &st->w;
}

static sqlite3 *
db(struct hl_store *st)
{
	return cur(st)->db;
}

/* Binds c to this thread, remembering what was bound before. */
static void
bind(struct hl_store *st, struct conn *c)
{
	c->saved = tl;
	c->depth = 1;
	tl.st = st;
	tl.c = c;
}

/*
 * The writer, for a change: its mutex held and the connection bound to
 * this thread until wr_leave().  Nested enters (a write inside a write)
 * keep the binding.
 */
static void
wr_enter(struct hl_store *st)
{
	pthread_mutex_lock(&st->mu);
	if (tl.st == st && tl.c == &st->w)
		st->w.depth++;
	else
		bind(st, &st->w);
}

static void
wr_leave(struct hl_store *st)
{
	if (--st->w.depth == 0)
		tl = st->w.saved;
	/* A leave without its enter would free the writer mid-change. */
	if (pthread_mutex_unlock(&st->mu) != 0)
		abort();
}

/*
 * A connection for reading, until rd_leave(): the one this thread already
 * holds (the writer inside a change, a reader inside a snapshot), else a
 * free reader, waiting for one when all are lent.  A reader sees the last
 * committed state (WAL), so reads never wait for a commit's fsync, nor a
 * commit for a long read such as the publisher's snapshot.  Without
 * readers (":memory:") reads take the writer, as changes do.
 */
static void
rd_enter(struct hl_store *st)
{
	int i;

	/* No readers, or inside a change: the writer, as rd_leave leaves it. */
	if (st->nr == 0 || (tl.st == st && tl.c == &st->w)) {
		wr_enter(st);
		return;
	}
	if (tl.st == st && tl.c != NULL) {
		tl.c->depth++;
		return;
	}
	pthread_mutex_lock(&st->rmu);
	for (;;) {
		for (i = 0; i < st->nr && st->r[i].busy; i++)
			;
		if (i < st->nr)
			break;
		pthread_cond_wait(&st->rcv, &st->rmu);
	}
	st->r[i].busy = 1;
	pthread_mutex_unlock(&st->rmu);
	bind(st, &st->r[i]);
}

static void
rd_leave(struct hl_store *st)
{
	struct conn *c = tl.c;

	if (c == &st->w) {
		wr_leave(st);
		return;
	}
	if (--c->depth > 0)
		return;
	tl = c->saved;
	pthread_mutex_lock(&st->rmu);
	c->busy = 0;
	pthread_cond_signal(&st->rcv);
	pthread_mutex_unlock(&st->rmu);
}

/* Whether the last failure of db was a full disk. */
static int
disk_full(sqlite3 *db)
{
	return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL ||
	    sqlite3_system_errno(db) == ENOSPC;
}

int
hl_store__dberr(struct hl_err *err, struct hl_store *st, const char *what)
{
	if (disk_full(db(st)))
		return hl_err_set(err, HL_ENOSPC, "%s: the database's disk is"
		    " full; nothing was written", what);
	return hl_err_set(err, HL_EIO, "%s: %s", what, sqlite3_errmsg(db(st)));
}

static int
exec(struct hl_store *st, const char *sql, struct hl_err *err)
{
	char *msg = NULL;
	int rc;

	if (sqlite3_exec(db(st), sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (disk_full(db(st)))
		rc = hl_err_set(err, HL_ENOSPC, "%.40s: the database's disk is"
		    " full; nothing was written", sql);
	else
		rc = hl_err_set(err, HL_EIO, "%.40s: %s", sql,
		    msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

/* A cached statement, reset and ready for binding. */
static sqlite3_stmt *
q(struct hl_store *st, int which, struct hl_err *err)
{
	struct conn *c = cur(st);

	if (c->q[which] == NULL &&
	    sqlite3_prepare_v3(c->db, queries[which], -1,
	    SQLITE_PREPARE_PERSISTENT, &c->q[which], NULL) != SQLITE_OK) {
		hl_store__dberr(err, st, "prepare");
		return NULL;
	}
	sqlite3_reset(c->q[which]);
	sqlite3_clear_bindings(c->q[which]);
	return c->q[which];
}

/*
 * Runs a kept statement that returns no rows (BEGIN, SAVEPOINT, COMMIT...
 * of the group commit), without parsing it again as exec() would.  The
 * same errors as exec().
 */
static int
run_q(struct hl_store *st, int which, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = q(st, which, err)) == NULL)
		return disk_full(db(st)) ? HL_ENOSPC : HL_EIO;
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = 0;
	else if (disk_full(db(st)))
		rc = hl_err_set(err, HL_ENOSPC, "%.40s: the database's disk is"
		    " full; nothing was written", queries[which]);
	else
		rc = hl_err_set(err, HL_EIO, "%.40s: %s", queries[which],
		    sqlite3_errmsg(db(st)));
	sqlite3_reset(s);
	return rc;
}

/* A one-off statement; the caller finalizes it. */
static sqlite3_stmt *
prep(struct hl_store *st, const char *sql, struct hl_err *err)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		hl_store__dberr(err, st, "prepare");
		return NULL;
	}
	return s;
}

char *
hl_store__col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

void
hl_store__bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

static int	rekey_plain(struct hl_store *, struct hl_err *);

/*
 * Applies the migrations this database lacks, each in a transaction of its
 * own with its step in C, when it has one (steps[i] for migration i + 1).
 */
static int
migrate(struct hl_store *st, struct hl_err *err)
{
	static int (*const steps[])(struct hl_store *, struct hl_err *) = {
		[4] = rekey_plain,
	};
	sqlite3_stmt *s;
	char sql[64];
	int have, i;

	if ((s = prep(st, "PRAGMA user_version", err)) == NULL)
		return HL_EIO;
	have = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (have > hl_migrations_n)
		return hl_err_set(err, HL_EINVAL, "database schema %d is newer"
		    " than this helios (%d)", have, hl_migrations_n);
	for (i = have; i < hl_migrations_n; i++) {
		if (exec(st, "BEGIN IMMEDIATE", err) != 0)
			return HL_EIO;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if (exec(st, hl_migrations[i].sql, err) != 0 ||
		    (i < (int)(sizeof(steps) / sizeof(steps[0])) &&
		    steps[i] != NULL && steps[i](st, err) != 0) ||
		    exec(st, sql, err) != 0) {
			(void)exec(st, "ROLLBACK", NULL);
			return HL_EIO;
		}
		if (exec(st, "COMMIT", err) != 0)
			return HL_EIO;
	}
	return 0;
}

/*
 * The database holds token hashes and the audit log: it is made (or
 * tightened to) 0600 before SQLite opens it, and SQLite gives its -wal and
 * -shm files the database's mode.  Those left by an older version are
 * tightened too.  ":memory:" and URIs are left alone.
 *
 * An existing file is never opened here: closing any descriptor of a file
 * drops every POSIX lock the process holds on it, those of the store's
 * other connections included.  Only a file that does not exist yet (so no
 * connection has it) is created, and closed at once.
 */
static int
private_file(const char *path, struct hl_err *err)
{
	static const char *const side[] = { "", "-wal", "-shm", "-journal" };
	char p2[PATH_MAX];
	struct stat sb;
	size_t i;
	int fd;

	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	if (stat(path, &sb) != 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return hl_err_set(err, HL_EIO, "create %s: %s", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++)
		if (snprintf(p2, sizeof(p2), "%s%s", path, side[i]) <
		    (int)sizeof(p2) && stat(p2, &sb) == 0 &&
		    (sb.st_mode & 077) != 0 && chmod(p2, sb.st_mode & 0700) != 0)
			return hl_err_set(err, HL_EIO, "chmod %s: %s", p2,
			    strerror(errno));
	return 0;
}

/*
 * The checkpoint, off the commit path.  SQLite's automatic checkpoint
 * would run inside the COMMIT that passes CKPT_FRAMES, so one writer of
 * that batch (and every writer queued behind it) would wait for the copy
 * of the whole WAL into the database and two more fsyncs.  Instead the
 * writer's WAL hook (wal_hook(), run after each COMMIT) only wakes this
 * thread, which checkpoints on a connection of its own while the writers
 * go on appending to the WAL (PASSIVE: it waits for nobody).
 *
 * The WAL file starts over from its beginning only when a write begins
 * with every frame copied, which writers that never pause prevent: a
 * frame appended during the checkpoint is left for the next.  So when the
 * WAL has grown by CKPT_FRAMES again without starting over, the thread
 * copies the rest between two batches, with no write under way
 * (checkpoint_between_batches()): only the frames appended since the
 * last copy, and its two fsyncs.  The WAL so stays within about
 * 2 * CKPT_FRAMES plus what is written during one checkpoint.  A reader
 * that holds an old snapshot (a long read) delays both, as it delays any
 * checkpoint.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct hl_store *st = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&st->ckmu);
	if (frames < st->cklast)
		st->cknext = CKPT_FRAMES;	/* the WAL started over */
	st->cklast = frames;
	if (frames >= st->cknext && !st->ckwant) {
		st->ckwant = 1;
		pthread_cond_signal(&st->ckcv);
	}
	pthread_mutex_unlock(&st->ckmu);
	return SQLITE_OK;
}

/*
 * Hands the lead on, under qmu, when it is held and its batch is over: to
 * the first wop queued, or to the committer thread when that wop is
 * asynchronous (its writer is not waiting), or to nobody.  Returns the
 * wop whose writer is to be woken (sem_post, after letting go of qmu),
 * or NULL.
 */
static struct wop *
pass_lead(struct hl_store *st)
{
	struct wop *w = st->queue;

	if (w != NULL && !st->ckhold) {
		if (w->done == NULL) {
			w->lead = 1;
			return w;
		}
		st->cmwant = 1;
		pthread_cond_signal(&st->cmcv);
		return NULL;
	}
	st->committing = 0;
	if (st->ckhold)
		pthread_cond_signal(&st->qcv);
	return NULL;
}

/*
 * A checkpoint with no write under way: the checkpointer takes the group
 * commit's lead as a leader with no change would (a leader finishing its
 * batch hands it over rather than to the next writer, and writers that
 * arrive meanwhile queue), then the writer's mutex, for the writes made
 * outside the group commit; and hands the lead on to the first writer
 * queued.
 */
static void
checkpoint_between_batches(struct hl_store *st)
{
	struct wop *wake = NULL;

	pthread_mutex_lock(&st->qmu);
	st->ckhold = 1;
	while (st->committing)
		pthread_cond_wait(&st->qcv, &st->qmu);
	st->committing = 1;
	st->ckhold = 0;
	pthread_mutex_unlock(&st->qmu);
	pthread_mutex_lock(&st->mu);
	(void)sqlite3_wal_checkpoint_v2(st->ckdb, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_lock(&st->qmu);
	wake = pass_lead(st);
	pthread_mutex_unlock(&st->qmu);
	if (wake != NULL)
		sem_post(&wake->wake);
}

static void *
checkpointer(void *arg)
{
	struct hl_store *st = arg;
	int hold;

	pthread_mutex_lock(&st->ckmu);
	for (;;) {
		while (!st->ckwant && !st->ckstop)
			pthread_cond_wait(&st->ckcv, &st->ckmu);
		if (st->ckstop)
			break;
		st->ckwant = 0;
		/* A copy went by and the WAL has not started over. */
		hold = st->cknext > CKPT_FRAMES;
		st->cknext = st->cklast + CKPT_FRAMES;
		pthread_mutex_unlock(&st->ckmu);
		/*
		 * Errors are left to the next round: a checkpoint that
		 * fails (busy with another store's, a full disk) loses
		 * nothing, the frames stay in the WAL.
		 */
		(void)sqlite3_wal_checkpoint_v2(st->ckdb, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (hold)
			checkpoint_between_batches(st);
		pthread_mutex_lock(&st->ckmu);
	}
	pthread_mutex_unlock(&st->ckmu);
	return NULL;
}

/*
 * Opens the checkpointer's connection and starts it; from then on the
 * writer's COMMITs no longer checkpoint.  synchronous = FULL: the
 * database file is synced before the WAL may start over.
 */
static int
checkpointer_start(struct hl_store *st, const char *path, struct hl_err *err)
{
	char *msg = NULL;
	int rc;

	if (sqlite3_open_v2(path, &st->ckdb, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return hl_err_set(err, HL_EIO, "open %s: %s", path,
		    st->ckdb ? sqlite3_errmsg(st->ckdb) : "out of memory");
	if (sqlite3_exec(st->ckdb, "PRAGMA synchronous = FULL;"
	    " PRAGMA wal_autocheckpoint = 0", NULL, NULL, &msg) != SQLITE_OK) {
		rc = hl_err_set(err, HL_EIO, "open %s: %s", path,
		    msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	if (pthread_create(&st->ckth, NULL, checkpointer, st) != 0)
		return hl_err_set(err, HL_ENOMEM, "cannot start the"
		    " checkpointer thread");
	st->ckrun = 1;
	st->cknext = CKPT_FRAMES;
	sqlite3_wal_hook(st->w.db, wal_hook, st);
	return 0;
}

static void
checkpointer_stop(struct hl_store *st)
{
	if (st->ckrun) {
		pthread_mutex_lock(&st->ckmu);
		st->ckstop = 1;
		pthread_cond_signal(&st->ckcv);
		pthread_mutex_unlock(&st->ckmu);
		pthread_join(st->ckth, NULL);
		st->ckrun = 0;
	}
	sqlite3_close(st->ckdb);
	st->ckdb = NULL;
}

/*
 * Opens a reader: a second connection to path that may not write
 * (query_only), with the writer's cache and temporary-storage settings.
 */
static int
reader_open(struct conn *c, const char *path, struct hl_err *err)
{
	char *msg = NULL;
	int rc;

	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return hl_err_set(err, HL_EIO, "open %s: %s", path,
		    c->db ? sqlite3_errmsg(c->db) : "out of memory");
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db, "PRAGMA query_only = ON;"
	    " PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY",
	    NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	rc = hl_err_set(err, HL_EIO, "open %s: %s", path, msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

int
hl_store_open(struct hl_store **out, const char *path, struct hl_err *err)
{
	struct hl_store *st;
	pthread_mutexattr_t ma;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&st->rmu, NULL);
	pthread_cond_init(&st->rcv, NULL);
	pthread_mutex_init(&st->qmu, NULL);
	pthread_mutex_init(&st->ckmu, NULL);
	pthread_cond_init(&st->ckcv, NULL);
	pthread_cond_init(&st->qcv, NULL);
	pthread_cond_init(&st->cmcv, NULL);
	st->qtail = &st->queue;
	if ((rc = private_file(path, err)) != 0)
		goto fail;
	if (sqlite3_open_v2(path, &st->w.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = hl_err_set(err, HL_EIO, "open %s: %s", path,
		    st->w.db ? sqlite3_errmsg(st->w.db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->w.db, 5000);
	/*
	 * Durability: WAL with synchronous = FULL, so COMMIT returns only
	 * after fdatasync() of the WAL, and a change is acknowledged only
	 * after its COMMIT (see submit()).  The commit's fsync covers every
	 * change of its batch, which is what makes many writers cheap.
	 */
	if ((rc = exec(st, "PRAGMA journal_mode = WAL", err)) != 0 ||
	    (rc = exec(st, "PRAGMA synchronous = FULL", err)) != 0 ||
	    /* 32 MiB of pages: a real-size list stays in memory. */
	    (rc = exec(st, "PRAGMA cache_size = " STORE_CACHE, err)) != 0 ||
	    /*
	     * Statement journals and sorts in memory: no temporary files,
	     * which the sandbox (Landlock) would not let SQLite open
	     * wherever it chose them at its start.
	     */
	    (rc = exec(st, "PRAGMA temp_store = MEMORY", err)) != 0 ||
	    (rc = exec(st, "PRAGMA foreign_keys = ON", err)) != 0 ||
	    (rc = migrate(st, err)) != 0)
		goto fail;
	/* A second connection to ":memory:" would be another database. */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
	    path[0] != '\0')
		for (; st->nr < NREADERS; st->nr++)
			if ((rc = reader_open(&st->r[st->nr], path, err)) != 0) {
				st->nr++;
				goto fail;
			}
	if (st->nr > 0 && (rc = checkpointer_start(st, path, err)) != 0)
		goto fail;
	if ((rc = committer_start(st, err)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	hl_store_close(st);
	return rc;
}

static void
conn_close(struct conn *c)
{
	int i;

	for (i = 0; i < Q_N; i++)
		sqlite3_finalize(c->q[i]);
	sqlite3_close(c->db);
}

void
hl_store_close(struct hl_store *st)
{
	int i;

	if (st == NULL)
		return;
	checkpointer_stop(st);
	committer_stop(st);
	for (i = 0; i < st->nr; i++)
		conn_close(&st->r[i]);
	conn_close(&st->w);
	pthread_mutex_destroy(&st->mu);
	pthread_mutex_destroy(&st->rmu);
	pthread_cond_destroy(&st->rcv);
	pthread_mutex_destroy(&st->qmu);
	pthread_mutex_destroy(&st->ckmu);
	pthread_cond_destroy(&st->ckcv);
	pthread_cond_destroy(&st->qcv);
	pthread_cond_destroy(&st->cmcv);
	free(st);
}

/* The one integer the cached query `which` gives, 0 when none. */
static int64_t
scalar(struct hl_store *st, int which)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	rd_enter(st);
	if ((s = q(st, which, NULL)) != NULL) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	rd_leave(st);
	return v;
}

int64_t
hl_store_version(struct hl_store *st)
{
	return scalar(st, Q_VERSION);
}

int64_t
hl_store_notifs_version(struct hl_store *st)
{
	return scalar(st, Q_NOTIFS_VERSION);
}

int64_t
hl_store_admin_count(struct hl_store *st)
{
	return scalar(st, Q_ADMIN_COUNT);
}

static int
read_list(struct hl_list *l, sqlite3_stmt *s)
{
	memset(l, 0, sizeof(*l));
	l->id = hl_store__col_str(s, 0);
	l->file = hl_store__col_str(s, 1);
	l->fmt = hl_fmt_parse((const char *)sqlite3_column_text(s, 2));
	l->version = sqlite3_column_int64(s, 3);
	l->count = sqlite3_column_int64(s, 4);
	l->policy = strcmp((const char *)sqlite3_column_text(s, 5),
	    "review") == 0 ? HL_POLICY_REVIEW : HL_POLICY_DIRECT;
	return l->id && l->file ? 0 : HL_ENOMEM;
}

/*
 * Runs s and collects rows with fill() into a growing array of elements of
 * size sz.  On error the rows collected so far are freed with clear().
 */
static int
collect(void **out, size_t *n, size_t sz, sqlite3_stmt *s,
    int (*fill)(void *, sqlite3_stmt *), void (*clear)(void *),
    struct hl_store *st, struct hl_err *err)
{
	char *v = NULL, *p;
	size_t cap = 0, len = 0, i;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = realloc(v, cap * sz)) == NULL)
				goto nomem;
			v = p;
		}
		if (fill(v + len * sz, s) != 0) {
			len++;
			goto nomem;
		}
		len++;
	}
	if (rc != SQLITE_DONE) {
		rc = hl_store__dberr(err, st, "read");
		goto fail;
	}
	*out = v;
	*n = len;
	return 0;
nomem:
	rc = hl_err_set(err, HL_ENOMEM, "out of memory");
fail:
	for (i = 0; i < len; i++)
		clear(v + i * sz);
	free(v);
	return rc;
}

static int fill_list(void *p, sqlite3_stmt *s) { return read_list(p, s); }
static void clear_list(void *p) { hl_list_clear(p); }

int
hl_store_lists(struct hl_list **out, size_t *n, struct hl_store *st,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	if ((s = q(st, Q_LISTS, err)) != NULL) {
		rc = collect((void **)out, n, sizeof(**out), s, fill_list,
		    clear_list, st, err);
		sqlite3_reset(s);
	}
	rd_leave(st);
	return rc;
}

int
hl_store_list(struct hl_list *out, struct hl_store *st, const char *id,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	memset(out, 0, sizeof(*out));
	rd_enter(st);
	if ((s = q(st, Q_LIST_BY_ID, err)) != NULL) {
		hl_store__bind_str(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			rc = read_list(out, s);
		else if (rc == SQLITE_DONE)
			rc = hl_err_set(err, HL_ENOTFOUND, "no list %s", id);
		else
			rc = hl_store__dberr(err, st, "read list");
		sqlite3_reset(s);
	}
	rd_leave(st);
	return rc;
}

#define SCAN_BLOCK	(256 * 1024)	/* bytes of an arena block */

/*
 * The strings of one batch of a scan: copied into a few big blocks, kept
 * from batch to batch, rather than one malloc each (a million-item list
 * would cost five million mallocs and frees).  A block is never moved,
 * so the strings stay put until the batch is handed over and the arena
 * reset.
 */
struct arena_blk {
	struct arena_blk	*next;
	size_t			 cap;
	size_t			 len;
	char			 data[];
};

struct arena {
	struct arena_blk	*head;	/* every block, the first in use first */
	struct arena_blk	*cur;	/* the block filled now */
};

/* Makes every block free again; keeps them for the next batch. */
static void
arena_reset(struct arena *a)
{
	struct arena_blk *b;

	for (b = a->head; b != NULL; b = b->next)
		b->len = 0;
	a->cur = a->head;
}

static void
arena_free(struct arena *a)
{
	struct arena_blk *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = a->cur = NULL;
}

/* A copy of p (n bytes and a NUL) in the arena, or NULL. */
static char *
arena_dup(struct arena *a, const char *p, size_t n)
{
	struct arena_blk *b, **at;
	char *d;

	for (b = a->cur; b != NULL && b->cap - b->len < n + 1; b = b->next)
		;
	if (b == NULL) {
		size_t cap = n + 1 > SCAN_BLOCK ? n + 1 : SCAN_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->cap = cap;
		b->len = 0;
		/* Appended: the blocks before stay in use order. */
		for (at = &a->head; *at != NULL; at = &(*at)->next)
			;
		b->next = NULL;
		*at = b;
	}
	a->cur = b;
	d = b->data + b->len;
	memcpy(d, p, n);
	d[n] = '\0';
	b->len += n + 1;
	return d;
}

/*
 * Column i as a string, copied into a (malloc'd when a is NULL, as
 * strdup would: up to a first NUL); NULL stays NULL.  -1 when out of
 * memory.
 */
static int
col_text(char **out, sqlite3_stmt *s, int i, struct arena *a)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	size_t n;

	*out = NULL;
	if (t == NULL)
		return 0;
	n = strnlen(t, (size_t)sqlite3_column_bytes(s, i));
	*out = a != NULL ? arena_dup(a, t, n) : strndup(t, n);
	return *out != NULL ? 0 : -1;
}

/*
 * Columns as in Q_ITEM_BY_KEY; the strings in a, or malloc'd (for
 * hl_item_clear) when a is NULL.  HL_ENOMEM leaves what was read in it.
 */
static int
read_item(struct hl_item *it, sqlite3_stmt *s, struct arena *a)
{
	memset(it, 0, sizeof(*it));
	it->id = sqlite3_column_int64(s, 0);
	it->pos = sqlite3_column_int64(s, 1);
	it->disabled = sqlite3_column_int(s, 4);
	it->pass = sqlite3_column_int(s, 5);
	it->ns_seq = sqlite3_column_int(s, 6);
	it->verbatim = sqlite3_column_int(s, 7);
	it->created_at = sqlite3_column_int64(s, 8);
	it->modified_at = sqlite3_column_int64(s, 10);
	it->token_id = sqlite3_column_int64(s, 12);
	it->dup_of = sqlite3_column_int64(s, 15);
	if (col_text(&it->value, s, 2, a) != 0 ||
	    col_text(&it->comment, s, 3, a) != 0 ||
	    col_text(&it->created_by, s, 9, a) != 0 ||
	    col_text(&it->modified_by, s, 11, a) != 0 ||
	    col_text(&it->keys, s, 13, a) != 0 ||
	    col_text(&it->src, s, 14, a) != 0 ||
	    col_text(&it->origin, s, 16, a) != 0 ||
	    col_text(&it->review, s, 17, a) != 0)
		return HL_ENOMEM;
	return it->value && it->created_by && it->modified_by ? 0 :
	    HL_ENOMEM;
}

static int fill_item(void *p, sqlite3_stmt *s) { return read_item(p, s, NULL); }
static void clear_item(void *p) { hl_item_clear(p); }

/* A list's item rows, as read_item() takes them. */
#define ITEMS_SELECT \
	"SELECT id, pos, value, comment, disabled, pass, ns_seq, verbatim," \
	" created_at, created_by, modified_at, modified_by, token_id," \
	" yaml_keys, src, dup_of, origin, review FROM items" \
	" WHERE list_id = ?1"

int
hl_store_items(struct hl_item **out, size_t *n, struct hl_store *st,
    const char *list, int verbatim, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	s = prep(st, verbatim ? ITEMS_SELECT " ORDER BY pos, id" :
	    ITEMS_SELECT " AND verbatim = 0 ORDER BY pos, id", err);
	if (s != NULL) {
		hl_store__bind_str(s, 1, list);
		rc = collect((void **)out, n, sizeof(**out), s, fill_item,
		    clear_item, st, err);
		sqlite3_finalize(s);
	}
	rd_leave(st);
	return rc;
}

/* hl_store_items_each: rows of a scan, and the cache past them. */
#define SCAN_BIG	100000
#define SCAN_CACHE	"-4096"		/* KiB */
int
hl_store_items_each(struct hl_store *st, const char *list, size_t batch,
    int (*fn)(const struct hl_item *v, size_t n, void *arg), void *arg,
    struct hl_err *err)
{
	/* Two batches, in turn: one read while fn may still hold the other. */
	struct hl_item *v[2] = { NULL, NULL };
	struct arena a[2] = { { NULL, NULL }, { NULL, NULL } };
	sqlite3_stmt *s;
	size_t n = 0, rows = 0;
	int rc = 0, end, cur = 0, step = SQLITE_DONE;

	if (batch == 0)
		batch = 1;
	if ((v[0] = calloc(batch, sizeof(*v[0]))) == NULL ||
	    (v[1] = calloc(batch, sizeof(*v[1]))) == NULL) {
		free(v[0]);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	rd_enter(st);
	s = prep(st, ITEMS_SELECT " ORDER BY pos, id", err);
	if (s == NULL) {
		rc = HL_EIO;
		goto out;
	}
	hl_store__bind_str(s, 1, list);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		/*
		 * A list too big for the page cache would only cycle through
		 * it, filling it to its bound for nothing: past SCAN_BIG
		 * rows, the scan goes on with a small cache (given back at
		 * the end), so its memory does not grow with the list.
		 */
		if (++rows == SCAN_BIG)
			(void)exec(st, "PRAGMA cache_size = " SCAN_CACHE, NULL);
		if (read_item(&v[cur][n], s, &a[cur]) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
		if (++n == batch) {
			rc = fn(v[cur], n, arg);
			/* fn has returned for the batch after the other one. */
			cur ^= 1;
			arena_reset(&a[cur]);
			n = 0;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = hl_store__dberr(err, st, "read");
	if (rc == 0 && n > 0)
		rc = fn(v[cur], n, arg);
	sqlite3_finalize(s);
	if (rows >= SCAN_BIG)
		(void)exec(st, "PRAGMA cache_size = " STORE_CACHE, NULL);
out:
	/* The end, whatever stopped the scan: fn lets go of its batches. */
	end = fn(NULL, 0, arg);
	if (rc == 0)
		rc = end;
	rd_leave(st);
	arena_free(&a[0]);
	arena_free(&a[1]);
	free(v[0]);
	free(v[1]);
	return rc;
}

/* The list's format, or HL_ENOTFOUND. Called with the mutex held. */
static int
list_fmt(int *fmt, struct hl_store *st, const char *list, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = q(st, Q_LIST_FMT, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*fmt = hl_fmt_parse((const char *)sqlite3_column_text(s, 0));
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = hl_err_set(err, HL_ENOTFOUND, "no list %s", list);
	else
		rc = hl_store__dberr(err, st, "read list");
	sqlite3_reset(s);
	return rc;
}

/* Finds the item with key in list: 0, HL_ENOTFOUND or HL_EIO. */
static int
item_by_key(struct hl_item *out, struct hl_store *st, const char *list,
    const char *key, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = q(st, Q_ITEM_BY_KEY, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	hl_store__bind_str(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_item(out, s, NULL) == 0 ? 0 :
		    hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (rc == SQLITE_DONE)
		rc = HL_ENOTFOUND;
	else
		rc = hl_store__dberr(err, st, "read item");
	sqlite3_reset(s);
	return rc;
}

/*
 * Appends the audit event for a change and moves the list's version to
 * it.  record is the JSON of the item; *version receives the event id.
 */
static int
add_event(int64_t *version, struct hl_store *st, const char *op,
    const char *list, const char *value, json_t *record, int delta,
    const struct hl_actor *who, struct hl_err *err)
{
	sqlite3_stmt *s;
	char *rec;
	int rc;

	if (record == NULL ||
	    (rec = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((s = q(st, Q_EVENT_INSERT, err)) == NULL) {
		free(rec);
		return HL_EIO;
	}
	sqlite3_bind_int64(s, 1, who->at ? who->at : now());
	hl_store__bind_str(s, 2, op);
	hl_store__bind_str(s, 3, list);
	hl_store__bind_str(s, 4, value);
	hl_store__bind_str(s, 5, rec);
	hl_store__bind_str(s, 6, who->name);
	if (who->token_id > 0)
		sqlite3_bind_int64(s, 7, who->token_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(rec);
	if (rc != SQLITE_DONE)
		return hl_store__dberr(err, st, "write event");
	*version = sqlite3_last_insert_rowid(db(st));
	if (strcmp(list, NOTIFS_LIST) == 0 ||
	    strcmp(list, HL_STORE_PROPOSALS) == 0) {
		char sql[96];

		snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%lld'"
		    " WHERE key = '%s_version'", (long long)*version, list);
		return exec(st, sql, err);
	}
	if ((s = q(st, Q_LIST_SET_VERSION, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	sqlite3_bind_int64(s, 2, *version);
	sqlite3_bind_int(s, 3, delta);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : hl_store__dberr(err, st, "write list version");
}

/*
 * Inserts one item (the transaction is the caller's).  key is its
 * duplicate key; at is its position, or -1 for the end of the list.  On
 * success *out (when not NULL) holds the stored item and *version the
 * event's version.
 */
static int
insert_item(struct hl_item *out, int64_t *version, struct hl_store *st,
    const char *list, int fmt, const struct hl_item *in, const char *key,
    int64_t at, int64_t *idp, const struct hl_actor *who, struct hl_err *err)
{
	sqlite3_stmt *s;
	struct hl_item it;
	json_t *rec;
	int64_t pos = at, t = who->at ? who->at : now();
	int rc;

	if (pos < 0) {
		if ((s = q(st, Q_ITEM_NEXT_POS, err)) == NULL)
			return HL_EIO;
		hl_store__bind_str(s, 1, list);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return hl_store__dberr(err, st, "read position");
		}
		pos = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}

	it = *in;
	it.pos = pos;
	if (it.created_at == 0)
		it.created_at = t;
	if (it.created_by == NULL)
		it.created_by = (char *)who->name;
	it.modified_at = it.created_at;
	it.modified_by = it.created_by;
	it.token_id = who->token_id;

	if ((s = q(st, Q_ITEM_INSERT, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	sqlite3_bind_int64(s, 2, it.pos);
	hl_store__bind_str(s, 3, it.value);
	hl_store__bind_str(s, 4, key);
	sqlite3_bind_int(s, 5, it.verbatim);
	hl_store__bind_str(s, 6, it.comment);
	sqlite3_bind_int(s, 7, it.disabled);
	sqlite3_bind_int(s, 8, it.pass);
	sqlite3_bind_int(s, 9, it.ns_seq);
	sqlite3_bind_int64(s, 10, it.created_at);
	hl_store__bind_str(s, 11, it.created_by);
	sqlite3_bind_int64(s, 12, it.modified_at);
	hl_store__bind_str(s, 13, it.modified_by);
	if (it.token_id > 0)
		sqlite3_bind_int64(s, 14, it.token_id);
	hl_store__bind_str(s, 15, it.keys);
	hl_store__bind_str(s, 16, it.src);
	hl_store__bind_str(s, 18, it.origin);
	hl_store__bind_str(s, 19, it.review);
	if (it.dup_of > 0)
		sqlite3_bind_int64(s, 17, it.dup_of);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return hl_store__dberr(err, st, "write item");
	it.id = sqlite3_last_insert_rowid(db(st));
	if (idp != NULL)
		*idp = it.id;

	rec = hl_item_json(&it, list, fmt);
	rc = add_event(version, st, "add", list, it.value, rec,
	    it.verbatim || it.dup_of > 0 ? 0 : 1, who, err);
	json_decref(rec);
	if (rc != 0 || out == NULL)
		return rc;
	return hl_item_copy(out, &it) == 0 ? 0 :
	    hl_err_set(err, HL_ENOMEM, "out of memory");
}

/*
 * Deletes the stored item it (the transaction is the caller's) with its
 * audit event.  Duplicates are not counted, so their delete leaves the
 * count alone.
 */
static int
delete_item(int64_t *version, struct hl_store *st, const char *list,
    int fmt, const struct hl_item *it, const struct hl_actor *who,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	json_t *rec;
	int rc;

	if ((s = q(st, Q_ITEM_DELETE, err)) == NULL)
		return HL_EIO;
	sqlite3_bind_int64(s, 1, it->id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return hl_store__dberr(err, st, "delete item");
	rec = hl_item_json(it, list, fmt);
	rc = add_event(version, st, "delete", list, it->value, rec,
	    it->verbatim || it->dup_of > 0 ? 0 : -1, who, err);
	json_decref(rec);
	return rc;
}


static void
run_batch(struct hl_store *st, struct wop *batch)
{
	struct hl_err e = HL_ERR_INIT;
	struct wop *w;
	int rc;

	wr_enter(st);
	rc = run_q(st, Q_BEGIN, &e);
	for (w = batch; w != NULL; w = w->next) {
		if (rc != 0) {
			w->rc = rc;
			w->err = e;
			continue;
		}
		if (run_q(st, Q_SAVEPOINT, &w->err) != 0) {
			w->rc = w->err.code;
			continue;
		}
		w->rc = w->fn(w, st);
		if (w->rc != 0)
			(void)run_q(st, Q_ROLLBACK_TO, NULL);
		(void)run_q(st, Q_RELEASE, NULL);
	}
	if (rc == 0 && run_q(st, Q_COMMIT, &e) != 0) {
		(void)run_q(st, Q_ROLLBACK, NULL);
		for (w = batch; w != NULL; w = w->next)
			if (w->rc == 0) {
				w->rc = e.code;
				w->err = e;
			}
	}
	for (w = batch; w != NULL; w = w->next)
		if (w->rc != 0 && w->undo != NULL)
			w->undo(w);
	wr_leave(st);
}

void
hl_store_stats(uint64_t *commits, uint64_t *changes, struct hl_store *st)
{
	pthread_mutex_lock(&st->qmu);
	*commits = st->commits;
	*changes = st->committed;
	pthread_mutex_unlock(&st->qmu);
}

/*
 * Runs one batch with the lead held (st->committing), qmu held on entry
 * and on return: takes the whole queue, commits it, marks its wops done
 * and hands the lead on (pass_lead()).  Then, qmu let go, it wakes the
 * waiting writers of the batch but self (sem_post) and calls the done
 * function of its asynchronous wops, and wakes the new leader.  Each
 * writer is woken once (sem_post) for the one change that concerns it,
 * done or lead, and nothing of a wop is read after it is woken or done:
 * its writer may return, or it is freed, at once.
 */
static void
lead_batch(struct hl_store *st, struct wop *self)
{
	struct wop *batch, *next, *wake;

	batch = st->queue;
	st->queue = NULL;
	st->qtail = &st->queue;
	pthread_mutex_unlock(&st->qmu);
	run_batch(st, batch);
	pthread_mutex_lock(&st->qmu);
	st->commits++;
	for (next = batch; next != NULL; next = next->next) {
		st->committed++;
		next->finished = 1;
	}
	wake = pass_lead(st);
	pthread_mutex_unlock(&st->qmu);
	for (; batch != NULL; batch = next) {
		next = batch->next;
		if (batch->done != NULL)
			batch->done(batch);
		else if (batch != self)
			sem_post(&batch->wake);
	}
	if (wake != NULL)
		sem_post(&wake->wake);
	pthread_mutex_lock(&st->qmu);
}

/*
 * The committer thread: it leads the batches whose first wop is
 * asynchronous, which no writer waits to lead, until the queue is empty
 * (then the next writer to come leads in its own thread).
 */
static void *
committer(void *arg)
{
	struct hl_store *st = arg;

	pthread_mutex_lock(&st->qmu);
	for (;;) {
		while (!st->cmwant && !st->cmstop)
			pthread_cond_wait(&st->cmcv, &st->qmu);
		if (!st->cmwant)
			break;
		st->cmwant = 0;
		lead_batch(st, NULL);
	}
	pthread_mutex_unlock(&st->qmu);
	return NULL;
}

static int
committer_start(struct hl_store *st, struct hl_err *err)
{
	if (pthread_create(&st->cmth, NULL, committer, st) != 0)
		return hl_err_set(err, HL_ENOMEM, "cannot start the"
		    " committer thread");
	st->cmrun = 1;
	return 0;
}

/*
 * Stops the committer once the lead it was handed, if any, is over.  The
 * caller has no write of its own in flight (it closes the store).
 */
static void
committer_stop(struct hl_store *st)
{
	if (!st->cmrun)
		return;
	pthread_mutex_lock(&st->qmu);
	st->cmstop = 1;
	pthread_cond_signal(&st->cmcv);
	pthread_mutex_unlock(&st->qmu);
	pthread_join(st->cmth, NULL);
	st->cmrun = 0;
}

/* A step that failed for a full disk says so, whatever it returned. */
static void
wop_result(struct wop *w)
{
	if (w->rc != 0 && w->err.code == HL_ENOSPC)
		w->rc = HL_ENOSPC;
}

/*
 * Queues w and returns once its batch is committed (or has failed).  The
 * first writer to find no commit under way leads (lead_batch()); the
 * others wait until their batch is done or the lead is handed to them,
 * and the writers that arrive during a commit share the next one.
 */
static int
submit(struct hl_store *st, struct wop *w, struct hl_err *err)
{
	/*
	 * A thread that holds the writer already (a read on a store without
	 * readers) commits alone: waiting for a leader, which needs the
	 * writer, would never end.
	 */
	if (tl.st == st && tl.c == &st->w) {
		w->next = NULL;
		run_batch(st, w);
		goto out;
	}
	sem_init(&w->wake, 0, 0);
	pthread_mutex_lock(&st->qmu);
	w->next = NULL;
	*st->qtail = w;
	st->qtail = &w->next;
	while (!w->finished) {
		if ((st->committing || st->ckhold) && !w->lead) {
			pthread_mutex_unlock(&st->qmu);
			while (sem_wait(&w->wake) != 0)
				;	/* EINTR */
			pthread_mutex_lock(&st->qmu);
			continue;
		}
		st->committing = 1;
		w->lead = 0;
		lead_batch(st, w);
	}
	pthread_mutex_unlock(&st->qmu);
	sem_destroy(&w->wake);
out:
	wop_result(w);
	if (w->rc != 0 && err != NULL)
		*err = w->err;
	return w->rc;
}

/*
 * Queues w (on the heap, with its done function) and returns without
 * waiting for any commit: when no commit is under way the committer
 * thread is handed the lead, otherwise a leader or the committer takes w
 * with the next batch; either calls done.  A thread that holds the
 * writer commits w at once.
 */
static void
submit_async(struct hl_store *st, struct wop *w)
{
	w->next = NULL;
	if (tl.st == st && tl.c == &st->w) {
		run_batch(st, w);
		w->done(w);
		return;
	}
	pthread_mutex_lock(&st->qmu);
	*st->qtail = w;
	st->qtail = &w->next;
	if (!st->committing && !st->ckhold) {
		st->committing = 1;
		st->cmwant = 1;
		pthread_cond_signal(&st->cmcv);
	}
	pthread_mutex_unlock(&st->qmu);
}

static void
undo_item(struct wop *w)
{
	hl_item_clear(w->out);
	w->version = 0;
}

/*
 * Adds in to list unless a value of the same key is there (HL_EEXISTS,
 * *out then the existing item).  The transaction is the caller's.
 */
static int
add_one(struct hl_item *out, int64_t *version, struct hl_store *st,
    const char *list, const struct hl_item *in, const struct hl_actor *who,
    struct hl_err *err)
{
	struct hl_item old;
	char *key;
	int fmt, rc;

	if ((rc = list_fmt(&fmt, st, list, err)) != 0)
		return rc;
	if ((key = hl_item_key(fmt, in->value)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memset(&old, 0, sizeof(old));
	rc = item_by_key(out ? out : &old, st, list, key, err);
	if (rc == 0)
		rc = hl_err_set(err, HL_EEXISTS, "%s already holds this"
		    " value (item %lld)", list,
		    (long long)(out ? out : &old)->id);
	else if (rc == HL_ENOTFOUND)
		rc = insert_item(out, version, st, list, fmt, in, key, -1,
		    NULL, who, err);
	hl_item_clear(&old);
	free(key);
	return rc;
}

static int	del_one(struct hl_item *, int64_t *, struct hl_store *,
		    const char *, const char *, const struct hl_actor *,
		    struct hl_err *);

/*
 * Deletes value from the lists that list clears (lists.clears: a value
 * blacklisted leaves the watchlists, as SmokeDetector's add_to_blacklist
 * takes it out of them), each delete an audit event by who.  *version is
 * then the last one's.  The transaction is the caller's.
 */
static int
clear_others(int64_t *version, struct hl_store *st, const char *list,
    const char *value, const struct hl_actor *who, struct hl_err *err)
{
	struct hl_item gone;
	struct hl_err e;
	sqlite3_stmt *s;
	char *clears = NULL, *id, *save = NULL;
	int rc = 0;

	if ((s = q(st, Q_LIST_CLEARS, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_text(s, 0) != NULL &&
	    (clears = strdup((const char *)sqlite3_column_text(s, 0))) ==
	    NULL)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	sqlite3_reset(s);
	for (id = clears ? strtok_r(clears, " ", &save) : NULL;
	    rc == 0 && id != NULL; id = strtok_r(NULL, " ", &save)) {
		memset(&gone, 0, sizeof(gone));
		e = (struct hl_err)HL_ERR_INIT;
		rc = del_one(&gone, version, st, id, value, who, &e);
		hl_item_clear(&gone);
		if (rc == HL_ENOTFOUND)
			rc = 0;		/* not watched: nothing to take out */
		else if (rc != 0)
			*err = e;
	}
	free(clears);
	return rc;
}

static int
op_item_add(struct wop *w, struct hl_store *st)
{
	int rc;

	rc = add_one(w->out, &w->version, st, w->list, w->in, w->who,
	    &w->err);
	if (rc == HL_EEXISTS)
		w->undo = NULL;	/* the caller gets the existing item */
	if (rc == 0)
		rc = clear_others(&w->version, st, w->list, w->in->value,
		    w->who, &w->err);
	return rc;
}

int
hl_store_item_add(struct hl_item *out, int64_t *version, struct hl_store *st,
    const char *list, const struct hl_item *in, const struct hl_actor *who,
    struct hl_err *err)
{
	struct wop w = { .fn = op_item_add, .undo = undo_item, .list = list,
	    .in = in, .who = who, .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = submit(st, &w, err);
	*version = rc == 0 ? w.version : 0;
	return rc;
}

/* An asynchronous change: the wop, its output and whom to tell. */
struct awop {
	struct wop		 w;
	struct hl_item		 out;
	hl_store_done_fn	 fn;
	void			*arg;
};

static void
awop_done(struct wop *w)
{
	struct awop *a = (struct awop *)w;

	wop_result(w);
	a->fn(w->rc, &w->err, &a->out, w->rc == 0 ? w->version : 0, a->arg);
	hl_item_clear(&a->out);
	free(a);
}

static int
awop_submit(struct hl_store *st, struct awop *a, hl_store_done_fn fn,
    void *arg)
{
	a->w.done = awop_done;
	a->w.out = &a->out;
	a->fn = fn;
	a->arg = arg;
	submit_async(st, &a->w);
	return 0;
}

int
hl_store_item_add_async(struct hl_store *st, const char *list,
    const struct hl_item *in, const struct hl_actor *who,
    hl_store_done_fn fn, void *arg)
{
	struct awop *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return HL_ENOMEM;
	a->w = (struct wop){ .fn = op_item_add, .undo = undo_item,
	    .list = list, .in = in, .who = who };
	return awop_submit(st, a, fn, arg);
}

/* The items of list that repeat item id (dup_of), in file order. */
static int
dups_of(struct hl_item **out, size_t *n, struct hl_store *st,
    const char *list, int64_t id, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((s = prep(st, "SELECT id, pos, value, comment, disabled, pass,"
	    " ns_seq, verbatim, created_at, created_by, modified_at,"
	    " modified_by, token_id, yaml_keys, src, dup_of, origin, review"
	    " FROM items"
	    " WHERE list_id = ?1 AND dup_of = ?2 ORDER BY pos, id",
	    err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	sqlite3_bind_int64(s, 2, id);
	rc = collect((void **)out, n, sizeof(**out), s, fill_item,
	    clear_item, st, err);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Deletes the item of value's key in list and every copy of it (*out the
 * item).  HL_ENOTFOUND when absent.  The transaction is the caller's.
 */
static int
del_one(struct hl_item *out, int64_t *version, struct hl_store *st,
    const char *list, const char *value, const struct hl_actor *who,
    struct hl_err *err)
{
	struct hl_item *dups = NULL;
	size_t ndups = 0, i;
	int64_t v;
	char *key;
	int fmt, rc;

	if ((rc = list_fmt(&fmt, st, list, err)) != 0)
		return rc;
	if ((key = hl_item_key(fmt, value)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = item_by_key(out, st, list, key, err);
	free(key);
	if (rc == HL_ENOTFOUND)
		return hl_err_set(err, HL_ENOTFOUND, "%s holds no such"
		    " value", list);
	if (rc != 0)
		return rc;
	if ((rc = dups_of(&dups, &ndups, st, list, out->id, err)) != 0)
		return rc;
	for (i = 0; i < ndups && rc == 0; i++)
		rc = delete_item(&v, st, list, fmt, &dups[i], who, err);
	hl_items_free(dups, ndups);
	if (rc == 0)
		rc = delete_item(version, st, list, fmt, out, who, err);
	return rc;
}

static int
op_item_del(struct wop *w, struct hl_store *st)
{
	return del_one(w->out, &w->version, st, w->list, w->value, w->who,
	    &w->err);
}

int
hl_store_item_del(struct hl_item *out, int64_t *version, struct hl_store *st,
    const char *list, const char *value, const struct hl_actor *who,
    struct hl_err *err)
{
	struct wop w = { .fn = op_item_del, .undo = undo_item, .list = list,
	    .value = value, .who = who, .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = submit(st, &w, err);
	*version = rc == 0 ? w.version : 0;
	return rc;
}

int
hl_store_item_del_async(struct hl_store *st, const char *list,
    const char *value, const struct hl_actor *who, hl_store_done_fn fn,
    void *arg)
{
	struct awop *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return HL_ENOMEM;
	a->w = (struct wop){ .fn = op_item_del, .undo = undo_item,
	    .list = list, .value = value, .who = who };
	return awop_submit(st, a, fn, arg);
}

/*
 * A batch of changes in one transaction (hl_store_apply): an add that
 * finds its value there, or a delete that does not, is not an error of
 * the batch; it is recorded in the change's rc.  The meta value, when
 * given, is written in the same transaction.
 */
static int
op_apply(struct wop *w, struct hl_store *st)
{
	struct hl_store_change *c;
	struct hl_item it;
	struct hl_err e;
	sqlite3_stmt *s;
	size_t i;
	int rc = 0;

	for (i = 0; i < w->nchanges && rc == 0; i++) {
		c = &w->changes[i];
		memset(&it, 0, sizeof(it));
		e.code = 0;
		if ((rc = exec(st, "SAVEPOINT c", &w->err)) != 0)
			break;
		c->rc = c->op == 'a' ?
		    add_one(NULL, &w->version, st, c->list, c->item, &c->who,
		    &e) : del_one(&it, &w->version, st, c->list,
		    c->item->value, &c->who, &e);
		hl_item_clear(&it);
		if (c->rc != 0)
			(void)exec(st, "ROLLBACK TO c", NULL);
		(void)exec(st, "RELEASE c", NULL);
		if (c->rc == 0)
			w->added++;
		else if (c->rc != HL_EEXISTS && c->rc != HL_ENOTFOUND) {
			w->err = e;
			rc = c->rc;
		}
	}
	if (rc == 0 && w->meta_key != NULL) {
		if ((s = prep(st, "INSERT OR REPLACE INTO meta (key, value)"
		    " VALUES (?1, ?2)", &w->err)) == NULL)
			return HL_EIO;
		hl_store__bind_str(s, 1, w->meta_key);
		hl_store__bind_str(s, 2, w->meta_value);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
		    hl_store__dberr(&w->err, st, "write meta");
		sqlite3_finalize(s);
	}
	/* And the version it was set at: KEY_version. */
	if (rc == 0 && w->meta_key != NULL) {
		if ((s = prep(st, "INSERT OR REPLACE INTO meta (key, value)"
		    " VALUES (?1 || '_version', (SELECT COALESCE(MAX(version),"
		    " 0) FROM events))", &w->err)) == NULL)
			return HL_EIO;
		hl_store__bind_str(s, 1, w->meta_key);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
		    hl_store__dberr(&w->err, st, "write meta");
		sqlite3_finalize(s);
	}
	return rc;
}

int
hl_store_apply(size_t *applied, int64_t *version, struct hl_store *st,
    struct hl_store_change *v, size_t n, const char *meta_key,
    const char *meta_value, struct hl_err *err)
{
	struct wop w = { .fn = op_apply, .changes = v, .nchanges = n,
	    .meta_key = meta_key, .meta_value = meta_value };
	int rc;

	rc = submit(st, &w, err);
	*applied = rc == 0 ? w.added : 0;
	*version = rc == 0 ? w.version : 0;
	return rc;
}

int
hl_store_meta(char **out, struct hl_store *st, const char *key,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	rd_enter(st);
	if ((s = prep(st, "SELECT value FROM meta WHERE key = ?1",
	    err)) == NULL) {
		rd_leave(st);
		return HL_EIO;
	}
	hl_store__bind_str(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = (*out = hl_store__col_str(s, 0)) ? 0 :
		    hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (rc == SQLITE_DONE)
		rc = hl_err_set(err, HL_ENOTFOUND, "no %s", key);
	else
		rc = hl_store__dberr(err, st, "read meta");
	sqlite3_finalize(s);
	rd_leave(st);
	return rc;
}

/*
 * The key of a verbatim line: its text and how many equal lines came
 * before it, so a second import of the same file matches the first.
 */
static char *
verbatim_key(const struct hl_item *items, size_t i)
{
	size_t j, seen = 0;
	char *k;

	for (j = 0; j < i; j++)
		if (items[j].verbatim &&
		    strcmp(items[j].value, items[i].value) == 0)
			seen++;
	if (asprintf(&k, "\x01%zu:%s", seen, items[i].value) < 0)
		return NULL;
	return k;
}

/*
 * The keys of a file's items (see hl_items_dups): the first copy of a
 * value has its hl_item_key, a later one "\x02<n>:<key>", a verbatim line
 * its verbatim_key.  On success *out is an array of n malloc'd strings.
 */
static int
file_keys(char ***out, size_t **firstp, const struct hl_item *in, size_t n,
    int fmt)
{
	char **keys = NULL, *k;
	size_t *first = NULL, *seen = NULL, i;
	int rc = HL_ENOMEM;

	*out = NULL;
	*firstp = NULL;
	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL ||
	    (first = calloc(n + 1, sizeof(*first))) == NULL ||
	    (seen = calloc(n + 1, sizeof(*seen))) == NULL ||
	    hl_items_dups(first, in, n, fmt) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (in[i].verbatim)
			keys[i] = verbatim_key(in, i);
		else if (first[i] == i)
			keys[i] = hl_item_key(fmt, in[i].value);
		else {
			if ((k = hl_item_key(fmt, in[i].value)) == NULL)
				goto out;
			if (asprintf(&keys[i], "\x02%zu:%s",
			    ++seen[first[i]], k) < 0)
				keys[i] = NULL;
			free(k);
		}
		if (keys[i] == NULL)
			goto out;
	}
	*out = keys;
	*firstp = first;
	keys = NULL;
	first = NULL;
	rc = 0;
out:
	if (keys != NULL)
		for (i = 0; i < n; i++)
			free(keys[i]);
	free(keys);
	free(first);
	free(seen);
	return rc;
}

static void
free_keys(char **keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/*
 * Rewrites the keys of one plain list's items (in file order) as an import
 * of its file would make them now.  An item whose copy-of changes (two
 * values that were distinct in ASCII case and are the same in Unicode's)
 * is recorded as a delete of what it was and an add of what it is, so the
 * list's version and count move and a client's changes show it.
 */
static int
rekey_list(struct hl_store *st, const char *list, struct hl_err *err)
{
	const struct hl_actor who = { .name = "migration" };
	struct hl_item *v = NULL, it;
	sqlite3_stmt *s = NULL;
	char **keys = NULL;
	size_t *first = NULL, n = 0, i;
	int64_t dup, version;
	json_t *rec;
	int rc;

	if ((s = prep(st, ITEMS_SELECT " ORDER BY pos, id", err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, list);
	rc = collect((void **)&v, &n, sizeof(*v), s, fill_item, clear_item,
	    st, err);
	sqlite3_finalize(s);
	s = NULL;
	if (rc != 0)
		return rc;
	if (file_keys(&keys, &first, v, n, HL_FMT_PLAIN) != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	/* Out of the way first: a new key may be another item's old one. */
	if ((s = prep(st, "UPDATE items SET vkey = char(3) || id"
	    " WHERE list_id = ?1", err)) == NULL) {
		rc = HL_EIO;
		goto out;
	}
	hl_store__bind_str(s, 1, list);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    hl_store__dberr(err, st, "rekey items");
	sqlite3_finalize(s);
	if (rc != 0 || (s = prep(st, "UPDATE items SET vkey = ?2,"
	    " dup_of = ?3 WHERE id = ?1", err)) == NULL) {
		rc = rc != 0 ? rc : HL_EIO;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		dup = first[i] != i ? v[first[i]].id : 0;
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		sqlite3_bind_int64(s, 1, v[i].id);
		hl_store__bind_str(s, 2, keys[i]);
		if (dup > 0)
			sqlite3_bind_int64(s, 3, dup);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = hl_store__dberr(err, st, "rekey item");
			break;
		}
		if (v[i].verbatim || dup == v[i].dup_of)
			continue;
		rec = hl_item_json(&v[i], list, HL_FMT_PLAIN);
		rc = add_event(&version, st, "delete", list, v[i].value, rec,
		    v[i].dup_of > 0 ? 0 : -1, &who, err);
		json_decref(rec);
		it = v[i];
		it.dup_of = dup;
		rec = hl_item_json(&it, list, HL_FMT_PLAIN);
		if (rc == 0)
			rc = add_event(&version, st, "add", list, it.value,
			    rec, dup > 0 ? 0 : 1, &who, err);
		json_decref(rec);
	}
out:
	sqlite3_finalize(s);
	free_keys(keys, n);
	free(first);
	hl_items_free(v, n);
	return rc;
}

/*
 * Migration 5's step (schema/0005-unicode-keys.sql): plain lists compare
 * their patterns as SmokeDetector does, in Unicode (hl_item_key), so their
 * keys and copies are made again.
 */
static int
rekey_plain(struct hl_store *st, struct hl_err *err)
{
	sqlite3_stmt *s;
	char **lists = NULL;
	size_t n = 0, i;
	int rc = 0;

	if ((s = prep(st, "SELECT id FROM lists WHERE format = 'plain'"
	    " ORDER BY ord", err)) == NULL)
		return HL_EIO;
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		char **l = realloc(lists, (n + 1) * sizeof(*lists));

		if (l == NULL || (l[n] = hl_store__col_str(s, 0)) == NULL) {
			lists = l != NULL ? l : lists;
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
		lists = l;
		n++;
	}
	sqlite3_finalize(s);
	for (i = 0; i < n && rc == 0; i++)
		rc = rekey_list(st, lists[i], err);
	free_keys(lists, n);
	return rc;
}

static int
str_eq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Would the stored item old be written as the file's item in is? */
static int
same_item(const struct hl_item *old, const struct hl_item *in, int fmt)
{
	if (!str_eq(old->value, in->value) || !str_eq(old->src, in->src) ||
	    old->verbatim != in->verbatim)
		return 0;
	if (fmt == HL_FMT_TSV && !in->verbatim &&
	    (old->created_at != in->created_at ||
	    !str_eq(old->created_by, in->created_by)))
		return 0;
	if (!hl_fmt_is_yaml(fmt) || in->src != NULL)
		return 1;
	return str_eq(old->comment, in->comment) &&
	    old->disabled == in->disabled && old->pass == in->pass &&
	    old->ns_seq == in->ns_seq && str_eq(old->keys, in->keys);
}

/*
 * One line of a dry run's difference: "+ LINE: value" or "- value" (a
 * value of several lines is cut after its first, with " ...").
 */
static void
diff_line(struct wop *w, char op, const struct hl_item *it)
{
	const char *t = it->value;
	size_t len = strcspn(t, "\n");
	char tmp[32];

	if (w->diff == NULL)
		return;
	if (op == '+' && it->line > 0)
		snprintf(tmp, sizeof(tmp), "+ %zu: ", it->line);
	else
		snprintf(tmp, sizeof(tmp), "%c ", op);
	if (hl_buf_puts(w->diff, tmp) != 0 || hl_buf_put(w->diff, t,
	    len) != 0 || hl_buf_puts(w->diff, t[len] != '\0' &&
	    t[len + 1] != '\0' ? " ...\n" : "\n") != 0)
		w->diff = NULL;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Mirror: deletes the items of the list that the file does not hold. */
static int
mirror_remove(struct wop *w, struct hl_store *st, int fmt,
    const int64_t *ids, size_t n)
{
	struct hl_item *cur = NULL;
	int64_t *sorted = NULL, v;
	size_t ncur = 0, i;
	sqlite3_stmt *s;
	int rc;

	if ((sorted = malloc((n + 1) * sizeof(*sorted))) == NULL)
		return hl_err_set(&w->err, HL_ENOMEM, "out of memory");
	memcpy(sorted, ids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_id);
	if ((s = prep(st, "SELECT id, pos, value, comment, disabled, pass,"
	    " ns_seq, verbatim, created_at, created_by, modified_at,"
	    " modified_by, token_id, yaml_keys, src, dup_of, origin, review"
	    " FROM items"
	    " WHERE list_id = ?1 ORDER BY pos, id", &w->err)) == NULL) {
		free(sorted);
		return HL_EIO;
	}
	hl_store__bind_str(s, 1, w->list);
	rc = collect((void **)&cur, &ncur, sizeof(*cur), s, fill_item,
	    clear_item, st, &w->err);
	sqlite3_finalize(s);
	for (i = 0; i < ncur && rc == 0; i++) {
		if (bsearch(&cur[i].id, sorted, n, sizeof(*sorted),
		    cmp_id) != NULL)
			continue;
		diff_line(w, '-', &cur[i]);
		rc = delete_item(&v, st, w->list, fmt, &cur[i], w->who,
		    &w->err);
		if (rc == 0) {
			w->version = v;
			w->removed++;
		}
	}
	hl_items_free(cur, ncur);
	free(sorted);
	return rc;
}

/*
 * Moves a stored item to position pos and points it at the copy it
 * repeats (a mirror follows the file's order, and the first copy may have
 * been replaced).
 */
static int
set_place(struct hl_store *st, const struct hl_item *it, int64_t pos,
    int64_t dup_of, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (it->pos == pos && it->dup_of == dup_of)
		return 0;
	if ((s = prep(st, "UPDATE items SET pos = ?2, dup_of = ?3"
	    " WHERE id = ?1", err)) == NULL)
		return HL_EIO;
	sqlite3_bind_int64(s, 1, it->id);
	sqlite3_bind_int64(s, 2, pos);
	if (dup_of > 0)
		sqlite3_bind_int64(s, 3, dup_of);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : hl_store__dberr(err, st, "move item");
}

/* The code a dry run returns to have its savepoint rolled back. */
#define DRY_RUN_DONE	1

static int
op_import(struct wop *w, struct hl_store *st)
{
	struct hl_item old, it;
	char **keys = NULL;
	size_t *first = NULL, i;
	int64_t *ids = NULL, v;
	int fmt, rc, found;

	if ((rc = list_fmt(&fmt, st, w->list, &w->err)) != 0)
		return rc;
	if (file_keys(&keys, &first, w->in, w->nin, fmt) != 0 ||
	    (ids = calloc(w->nin + 1, sizeof(*ids))) == NULL) {
		rc = hl_err_set(&w->err, HL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < w->nin && rc == 0; i++) {
		memset(&old, 0, sizeof(old));
		rc = item_by_key(&old, st, w->list, keys[i], &w->err);
		if (rc != 0 && rc != HL_ENOTFOUND)
			break;
		found = rc == 0;
		rc = 0;
		if (found && w->mirror && !same_item(&old, &w->in[i], fmt)) {
			/* Changed in the file: the old one goes. */
			diff_line(w, '-', &old);
			rc = delete_item(&v, st, w->list, fmt, &old, w->who,
			    &w->err);
			w->removed++;
			w->version = v;
			found = 0;
		} else if (found && w->mirror)
			rc = set_place(st, &old, (int64_t)i,
			    first[i] != i ? ids[first[i]] : 0, &w->err);
		if (found)
			ids[i] = old.id;
		hl_item_clear(&old);
		if (found || rc != 0)
			continue;
		it = w->in[i];
		it.dup_of = first[i] != i ? ids[first[i]] : 0;
		diff_line(w, '+', &it);
		rc = insert_item(NULL, &w->version, st, w->list, fmt, &it,
		    keys[i], w->mirror ? (int64_t)i : -1, &ids[i], w->who,
		    &w->err);
		w->added++;
	}
	if (rc == 0 && w->mirror)
		rc = mirror_remove(w, st, fmt, ids, w->nin);
	if (rc == 0 && w->dry_run)
		rc = DRY_RUN_DONE;
out:
	free_keys(keys, w->nin);
	free(first);
	free(ids);
	return rc;
}

int
hl_store_import(size_t *added, int64_t *version, struct hl_store *st,
    const char *list, const struct hl_item *items, size_t n,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .fn = op_import, .list = list, .in = items,
	    .nin = n, .who = who };
	int rc;

	rc = submit(st, &w, err);
	*added = rc == 0 ? w.added : 0;
	*version = rc == 0 ? w.version : 0;
	return rc;
}

int
hl_store_mirror(struct hl_store_mirror *m, struct hl_store *st,
    const char *list, const struct hl_item *items, size_t n,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .fn = op_import, .list = list, .in = items,
	    .nin = n, .who = who, .mirror = 1, .dry_run = m->dry_run,
	    .diff = m->diff };
	int rc;

	rc = submit(st, &w, err);
	if (rc == DRY_RUN_DONE)
		rc = 0;
	m->added = rc == 0 ? w.added : 0;
	m->removed = rc == 0 ? w.removed : 0;
	m->version = rc == 0 && !m->dry_run ? w.version : 0;
	return rc;
}

static int
op_restore_list(struct wop *w, struct hl_store *st)
{
	const struct hl_item *it;
	sqlite3_stmt *s;
	char **keys = NULL;
	size_t i, *first = NULL;
	int64_t *ids = NULL;
	int fmt, rc, count;

	if ((rc = list_fmt(&fmt, st, w->list, &w->err)) != 0)
		return rc;
	if ((s = prep(st, "SELECT 1 FROM items WHERE list_id = ?1",
	    &w->err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, w->list);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return hl_err_set(&w->err, HL_ECONFLICT, "%s is not empty",
		    w->list);
	if (file_keys(&keys, &first, w->in, w->nin, fmt) != 0 ||
	    (ids = calloc(w->nin + 1, sizeof(*ids))) == NULL) {
		free_keys(keys, w->nin);
		free(first);
		return hl_err_set(&w->err, HL_ENOMEM, "out of memory");
	}
	for (i = 0, rc = 0; i < w->nin && rc == 0; i++) {
		it = &w->in[i];
		if ((s = q(st, Q_ITEM_INSERT, &w->err)) == NULL) {
			rc = HL_EIO;
			break;
		}
		hl_store__bind_str(s, 1, w->list);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		hl_store__bind_str(s, 3, it->value);
		hl_store__bind_str(s, 4, keys[i]);
		sqlite3_bind_int(s, 5, it->verbatim);
		hl_store__bind_str(s, 6, it->comment);
		sqlite3_bind_int(s, 7, it->disabled);
		sqlite3_bind_int(s, 8, it->pass);
		sqlite3_bind_int(s, 9, it->ns_seq);
		sqlite3_bind_int64(s, 10, it->created_at);
		hl_store__bind_str(s, 11, it->created_by ? it->created_by : "restore");
		sqlite3_bind_int64(s, 12, it->modified_at ? it->modified_at :
		    it->created_at);
		hl_store__bind_str(s, 13, it->modified_by ? it->modified_by :
		    it->created_by ? it->created_by : "restore");
		hl_store__bind_str(s, 15, it->keys);
		hl_store__bind_str(s, 16, it->src);
		hl_store__bind_str(s, 18, it->origin);
		hl_store__bind_str(s, 19, it->review);
		/* The ids are new: a copy points at its first's new id. */
		if (first[i] != i)
			sqlite3_bind_int64(s, 17, ids[first[i]]);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = hl_store__dberr(&w->err, st, "restore item");
		ids[i] = sqlite3_last_insert_rowid(db(st));
		sqlite3_reset(s);
	}
	for (i = 0, count = 0; i < w->nin; i++)
		count += !w->in[i].verbatim && first[i] == i;
	free_keys(keys, w->nin);
	free(first);
	free(ids);
	if (rc == 0 && (s = q(st, Q_LIST_SET_VERSION, &w->err)) != NULL) {
		hl_store__bind_str(s, 1, w->list);
		sqlite3_bind_int64(s, 2, w->version);
		sqlite3_bind_int(s, 3, count);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = hl_store__dberr(&w->err, st, "restore list version");
		sqlite3_reset(s);
	}
	return rc;
}

int
hl_store_restore_list(struct hl_store *st, const char *list,
    const struct hl_item *items, size_t n, int64_t version,
    struct hl_err *err)
{
	struct wop w = { .fn = op_restore_list, .list = list, .in = items,
	    .nin = n, .version = version };

	return submit(st, &w, err);
}

static int
op_restore_notifs(struct wop *w, struct hl_store *st)
{
	const struct hl_notif *n;
	sqlite3_stmt *s;
	char sql[96];
	size_t i;
	int rc = 0;

	s = prep(st, "INSERT INTO notifications (user_id, server, room_id,"
	    " site, always_ping, created_at, created_by) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7)", &w->err);
	if (s == NULL)
		return HL_EIO;
	for (i = 0; i < w->nin && rc == 0; i++) {
		n = &w->nin_notif[i];
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, n->user_id);
		hl_store__bind_str(s, 2, n->server);
		sqlite3_bind_int64(s, 3, n->room_id);
		hl_store__bind_str(s, 4, n->site);
		sqlite3_bind_int(s, 5, n->always_ping ? 1 : 0);
		sqlite3_bind_int64(s, 6, n->created_at);
		hl_store__bind_str(s, 7, n->created_by ? n->created_by : "restore");
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = hl_store__dberr(&w->err, st, "restore notification");
	}
	sqlite3_finalize(s);
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%lld'"
	    " WHERE key = 'notifications_version'", (long long)w->version);
	return rc ? rc : exec(st, sql, &w->err);
}

int
hl_store_restore_notifs(struct hl_store *st, const struct hl_notif *v,
    size_t n, int64_t version, struct hl_err *err)
{
	struct wop w = { .fn = op_restore_notifs, .nin_notif = v, .nin = n,
	    .version = version };

	return submit(st, &w, err);
}

static int
op_restore_version(struct wop *w, struct hl_store *st)
{
	char sql[160];

	if (hl_store_version(st) > w->version)
		return hl_err_set(&w->err, HL_ECONFLICT, "the database is at"
		    " a later version than %lld", (long long)w->version);
	/* AUTOINCREMENT continues after the highest sqlite_sequence seq. */
	snprintf(sql, sizeof(sql), "DELETE FROM sqlite_sequence WHERE name ="
	    " 'events'; INSERT INTO sqlite_sequence (name, seq) VALUES"
	    " ('events', %lld)", (long long)w->version);
	return exec(st, sql, &w->err);
}

int
hl_store_restore_version(struct hl_store *st, int64_t version,
    struct hl_err *err)
{
	struct wop w = { .fn = op_restore_version, .version = version };

	return submit(st, &w, err);
}

#define NOTIF_COLS "SELECT id, user_id, server, room_id, site, always_ping," \
	" created_at, created_by, token_id FROM notifications"

static int
read_notif(struct hl_notif *n, sqlite3_stmt *s)
{
	memset(n, 0, sizeof(*n));
	n->id = sqlite3_column_int64(s, 0);
	n->user_id = sqlite3_column_int64(s, 1);
	n->server = hl_store__col_str(s, 2);
	n->room_id = sqlite3_column_int64(s, 3);
	n->site = hl_store__col_str(s, 4);
	n->always_ping = sqlite3_column_int(s, 5);
	n->created_at = sqlite3_column_int64(s, 6);
	n->created_by = hl_store__col_str(s, 7);
	n->token_id = sqlite3_column_int64(s, 8);
	return n->server && n->site && n->created_by ? 0 : HL_ENOMEM;
}

static int fill_notif(void *p, sqlite3_stmt *s) { return read_notif(p, s); }
static void clear_notif(void *p) { hl_notif_clear(p); }

int
hl_store_notifs(struct hl_notif **out, size_t *n, struct hl_store *st,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	if ((s = prep(st, NOTIF_COLS " ORDER BY id", err)) != NULL) {
		rc = collect((void **)out, n, sizeof(**out), s, fill_notif,
		    clear_notif, st, err);
		sqlite3_finalize(s);
	}
	rd_leave(st);
	return rc;
}

static int
notif_find(struct hl_notif *out, struct hl_store *st,
    const struct hl_notif *key, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, NOTIF_COLS " WHERE user_id = ?1 AND server = ?2"
	    " AND room_id = ?3 AND site = ?4", err)) == NULL)
		return HL_EIO;
	sqlite3_bind_int64(s, 1, key->user_id);
	hl_store__bind_str(s, 2, key->server);
	sqlite3_bind_int64(s, 3, key->room_id);
	hl_store__bind_str(s, 4, key->site);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_notif(out, s) == 0 ? 0 :
		    hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (rc == SQLITE_DONE)
		rc = HL_ENOTFOUND;
	else
		rc = hl_store__dberr(err, st, "read notification");
	sqlite3_finalize(s);
	return rc;
}

static char *
notif_value(const struct hl_notif *n)
{
	char *v;

	if (asprintf(&v, "%lld %s %lld %s", (long long)n->user_id, n->server,
	    (long long)n->room_id, n->site) < 0)
		return NULL;
	return v;
}

static int
notif_event(int64_t *version, struct hl_store *st, const char *op,
    const struct hl_notif *n, const struct hl_actor *who, struct hl_err *err)
{
	char *value;
	json_t *rec;
	int rc;

	if ((value = notif_value(n)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rec = hl_notif_json(n);
	rc = add_event(version, st, op, NOTIFS_LIST, value, rec, 0, who, err);
	json_decref(rec);
	free(value);
	return rc;
}

static void
undo_notif(struct wop *w)
{
	hl_notif_clear(w->nout);
	w->version = 0;
}

static int
op_notif_add(struct wop *w, struct hl_store *st)
{
	sqlite3_stmt *s;
	const struct hl_notif *in = w->nin_notif;
	int rc;

	rc = notif_find(w->nout, st, in, &w->err);
	if (rc == 0) {
		w->undo = NULL;
		return hl_err_set(&w->err, HL_EEXISTS, "this notification"
		    " exists (id %lld)", (long long)w->nout->id);
	}
	if (rc != HL_ENOTFOUND)
		return rc;
	s = prep(st, "INSERT INTO notifications (user_id, server, room_id,"
	    " site, always_ping, created_at, created_by, token_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &w->err);
	if (s == NULL)
		return HL_EIO;
	sqlite3_bind_int64(s, 1, in->user_id);
	hl_store__bind_str(s, 2, in->server);
	sqlite3_bind_int64(s, 3, in->room_id);
	hl_store__bind_str(s, 4, in->site);
	sqlite3_bind_int(s, 5, in->always_ping ? 1 : 0);
	sqlite3_bind_int64(s, 6, now());
	hl_store__bind_str(s, 7, w->who->name);
	if (w->who->token_id > 0)
		sqlite3_bind_int64(s, 8, w->who->token_id);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    hl_store__dberr(&w->err, st, "write notification");
	sqlite3_finalize(s);
	if (rc == 0)
		rc = notif_find(w->nout, st, in, &w->err);
	if (rc == 0)
		rc = notif_event(&w->version, st, "add", w->nout, w->who,
		    &w->err);
	return rc;
}

int
hl_store_notif_add(struct hl_notif *out, int64_t *version,
    struct hl_store *st, const struct hl_notif *in,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .fn = op_notif_add, .undo = undo_notif,
	    .nin_notif = in, .who = who, .nout = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = submit(st, &w, err);
	*version = rc == 0 ? w.version : 0;
	return rc;
}

static int
op_notif_del(struct wop *w, struct hl_store *st)
{
	sqlite3_stmt *s;
	int rc;

	rc = notif_find(w->nout, st, w->nin_notif, &w->err);
	if (rc == HL_ENOTFOUND)
		return hl_err_set(&w->err, HL_ENOTFOUND,
		    "no such notification");
	if (rc != 0)
		return rc;
	if ((s = prep(st, "DELETE FROM notifications WHERE id = ?1",
	    &w->err)) == NULL)
		return HL_EIO;
	sqlite3_bind_int64(s, 1, w->nout->id);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    hl_store__dberr(&w->err, st, "delete notification");
	sqlite3_finalize(s);
	if (rc == 0)
		rc = notif_event(&w->version, st, "delete", w->nout, w->who,
		    &w->err);
	return rc;
}

int
hl_store_notif_del(struct hl_notif *out, int64_t *version,
    struct hl_store *st, const struct hl_notif *key,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .fn = op_notif_del, .undo = undo_notif,
	    .nin_notif = key, .who = who, .nout = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = submit(st, &w, err);
	*version = rc == 0 ? w.version : 0;
	return rc;
}

static int
read_event(struct hl_event *e, sqlite3_stmt *s)
{
	memset(e, 0, sizeof(*e));
	e->version = sqlite3_column_int64(s, 0);
	e->at = sqlite3_column_int64(s, 1);
	e->op = hl_store__col_str(s, 2);
	e->list = hl_store__col_str(s, 3);
	e->value = hl_store__col_str(s, 4);
	e->record = hl_store__col_str(s, 5);
	e->actor = hl_store__col_str(s, 6);
	e->token_id = sqlite3_column_int64(s, 7);
	return e->op && e->list && e->value && e->record && e->actor ? 0 :
	    HL_ENOMEM;
}

static int fill_event(void *p, sqlite3_stmt *s) { return read_event(p, s); }
static void clear_event(void *p) { hl_event_clear(p); }

int
hl_store_events(struct hl_event **out, size_t *n, struct hl_store *st,
    int64_t since, size_t limit, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	if ((s = q(st, Q_EVENTS_SINCE, err)) != NULL) {
		sqlite3_bind_int64(s, 1, since);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
		rc = collect((void **)out, n, sizeof(**out), s, fill_event,
		    clear_event, st, err);
		sqlite3_reset(s);
	}
	rd_leave(st);
	return rc;
}

static int
read_token(struct hl_token *t, sqlite3_stmt *s)
{
	const char *sc;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(s, 0);
	t->name = hl_store__col_str(s, 1);
	sc = (const char *)sqlite3_column_text(s, 2);
	if (sc == NULL || hl_scopes_parse(&t->scopes, sc) != 0)
		t->scopes = 0;
	t->created_at = sqlite3_column_int64(s, 3);
	t->created_by = hl_store__col_str(s, 4);
	t->revoked_at = sqlite3_column_int64(s, 5);
	t->last_used_at = sqlite3_column_int64(s, 6);
	if (sqlite3_column_bytes(s, 7) == (int)sizeof(t->hash))
		memcpy(t->hash, sqlite3_column_blob(s, 7), sizeof(t->hash));
	t->lists = hl_store__col_str(s, 8);
	t->expires_at = sqlite3_column_int64(s, 9);
	return t->name && t->created_by ? 0 : HL_ENOMEM;
}

static int fill_token(void *p, sqlite3_stmt *s) { return read_token(p, s); }
static void clear_token(void *p) { hl_token_clear(p); }

int
hl_store_token_add(struct hl_token *out, struct hl_store *st,
    const char *name, const unsigned char hash[32], unsigned scopes,
    const char *created_by, struct hl_err *err)
{
	return hl_store_token_add_limited(out, st, name, hash, scopes, NULL,
	    0, created_by, err);
}

int
hl_store_token_add_limited(struct hl_token *out, struct hl_store *st,
    const char *name, const unsigned char hash[32], unsigned scopes,
    const char *lists, int64_t expires_at, const char *created_by,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	char sc[64];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	hl_scopes_format(sc, sizeof(sc), scopes);
	wr_enter(st);
	s = prep(st, "INSERT INTO tokens (name, hash, scopes, created_at,"
	    " created_by, lists, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7)", err);
	if (s == NULL) {
		rc = HL_EIO;
		goto out;
	}
	hl_store__bind_str(s, 1, name);
	sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
	hl_store__bind_str(s, 3, sc);
	sqlite3_bind_int64(s, 4, now());
	hl_store__bind_str(s, 5, created_by);
	hl_store__bind_str(s, 6, lists);
	if (expires_at != 0)
		sqlite3_bind_int64(s, 7, expires_at);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = hl_store__dberr(err, st, "write token");
	sqlite3_finalize(s);
	if (rc == 0) {
		out->id = sqlite3_last_insert_rowid(db(st));
		out->name = strdup(name);
		out->scopes = scopes;
		out->created_at = now();
		out->created_by = strdup(created_by);
		out->lists = lists ? strdup(lists) : NULL;
		out->expires_at = expires_at;
		if (out->name == NULL || out->created_by == NULL ||
		    (lists != NULL && out->lists == NULL)) {
			hl_token_clear(out);
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		}
	}
out:
	wr_leave(st);
	return rc;
}

/* One SQL statement (arg) in the group commit. */
static int
op_exec(struct hl_store *st, void *arg, struct hl_err *err)
{
	return exec(st, arg, err);
}

/*
 * A token's last use, recorded without waiting for the commit (no answer
 * depends on it): a wop that frees itself.
 */
struct touch {
	struct wop	 w;
	char		 sql[96];
};

static void
touch_done(struct wop *w)
{
	free(w);
}

int
hl_store_token_find(struct hl_token *out, struct hl_store *st,
    const unsigned char hash[32], struct hl_err *err)
{
	struct touch *t;
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	rd_enter(st);
	if ((s = q(st, Q_TOKEN_FIND, err)) == NULL) {
		rc = HL_EIO;
		goto out;
	}
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now());
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_token(out, s) == 0 ? 0 :
		    hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (rc == SQLITE_DONE)
		rc = hl_err_set(err, HL_EAUTH, "unknown, revoked or expired"
		    " token");
	else
		rc = hl_store__dberr(err, st, "read token");
	sqlite3_reset(s);
out:
	rd_leave(st);
	/*
	 * Recording last use costs a durable write, so do it at most once a
	 * minute per token, in the group commit (on the writer: the lookup
	 * ran on a reader), without waiting for it: a failure here must not
	 * fail the request, nor its commit hold it up.
	 */
	if (rc == 0 && now() - out->last_used_at >= 60 &&
	    (t = calloc(1, sizeof(*t))) != NULL) {
		snprintf(t->sql, sizeof(t->sql), "UPDATE tokens SET"
		    " last_used_at = %lld WHERE id = %lld", (long long)now(),
		    (long long)out->id);
		t->w.fn = op_run;
		t->w.xfn = op_exec;
		t->w.arg = t->sql;
		t->w.done = touch_done;
		submit_async(st, &t->w);
	}
	return rc;
}

int
hl_store_tokens(struct hl_token **out, size_t *n, struct hl_store *st,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	s = prep(st, "SELECT id, name, scopes, created_at, created_by,"
	    " revoked_at, last_used_at, hash, lists, expires_at FROM tokens"
	    " ORDER BY id", err);
	if (s != NULL) {
		rc = collect((void **)out, n, sizeof(**out), s, fill_token,
		    clear_token, st, err);
		sqlite3_finalize(s);
	}
	rd_leave(st);
	return rc;
}

int
hl_store_token_revoke(struct hl_store *st, int64_t id, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	wr_enter(st);
	s = prep(st, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND"
	    " revoked_at IS NULL", err);
	if (s == NULL) {
		rc = HL_EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now());
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = hl_store__dberr(err, st, "revoke token");
	else if (sqlite3_changes(db(st)) == 0)
		rc = hl_err_set(err, HL_ENOTFOUND, "no valid token %lld",
		    (long long)id);
	sqlite3_finalize(s);
out:
	wr_leave(st);
	return rc;
}

struct target_arg {
	const char	*name;
	int64_t		 version;
	const char	*error;
};

static int
op_target_set(struct hl_store *st, void *arg, struct hl_err *err)
{
	struct target_arg *a = arg;
	sqlite3_stmt *s;
	int rc;

	/* Cached: each publish runs it, inside the writers' group commit. */
	if ((s = q(st, a->error == NULL ? Q_TARGET_PUBLISHED :
	    Q_TARGET_FAILED, err)) == NULL)
		return HL_EIO;
	hl_store__bind_str(s, 1, a->name);
	sqlite3_bind_int64(s, 2, a->version);
	sqlite3_bind_int64(s, 3, now());
	if (a->error != NULL)
		hl_store__bind_str(s, 4, a->error);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 :
	    hl_store__dberr(err, st, "write target state");
}

/* In the group commit: a publish shares the fsync of the writes then. */
int
hl_store_target_set(struct hl_store *st, const char *name, int64_t version,
    const char *error, struct hl_err *err)
{
	struct target_arg a = { name, version, error };

	return hl_store__run(st, op_target_set, &a, err);
}

static int
fill_target(void *p, sqlite3_stmt *s)
{
	struct hl_target_state *t = p;

	memset(t, 0, sizeof(*t));
	t->name = hl_store__col_str(s, 0);
	t->version = sqlite3_column_int64(s, 1);
	t->published_at = sqlite3_column_int64(s, 2);
	t->last_error = hl_store__col_str(s, 3);
	return t->name ? 0 : HL_ENOMEM;
}

static void
clear_target(void *p)
{
	struct hl_target_state *t = p;

	free(t->name);
	free(t->last_error);
}

void
hl_target_states_free(struct hl_target_state *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		clear_target(&v[i]);
	free(v);
}

int
hl_store_targets(struct hl_target_state **out, size_t *n,
    struct hl_store *st, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = HL_EIO;

	*out = NULL;
	*n = 0;
	rd_enter(st);
	s = prep(st, "SELECT name, version, published_at, last_error"
	    " FROM targets ORDER BY name", err);
	if (s != NULL) {
		rc = collect((void **)out, n, sizeof(**out), s, fill_target,
		    clear_target, st, err);
		sqlite3_finalize(s);
	}
	rd_leave(st);
	return rc;
}

int
hl_store_read_begin(struct hl_store *st, struct hl_err *err)
{
	sqlite3_stmt *s;
	int step, ok;

	rd_enter(st);
	/* BEGIN is lazy: the first read fixes the snapshot, so read now. */
	if (run_q(st, Q_READ_BEGIN, err) == 0 &&
	    (s = q(st, Q_READ_PIN, err)) != NULL) {
		step = sqlite3_step(s);
		if (!(ok = step == SQLITE_ROW || step == SQLITE_DONE))
			(void)hl_store__dberr(err, st, "begin a read");
		sqlite3_reset(s);
		if (ok)
			return 0;
	}
	(void)run_q(st, Q_ROLLBACK, NULL);
	rd_leave(st);
	return HL_EIO;
}

void
hl_store_read_end(struct hl_store *st)
{
	(void)run_q(st, Q_COMMIT, NULL);
	rd_leave(st);
}

int
hl_store_backup(struct hl_store *st, const char *path, struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	wr_enter(st);
	if ((s = prep(st, "VACUUM INTO ?1", err)) == NULL) {
		rc = HL_EIO;
		goto out;
	}
	hl_store__bind_str(s, 1, path);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = hl_store__dberr(err, st, "backup");
	sqlite3_finalize(s);
out:
	wr_leave(st);
	return rc;
}

static int
op_items_del(struct wop *w, struct hl_store *st)
{
	struct wop one;
	struct hl_item out;
	size_t i;
	int rc = 0;

	for (i = 0; i < w->nin && rc == 0; i++) {
		one = (struct wop){ .list = w->list, .value = w->in[i].value,
		    .who = w->who, .out = &out };
		memset(&out, 0, sizeof(out));
		rc = op_item_del(&one, st);
		hl_item_clear(&out);
		if (rc == HL_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0) {
			w->err = one.err;
			break;
		}
		w->version = one.version;
		w->added++;
	}
	return rc;
}

int
hl_store_items_del(size_t *removed, int64_t *version, struct hl_store *st,
    const char *list, const struct hl_item *items, size_t n,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .fn = op_items_del, .list = list, .in = items,
	    .nin = n, .who = who };
	int rc;

	rc = submit(st, &w, err);
	*removed = rc == 0 ? w.added : 0;
	*version = rc == 0 ? w.version : 0;
	return rc;
}

/* Shared with the other files of the store (store_int.h). */

static int
op_run(struct wop *w, struct hl_store *st)
{
	return w->xfn(st, w->arg, &w->err);
}

int
hl_store__run(struct hl_store *st, int (*fn)(struct hl_store *, void *,
    struct hl_err *), void *arg, struct hl_err *err)
{
	struct wop w = { .fn = op_run, .xfn = fn, .arg = arg };

	return submit(st, &w, err);
}

int
hl_store__item_add(struct hl_item *out, int64_t *version,
    struct hl_store *st, const char *list, const struct hl_item *in,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .list = list, .in = in, .who = who, .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = op_item_add(&w, st);
	*version = w.version;
	if (rc != 0)
		*err = w.err;
	return rc;
}

int
hl_store__item_del(struct hl_item *out, int64_t *version,
    struct hl_store *st, const char *list, const char *value,
    const struct hl_actor *who, struct hl_err *err)
{
	struct wop w = { .list = list, .value = value, .who = who,
	    .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = op_item_del(&w, st);
	*version = w.version;
	if (rc != 0)
		*err = w.err;
	return rc;
}

int
hl_store__event(int64_t *version, struct hl_store *st, const char *op,
    const char *list, const char *value, json_t *record,
    const struct hl_actor *who, struct hl_err *err)
{
	return add_event(version, st, op, list, value, record, 0, who, err);
}

sqlite3 *
hl_store__db(struct hl_store *st)
{
	return db(st);
}

void
hl_store__lock(struct hl_store *st)
{
	rd_enter(st);
}

void
hl_store__unlock(struct hl_store *st)
{
	rd_leave(st);
}

int
hl_store_list_policy_set(struct hl_store *st, const char *list, int policy,
    struct hl_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	wr_enter(st);
	if ((s = prep(st, "UPDATE lists SET policy = ?2 WHERE id = ?1",
	    err)) == NULL) {
		rc = HL_EIO;
		goto out;
	}
	hl_store__bind_str(s, 1, list);
	hl_store__bind_str(s, 2, policy == HL_POLICY_REVIEW ? "review" : "direct");
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = hl_store__dberr(err, st, "write policy");
	else if (sqlite3_changes(db(st)) == 0)
		rc = hl_err_set(err, HL_ENOTFOUND, "no list %s", list);
	sqlite3_finalize(s);
out:
	wr_leave(st);
	return rc;
}
