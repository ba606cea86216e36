/*
 * pub_s3: the S3-compatible publish target (hl_pub_s3_ops in target.h).
 * This header adds what the ops table cannot say: the request counters
 * that benchmarks, tests and /metrics read.
 */
#ifndef HL_PUB_S3_H
#define HL_PUB_S3_H

#include <stdint.h>

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

#endif
