/*
 * fetch: reads the files of a published tree from wherever it is served,
 * for helios pull and helios verify.
 *
 * A base names the tree's root: a local directory ("/srv/public",
 * "./public", "file:///srv/public") or an http(s) URL
 * ("https://lists.example.org/", "http://127.0.0.1:8080/pub").  Paths
 * are relative to it ("manifest.json", "objects/3f2a....gz") and may not
 * climb out of it ("..", a leading '/').
 *
 * HTTP goes through one libcurl easy handle, so a poll reuses its
 * connection.  Every request has a connect timeout, a total timeout, a
 * low-speed abort and a cap on the body it will accept (an error page
 * is not the body: it is dropped, and cut short past 64 KiB); redirects are
 * followed (at most HL_FETCH_MAX_REDIRS, http and https only).
 *
 * Compression: by default no Accept-Encoding is sent, so a body arrives
 * as the bytes stored, whose SHA-256 the manifest names.  Lists and change
 * segments are made smaller by asking for their .gz file by name and
 * inflating it (hl_gunzip), which works the same on the daemon, nginx, S3
 * and a pages site.  The manifest has no .gz sibling (it must be one file,
 * replaced in one rename), so it is asked for with HL_FETCH_GZIP:
 * "Accept-Encoding: gzip", which servers that compress on the fly (nginx
 * with gzip on, CDNs) honour; libcurl inflates it, the caller sees the
 * identity bytes, and the byte counters count what crossed the wire.
 *
 * A conditional GET (If-None-Match) that gets 304 returns with status 304
 * and an empty body.  A local directory answers the same way: its ETag
 * is the quoted MD5 hex of the file, the one the daemon and S3 send.
 *
 * A body is handed to a sink as it arrives (hl_fetch_stream), so a
 * download can go to disk through a hash and an inflater without being
 * held; hl_fetch_get is the same with a sink that keeps it in memory,
 * for the small files (the manifest, its signature).
 *
 * Every request, local or not, is counted with the bytes of its body as
 * received (compressed bytes for a .gz), so benchmarks can report what a
 * poll costs.
 */
#ifndef HL_FETCH_H
#define HL_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define HL_FETCH_MAX_REDIRS	5
/* Default cap on a body: the largest list is a few MB. */
#define HL_FETCH_MAX_BODY	((size_t)256 << 20)
/* What is read of an error page (404, 500...) before it is cut short. */
#define HL_FETCH_MAX_ERROR_BODY	((size_t)64 << 10)

struct hl_fetch_opts {
	long	connect_timeout_ms;
	long	timeout_ms;		/* whole request */
	long	low_speed_bytes;	/* abort below this many bytes/s */
	long	low_speed_secs;		/* ... for this long */
	const char *user_agent;
};

#define HL_FETCH_OPTS_INIT { .connect_timeout_ms = 10000, \
	.timeout_ms = 120000, .low_speed_bytes = 1024, .low_speed_secs = 30, \
	.user_agent = "helios-pull/1" }

struct hl_fetch_stats {
	uint64_t	requests;	/* every GET, answered or not */
	uint64_t	bytes;		/* body bytes received */
	uint64_t	not_modified;	/* 304 answers */
};

/* The answer to one GET. */
struct hl_fetch_res {
	long		status;		/* 200, 304, ...; 0 if no answer */
	struct hl_buf	body;		/* empty on 304; hl_buf_free() */
	char		etag[160];	/* ETag header, "" if none */
	long		retry_after;	/* Retry-After seconds, -1 if none */
};

#define HL_FETCH_RES_INIT { 0, HL_BUF_INIT, { 0 }, -1 }

struct hl_fetch;

/*
 * Opens base (a directory or an http(s) URL; see above).  opts may be
 * NULL for the defaults.  On success *out is owned by the caller; free
 * with hl_fetch_free().  HL_EINVAL for a base that is neither, HL_ENOMEM.
 */
int	hl_fetch_new(struct hl_fetch **out, const char *base,
	    const struct hl_fetch_opts *opts, struct hl_err *err);
void	hl_fetch_free(struct hl_fetch *f);

/* 1 when the base is an http(s) URL, 0 for a directory. */
int	hl_fetch_is_http(const struct hl_fetch *f);

/* Flags of hl_fetch_get. */
#define HL_FETCH_GZIP	0x1	/* send Accept-Encoding: gzip (see above) */

/*
 * GETs path, at most max body bytes (0: HL_FETCH_MAX_BODY), sending
 * If-None-Match: inm when inm is not NULL or "".  flags: HL_FETCH_*.
 * res must be HL_FETCH_RES_INIT or reset by the caller; its body is
 * replaced.
 *
 * Returns 0 for a 200 or 304 (see res->status), HL_ENOTFOUND for a 404 or
 * a missing file, HL_ETOOBIG when the body is over max, HL_EBUSY for a
 * 429 or 503 (res->retry_after may say how long to wait), and HL_EIO for
 * any other failure: connection refused, timeout, another status.
 * res->status holds the status in every case where one arrived.
 */
int	hl_fetch_get(struct hl_fetch_res *res, struct hl_fetch *f,
	    const char *path, const char *inm, size_t max, unsigned flags,
	    struct hl_err *err);

/*
 * Where hl_fetch_stream hands a body: called with each piece as it
 * arrives, in order.  Returns 0 to go on, or a negative HL_E* code (with
 * err set) to stop the request; hl_fetch_stream then returns that code.
 */
typedef int (*hl_fetch_sink_fn)(void *payload, const void *p, size_t n,
    struct hl_err *err);

/*
 * As hl_fetch_get, but the body of a 200 goes to sink as it arrives and
 * is never held whole: memory does not grow with what the server sends.
 * The bodies of other answers (error pages) are read, counted against
 * max and dropped.  res->body is not touched.  A sink that fails stops
 * the request with its own code; the sink may have seen part of the body
 * whatever the outcome.
 */
int	hl_fetch_stream(struct hl_fetch_res *res, struct hl_fetch *f,
	    const char *path, const char *inm, size_t max, unsigned flags,
	    hl_fetch_sink_fn sink, void *payload, struct hl_err *err);

/* Counters since hl_fetch_new. */
void	hl_fetch_stats(struct hl_fetch_stats *out, const struct hl_fetch *f);

/*
 * Parses a Retry-After value: delta seconds or an HTTP date.  Returns the
 * seconds to wait from now (0 for a date in the past), or -1 when the
 * value is neither.
 */
long	hl_fetch_retry_after(const char *value, int64_t now);

#endif
