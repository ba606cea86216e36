/*
 * spares: a pool of emptied files for the directory target (see
 * spares.h for why and when a file is kept).
 *
 * hl_spares_put only renames the file to a spare name and queues it; the
 * checks and the emptying (ftruncate frees the file's blocks, which costs
 * 0.1 to 0.6 ms a file where the file system discards freed blocks at
 * once) are the keeper thread's, at the lowest CPU priority, so that the
 * next publish does not wait for them.  Spares queued and not yet
 * checked are not handed out.
 *
 * When it has nothing queued, the keeper also makes new empty spares
 * until `fresh` are ready, so that a publish before pruning has given
 * any back (the first ones after start, a burst) takes them instead of
 * making its files on the way to the manifest.  It makes each in the
 * subdirectory FRESH and then renames it into the pool: making a file can
 * take a millisecond (see spares.h), all of it under its directory's
 * lock, which a publish renaming a spare out of the pool would wait for.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spares.h"

#define SPARE_PREFIX	".spare."
#define FRESH		"fresh"	/* where the keeper makes new spares */
#define PENDING_MAX	16	/* set aside by replace before a settle */

struct hl_spares {
	char		*dir;
	int		 lockfd;
	size_t		 max;
	size_t		 fresh;		/* made ready ahead, when idle */
	mode_t		 mode;		/* a new file's, after the umask */
	char		*pending[PENDING_MAX];	/* hl_spares_replace's */
	size_t		 npending;
	pthread_t	 keeper;
	int		 running;
	pthread_mutex_t	 mu;		/* guards the rest */
	pthread_cond_t	 cv;
	unsigned	*ready;		/* numbers of the spares, a stack */
	size_t		 n;
	unsigned	*queued;	/* renamed, not yet checked */
	size_t		 nq;
	size_t		 checking;	/* being renamed in or checked */
	unsigned	 next;		/* the next number to name one */
	int		 stop;
};

/* The process's umask, read without changing it (Linux 4.7 and later). */
static mode_t
umask_now(void)
{
	char line[128];
	unsigned m = 022;
	FILE *f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 022;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	fclose(f);
	return (mode_t)(m & 0777);
}

static int
spare_name(char *buf, size_t len, const struct hl_spares *s, unsigned n)
{
	int k = snprintf(buf, len, "%s/" SPARE_PREFIX "%u", s->dir, n);

	return k < 0 || (size_t)k >= len ? -1 : 0;
}

/*
 * Spare n, at its name: emptied if it passes the checks of spares.h, else
 * removed.  0 when it is to be kept.
 */
static int
keep(const struct hl_spares *s, unsigned n)
{
	char path[PATH_MAX];
	struct stat sb;
	int fd, ok = 0;

	if (spare_name(path, sizeof(path), s, n) != 0)
		return -1;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY)) >= 0) {
		/* Granted only while no other descriptor holds the file. */
		ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_nlink == 1 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0;
		if (ok) {
			ok = ftruncate(fd, 0) == 0 &&
			    ((sb.st_mode & 07777) == s->mode ||
			    fchmod(fd, s->mode) == 0);
			(void)fcntl(fd, F_SETLEASE, F_UNLCK);
		}
		close(fd);
	}
	if (!ok) {
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/*
 * Makes spare n, empty, in FRESH, and renames it into the pool.  Its mode
 * is a new file's, as open(2) makes it under the umask.  0, or -1.
 */
static int
make(const struct hl_spares *s, unsigned n)
{
	char path[PATH_MAX], made[PATH_MAX];
	int fd, k;

	k = snprintf(made, sizeof(made), "%s/" FRESH "/" SPARE_PREFIX "%u",
	    s->dir, n);
	if (k < 0 || (size_t)k >= sizeof(made) ||
	    spare_name(path, sizeof(path), s, n) != 0 ||
	    (fd = open(made, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY, 0644)) < 0)
		return -1;
	close(fd);
	/* Never over a spare of the pool's (adopt numbers them all first). */
	if (renameat2(AT_FDCWD, made, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		(void)unlink(made);
		return -1;
	}
	return 0;
}

/* Is there room for one more spare?  (s->mu held) */
static int
room(const struct hl_spares *s)
{
	return s->n + s->nq + s->checking < s->max;
}

/* Should the keeper make a new spare now?  (s->mu held) */
static int
short_of_fresh(const struct hl_spares *s)
{
	return s->nq == 0 && s->n + s->checking < s->fresh && room(s) &&
	    s->next < UINT_MAX / 2;
}

/*
 * Checks the queued spares and makes them ready, or makes new ones while
 * fewer than s->fresh are ready, until told to stop.
 */
static void *
keeper_main(void *arg)
{
	struct hl_spares *s = arg;
	unsigned n;
	int kept, made;

	(void)pthread_setname_np(pthread_self(), "hl-spares");
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->nq == 0 && !s->stop && !short_of_fresh(s))
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		made = s->nq == 0;
		n = made ? s->next++ : s->queued[--s->nq];
		s->checking++;
		pthread_mutex_unlock(&s->mu);
		kept = (made ? make(s, n) : keep(s, n)) == 0;
		pthread_mutex_lock(&s->mu);
		s->checking--;
		if (made && !kept)
			s->fresh = 0;	/* no more tries: as without fresh */
		if (kept) {
			assert(s->n < s->max);
			s->ready[s->n++] = n;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queues spare n for the keeper (s->mu held; room checked). */
static void
enqueue(struct hl_spares *s, unsigned n)
{
	s->queued[s->nq++] = n;
	pthread_cond_signal(&s->cv);
}

/* The number of a spare's name, or -1 when it is not one. */
static long
spare_number(const char *name)
{
	unsigned long v;
	char *end;

	if (strncmp(name, SPARE_PREFIX, sizeof(SPARE_PREFIX) - 1) != 0 ||
	    name[sizeof(SPARE_PREFIX) - 1] < '0' ||
	    name[sizeof(SPARE_PREFIX) - 1] > '9')
		return -1;
	errno = 0;
	v = strtoul(name + sizeof(SPARE_PREFIX) - 1, &end, 10);
	return *end != '\0' || errno != 0 || v >= UINT_MAX / 2 ? -1 :
	    (long)v;
}

/*
 * Takes over the spares a process before this one left in s->dir (s->mu
 * held).  Each is renamed past the highest number found, so that the
 * keeper's checks come after this process holds the lock, and so that a
 * name met again in the listing is known as done.
 */
static void
adopt(struct hl_spares *s)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	unsigned base;
	long v;
	DIR *dp;

	if ((dp = opendir(s->dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL)
		if ((v = spare_number(de->d_name)) >= 0 &&
		    (unsigned)v >= s->next)
			s->next = (unsigned)v + 1;
	base = s->next;
	rewinddir(dp);
	while ((de = readdir(dp)) != NULL) {
		if ((v = spare_number(de->d_name)) < 0 ||
		    (unsigned)v >= base ||
		    snprintf(from, sizeof(from), "%s/%s", s->dir,
		    de->d_name) >= (int)sizeof(from) ||
		    spare_name(to, sizeof(to), s, s->next) != 0)
			continue;
		if (!room(s))
			(void)unlink(from);
		else if (rename(from, to) == 0)
			enqueue(s, s->next++);
	}
	closedir(dp);
}

/*
 * Makes s->dir/FRESH, or empties it of the files a process before this
 * one made and did not rename into the pool.  0, or -1.
 */
static int
fresh_dir(const struct hl_spares *s)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dp;
	int fd;

	if (snprintf(path, sizeof(path), "%s/" FRESH, s->dir) >=
	    (int)sizeof(path) || (mkdir(path, 0755) != 0 && errno != EEXIST) ||
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dp)) != NULL)
		if (spare_number(de->d_name) >= 0)
			(void)unlinkat(fd, de->d_name, 0);
	closedir(dp);
	return 0;
}

int
hl_spares_open(struct hl_spares **out, const char *dir, size_t max,
    size_t fresh, struct hl_err *err)
{
	struct hl_spares *s;
	char path[PATH_MAX];

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/.spares.lock", dir) >=
	    (int)sizeof(path))
		return hl_err_set(err, HL_EINVAL, "path too long: %s", dir);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	s->lockfd = -1;
	s->max = max ? max : HL_SPARES_MAX;
	s->fresh = fresh < s->max ? fresh : s->max;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if ((s->dir = strdup(dir)) == NULL ||
	    (s->ready = calloc(s->max, sizeof(*s->ready))) == NULL ||
	    (s->queued = calloc(s->max, sizeof(*s->queued))) == NULL) {
		hl_spares_close(s);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	s->mode = 0644 & ~umask_now();
	if ((mkdir(dir, 0755) != 0 && errno != EEXIST) ||
	    (s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		hl_err_set(err, HL_EIO, "%s: %s", path, strerror(errno));
		hl_spares_close(s);
		return HL_EIO;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		hl_err_set(err, errno == EWOULDBLOCK ? HL_EEXISTS : HL_EIO,
		    "%s: %s", path, errno == EWOULDBLOCK ?
		    "held by another process" : strerror(errno));
		hl_spares_close(s);
		return err->code;
	}
	if (s->fresh > 0 && fresh_dir(s) != 0)
		s->fresh = 0;
	/* Before the keeper runs: it numbers its new spares past these. */
	pthread_mutex_lock(&s->mu);
	adopt(s);
	pthread_mutex_unlock(&s->mu);
	if (pthread_create(&s->keeper, NULL, keeper_main, s) != 0) {
		hl_spares_close(s);
		return hl_err_set(err, HL_ENOMEM, "no thread for the spares");
	}
	s->running = 1;
	*out = s;
	return 0;
}

void
hl_spares_close(struct hl_spares *s)
{
	if (s == NULL)
		return;
	hl_spares_settle(s);
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		s->nq = 0;	/* left on disk, adopted by the next owner */
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->keeper, NULL);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);	/* and its lock */
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->queued);
	free(s->ready);
	free(s->dir);
	free(s);
}

int
hl_spares_put(struct hl_spares *s, const char *path)
{
	char to[PATH_MAX];
	unsigned n;
	int rc, saved;

	if (s == NULL)
		return unlink(path);
	/* The room is held (queued) while the rename is made. */
	pthread_mutex_lock(&s->mu);
	if (!room(s) || s->next >= UINT_MAX / 2 ||
	    spare_name(to, sizeof(to), s, s->next) != 0) {
		pthread_mutex_unlock(&s->mu);
		return unlink(path);
	}
	n = s->next++;
	s->checking++;
	pthread_mutex_unlock(&s->mu);
	rc = rename(path, to);
	saved = errno;
	pthread_mutex_lock(&s->mu);
	s->checking--;
	if (rc == 0)
		enqueue(s, n);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		return 0;
	errno = saved;
	return errno == ENOENT ? -1 : unlink(path);
}

int
hl_spares_take(struct hl_spares *s, char *buf, size_t len)
{
	int rc = -1;

	if (s == NULL)
		return -1;
	pthread_mutex_lock(&s->mu);
	if (s->n > 0 && spare_name(buf, len, s, s->ready[s->n - 1]) == 0) {
		s->n--;
		rc = 0;
		if (short_of_fresh(s))
			pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
hl_spares_replace(struct hl_spares *s, const char *from, const char *to)
{
	char *kept;

	if (s == NULL || s->npending == PENDING_MAX)
		return rename(from, to);
	/* from and to trade places in one step: to is never missing. */
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) != 0)
		return rename(from, to);
	if ((kept = strdup(from)) == NULL) {
		(void)unlink(from);
		return 0;
	}
	s->pending[s->npending++] = kept;
	return 0;
}

void
hl_spares_settle(struct hl_spares *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->npending; i++) {
		(void)hl_spares_put(s, s->pending[i]);
		free(s->pending[i]);
	}
	s->npending = 0;
}

size_t
hl_spares_count(struct hl_spares *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}
