/*
 * webhook: tells receivers that a new version is published.
 *
 * On each new version the first target publishes (the public directory,
 * or else the first `target`), every configured URL gets one POST of a
 * JSON notice:
 *
 *   {"event": "publish", "version": 42, "previous_version": 40,
 *    "published_at": 1796000000, "target": "dir:/srv/public",
 *    "manifest_sha256": "3f2a...", "manifest_url":
 *    "https://lists.example.org/manifest.json" | null,
 *    "lists_changed": ["blacklist-website", "watch-keyword"]}
 *
 * with the headers
 *
 *   Content-Type: application/json
 *   X-Helios-Event: publish
 *   X-Helios-Delivery: <32 hex digits, the same on every try of it>
 *   X-Helios-Signature: sha256=<hex HMAC-SHA256 of the body, keyed
 *                       with the webhook secret>
 *
 * previous_version is the last version this receiver acknowledged (any
 * 2xx answer); lists_changed names the lists changed since then.  A
 * failed delivery is tried again after 1, 2, 4 and 8 s (HL_WEBHOOK_TRIES
 * in all), then given up; when newer versions arrive meanwhile, only the
 * newest is sent (the receiver needs the newest, and lists_changed
 * covers the ones it missed).  Each receiver has its own thread, so a
 * slow one holds back no other and never the publisher.  The secret is
 * never logged, and wiped when the webhooks stop.
 */
#ifndef HL_WEBHOOK_H
#define HL_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "item.h"

#define HL_WEBHOOK_MAX		8
#define HL_WEBHOOK_TRIES	5
#define HL_WEBHOOK_SECRET_MAX	1024

struct hl_webhook;

struct hl_webhook_opts {
	const char *const	*urls;
	size_t			 nurls;
	const void		*secret;	/* copied */
	size_t			 secret_len;
	long			 timeout_ms;	/* one try; default 10 s */
	long			 backoff_ms;	/* first retry; default 1 s */
};

/* Starts one thread per URL.  HL_EINVAL without a secret or URL. */
int	hl_webhook_start(struct hl_webhook **out,
	    const struct hl_webhook_opts *o, struct hl_err *err);
/*
 * Reads a secret given as "file:PATH" (the file's bytes, a final newline
 * dropped) or "env:NAME" into out (at most HL_WEBHOOK_SECRET_MAX bytes).
 * HL_EINVAL for another form or an empty secret, HL_EIO.  The message
 * never holds the secret.
 */
int	hl_webhook_secret(unsigned char *out, size_t *len, const char *spec,
	    struct hl_err *err);
/* Versions up to v count as announced already (by an earlier run). */
void	hl_webhook_baseline(struct hl_webhook *w, int64_t v);
/*
 * A new version: lists are the store's lists with their versions (those
 * above the receiver's last version are "changed"); strings are copied.
 * manifest_url may be NULL.  Never blocks long.
 */
void	hl_webhook_notify(struct hl_webhook *w, int64_t version,
	    int64_t published_at, const char *target,
	    const char *manifest_sha256, const char *manifest_url,
	    const struct hl_list *lists, size_t nlists);
/* Adds "webhooks": [{id, delivered_version, deliveries, ...}] to obj. */
void	hl_webhook_health(struct hl_webhook *w, json_t *obj);
void	hl_webhook_stop(struct hl_webhook *w);

#endif
