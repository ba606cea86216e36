/*
 * listseg: cuts a big list's JSON into content-addressed segments (see
 * listseg.h for the layout and the boundary rule).
 *
 * A build serialises the items once, into one buffer per segment.  A
 * segment whose bytes equal one of the previous build's is taken over with
 * its hashes and gzip; the others are left "pending" (raw bytes in id.data,
 * no hash yet) and compressed at the end by a small pool of threads that
 * each take the next pending segment: every segment is compressed alone,
 * so thread timing changes only the order of the work, never the bytes.
 * Segments are compressed in chunks of HL_BLOB_CHUNK_SMALL (blob.h,
 * HL_BLOB_SMALL_CHUNKS), and the open segment (the last, not ended by
 * the boundary rule) keeps its memo: an append reopens it and compresses
 * and hashes its last chunk again, not the whole segment.  Segments take
 * no MD5 (HL_BLOB_NO_MD5): no manifest lists them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <libdeflate.h>

#include "listseg.h"

#define SEG_HEAD	"{\"items\":["
#define SEG_TAIL	"]}\n"

/*
 * A spooled list's new segments are compressed and written to the spool
 * whenever this many bytes of them wait, so that memory holds a few MB of
 * them whatever the list's size (hl_lseg_append).
 */
#define SPOOL_PENDING	(2 * 1024 * 1024)

/*
 * A full build of a spooled list hands each new segment, as soon as it is
 * closed, to HL_LSEG_THREADS threads of their own: hashed, compressed and
 * written to the spool there while the caller renders the next ones.  At
 * most this many bytes of segments wait for them; the caller waits beyond.
 */
#define SPOOL_QUEUE	(4 * 1024 * 1024)

/* One segment for the spool thread; its results go to out.v[idx]. */
struct sjob {
	size_t		 idx;
	unsigned char	*data;
	size_t		 len;
	struct hl_blob	 id;
	struct hl_blob	 gz;
	struct sjob	*next;
};

struct hl_lseg_bld {
	struct hl_lsegs	 out;
	size_t		 cap;
	struct hl_buf	 cur;
	size_t		 k;		/* items in cur */
	struct hl_lsegs	*old;		/* segments to take over, or NULL */
	size_t		 hint;		/* where to look in old first */
	struct hl_spool	*sp;		/* NULL: segments stay in memory */
	const char	*list;
	int		 fmt;
	int		 level;
	size_t		 pending;	/* bytes of segments not compressed */
	/* the reopened segment's memo and kept bytes, for its next close */
	struct hl_blob_memo memo;
	size_t		 keep;
	size_t		 sum, nsum;	/* bytes and count of segments closed */
	size_t		 made;
	/* the spool threads (a spooled full build) */
	int		 async;		/* threads started */
	pthread_t	 thr[HL_LSEG_THREADS];
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct sjob	*todo, **todo_end;
	struct sjob	*done;
	size_t		 queued;	/* bytes in todo or at work */
	int		 quit;
	int		 arc;		/* the threads' first error */
	struct hl_err	 aerr;
};
#define bld hl_lseg_bld

static int compress_pending(struct hl_lsegs *, int, size_t *,
    struct hl_err *);
static int seg_names(struct hl_lseg *, struct hl_err *);
static int enqueue(struct bld *, size_t, unsigned char *, size_t);

int
hl_lseg_wanted(int64_t count)
{
	return count > HL_LSEG_MIN_ITEMS;
}

/* Does a segment end after the item with this id?  (splitmix64) */
static int
boundary(int64_t id)
{
	uint64_t x = (uint64_t)id + 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x % HL_LSEG_AVG == 0;
}

void
hl_lsegs_clear(struct hl_lsegs *segs)
{
	size_t i;

	for (i = 0; i < segs->n; i++) {
		hl_blob_clear(&segs->v[i].id);
		hl_blob_clear(&segs->v[i].gz);
		hl_blob_memo_clear(&segs->v[i].memo);
	}
	free(segs->v);
	segs->v = NULL;
	segs->n = 0;
}

/* Are the bytes of spooled blob b those of p? */
static int
same_spooled(const struct hl_blob *b, const unsigned char *p, size_t len)
{
	unsigned char buf[65536];
	size_t off = 0;
	ssize_t k;
	int fd, same = 1;

	if ((fd = open(b->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (same && off < len) {
		k = pread(fd, buf, len - off < sizeof(buf) ? len - off :
		    sizeof(buf), (off_t)off);
		if (k <= 0 || memcmp(buf, p + off, (size_t)k) != 0)
			same = 0;
		else
			off += (size_t)k;
	}
	close(fd);
	return same;
}

/* A segment of old with exactly these bytes, or NULL. */
static struct hl_lseg *
find_old(struct bld *b, const unsigned char *p, size_t len,
    unsigned long crc)
{
	struct hl_lseg *g;
	size_t i, j;

	if (b->old == NULL)
		return NULL;
	for (i = 0; i < b->old->n; i++) {
		j = (b->hint + i) % b->old->n;
		g = &b->old->v[j];
		if ((g->id.data != NULL || g->id.spool != NULL) &&
		    (g->gz.data != NULL || g->gz.spool != NULL) &&
		    g->id.len == len && g->crc == crc &&
		    g->level == b->level &&
		    (g->id.data != NULL ? memcmp(g->id.data, p, len) == 0 :
		    same_spooled(&g->id, p, len))) {
			b->hint = j + 1;
			return g;
		}
	}
	return NULL;
}

/* Ends the segment in b->cur: taken from old, or left pending. */
static int
close_seg(struct bld *b, int closed)
{
	struct hl_lseg *g, *old;
	unsigned char *data;
	size_t len;

	if (b->out.n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;

		if ((g = realloc(b->out.v, cap * sizeof(*g))) == NULL)
			return HL_ENOMEM;
		b->out.v = g;
		b->cap = cap;
	}
	if (hl_buf_puts(&b->cur, SEG_TAIL) != 0)
		return HL_ENOMEM;
	data = (unsigned char *)hl_buf_detach(&b->cur, &len);
	if (data == NULL)
		return HL_ENOMEM;
	b->sum += len;
	b->nsum++;
	g = &b->out.v[b->out.n++];
	memset(g, 0, sizeof(*g));
	g->crc = libdeflate_crc32(0, data, len);
	g->n = b->k;
	g->closed = closed;
	b->k = 0;
	if ((old = find_old(b, data, len, g->crc)) != NULL) {
		*g = *old;
		memset(old, 0, sizeof(*old));
		free(data);
	} else if (b->async) {
		g->level = b->level;
		return enqueue(b, b->out.n - 1, data, len);
	} else {
		g->id.data = data;	/* pending: compress_pending() hashes it */
		g->id.len = len;
		g->level = b->level;
		b->pending += len;
		/* The reopened segment's bytes lead this one's. */
		g->memo = b->memo;
		g->keep = b->keep;
		memset(&b->memo, 0, sizeof(b->memo));
	}
	hl_blob_memo_clear(&b->memo);
	b->keep = 0;
	return 0;
}

/*
 * Compresses the pending segments and moves every segment still in
 * memory to the spool.
 */
static int
spool_pending(struct bld *b, struct hl_err *err)
{
	struct hl_lseg *g;
	size_t i;
	int rc;

	if ((rc = compress_pending(&b->out, b->level, &b->made, err)) != 0)
		return rc;
	b->pending = 0;
	for (i = 0; i < b->out.n; i++) {
		g = &b->out.v[i];
		if (g->id.data != NULL &&
		    (rc = hl_spool_blob(&g->id, b->sp, err)) != 0)
			return rc;
		if (g->gz.data != NULL &&
		    (rc = hl_spool_blob(&g->gz, b->sp, err)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Adds items to the builder, ending segments where the rule says; the
 * segment open at the end stays open (hl_lseg_finish closes it).
 */
static int
put_items(struct bld *b, const struct hl_item *items, size_t n,
    const char *list, int fmt)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (items[i].verbatim)
			continue;
		/*
		 * A new segment's buffer starts at a little over the mean
		 * size so far, not grown from nothing by copies.
		 */
		if (b->k == 0 && b->cur.len == 0 && ((b->nsum > 0 &&
		    hl_buf_grow(&b->cur, b->sum / b->nsum / 4 * 5) != 0) ||
		    hl_buf_puts(&b->cur, SEG_HEAD) != 0))
			return HL_ENOMEM;
		if (b->k > 0 && hl_buf_putc(&b->cur, ',') != 0)
			return HL_ENOMEM;
		if (hl_item_json_write(&b->cur, &items[i], list, fmt) != 0)
			return HL_ENOMEM;
		b->k++;
		if ((boundary(items[i].id) || b->k >= HL_LSEG_MAX) &&
		    close_seg(b, 1) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

struct pool {
	struct hl_lsegs	*segs;
	size_t		 next;
	int		 level;
	int		 rc;
	struct hl_err	 err;
	pthread_mutex_t	 mu;
};

static void *
pool_run(void *arg)
{
	struct pool *p = arg;
	struct hl_lseg *g;
	struct hl_err e = HL_ERR_INIT;
	unsigned char *data;
	size_t i, len;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->next < p->segs->n &&
		    p->segs->v[p->next].id.sha256[0] != '\0')
			p->next++;
		i = p->next++;
		if (p->rc != 0)
			i = p->segs->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->segs->n)
			return NULL;
		g = &p->segs->v[i];
		data = g->id.data;
		len = g->id.len;
		/*
		 * An open segment keeps its memo for the next append, and a
		 * reopened one (keep) starts from its own; a full build's
		 * closed segments need none.
		 */
		rc = hl_blob_make(&g->id, &g->gz, !g->closed || g->keep > 0 ?
		    &g->memo : NULL, data, len, g->keep, p->level, &e);
		g->keep = 0;
		if (g->closed)
			hl_blob_memo_clear(&g->memo);
		if (rc == 0)
			rc = seg_names(g, &e);
		if (rc != 0) {
			pthread_mutex_lock(&p->mu);
			if (p->rc == 0) {
				p->rc = rc;
				p->err = e;
			}
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* g's object names, from its hash. */
static int
seg_names(struct hl_lseg *g, struct hl_err *err)
{
	if (snprintf(g->obj, sizeof(g->obj), "objects/%s", g->id.sha256) >=
	    (int)sizeof(g->obj) || snprintf(g->gzobj, sizeof(g->gzobj),
	    "objects/%s.gz", g->id.sha256) >= (int)sizeof(g->gzobj))
		return hl_err_set(err, HL_EIO, "object name too long");
	return 0;
}

/*
 * A spool thread: takes the next segment, hashes and compresses it
 * (hl_blob_make), writes both to the spool, and gives it back in done.
 * After an error the rest are only freed.
 */
static void *
spool_run(void *arg)
{
	struct bld *b = arg;
	struct sjob *j;
	struct hl_err e = HL_ERR_INIT;
	int rc, failed;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (b->todo == NULL && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if ((j = b->todo) == NULL)
			break;
		if ((b->todo = j->next) == NULL)
			b->todo_end = &b->todo;
		failed = b->arc != 0;
		pthread_mutex_unlock(&b->mu);
		rc = 0;
		if (failed)
			free(j->data);
		else if ((rc = hl_blob_make(&j->id, &j->gz, NULL, j->data,
		    j->len, 0, b->level, &e)) == 0 &&
		    (rc = hl_spool_blob(&j->id, b->sp, &e)) == 0)
			rc = hl_spool_blob(&j->gz, b->sp, &e);
		j->data = NULL;
		pthread_mutex_lock(&b->mu);
		if (rc != 0 && b->arc == 0) {
			b->arc = rc;
			b->aerr = e;
		}
		b->queued -= j->len;
		j->next = b->done;
		b->done = j;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Moves the segments the spool threads finished into b->out. */
static void
harvest(struct bld *b)
{
	struct sjob *j, *next;
	struct hl_lseg *g;

	pthread_mutex_lock(&b->mu);
	j = b->done;
	b->done = NULL;
	pthread_mutex_unlock(&b->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		g = &b->out.v[j->idx];
		g->id = j->id;
		g->gz = j->gz;
		if (g->id.spool != NULL && g->gz.spool != NULL)
			(void)seg_names(g, NULL);
		free(j);
	}
}

/*
 * Hands segment idx (data, len bytes, taken) to the spool threads, first
 * waiting while more than SPOOL_QUEUE bytes are queued.
 */
static int
enqueue(struct bld *b, size_t idx, unsigned char *data, size_t len)
{
	struct sjob *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		free(data);
		return HL_ENOMEM;
	}
	j->idx = idx;
	j->data = data;
	j->len = len;
	pthread_mutex_lock(&b->mu);
	while (b->queued > SPOOL_QUEUE && b->arc == 0)
		pthread_cond_wait(&b->cv, &b->mu);
	*b->todo_end = j;
	b->todo_end = &j->next;
	b->queued += len;
	b->made++;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	harvest(b);
	return 0;
}

/* Has a spool thread failed (its error waits for spool_stop)? */
static int
spool_failed(struct bld *b)
{
	int rc;

	pthread_mutex_lock(&b->mu);
	rc = b->arc;
	pthread_mutex_unlock(&b->mu);
	return rc != 0;
}

/*
 * Stops the spool threads once their queue is done and takes the last
 * segments; the threads' first error, if any.
 */
static int
spool_stop(struct bld *b, struct hl_err *err)
{
	if (!b->async)
		return 0;
	pthread_mutex_lock(&b->mu);
	b->quit = 1;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	while (b->async > 0)
		pthread_join(b->thr[--b->async], NULL);
	harvest(b);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	if (b->arc != 0) {
		if (err != NULL)
			*err = b->aerr;
		return b->arc;
	}
	return 0;
}

/* Hashes and compresses every pending segment of segs. */
static int
compress_pending(struct hl_lsegs *segs, int level, size_t *made,
    struct hl_err *err)
{
	struct pool p;
	pthread_t thr[HL_LSEG_THREADS];
	size_t i, pending = 0;
	int t, started = 0;

	for (i = 0; i < segs->n; i++)
		if (segs->v[i].id.sha256[0] == '\0')
			pending++;
	if (made != NULL)
		*made += pending;
	if (pending == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.segs = segs;
	p.level = level;
	pthread_mutex_init(&p.mu, NULL);
	/* This thread is one of the pool; start the others if worth it. */
	for (t = 1; t < HL_LSEG_THREADS && (size_t)t < pending; t++)
		if (pthread_create(&thr[started], NULL, pool_run, &p) == 0)
			started++;
	pool_run(&p);
	for (t = 0; t < started; t++)
		pthread_join(thr[t], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.rc != 0) {
		if (err != NULL)
			*err = p.err;
		return p.rc;
	}
	return 0;
}

int
hl_lseg_start(struct hl_lseg_bld **out, struct hl_lsegs *old,
    struct hl_spool *sp, const char *list, int fmt, int level,
    struct hl_err *err)
{
	struct bld *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		hl_lsegs_clear(old);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	b->old = old;
	b->sp = sp;
	b->list = list;
	b->fmt = fmt;
	b->level = level | HL_BLOB_SMALL_CHUNKS | HL_BLOB_NO_MD5;
	b->todo_end = &b->todo;
	if (sp != NULL) {
		pthread_mutex_init(&b->mu, NULL);
		pthread_cond_init(&b->cv, NULL);
		while (b->async < HL_LSEG_THREADS && pthread_create(
		    &b->thr[b->async], NULL, spool_run, b) == 0)
			b->async++;
		if (b->async == 0) {
			pthread_mutex_destroy(&b->mu);
			pthread_cond_destroy(&b->cv);
		}
	}
	*out = b;
	return 0;
}

int
hl_lseg_put(struct hl_lseg_bld *b, const struct hl_item *items, size_t n,
    struct hl_err *err)
{
	if (put_items(b, items, n, b->list, b->fmt) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if (b->async && spool_failed(b))
		return spool_stop(b, err);
	if (b->sp != NULL && b->pending >= SPOOL_PENDING)
		return spool_pending(b, err);
	return 0;
}

void
hl_lseg_abort(struct hl_lseg_bld *b)
{
	if (b == NULL)
		return;
	(void)spool_stop(b, NULL);
	hl_buf_free(&b->cur);
	hl_blob_memo_clear(&b->memo);
	if (b->old != NULL)
		hl_lsegs_clear(b->old);
	hl_lsegs_clear(&b->out);
	free(b);
}

int
hl_lseg_finish(struct hl_lsegs *out, struct hl_lseg_bld *b, size_t *made,
    struct hl_err *err)
{
	int rc = 0, src;

	out->v = NULL;
	out->n = 0;
	if (b->k > 0 && close_seg(b, 0) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	hl_buf_free(&b->cur);
	if (b->old != NULL)
		hl_lsegs_clear(b->old);
	b->old = NULL;
	if (b->async && (src = spool_stop(b, rc != 0 ? NULL : err)) != 0 &&
	    rc == 0)
		rc = src;
	if (rc == 0)
		rc = b->sp != NULL ? spool_pending(b, err) :
		    compress_pending(&b->out, b->level, &b->made, err);
	if (made != NULL)
		*made += b->made;
	if (rc != 0) {
		hl_lseg_abort(b);
		return rc;
	}
	*out = b->out;
	memset(&b->out, 0, sizeof(b->out));
	hl_lseg_abort(b);
	return 0;
}

/* The bytes of a segment, in memory or spooled, into out. */
static int
seg_bytes(struct hl_buf *out, const struct hl_blob *id, size_t len)
{
	ssize_t k;
	int fd;

	if (id->data != NULL)
		return hl_buf_put(out, id->data, len);
	if (hl_buf_grow(out, len) != 0 ||
	    (fd = open(id->spool, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	k = pread(fd, out->data + out->len, len, 0);
	close(fd);
	if (k != (ssize_t)len)
		return -1;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

int
hl_lseg_append(struct hl_lsegs *segs, const struct hl_item *items,
    size_t n, const char *list, int fmt, int level, struct hl_spool *sp,
    size_t *made, struct hl_err *err)
{
	struct hl_lseg *last;
	struct bld b;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	if (segs->n == 0) {
		hl_lsegs_clear(segs);
		return hl_err_set(err, HL_EINVAL, "no segments to append to");
	}
	b.out = *segs;
	b.cap = segs->n;
	b.sp = sp;
	b.level = level | HL_BLOB_SMALL_CHUNKS | HL_BLOB_NO_MD5;
	segs->v = NULL;
	segs->n = 0;
	last = &b.out.v[b.out.n - 1];
	if (!last->closed) {
		/* Reopen it: its bytes without "]}\n". */
		if (last->id.len < sizeof(SEG_HEAD) - 1 + sizeof(SEG_TAIL) - 1 ||
		    seg_bytes(&b.cur, &last->id, last->id.len -
		    (sizeof(SEG_TAIL) - 1)) != 0)
			rc = HL_ENOMEM;
		b.k = last->n;
		b.memo = last->memo;
		b.keep = b.cur.len;
		memset(&last->memo, 0, sizeof(last->memo));
		hl_blob_clear(&last->id);
		hl_blob_clear(&last->gz);
		b.out.n--;
	}
	if (rc == 0)
		rc = put_items(&b, items, n, list, fmt);
	if (rc == 0 && b.k > 0)
		rc = close_seg(&b, 0);
	hl_buf_free(&b.cur);
	hl_blob_memo_clear(&b.memo);	/* (close_seg took it) */
	if (rc != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (sp != NULL)
		rc = spool_pending(&b, err);
	else
		rc = compress_pending(&b.out, b.level, &b.made, err);
	if (made != NULL)
		*made += b.made;
	if (rc != 0) {
		hl_lsegs_clear(&b.out);
		return rc;
	}
	*segs = b.out;
	return 0;
}

int
hl_lseg_index(struct hl_buf *out, const struct hl_lsegs *segs)
{
	size_t i;

	if (hl_buf_putc(out, '[') != 0)
		return HL_ENOMEM;
	for (i = 0; i < segs->n; i++) {
		const struct hl_lseg *g = &segs->v[i];

		/* sha256s are hex digits: nothing to escape */
		if (hl_buf_printf(out, "%s{\"bytes\":%zu,\"gz\":{\"bytes\":%zu,"
		    "\"sha256\":\"%s\"},\"items\":%zu,\"sha256\":\"%s\"}",
		    i > 0 ? "," : "", g->id.len, g->gz.len, g->gz.sha256, g->n,
		    g->id.sha256) != 0)
			return HL_ENOMEM;
	}
	return hl_buf_putc(out, ']') != 0 ? HL_ENOMEM : 0;
}
