/*
 * gitstream: the TCP connection under libgit2's http(s) transport, as the
 * git targets want it.
 *
 * libgit2 1.5's own socket stream has two faults for a publisher:
 *
 *   - it leaves Nagle's algorithm on, and its HTTP client sends a push's
 *     body as chunks of three writes each (size line, data, CRLF) and a
 *     last "0" chunk: the small writes after a large one wait for the
 *     peer's delayed ACK, about 40 ms on every push (measured: the POST's
 *     answer 130 ms -> 90 ms over loopback);
 *   - it has no timeouts: a server that takes the connection and never
 *     answers holds the publisher for ever.
 *
 * hl_gitstream_register() puts this stream in libgit2's registry as the
 * standard (plain TCP) stream; libgit2's TLS stream runs on top of the
 * standard one, so https gets it too.  Connections are made with
 * TCP_NODELAY, a connect that takes longer than the limit fails, and so
 * does a read or write that makes no progress for that long (a stall, not
 * a total: a big push that keeps moving is never cut).
 *
 * The limit is process-wide: HELIOS_GIT_TIMEOUT_MS (100 to 3600000;
 * 120000 when unset: a server may say nothing for a while as it indexes a
 * big first push), read by hl_gitstream_timeout_env() when a git target
 * opens.
 */
#ifndef HL_GITSTREAM_H
#define HL_GITSTREAM_H

#include <git2.h>
#include <git2/sys/stream.h>

#include "err.h"

#define HL_GITSTREAM_TIMEOUT_MS		120000
#define HL_GITSTREAM_TIMEOUT_MIN	100
#define HL_GITSTREAM_TIMEOUT_MAX	3600000

/*
 * Registers the stream with libgit2 (after git_libgit2_init).  0, or an
 * HL_E* code with err set.
 */
int	hl_gitstream_register(struct hl_err *err);

/* Sets the limit of every connection made from now on, in ms. */
void	hl_gitstream_set_timeout(int ms);

/*
 * Reads HELIOS_GIT_TIMEOUT_MS and sets the limit from it (the default
 * when unset).  HL_EINVAL with err set when it is not a whole number of
 * milliseconds in range; the limit is then left as it was.
 */
int	hl_gitstream_timeout_env(struct hl_err *err);

/*
 * A new, unconnected stream to host:port: the registration's constructor
 * (libgit2 calls it; tests may too).  0 or -1 with libgit2's error set.
 */
int	hl_gitstream_new(git_stream **out, const char *host, const char *port);

#endif
