/*
 * guard: deadlines on the daemon's connections, so that slow clients
 * (slowloris: a header line every few seconds, or idle connections) cannot
 * hold every connection the server has.
 *
 * The HTTP front tells the guard what each connection is doing; a reaper
 * thread, four times a second, cuts (shutdown(2), which the server then
 * sees as the client leaving) each connection that is over its deadline:
 *
 *   phase        from                               deadline
 *   head         accept, or the end of the last     header_timeout_ms
 *                answer on that connection
 *   body         the headers are in                 body_timeout_ms
 *   answer       the answer is being made or sent   none here (the server's
 *                                                   own idle timeout)
 *
 * The deadline counts from the start of the phase, whatever the client
 * sends meanwhile: a header line every ten seconds does not extend it.
 * When the connections in use reach max_conns - reserve, the guard also
 * cuts every connection that has waited over pressure_ms for its headers,
 * so that the last `reserve` places go to clients that send a request at
 * once (reads of the public tree, /healthz).
 *
 * Thread-safe: one mutex guards the table; the server's threads call in.
 */
#ifndef HL_GUARD_H
#define HL_GUARD_H

#include <stdint.h>

#include "err.h"

struct hl_guard;
struct hl_guard_conn;

struct hl_guard_opts {
	unsigned	header_timeout_ms;
	unsigned	body_timeout_ms;
	unsigned	pressure_ms;
	unsigned	max_conns;	/* the table's size */
	unsigned	reserve;
};

#define HL_GUARD_OPTS_INIT { .header_timeout_ms = 10000, \
	.body_timeout_ms = 30000, .pressure_ms = 1000, .max_conns = 1000, \
	.reserve = 100 }

/*
 * Starts the reaper thread.  Returns 0, HL_EINVAL for a reserve not below
 * max_conns, or HL_ENOMEM / HL_EIO.  On success *out is owned by the
 * caller; free with hl_guard_free().
 */
int	hl_guard_new(struct hl_guard **out, const struct hl_guard_opts *o,
	    struct hl_err *err);
/* Stops the reaper and frees g; g may be NULL. */
void	hl_guard_free(struct hl_guard *g);

/*
 * A new connection on socket fd, in phase head.  Returns its entry, or
 * NULL when the table is full (the caller should close it).
 */
struct hl_guard_conn *hl_guard_open(struct hl_guard *g, int fd);
/* The connection is closed: forgets c (which may be NULL). */
void	hl_guard_close(struct hl_guard *g, struct hl_guard_conn *c);
/* Phase changes; c may be NULL. */
void	hl_guard_body(struct hl_guard *g, struct hl_guard_conn *c);
void	hl_guard_answer(struct hl_guard *g, struct hl_guard_conn *c);
void	hl_guard_head(struct hl_guard *g, struct hl_guard_conn *c);

/* Connections open now, and cut since the start. */
void	hl_guard_counts(struct hl_guard *g, unsigned *open,
	    uint64_t *cut);

/* The same, with the cuts by deadline, for /metrics. */
struct hl_guard_stats {
	unsigned	open;
	uint64_t	cut_header;	/* headers over header_timeout */
	uint64_t	cut_body;	/* body over body_timeout */
	uint64_t	cut_reserve;	/* slow headers while the reserve
					   was in use */
};
void	hl_guard_stats(struct hl_guard *g, struct hl_guard_stats *out);

/* New deadlines (0 keeps one), from the next pass of the reaper on. */
void	hl_guard_set_timeouts(struct hl_guard *g, unsigned header_ms,
	    unsigned body_ms);

#endif
