/*
 * ratelimit: token buckets keyed by a client address or a token, for the
 * HTTP front's 429 answers.
 *
 * Each key has a bucket of `burst` tokens that refills at `rate` tokens
 * per second; a request takes one token, and a request that finds none is
 * refused with the seconds until one is back.  Keys are kept as a keyed
 * 64-bit hash (SipHash-like mixing with a random key per process), never
 * as the address or secret itself.  The table has a fixed size: when a
 * key's few slots are taken, the bucket used least recently is given to
 * it, so memory is bounded whatever the number of clients.
 *
 * Thread-safe (one mutex).
 */
#ifndef HL_RATELIMIT_H
#define HL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct hl_rate;

/* Returns 0 or HL_ENOMEM; free with hl_rate_free() (NULL is fine). */
int	hl_rate_new(struct hl_rate **out, struct hl_err *err);
void	hl_rate_free(struct hl_rate *r);

/*
 * Takes one token from the bucket of (kind, key).  Returns 0 when there
 * was one, else the seconds (at least 1) until there is.  rate is per
 * second; a rate of 0 means no limit.
 */
unsigned hl_rate_take(struct hl_rate *r, char kind, const void *key,
	    size_t keylen, double rate, double burst);

#endif
