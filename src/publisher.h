/*
 * publisher: keeps every target's published tree at the store's newest
 * version, in the daemon's background.
 *
 * Each target has its own worker thread, store connection and snapshot
 * cache, so a slow or failing target never holds back another, and the
 * API never waits for publishing: hl_publisher_notify only records the
 * wanted version and wakes the workers.  A change that commits while a
 * tree is being built goes into the next build; a burst of changes
 * coalesces into one.  Changes made by another process (helios import
 * beside the daemon) are noticed within two seconds.  A failed publish is retried with exponential
 * backoff and jitter (1 s doubling to 5 min); HL_ECONFLICT and HL_EAUTH
 * stop the target until restart, since retrying cannot fix them.  A fresh
 * manifest is published before the current one expires even when nothing
 * changed, and within two seconds of a change of the signing keys (a
 * rotation begun or retired, its overlap ended: signer.h).  Each
 * target's published version is recorded in the store.
 *
 * A target with a public URL has a monitor (monitor.h) that checks what
 * readers see there after each publish; its findings go to /healthz,
 * /metrics and the site's index.  Each new version of the first target
 * is announced to the webhooks (webhook.h).
 */
#ifndef HL_PUBLISHER_H
#define HL_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "snapshot.h"

struct hl_publisher;
struct hl_webhook;

/* A target's public copy and CDN purge; NULLs for none. */
struct hl_publisher_watch {
	const char	*public_url;
	const char	*purge_method;
	const char	*purge_url;
};

struct hl_publisher_opts {
	const char		*db;		/* the store's path */
	const char *const	*targets;	/* URLs */
	size_t			 ntargets;
	struct hl_snap_opts	 snap;
	/* Seconds a target may lag the store before it is stale; 0: never. */
	int64_t			 stale_after;
	/* ntargets entries, or NULL: no target is watched. */
	const struct hl_publisher_watch *watch;
	int64_t			 check_interval;	/* seconds */
	/* Told of each new version of targets[0]; may be NULL. */
	struct hl_webhook	*webhook;
	/*
	 * Called with 1 before each publish to targets[0] and with 0 after
	 * it, failed or not, from its worker thread; may be NULL.  The
	 * daemon's static server of that directory takes its table anew
	 * then (static.h).
	 */
	void			(*publishing)(void *payload, int begin);
	void			*publishing_payload;
};

/* Opens every target and starts the workers; each publishes once. */
int	hl_publisher_start(struct hl_publisher **out,
	    const struct hl_publisher_opts *o, struct hl_err *err);
/* Asks for version (or newer) to be published; cheap, never blocks long. */
void	hl_publisher_notify(struct hl_publisher *p, int64_t version);
/*
 * Adds {"targets": [{name, kind, version, error, behind_versions,
 * behind_seconds, stale, ...}]} to obj, and sets obj's "status" to
 * "stale" when a target has lagged the store over stale_after seconds.
 * behind_seconds counts from the oldest change the target lacks (at
 * most: from the start of the build that preceded it).  A watched
 * target adds public_url, public_version, public_verified,
 * propagation_seconds, public_checked_at, public_error, ...; when its
 * public copy fails verification, or lags or is unreachable over
 * stale_after seconds, "status" is "public" and "reason" says why.
 */
void	hl_publisher_health(struct hl_publisher *p, json_t *obj);
/* The lowest version every target has published. */
int64_t	hl_publisher_version(struct hl_publisher *p);
/* Stops the workers (finishing a publish in progress) and frees p. */
void	hl_publisher_stop(struct hl_publisher *p);

/*
 * Builds the store's current tree and publishes it to each target once,
 * as `helios publish` does.  Returns the first error; every target is
 * tried.
 */
int	hl_publish_once(const struct hl_publisher_opts *o, struct hl_err *err);

/* A new stale_after (config reload); p may be NULL. */
void	hl_publisher_set_stale_after(struct hl_publisher *p, int64_t seconds);

#endif
