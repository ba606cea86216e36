/*
 * api: the write API -- routes, authentication, validation and the JSON
 * envelope -- independent of the HTTP server, so that http.c (on
 * libmicrohttpd), the unit tests and the fuzzer all drive the same code
 * with a struct hl_request.
 *
 * Every response body is one JSON object:
 *
 *   {"items": [...], "numItems": N, "message": "..."}
 *
 * and an error adds "error": "<machine code>".  The statuses and codes are
 * in one table at the top of api.c; schema/openapi.json describes every
 * route.  Choices made here (documented in openapi.json too):
 *
 *  - The request path arrives raw (not percent-decoded).  It is decoded
 *    one segment at a time; a segment that is "." or "..", that decodes
 *    to something holding '/', '\\', NUL or a control character, an empty
 *    segment ("//"), or a bad %-escape is refused with 400 "bad_path".
 *  - Unknown JSON fields are ignored, as the proof of concept did.
 *  - A value that is empty, not UTF-8 or holds a control character is
 *    400 "invalid"; one over HL_VALIDATE_MAX_VALUE bytes is 413
 *    "too_large", like a body over HL_API_MAX_BODY.
 *  - GET /notifications needs a token (any scope): the records name chat
 *    users and rooms.  GET /blacklists, /changes and /healthz are public.
 *  - comment, disable and pass apply to the yaml lists only; elsewhere
 *    they are refused (400) rather than silently dropped.
 */
#ifndef HL_API_H
#define HL_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

struct hl_store;
struct hl_api;
struct hl_review_opts;

/* The largest request body accepted, in bytes. */
#define HL_API_MAX_BODY		65536
/* GET /changes: default and largest page. */
#define HL_API_CHANGES_LIMIT	100
#define HL_API_CHANGES_MAX	1000

struct hl_api_opts {
	struct hl_store	*store;
	int		 dev_profile;	/* POST /auth/create open to all */
	/* 1: GET /notifications needs a token; 0: anyone may read them. */
	int		 notifications_private;
	/* Called after every committed change, with the new version. */
	void		(*on_change)(int64_t version, void *payload);
	/* Adds fields to the /healthz object; may be NULL. */
	void		(*health)(json_t *obj, void *payload);
	void		*payload;
	/*
	 * Appends more Prometheus text to GET /metrics (the server's own
	 * counters); returns 0, or non-zero when out of memory.  May be
	 * NULL.
	 */
	int		(*metrics)(struct hl_buf *b, void *payload);
	void		*metrics_payload;
	/*
	 * The OpenAPI document served at /openapi.json.  NULL: looked for
	 * as ../schema/openapi.json and ../share/helios/openapi.json
	 * beside the executable, then ./schema/openapi.json.
	 */
	const char	*openapi_file;
	/* Review: checks and policy (review.h); NULL: no checks. */
	const struct hl_review_opts *review;
};

#define HL_API_OPTS_INIT { .store = NULL }

/*
 * One request, as the server received it.  path is raw: not
 * percent-decoded, without the query.  query is the raw text after '?'
 * (NULL or "" when none).  body need not be NUL-terminated.  too_big is
 * set by the server when the body went over its limit and was dropped.
 * Any pointer but method and path may be NULL.
 */
struct hl_request {
	const char	*method;
	const char	*path;
	const char	*query;
	const char	*content_type;
	const char	*authorization;
	const char	*body;
	size_t		 body_len;
	int		 too_big;
	const char	*remote;	/* the client's address, for limits */
	/*
	 * NULL, or the server takes answers that come later: a write that
	 * waits for its commit (POST and DELETE of a list item) is then
	 * submitted without waiting, hl_api_handle returns 0 with
	 * out->pending set, and once out holds the answer done(done_arg,
	 * rc) is called, once, from whichever thread committed the write
	 * (perhaps before hl_api_handle returns), rc what hl_api_handle
	 * would have returned.  out must stay valid, and untouched by the
	 * server, until then.
	 */
	void		(*done)(void *done_arg, int rc);
	void		*done_arg;
};

/*
 * The answer.  body is the bytes to send with content_type.  allow is set
 * (static text) for a 405.  user is the token's name for the access log
 * ("-" when none).  When the path is outside the API (its first segment
 * starts no route: not /blacklists/..., /tokens/..., ...), unrouted is 1,
 * status is 404 with a JSON body, and path is the decoded path (malloc'd),
 * for a server that also serves static files.
 */
struct hl_response {
	unsigned	 status;
	struct hl_buf	 body;
	const char	*content_type;
	const char	*allow;
	char		 user[64];
	int		 unrouted;
	char		*path;
	int		 pending;	/* the answer comes later (req.done) */
};

#define HL_RESPONSE_INIT { 0, HL_BUF_INIT, NULL, NULL, { 0 }, 0, NULL, 0 }

/*
 * Makes an API over o->store (which must outlive it).  Returns 0 or
 * HL_ENOMEM.  On success *out is owned by the caller; free with
 * hl_api_free().
 */
int	hl_api_new(struct hl_api **out, const struct hl_api_opts *o,
	    struct hl_err *err);
void	hl_api_free(struct hl_api *api);

/*
 * Answers req into *out (initialised with HL_RESPONSE_INIT; release with
 * hl_response_clear).  Always fills in a response and returns 0, except
 * when out of memory while making it: HL_ENOMEM, and the server should
 * send a bare 500.  Safe to call from several threads at once.
 */
int	hl_api_handle(struct hl_response *out, struct hl_api *api,
	    const struct hl_request *req);
void	hl_response_clear(struct hl_response *r);

/*
 * Records one finished request for GET /metrics: its status and how long
 * it took, in microseconds.  Lock-free.
 */
void	hl_api_observe(struct hl_api *api, unsigned status, uint64_t usec);

/*
 * Decodes the raw path into *out (malloc'd) with the rules above.  Returns
 * 0, HL_EINVAL (message in err) or HL_ENOMEM.
 */
int	hl_api_path_decode(char **out, const char *raw, struct hl_err *err);

/*
 * The decoded value of query parameter name (its first occurrence) in a
 * raw query.  Returns 0 with *out malloc'd, HL_ENOTFOUND, HL_EINVAL (a bad
 * %-escape or a NUL) or HL_ENOMEM.
 */
int	hl_api_query_get(char **out, const char *query, const char *name);

#endif
