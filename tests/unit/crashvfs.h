/*
 * crashvfs: a SQLite VFS for the tests that models what a disk keeps
 * across a power loss, and fails chosen I/O calls (after SQLite's own
 * test6.c crash simulation and its fault-injection tests).
 *
 * It wraps the default VFS and registers itself as the new default, so a
 * plain hl_store_open() goes through it.  Each write and truncate of a
 * tracked file (the database, its WAL, a rollback journal) goes to the
 * real file at once, and the bytes it replaced are kept.  A sync makes
 * the file's writes so far durable: their old bytes are dropped.  A
 * simulated power loss (hl_crashvfs_power_loss) puts back the old bytes
 * of every write not yet synced, newest first, and cuts each file to its
 * size at its last sync: what is left is what a disk that honours fsync
 * and nothing more would hold.  The real fsync is never called.
 *
 * Faults: hl_crashvfs_fail(kind, n, rc) makes the n-th call of that kind
 * (counted from the last hl_crashvfs_reset) return rc; the calls after it
 * succeed.  hl_crashvfs_crash_at(n) makes the n-th write, truncate or
 * sync lose power before it runs and end the process with _exit(
 * HL_CRASHVFS_EXIT).
 *
 * Not thread-safe to configure while SQLite runs; every call into the
 * VFS itself holds a mutex.
 */
#ifndef HL_CRASHVFS_H
#define HL_CRASHVFS_H

#define HL_CRASHVFS_EXIT	77

enum hl_crashvfs_kind {
	HL_CRASHVFS_READ,
	HL_CRASHVFS_WRITE,
	HL_CRASHVFS_SYNC,
	HL_CRASHVFS_TEMP,	/* opens of temporary files (count only) */
	HL_CRASHVFS_NKIND
};

/* Registers the VFS as the default (once).  0 or a SQLite error code. */
int	hl_crashvfs_register(void);

/* Forgets the counters, faults, crash point and every unsynced write. */
void	hl_crashvfs_reset(void);

void	hl_crashvfs_fail(enum hl_crashvfs_kind kind, long n, int rc);
/* 1 when the fault set by hl_crashvfs_fail has been returned. */
int	hl_crashvfs_fired(void);
long	hl_crashvfs_count(enum hl_crashvfs_kind kind);

/* n-th write, truncate or sync: power loss, then _exit.  0: never. */
void	hl_crashvfs_crash_at(long n);
/* How many writes, truncates and syncs have run since the reset. */
long	hl_crashvfs_ops(void);

/* Each sync sleeps ms first (so writers queue behind a commit). */
void	hl_crashvfs_sync_delay(int ms);
/*
 * Each sync of a main database file (not of its WAL) sleeps ms more: only
 * a checkpoint syncs the database file in WAL mode, so this makes every
 * checkpoint slow and no commit.
 */
void	hl_crashvfs_db_sync_delay(int ms);

/* Puts every tracked file back as it was at its last sync. */
void	hl_crashvfs_power_loss(void);

#endif
