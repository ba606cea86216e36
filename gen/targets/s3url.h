/*
 * s3url: the S3 target URL and the object URLs derived from it.
 *
 *   s3://BUCKET/PREFIX?endpoint=URL&region=REGION&style=path|virtual
 *       [&tries=N&backoff_ms=MS&timeout_ms=MS]
 *
 * endpoint defaults to https://s3.REGION.amazonaws.com, region to
 * us-east-1.  style defaults to virtual (https://BUCKET.s3.REGION...) on
 * AWS and to path (ENDPOINT/BUCKET/KEY) with an explicit endpoint, since
 * most S3-compatible servers, and any endpoint named by an IP address,
 * only answer path-style requests.  PREFIX and the parameter values may be
 * percent-encoded; a non-empty PREFIX always ends with '/'.  tries,
 * backoff_ms and timeout_ms tune the retries of one publish (see
 * pub_s3.c).  An unknown parameter is an error, so a typo is not ignored.
 */
#ifndef HL_S3URL_H
#define HL_S3URL_H

#include "buf.h"
#include "err.h"

struct hl_s3url {
	char	*bucket;
	char	*prefix;	/* "" or "a/b/" (decoded) */
	char	*region;
	char	*endpoint;	/* "http://127.0.0.1:9000", no final / */
	int	 path_style;
	int	 tries;		/* tries per request in a publish */
	int	 backoff_ms;	/* first retry delay, then doubled */
	int	 timeout_ms;	/* connect timeout and stall limit */
	char	*name;		/* canonical URL, for logs */
};

#define HL_S3URL_TRIES		4
#define HL_S3URL_BACKOFF_MS	200
#define HL_S3URL_TIMEOUT_MS	10000

/*
 * Parses url into *out.  HL_EINVAL for a URL that is not s3:// or has a
 * bad bucket, region, endpoint, style or parameter; HL_ENOMEM.  On error
 * *out holds nothing to free.  Release with hl_s3url_clear().
 */
int	hl_s3url_parse(struct hl_s3url *out, const char *url,
	    struct hl_err *err);
void	hl_s3url_clear(struct hl_s3url *u);

/*
 * Appends s percent-encoded the way S3 and SigV4 want it in a path:
 * unreserved bytes (A-Z a-z 0-9 - . _ ~) kept, '/' kept when keep_slash,
 * every other byte (UTF-8 ones included) as %XX in upper-case hex.
 */
int	hl_s3url_encode(struct hl_buf *b, const char *s, int keep_slash);

/*
 * Appends the URL of the bucket, to which a query is added for a listing
 * ("http://h:9000/BUCKET" in path style, "https://BUCKET.h/" in virtual
 * style), or of the object named key (the prefix is not added: key is
 * the whole object key).
 */
int	hl_s3url_bucket_url(struct hl_buf *b, const struct hl_s3url *u);
int	hl_s3url_object_url(struct hl_buf *b, const struct hl_s3url *u,
	    const char *key);

#endif
