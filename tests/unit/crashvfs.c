/*
 * crashvfs: the power-loss and fault model for the store's tests (see
 * crashvfs.h for what it promises).
 *
 * Every open file of the database, its WAL or a journal has a track, one
 * per path: its size at the last sync and an undo log, newest first, of
 * the bytes each unsynced write or truncate replaced.  A power loss walks
 * each log back and truncates the file to its synced size.  The -shm
 * file is not modelled: SQLite rebuilds it from the WAL after a crash.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crashvfs.h"

#define NTRACK	16

struct undo {
	struct undo	*prev;
	sqlite3_int64	 off;
	int		 len;
	unsigned char	 old[];
};

struct track {
	char		 path[1024];
	int		 refs;
	sqlite3_int64	 synced;	/* size at the last sync */
	struct undo	*log;
	sqlite3_file	*any;		/* an open handle, for its size */
};

struct cfile {
	sqlite3_file	 base;
	struct track	*t;		/* NULL: not modelled */
	sqlite3_file	*real;
	int		 db;		/* a main database file */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_vfs *parent;
static struct track tracks[NTRACK];
static long counts[HL_CRASHVFS_NKIND];
static int fail_kind = -1, fail_rc, fired;
static long fail_n, crash_n, ops;
static int sync_delay_ms, db_sync_delay_ms;

static void
log_clear(struct track *t)
{
	struct undo *u, *p;

	for (u = t->log; u != NULL; u = p) {
		p = u->prev;
		free(u);
	}
	t->log = NULL;
}

static sqlite3_int64
file_size(sqlite3_file *f)
{
	sqlite3_int64 sz = 0;

	if (f == NULL || f->pMethods->xFileSize(f, &sz) != SQLITE_OK)
		return 0;
	return sz;
}

/* Keeps the len bytes at off that are about to change (those that exist). */
static void
log_save(struct cfile *cf, sqlite3_int64 off, sqlite3_int64 len)
{
	sqlite3_int64 sz = file_size(cf->real);
	struct undo *u;

	if (off >= sz)
		return;
	if (off + len > sz)
		len = sz - off;
	if ((u = malloc(sizeof(*u) + (size_t)len)) == NULL)
		abort();
	u->off = off;
	u->len = (int)len;
	if (cf->real->pMethods->xRead(cf->real, u->old, u->len, off) !=
	    SQLITE_OK)
		abort();
	u->prev = cf->t->log;
	cf->t->log = u;
}

/* Called with mu held: 1 when this call of kind must fail. */
static int
fault(enum hl_crashvfs_kind kind)
{
	counts[kind]++;
	if ((int)kind == fail_kind && counts[kind] == fail_n) {
		fired = 1;
		return 1;
	}
	return 0;
}

static void
power_loss_locked(void)
{
	struct undo *u;
	int i, fd;

	for (i = 0; i < NTRACK; i++) {
		if (tracks[i].path[0] == '\0')
			continue;
		if ((fd = open(tracks[i].path, O_RDWR)) < 0)
			continue;
		for (u = tracks[i].log; u != NULL; u = u->prev)
			if (pwrite(fd, u->old, (size_t)u->len, u->off) !=
			    u->len)
				abort();
		if (ftruncate(fd, tracks[i].synced) != 0)
			abort();
		close(fd);
		log_clear(&tracks[i]);
	}
}

/* Called with mu held before a write, truncate or sync. */
static void
maybe_crash(void)
{
	if (++ops == crash_n) {
		power_loss_locked();
		_exit(HL_CRASHVFS_EXIT);
	}
}

static int
c_close(sqlite3_file *f)
{
	struct cfile *cf = (struct cfile *)f;
	int rc;

	pthread_mutex_lock(&mu);
	if (cf->t != NULL) {
		cf->t->refs--;
		if (cf->t->any == cf->real)
			cf->t->any = NULL;
	}
	pthread_mutex_unlock(&mu);
	rc = cf->real->pMethods->xClose(cf->real);
	return rc;
}

static int
c_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct cfile *cf = (struct cfile *)f;
	int bad;

	pthread_mutex_lock(&mu);
	bad = cf->t != NULL && fault(HL_CRASHVFS_READ);
	pthread_mutex_unlock(&mu);
	if (bad)
		return fail_rc;
	return cf->real->pMethods->xRead(cf->real, buf, amt, off);
}

static int
c_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct cfile *cf = (struct cfile *)f;
	int rc;

	pthread_mutex_lock(&mu);
	if (cf->t != NULL) {
		maybe_crash();
		if (fault(HL_CRASHVFS_WRITE)) {
			pthread_mutex_unlock(&mu);
			return fail_rc;
		}
		log_save(cf, off, amt);
	}
	rc = cf->real->pMethods->xWrite(cf->real, buf, amt, off);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct cfile *cf = (struct cfile *)f;
	int rc;

	pthread_mutex_lock(&mu);
	if (cf->t != NULL) {
		maybe_crash();
		log_save(cf, size, file_size(cf->real) - size);
	}
	rc = cf->real->pMethods->xTruncate(cf->real, size);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
c_sync(sqlite3_file *f, int flags)
{
	struct cfile *cf = (struct cfile *)f;
	int delay;

	if (cf->t == NULL)
		return SQLITE_OK;
	pthread_mutex_lock(&mu);
	delay = sync_delay_ms + (cf->db ? db_sync_delay_ms : 0);
	pthread_mutex_unlock(&mu);
	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	pthread_mutex_lock(&mu);
	maybe_crash();
	if (fault(HL_CRASHVFS_SYNC)) {
		pthread_mutex_unlock(&mu);
		return fail_rc;
	}
	log_clear(cf->t);
	cf->t->synced = file_size(cf->real);
	pthread_mutex_unlock(&mu);
	return SQLITE_OK;
}

/* The rest passes through. */
static int
c_file_size(sqlite3_file *f, sqlite3_int64 *out)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xFileSize(cf->real, out);
}

static int
c_lock(sqlite3_file *f, int l)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xLock(cf->real, l);
}

static int
c_unlock(sqlite3_file *f, int l)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xUnlock(cf->real, l);
}

static int
c_check_lock(sqlite3_file *f, int *out)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xCheckReservedLock(cf->real, out);
}

static int
c_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xFileControl(cf->real, op, arg);
}

static int
c_sector(sqlite3_file *f)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xSectorSize(cf->real);
}

static int
c_devchar(sqlite3_file *f)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xDeviceCharacteristics(cf->real);
}

static int
c_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xShmMap(cf->real, pg, sz, ext, pp);
}

static int
c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xShmLock(cf->real, off, n, flags);
}

static void
c_shm_barrier(sqlite3_file *f)
{
	struct cfile *cf = (struct cfile *)f;

	cf->real->pMethods->xShmBarrier(cf->real);
}

static int
c_shm_unmap(sqlite3_file *f, int del)
{
	struct cfile *cf = (struct cfile *)f;

	return cf->real->pMethods->xShmUnmap(cf->real, del);
}

/* Version 2: no xFetch, so no memory-mapped reads bypass c_read. */
static const sqlite3_io_methods methods = {
	.iVersion = 2,
	.xClose = c_close,
	.xRead = c_read,
	.xWrite = c_write,
	.xTruncate = c_truncate,
	.xSync = c_sync,
	.xFileSize = c_file_size,
	.xLock = c_lock,
	.xUnlock = c_unlock,
	.xCheckReservedLock = c_check_lock,
	.xFileControl = c_fcntl,
	.xSectorSize = c_sector,
	.xDeviceCharacteristics = c_devchar,
	.xShmMap = c_shm_map,
	.xShmLock = c_shm_lock,
	.xShmBarrier = c_shm_barrier,
	.xShmUnmap = c_shm_unmap,
};

static struct track *
track_for(const char *path)
{
	struct track *free_slot = NULL;
	int i;

	for (i = 0; i < NTRACK; i++) {
		if (strcmp(tracks[i].path, path) == 0)
			return &tracks[i];
		if (free_slot == NULL && tracks[i].refs == 0)
			free_slot = &tracks[i];
	}
	if (free_slot == NULL || strlen(path) >= sizeof(free_slot->path))
		abort();
	log_clear(free_slot);
	strcpy(free_slot->path, path);
	return free_slot;
}

static int
c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *oflags)
{
	struct cfile *cf = (struct cfile *)f;
	int rc;

	cf->real = (sqlite3_file *)(cf + 1);
	cf->t = NULL;
	cf->db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
	rc = parent->xOpen(parent, name, cf->real, flags, oflags);
	if (rc != SQLITE_OK) {
		cf->base.pMethods = NULL;
		return rc;
	}
	cf->base.pMethods = &methods;
	if (flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
	    SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB)) {
		pthread_mutex_lock(&mu);
		counts[HL_CRASHVFS_TEMP]++;
		pthread_mutex_unlock(&mu);
	}
	if (name == NULL || (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
	    SQLITE_OPEN_MAIN_JOURNAL)) == 0)
		return SQLITE_OK;
	pthread_mutex_lock(&mu);
	cf->t = track_for(name);
	if (cf->t->refs++ == 0) {
		log_clear(cf->t);
		cf->t->synced = file_size(cf->real);
	}
	cf->t->any = cf->real;
	pthread_mutex_unlock(&mu);
	return SQLITE_OK;
}

static int
c_delete(sqlite3_vfs *vfs, const char *name, int syncdir)
{
	int i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < NTRACK; i++)
		if (strcmp(tracks[i].path, name) == 0 && tracks[i].refs == 0) {
			log_clear(&tracks[i]);
			tracks[i].path[0] = '\0';
		}
	pthread_mutex_unlock(&mu);
	return parent->xDelete(parent, name, syncdir);
}

static int
c_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return parent->xAccess(parent, name, flags, out);
}

static int
c_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return parent->xFullPathname(parent, name, n, out);
}

static void *
c_dlopen(sqlite3_vfs *vfs, const char *name)
{
	return parent->xDlOpen(parent, name);
}

static void
c_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	parent->xDlError(parent, n, msg);
}

static void (*c_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return parent->xDlSym(parent, h, sym);
}

static void
c_dlclose(sqlite3_vfs *vfs, void *h)
{
	parent->xDlClose(parent, h);
}

static int
c_random(sqlite3_vfs *vfs, int n, char *out)
{
	return parent->xRandomness(parent, n, out);
}

static int
c_sleep(sqlite3_vfs *vfs, int us)
{
	return parent->xSleep(parent, us);
}

static int
c_time(sqlite3_vfs *vfs, double *out)
{
	return parent->xCurrentTime(parent, out);
}

static int
c_lasterr(sqlite3_vfs *vfs, int n, char *msg)
{
	return parent->xGetLastError(parent, n, msg);
}

static int
c_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return parent->xCurrentTimeInt64(parent, out);
}

static sqlite3_vfs vfs = {
	.iVersion = 2,
	.zName = "crashvfs",
	.xOpen = c_open,
	.xDelete = c_delete,
	.xAccess = c_access,
	.xFullPathname = c_fullpath,
	.xDlOpen = c_dlopen,
	.xDlError = c_dlerror,
	.xDlSym = c_dlsym,
	.xDlClose = c_dlclose,
	.xRandomness = c_random,
	.xSleep = c_sleep,
	.xCurrentTime = c_time,
	.xGetLastError = c_lasterr,
	.xCurrentTimeInt64 = c_time64,
};

int
hl_crashvfs_register(void)
{
	if (parent != NULL)
		return SQLITE_OK;
	if (sqlite3_initialize() != SQLITE_OK ||
	    (parent = sqlite3_vfs_find(NULL)) == NULL)
		return SQLITE_ERROR;
	vfs.mxPathname = parent->mxPathname;
	vfs.szOsFile = (int)sizeof(struct cfile) + parent->szOsFile;
	return sqlite3_vfs_register(&vfs, 1);
}

void
hl_crashvfs_reset(void)
{
	int i;

	pthread_mutex_lock(&mu);
	memset(counts, 0, sizeof(counts));
	fail_kind = -1;
	fail_n = crash_n = ops = 0;
	fired = 0;
	sync_delay_ms = 0;
	db_sync_delay_ms = 0;
	for (i = 0; i < NTRACK; i++) {
		log_clear(&tracks[i]);
		tracks[i].synced = file_size(tracks[i].any);
	}
	pthread_mutex_unlock(&mu);
}

void
hl_crashvfs_fail(enum hl_crashvfs_kind kind, long n, int rc)
{
	pthread_mutex_lock(&mu);
	fail_kind = (int)kind;
	fail_n = n;
	fail_rc = rc;
	fired = 0;
	pthread_mutex_unlock(&mu);
}

int
hl_crashvfs_fired(void)
{
	int v;

	pthread_mutex_lock(&mu);
	v = fired;
	pthread_mutex_unlock(&mu);
	return v;
}

long
hl_crashvfs_count(enum hl_crashvfs_kind kind)
{
	long v;

	pthread_mutex_lock(&mu);
	v = counts[kind];
	pthread_mutex_unlock(&mu);
	return v;
}

void
hl_crashvfs_crash_at(long n)
{
	pthread_mutex_lock(&mu);
	crash_n = n;
	pthread_mutex_unlock(&mu);
}

long
hl_crashvfs_ops(void)
{
	long v;

	pthread_mutex_lock(&mu);
	v = ops;
	pthread_mutex_unlock(&mu);
	return v;
}

void
hl_crashvfs_sync_delay(int ms)
{
	pthread_mutex_lock(&mu);
	sync_delay_ms = ms;
	pthread_mutex_unlock(&mu);
}

void
hl_crashvfs_db_sync_delay(int ms)
{
	pthread_mutex_lock(&mu);
	db_sync_delay_ms = ms;
	pthread_mutex_unlock(&mu);
}

void
hl_crashvfs_power_loss(void)
{
	pthread_mutex_lock(&mu);
	power_loss_locked();
	pthread_mutex_unlock(&mu);
}
