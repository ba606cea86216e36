/*
 * ratelimit: fixed-size table of token buckets (see ratelimit.h).
 *
 * Slots are found by open addressing over PROBE neighbours of the key's
 * hash; a key found nowhere takes the least recently used of them and
 * starts with a full bucket.
 */
#include <sys/random.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define NSLOTS	16384		/* a power of two */
#define PROBE	8

struct slot {
	uint64_t	key;		/* 0: free */
	double		tokens;
	double		last;		/* seconds, monotonic */
};

struct hl_rate {
	pthread_mutex_t	 mu;
	uint64_t	 seed[2];
	struct slot	*slots;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* A keyed hash of the bytes (seeded mixing, after SipHash's rounds). */
static uint64_t
hash(const struct hl_rate *r, char kind, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t v0 = r->seed[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = r->seed[1] ^ 0x646f72616e646f6dULL;
	uint64_t m;
	size_t i;

	m = (uint64_t)(unsigned char)kind;
	for (i = 0; i <= len; i++) {
		if (i < len)
			m = m * 131 + p[i];
		if (i % 8 == 7 || i == len) {
			v0 ^= m;
			v0 += v1;
			v1 = rotl(v1, 13) ^ v0;
			v0 = rotl(v0, 32);
			v1 += m;
			v0 = rotl(v0, 17) ^ v1;
			m = 0;
		}
	}
	v0 ^= len;
	v1 += v0;
	v0 = rotl(v0, 21) ^ v1;
	return (v0 ^ v1) | 1;	/* never 0, the free mark */
}

int
hl_rate_new(struct hl_rate **out, struct hl_err *err)
{
	struct hl_rate *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->slots = calloc(NSLOTS, sizeof(*r->slots))) == NULL) {
		free(r);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if (getrandom(r->seed, sizeof(r->seed), 0) != sizeof(r->seed)) {
		r->seed[0] = (uint64_t)time(NULL);
		r->seed[1] = (uint64_t)(uintptr_t)r;
	}
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return 0;
}

void
hl_rate_free(struct hl_rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}

unsigned
hl_rate_take(struct hl_rate *r, char kind, const void *key, size_t keylen,
    double rate, double burst)
{
	struct slot *s = NULL, *old = NULL, *c;
	uint64_t h;
	double now, wait;
	unsigned i, ret = 0;

	if (rate <= 0)
		return 0;
	if (burst < 1)
		burst = 1;
	h = hash(r, kind, key, keylen);
	now = now_s();
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < PROBE; i++) {
		c = &r->slots[(h + i) & (NSLOTS - 1)];
		if (c->key == h) {
			s = c;
			break;
		}
		if (old == NULL || c->key == 0 ||
		    (old->key != 0 && c->last < old->last))
			old = c;
	}
	if (s == NULL) {
		s = old;
		s->key = h;
		s->tokens = burst;
		s->last = now;
	}
	s->tokens += (now - s->last) * rate;
	if (s->tokens > burst)
		s->tokens = burst;
	s->last = now;
	if (s->tokens >= 1)
		s->tokens -= 1;
	else {
		wait = (1 - s->tokens) / rate;
		ret = wait >= 86400 ? 86400 : (unsigned)wait + 1;
	}
	pthread_mutex_unlock(&r->mu);
	return ret;
}
