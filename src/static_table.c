/*
 * static_table: the published tree in memory, swapped without a lock on
 * the readers' side, kept fresh with inotify (see static_table.h).
 *
 * The watcher thread sleeps in poll(2) on the inotify descriptor.  When
 * events come it marks the table stale (before reading them, so that a
 * request that finds the queue empty finds the mark), reads them, waits
 * for the tree to be quiet a moment (a publish renames many files) with
 * no temporary (dot) file it saw made still unrenamed (ST_SETTLE_MAX at
 * most), and, unless every event was about a dot file, walks the tree
 * again into a new table.  The mark is cleared once the new table is in
 * place and the queue is still empty.  A request therefore checks, in this
 * order: the queue is empty (FIONREAD), the mark is clear, and only then
 * reads the table pointer.
 *
 * A publisher of the same process may say when it publishes
 * (hl_stable_publishing): between its begin and its end the watcher only
 * marks the table stale and reads the events, so no table is walked
 * halfway through a publish nor while its files wait for their syncfs;
 * at the end it walks the tree at once, with no quiet time to wait for.
 * Changes made by anyone else take the path above.
 *
 * A file read anew is hashed for its ETag (the quoted MD5, as S3 sends)
 * unless its writer marked the ETag on it for this size and mtime
 * (etagmark.h, as pub_dir does): a publish of a big list is then not
 * hashed twice over, by the generator and again here.
 *
 * Reclamation is two counters of readers, one per epoch: a reader adds
 * itself to the counter of the current epoch and checks the epoch did not
 * move meanwhile; the (single) writer swaps the pointer, moves the epoch
 * and waits for the old epoch's counter to drop to zero.
 */
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "etagmark.h"
#include "log.h"
#include "static_table.h"
#include "tree.h"

#define ST_MAX_DEPTH	8
#define ST_MAX_PATH	1024
#define ST_SETTLE_MS	20		/* quiet time before a rebuild */
#define ST_SETTLE_MAX	500		/* ... but no longer than this */
#define ST_MASK		(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

struct hl_stable {
	int				 rootfd;
	int				 ino;	/* -1: no table used */
	int				 stopfd;
	int				 endfd;	/* a publish ended */
	atomic_int			 publishing;
	pthread_t			 th;
	int				 started;
	hl_stable_make_fn		 make;
	void				*cls;
	_Atomic(struct hl_stable_tab *)	 cur;
	atomic_uint			 epoch;
	atomic_uint			 readers[2];
	atomic_int			 stale;
	atomic_ulong			 builds;
};

struct hl_stable_blob {
	atomic_uint		 refs;
	size_t			 len;
	unsigned char		 data[];
};

/* A table being built. */
struct build {
	struct hl_stable	*t;
	const struct hl_stable_tab *old;
	struct hl_stable_ent	*ents;
	size_t			 n, cap, files, bytes;
	int			 full;	/* files left out for room */
};

void
hl_stable_blob_hold(struct hl_stable_blob *b)
{
	atomic_fetch_add(&b->refs, 1);
}

void
hl_stable_blob_drop(void *arg)
{
	struct hl_stable_blob *b = arg;

	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* The st_size bytes of fd, in a new blob (one hold), or NULL. */
static struct hl_stable_blob *
blob_read(int fd, const struct stat *st)
{
	struct hl_stable_blob *b;
	size_t off = 0, len = (size_t)st->st_size;
	ssize_t n;

	if ((b = malloc(sizeof(*b) + len + 1)) == NULL)
		return NULL;
	atomic_init(&b->refs, 1);
	b->len = len;
	while (off < len) {
		n = pread(fd, b->data + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {	/* error, or shrunk under us */
			free(b);
			return NULL;
		}
		off += (size_t)n;
	}
	return b;
}

/* The quoted MD5 of len bytes at p. */
static int
md5_mem(char etag[HL_STABLE_ETAG_LEN], const void *p, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(p, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return HL_EIO;
	hl_etagmark_quote(etag, md);
	return 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hl_stable_ent *)a)->path,
	    ((const struct hl_stable_ent *)b)->path);
}

const struct hl_stable_ent *
hl_stable_find(const struct hl_stable_tab *tab, const char *path)
{
	struct hl_stable_ent key;

	if (tab == NULL || tab->n == 0)
		return NULL;
	key.path = (char *)path;
	return bsearch(&key, tab->ents, tab->n, sizeof(key), ent_cmp);
}

static void
rep_clear(struct hl_stable_rep *r)
{
	if (r->ok != NULL)
		MHD_destroy_response(r->ok);
	if (r->nm != NULL)
		MHD_destroy_response(r->nm);
	hl_stable_blob_drop(r->blob);
	r->ok = r->nm = NULL;
	r->blob = NULL;
	r->data = NULL;
}

static void
tab_free(struct hl_stable_tab *tab)
{
	size_t i;

	if (tab == NULL)
		return;
	for (i = 0; i < tab->n; i++) {
		rep_clear(&tab->ents[i].plain);
		rep_clear(&tab->ents[i].gz);
		free(tab->ents[i].path);
	}
	free(tab->ents);
	free(tab);
}

static struct hl_stable_ent *
build_add(struct build *b, const char *path, int dir)
{
	struct hl_stable_ent *e;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 128;

		if ((e = realloc(b->ents, cap * sizeof(*e))) == NULL)
			return NULL;
		b->ents = e;
		b->cap = cap;
	}
	e = &b->ents[b->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL)
		return NULL;
	e->dir = dir;
	b->n++;
	return e;
}

/*
 * The bytes and ETag of the file open on fd: the old table's when it is
 * the same file, unchanged; else read, with the ETag its writer marked
 * on it (etagmark.h), or else hashed.  0 or -1.
 */
static int
rep_fill(struct build *b, const char *path, struct hl_stable_rep *r,
    int fd)
{
	const struct hl_stable_ent *o = hl_stable_find(b->old, path);
	const struct stat *s;

	if (o != NULL && !o->dir && o->plain.blob != NULL) {
		s = &o->plain.st;
		if (s->st_dev == r->st.st_dev && s->st_ino == r->st.st_ino &&
		    s->st_size == r->st.st_size &&
		    s->st_mtim.tv_sec == r->st.st_mtim.tv_sec &&
		    s->st_mtim.tv_nsec == r->st.st_mtim.tv_nsec) {
			memcpy(r->etag, o->plain.etag, sizeof(r->etag));
			hl_stable_blob_hold(o->plain.blob);
			r->blob = o->plain.blob;
			r->data = r->blob->data;
			return 0;
		}
	}
	if ((r->blob = blob_read(fd, &r->st)) == NULL)
		return -1;
	r->data = r->blob->data;
	if (hl_etagmark_get(r->etag, fd, &r->st) != 0 &&
	    md5_mem(r->etag, r->data, r->blob->len) != 0) {
		hl_stable_blob_drop(r->blob);
		r->blob = NULL;
		return -1;
	}
	return 0;
}

/* Adds the tree under dfd (known as rel, "." for the root); owns dfd. */
static void
walk(struct build *b, int dfd, const char *rel, int depth)
{
	char path[ST_MAX_PATH], proc[64];
	struct hl_stable_ent *e;
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int fd;

	/* The watch comes before the listing: nothing slips in between. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	if (inotify_add_watch(b->t->ino, proc, ST_MASK) < 0) {
		hl_log_warnx("static: cannot watch %s: %s", rel,
		    strerror(errno));
		atomic_store(&b->t->stale, 2);	/* never trust a table */
		close(dfd);
		return;
	}
	if (build_add(b, rel, 1) == NULL || (dp = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (b->files >= HL_STABLE_MAX_FILES) {
			b->full = 1;
			break;
		}
		if (de->d_name[0] == '.')
			continue;	/* ".", "..", temporary files */
		if (de->d_type != DT_REG && de->d_type != DT_DIR &&
		    de->d_type != DT_UNKNOWN)
			continue;	/* symlinks and the like */
		if (snprintf(path, sizeof(path), "%s%s%s",
		    strcmp(rel, ".") == 0 ? "" : rel,
		    strcmp(rel, ".") == 0 ? "" : "/", de->d_name) >=
		    (int)sizeof(path) - 16)
			continue;
		if (hl_tree_cache_class(path) == HL_CACHE_IMMUTABLE ||
		    (de->d_type == DT_DIR && (strcmp(path, "objects") == 0 ||
		    strcmp(path, "changes") == 0)))
			continue;
		fd = openat(dirfd(dp), de->d_name, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0) {
			close(fd);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth < ST_MAX_DEPTH)
				walk(b, fd, path, depth + 1);
			else
				close(fd);
			continue;
		}
		if (S_ISREG(st.st_mode) &&
		    st.st_size > HL_STABLE_MAX_BYTES - (off_t)b->bytes)
			b->full = 1;
		if (!S_ISREG(st.st_mode) || b->full ||
		    (e = build_add(b, path, 0)) == NULL) {
			close(fd);
			continue;
		}
		e->plain.st = st;
		if (rep_fill(b, path, &e->plain, fd) != 0)
			e->dir = -1;	/* left to the ordinary path */
		close(fd);
		b->files++;
		b->bytes += (size_t)st.st_size;
	}
	closedir(dp);
}

/* Pairs each file with its .gz and makes the responses. */
static void
finish(struct build *b)
{
	struct hl_stable_ent *e, *g;
	struct hl_stable_tab key = { 0 };
	char gz[ST_MAX_PATH + 4];
	size_t i, o;

	qsort(b->ents, b->n, sizeof(*b->ents), ent_cmp);
	key.ents = b->ents;
	key.n = b->n;
	for (i = 0; i < b->n; i++) {
		e = &b->ents[i];
		if (e->dir != 0 || strcmp(hl_tree_content_type(e->path),
		    "application/gzip") == 0)
			continue;
		snprintf(gz, sizeof(gz), "%s.gz", e->path);
		g = (struct hl_stable_ent *)hl_stable_find(&key, gz);
		if (g == NULL || g->dir != 0) {
			struct stat st;

			/* left out for room: the ordinary path pairs them */
			if (b->full && fstatat(b->t->rootfd, gz, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				e->dir = -1;
			continue;
		}
		hl_stable_blob_hold(g->plain.blob);
		e->gz.blob = g->plain.blob;
		e->gz.data = g->plain.data;
		e->gz.st = g->plain.st;
		memcpy(e->gz.etag, g->plain.etag, sizeof(e->gz.etag));
		e->has_gz = 1;
	}
	for (i = 0, o = 0; i < b->n; i++) {
		e = &b->ents[i];
		if (e->dir == 0 && b->t->make(e, b->t->cls) != 0)
			e->dir = -1;
		if (e->dir < 0) {	/* left out */
			rep_clear(&e->plain);
			rep_clear(&e->gz);
			free(e->path);
			continue;
		}
		b->ents[o++] = *e;
	}
	b->n = o;
}

/* Walks the tree into a new table and puts it in place. */
static void
rebuild(struct hl_stable *t)
{
	struct build b = { 0 };
	struct hl_stable_tab *tab, *old;
	struct timespec ts = { 0, 100 * 1000 };
	unsigned e;
	int fd;

	b.t = t;
	b.old = atomic_load(&t->cur);	/* only this thread writes it */
	if ((tab = calloc(1, sizeof(*tab))) == NULL)
		return;
	fd = openat(t->rootfd, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (fd >= 0)
		walk(&b, fd, ".", 0);
	finish(&b);
	tab->ents = b.ents;
	tab->n = b.n;
	old = atomic_exchange(&t->cur, tab);
	e = atomic_load(&t->epoch);
	atomic_store(&t->epoch, e + 1);
	while (atomic_load(&t->readers[e & 1]) != 0)
		nanosleep(&ts, NULL);
	tab_free(old);
	atomic_fetch_add(&t->builds, 1);
}

static int
queued(struct hl_stable *t)
{
	int n = 0;

	if (ioctl(t->ino, FIONREAD, &n) != 0)
		return 1;
	return n;
}

/*
 * Reads every queued event: 1 if one of them asks for a new table.  Keeps
 * in *tmps how many dot files (a writer's temporary files) were created
 * and not yet renamed or removed since the count began.
 */
static int
drain(struct hl_stable *t, int *tmps)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;
	int need = 0;

	for (;;) {
		n = read(t->ino, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return need;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len == 0 || ev->name[0] != '.' ||
			    (ev->mask & IN_ISDIR))
				need = 1;
			else if (ev->mask & IN_CREATE)
				(*tmps)++;
			else if ((ev->mask & (IN_MOVED_FROM | IN_DELETE)) &&
			    *tmps > 0)
				(*tmps)--;
		}
	}
}

/* The table again now, and clear the mark unless more came meanwhile. */
static void
refresh(struct hl_stable *t, int need)
{
	int one = 1;

	if (need)
		rebuild(t);
	/* unless rebuild gave up meanwhile (2) */
	if (queued(t) == 0)
		atomic_compare_exchange_strong(&t->stale, &one, 0);
}

static void *
watcher(void *arg)
{
	struct hl_stable *t = arg;
	struct pollfd pf[3];
	uint64_t ends;
	int need, waited, tmps = 0, held = 0;

	for (;;) {
		pf[0].fd = t->ino;
		pf[0].events = POLLIN;
		pf[1].fd = t->stopfd;
		pf[1].events = POLLIN;
		pf[2].fd = t->endfd;
		pf[2].events = POLLIN;
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents != 0)
			break;
		if (pf[2].revents != 0 &&
		    read(t->endfd, &ends, sizeof(ends)) < 0)
			ends = 0;	/* counted again by the next end */
		if (atomic_load(&t->stale) == 2) {
			(void)drain(t, &tmps);	/* given up: no table */
			continue;
		}
		if (atomic_load(&t->publishing)) {
			/* Stale until the publish ends; its end walks. */
			atomic_store(&t->stale, 1);
			held |= drain(t, &tmps);
			continue;
		}
		if (pf[2].revents != 0 || held) {
			/* A publish ended: every event of it is queued. */
			atomic_store(&t->stale, 1);
			need = drain(t, &tmps) | held;
			held = 0;
			tmps = 0;
			refresh(t, need);
			continue;
		}
		atomic_store(&t->stale, 1);
		tmps = 0;
		need = drain(t, &tmps);
		/*
		 * Quiet for ST_SETTLE_MS, and no temporary file left open: a
		 * publish is over (pub_dir's manifest files wait, written,
		 * through its syncfs; a table walked then would be thrown
		 * away at its end).
		 */
		for (waited = 0; waited < ST_SETTLE_MAX;
		    waited += ST_SETTLE_MS) {
			pf[0].revents = 0;
			if (poll(pf, 1, ST_SETTLE_MS) <= 0) {
				if (tmps == 0)
					break;
				continue;
			}
			need |= drain(t, &tmps);
			if (atomic_load(&t->publishing))
				break;
		}
		if (atomic_load(&t->publishing)) {
			held |= need;	/* the publish's end walks */
			continue;
		}
		refresh(t, need);
	}
	return NULL;
}

void
hl_stable_publishing(struct hl_stable *t, int begin)
{
	uint64_t one = 1;

	if (t == NULL || t->ino < 0)
		return;
	if (begin) {
		atomic_store(&t->publishing, 1);
		return;
	}
	atomic_store(&t->publishing, 0);
	if (write(t->endfd, &one, sizeof(one)) < 0)
		hl_log_warnx("static: cannot wake the watcher");
}

int
hl_stable_new(struct hl_stable **out, int rootfd, hl_stable_make_fn make,
    void *cls, struct hl_err *err)
{
	struct hl_stable *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "static: out of memory");
	t->rootfd = rootfd;
	t->make = make;
	t->cls = cls;
	t->stopfd = -1;
	t->endfd = -1;
	atomic_init(&t->publishing, 0);
	atomic_init(&t->cur, NULL);
	atomic_init(&t->epoch, 0);
	atomic_init(&t->readers[0], 0);
	atomic_init(&t->readers[1], 0);
	atomic_init(&t->stale, 2);
	atomic_init(&t->builds, 0);
	t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ino < 0 ||
	    (t->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (t->endfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		hl_log_warnx("static: no inotify (%s): every request opens"
		    " its file", strerror(errno));
		if (t->ino >= 0)
			close(t->ino);
		t->ino = -1;
		*out = t;
		return 0;
	}
	atomic_store(&t->stale, 1);
	rebuild(t);
	if (atomic_load(&t->stale) == 1 && queued(t) == 0)
		atomic_store(&t->stale, 0);
	*out = t;
	return 0;
}

int
hl_stable_start(struct hl_stable *t, struct hl_err *err)
{
	if (t == NULL || t->ino < 0 || t->started)
		return 0;
	if (pthread_create(&t->th, NULL, watcher, t) != 0)
		return hl_err_set(err, HL_EIO, "static: cannot start a"
		    " thread");
	t->started = 1;
	return 0;
}

void
hl_stable_free(struct hl_stable *t)
{
	uint64_t one = 1;

	if (t == NULL)
		return;
	if (t->started) {
		if (write(t->stopfd, &one, sizeof(one)) < 0)
			hl_log_warnx("static: cannot stop the watcher");
		pthread_join(t->th, NULL);
	}
	tab_free(atomic_load(&t->cur));
	if (t->ino >= 0)
		close(t->ino);
	if (t->stopfd >= 0)
		close(t->stopfd);
	if (t->endfd >= 0)
		close(t->endfd);
	free(t);
}

const struct hl_stable_tab *
hl_stable_enter(struct hl_stable *t, unsigned *tok)
{
	unsigned e;
	int n = 0;

	if (t == NULL || t->ino < 0)
		return NULL;
	/* The order matters: queue, then mark, then pointer. */
	if (ioctl(t->ino, FIONREAD, &n) != 0 || n != 0 ||
	    atomic_load(&t->stale) != 0)
		return NULL;
	for (;;) {
		e = atomic_load(&t->epoch);
		atomic_fetch_add(&t->readers[e & 1], 1);
		if (atomic_load(&t->epoch) == e)
			break;
		atomic_fetch_sub(&t->readers[e & 1], 1);
	}
	*tok = e;
	return atomic_load(&t->cur);
}

void
hl_stable_leave(struct hl_stable *t, unsigned tok)
{
	atomic_fetch_sub(&t->readers[tok & 1], 1);
}

unsigned long
hl_stable_builds(struct hl_stable *t)
{
	return t != NULL ? atomic_load(&t->builds) : 0;
}
