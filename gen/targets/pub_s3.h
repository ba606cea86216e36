/*
 * pub_s3: the S3-compatible publish target (hl_pub_s3_ops in target.h).
 * This header adds what the ops table cannot say: the request counters
 * that benchmarks, tests and /metrics read, and a signed GET of any file
 * below the target's prefix (helios restore reads a tree back with it).
 */
#ifndef HL_PUB_S3_H
#define HL_PUB_S3_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Counters since the target was opened.  Every HTTP request is counted,
 * retries included; bytes_up counts request bodies sent (PUT payloads,
 * retries included).
 */
struct hl_s3_stats {
	uint64_t	requests;	/* every request sent */
	uint64_t	puts;		/* PUT requests (tries included) */
	uint64_t	copies;		/* of which server-side copies */
	uint64_t	lists;		/* ListObjectsV2 pages */
	uint64_t	gets;		/* GETs (of manifest.json) */
	uint64_t	retries;	/* requests repeated after a fault */
	uint64_t	bytes_up;	/* body bytes sent */
	uint64_t	uploaded;	/* files written successfully */
	uint64_t	skipped;	/* files the bucket already held */
	uint64_t	publishes;	/* publishes that completed */
};

/*
 * Copies the counters of an open S3 target (the state hl_pub_s3_ops.open
 * returned) into *out.
 */
void	hl_pub_s3_stats(struct hl_s3_stats *out, const void *state);

/*
 * GETs PREFIX + path from an open S3 target (the state
 * hl_pub_s3_ops.open returned): one request signed with the target's
 * credentials, retried on the faults a publish retries, and appends the
 * body to out.  path is a relative path of the tree ("lists/x.json"); one
 * with an empty, "." or ".." segment is HL_EINVAL.  At most max bytes are
 * read: a longer body is cut off and is HL_ETOOBIG.  HL_ENOTFOUND on 404,
 * HL_EAUTH on 401 and 403, HL_EIO otherwise.  On error out may hold part
 * of the body.
 */
int	hl_pub_s3_get(struct hl_buf *out, void *state, const char *path,
	    size_t max, struct hl_err *err);

#endif
