/*
 * guard: connection deadlines and the reserve (see guard.h).
 *
 * The table is an array of max_conns entries with a free list; an entry
 * is handed to the server as the connection's context and given back at
 * close.  The reaper never closes a socket (the server owns it and closes
 * it after telling us, under the same mutex): it only shuts it down, once,
 * which wakes the server's poll with an end of file.
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard.h"

#define REAP_MS	250

enum phase { PH_FREE, PH_HEAD, PH_BODY, PH_ANSWER };

struct hl_guard_conn {
	int			 fd;
	enum phase		 phase;
	int			 cut;
	uint64_t		 since;		/* ms, monotonic */
	struct hl_guard_conn	*next_free;
};

struct hl_guard {
	struct hl_guard_opts	 o;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 th;
	int			 stop;
	int			 hurry;		/* the reserve is being used */
	struct hl_guard_conn	*conns;
	struct hl_guard_conn	*free;
	atomic_uint		 open;
	atomic_uint_fast64_t	 ncut;
	uint64_t		 cut_why[3];	/* by enum why; under mu */
};

enum why { WHY_HEADER, WHY_BODY, WHY_RESERVE };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
cut(struct hl_guard *g, struct hl_guard_conn *c, enum why why)
{
	c->cut = 1;
	g->cut_why[why]++;
	(void)shutdown(c->fd, SHUT_RDWR);
	atomic_fetch_add(&g->ncut, 1);
}

/* One pass over the table; the caller holds the mutex. */
static void
reap(struct hl_guard *g)
{
	uint64_t now = now_ms(), age;
	unsigned i, busy;
	struct hl_guard_conn *c;

	busy = atomic_load(&g->open) + g->o.reserve >= g->o.max_conns;
	for (i = 0; i < g->o.max_conns; i++) {
		c = &g->conns[i];
		if (c->phase == PH_FREE || c->cut)
			continue;
		age = now - c->since;
		if (c->phase == PH_HEAD && age > g->o.header_timeout_ms)
			cut(g, c, WHY_HEADER);
		else if (c->phase == PH_HEAD && busy && age > g->o.pressure_ms)
			cut(g, c, WHY_RESERVE);
		else if (c->phase == PH_BODY && age > g->o.body_timeout_ms)
			cut(g, c, WHY_BODY);
	}
	g->hurry = 0;
}

static void *
reaper(void *arg)
{
	struct hl_guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += REAP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!g->hurry)
			(void)pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		if (!g->stop)
			reap(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int
hl_guard_new(struct hl_guard **out, const struct hl_guard_opts *o,
    struct hl_err *err)
{
	struct hl_guard *g;
	pthread_condattr_t ca;
	unsigned i;

	*out = NULL;
	if (o->max_conns == 0 || o->reserve >= o->max_conns)
		return hl_err_set(err, HL_EINVAL, "connection_reserve (%u)"
		    " must be below max_connections (%u)", o->reserve,
		    o->max_conns);
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->conns = calloc(o->max_conns, sizeof(*g->conns))) == NULL) {
		free(g);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	g->o = *o;
	for (i = o->max_conns; i-- > 0;) {
		g->conns[i].next_free = g->free;
		g->free = &g->conns[i];
	}
	atomic_init(&g->open, 0);
	atomic_init(&g->ncut, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&g->th, NULL, reaper, g)) != 0) {
		hl_err_set(err, HL_EIO, "guard thread: %s", strerror(errno));
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->conns);
		free(g);
		return HL_EIO;
	}
	*out = g;
	return 0;
}

void
hl_guard_free(struct hl_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->th, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g->conns);
	free(g);
}

struct hl_guard_conn *
hl_guard_open(struct hl_guard *g, int fd)
{
	struct hl_guard_conn *c;
	unsigned n;

	pthread_mutex_lock(&g->mu);
	if ((c = g->free) != NULL) {
		g->free = c->next_free;
		c->next_free = NULL;
		c->fd = fd;
		c->phase = PH_HEAD;
		c->cut = 0;
		c->since = now_ms();
		n = atomic_fetch_add(&g->open, 1) + 1;
		if (n + g->o.reserve >= g->o.max_conns && !g->hurry) {
			g->hurry = 1;
			pthread_cond_signal(&g->cv);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return c;
}

void
hl_guard_close(struct hl_guard *g, struct hl_guard_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->phase = PH_FREE;
	c->fd = -1;
	c->next_free = g->free;
	g->free = c;
	atomic_fetch_sub(&g->open, 1);
	pthread_mutex_unlock(&g->mu);
}

static void
set_phase(struct hl_guard *g, struct hl_guard_conn *c, enum phase p)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->phase = p;
	c->since = now_ms();
	pthread_mutex_unlock(&g->mu);
}

void
hl_guard_body(struct hl_guard *g, struct hl_guard_conn *c)
{
	set_phase(g, c, PH_BODY);
}

void
hl_guard_answer(struct hl_guard *g, struct hl_guard_conn *c)
{
	set_phase(g, c, PH_ANSWER);
}

void
hl_guard_head(struct hl_guard *g, struct hl_guard_conn *c)
{
	set_phase(g, c, PH_HEAD);
}

void
hl_guard_counts(struct hl_guard *g, unsigned *open, uint64_t *ncut)
{
	*open = atomic_load(&g->open);
	*ncut = atomic_load(&g->ncut);
}

void
hl_guard_stats(struct hl_guard *g, struct hl_guard_stats *out)
{
	pthread_mutex_lock(&g->mu);
	out->open = atomic_load(&g->open);
	out->cut_header = g->cut_why[WHY_HEADER];
	out->cut_body = g->cut_why[WHY_BODY];
	out->cut_reserve = g->cut_why[WHY_RESERVE];
	pthread_mutex_unlock(&g->mu);
}

void
hl_guard_set_timeouts(struct hl_guard *g, unsigned header_ms,
    unsigned body_ms)
{
	pthread_mutex_lock(&g->mu);
	if (header_ms > 0)
		g->o.header_timeout_ms = header_ms;
	if (body_ms > 0)
		g->o.body_timeout_ms = body_ms;
	pthread_mutex_unlock(&g->mu);
}
