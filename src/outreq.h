/*
 * outreq: the daemon's own outbound HTTP requests (the freshness monitor's
 * GETs of the public copies, webhook deliveries, CDN purges), bounded.
 *
 * One request on a fresh libcurl easy handle: a connect timeout, a total
 * timeout, http and https only (redirects too, at most 3), and a cap on
 * the body kept.  The cap is counted on the bytes as they arrive, never
 * taken from Content-Length: past it the transfer is cut and HL_ETOOBIG
 * returned.  No Accept-Encoding is sent, so a body is the bytes stored.
 * Nothing here logs: a URL may carry a purge key in its query.
 */
#ifndef HL_OUTREQ_H
#define HL_OUTREQ_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct hl_outreq {
	const char		*method;	/* "GET", "POST", "PURGE"... */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-ended */
	const void		*body;		/* sent when not NULL */
	size_t			 body_len;
	size_t			 max_body;	/* of the answer kept */
	long			 timeout_ms;
};

/*
 * Sends r.  *status receives the HTTP status (0 when none came); the
 * answer's body, at most r->max_body bytes, is appended to out (which may
 * be NULL: the body is dropped, still bounded).  0 when an answer came,
 * whatever its status; HL_EIO when none did (err says why, without the
 * URL), HL_ETOOBIG past max_body, HL_EINVAL for a URL not http(s).
 */
int	hl_outreq_send(long *status, struct hl_buf *out,
	    const struct hl_outreq *r, struct hl_err *err);

#endif
