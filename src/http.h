/*
 * http: the daemon's HTTP server, libmicrohttpd adapted to api.c.
 *
 * It owns the listening socket, the thread pool, reading request bodies
 * (with a size cap: a Content-Length over the cap is answered 413 before
 * the body is read, and a body that grows past it while being read is
 * dropped and answered 413), handing each request to hl_api_handle, the
 * static public tree for GET/HEAD of paths that are no API route, and one
 * access log line per request:
 *
 *   METHOD PATH STATUS BYTES MS USER
 *   POST /blacklists/watch-keyword 201 312 0.84 metasmoke
 *
 * PATH is without the query, with bytes outside printable ASCII written
 * as %XX; USER is the token's name or "-".  Headers, tokens and bodies are
 * never logged.  access_log_sample thins the lines out (none, all, or
 * one request in N and every 5xx); the metrics of /healthz count every
 * request all the same.  With access_log_json, the same fields as one
 * object:
 *
 *   {"method":"POST","path":"/blacklists/watch-keyword","status":201,
 *    "bytes":312,"ms":0.84,"user":"metasmoke"}
 *
 * Framing that two readers could take differently is refused with 400 and
 * the connection closed (RFC 9112 sections 5.1 and 6.3): two
 * Content-Length fields, Content-Length with Transfer-Encoding, a field
 * name that is no token ("Content-Length :"), a NUL or other control byte
 * in a value, an HTTP/1.1 request without exactly one Host.  A transfer
 * coding other than chunked is 501.
 *
 * Slow clients are cut by deadlines (guard.h): headers within
 * header_timeout seconds of the connection (or of the last answer), the
 * body within body_timeout of the headers; at most max_conns connections,
 * max_conns_per_ip from one address, the last conn_reserve of them kept
 * for clients that send their request at once.
 *
 * Rate limits and the access log use the peer's address: a header such as
 * X-Forwarded-For is never trusted (any client can send one).  Behind a
 * reverse proxy every client shares the proxy's address; see README.md.
 *
 * GET /metrics adds the counters of these defences: connections refused
 * (max_connections, per_ip), cut (header_timeout, body_timeout, reserve,
 * idle_timeout), and 429s by bucket (read, write_address, write_token).
 *
 * libmicrohttpd is told not to percent-decode the URL, so that api.c sees
 * the path as sent and can refuse encoded tricks (%2e%2e, %2f).
 */
#ifndef HL_HTTP_H
#define HL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "err.h"

struct hl_store;
struct hl_static;
struct hl_http;

struct hl_http_opts {
	const char	*listen;	/* "127.0.0.1:8080" or "[::1]:8080" */
	struct hl_store	*store;
	/* NULL: no static serving; else GET/HEAD of non-API paths. */
	struct hl_static *site;
	int		 dev_profile;	/* 1: POST /auth/create open to all;
					   listens on loopback only */
	int		 notifications_private; /* see struct hl_api_opts */
	unsigned	 threads;	/* thread pool size, default HL_HTTP_THREADS */
	size_t		 max_body;	/* default HL_API_MAX_BODY */
	/* Connections (see guard.h); 0 takes the default. */
	unsigned	 max_conns;	/* all clients, default 1000 */
	unsigned	 max_conns_per_ip; /* default 64 */
	unsigned	 conn_reserve;	/* kept for prompt clients, 100 */
	unsigned	 header_timeout; /* seconds to send the headers, 10 */
	unsigned	 body_timeout;	/* seconds to send the body, 30 */
	unsigned	 idle_timeout;	/* seconds without progress, 30 */
	/*
	 * Rate limits (429 with Retry-After), in requests per second; 0:
	 * none.  Every request takes from its address's read bucket; a
	 * write (any method but GET and HEAD) also from its address's and
	 * its token's write buckets.  rate_exempt: addresses, separated by
	 * spaces or commas, that no limit applies to.
	 */
	double		 rate_read, rate_read_burst;
	double		 rate_write, rate_write_burst;
	const char	*rate_exempt;
	/* 1: access lines as JSON objects (same fields, no secrets). */
	int		 access_log_json;
	/*
	 * Which requests get an access line: 0 none, 1 all (the default),
	 * N one in N (and every answer 500 or over).
	 */
	unsigned	 access_log_sample;
	/* Called after every committed change (wakes the publisher). */
	void		(*on_change)(int64_t version, void *payload);
	void		*payload;
	/* Fills extra fields of /healthz (publisher state); may be NULL. */
	void		(*health)(json_t *obj, void *payload);
	/* The OpenAPI document; NULL: see struct hl_api_opts. */
	const char	*openapi_file;
	/* Review: checks and policy; see struct hl_api_opts. */
	const struct hl_review_opts *review;
};

/*
 * The thread pool's default size.  A write that waits for the store's
 * group commit holds no thread (its connection is suspended until the
 * commit is over), so the pool is sized for the CPU work of serving:
 * about the cores.
 */
#define HL_HTTP_THREADS	4

#define HL_HTTP_OPTS_INIT { .listen = "127.0.0.1:8080", \
	.threads = HL_HTTP_THREADS, \
	.max_body = HL_API_MAX_BODY, .access_log_sample = 1 }

/*
 * The two halves of hl_http_start, for a caller that confines itself in
 * between (sandbox.h): hl_http_bind makes the API and binds the socket and
 * starts no thread; hl_http_run starts the threads that serve.  After a
 * failure of either, free with hl_http_stop().
 */
int	hl_http_bind(struct hl_http **out, const struct hl_http_opts *o,
	    struct hl_err *err);
int	hl_http_run(struct hl_http *h, struct hl_err *err);

/*
 * Applies what can change while serving, from o: the rate limits and
 * rate_exempt, the header and body deadlines, access_log_json.  The rest
 * of o is ignored.  Returns 0, or HL_EINVAL (a bad rate_exempt) and
 * changes nothing.
 */
int	hl_http_reload(struct hl_http *h, const struct hl_http_opts *o,
	    struct hl_err *err);

/*
 * Binds o->listen and starts serving.  Returns 0, HL_EINVAL for a listen
 * address that does not parse, HL_EIO when it cannot bind or start, or
 * HL_ENOMEM.  On success *out is owned by the caller; stop and free with
 * hl_http_stop().  o->store and o->site must outlive it.
 */
int	hl_http_start(struct hl_http **out, const struct hl_http_opts *o,
	    struct hl_err *err);

/* The port it listens on (useful with port 0). */
int	hl_http_port(const struct hl_http *h);

/*
 * Stops accepting connections, waits (up to 10 seconds) for requests in
 * flight to be answered, stops the threads and frees h.  h may be NULL.
 */
void	hl_http_stop(struct hl_http *h);

#endif
