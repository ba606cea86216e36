/*
 * monitor: watches one target's public copy, as readers see it.
 *
 * After each publish to a target, the monitor fetches manifest.json (and
 * manifest.json.sig when a signing key is configured) from the target's
 * public URL (the bucket's website or CDN URL, the pages URL, the
 * daemon's own URL for the local directory), as a client would: no cache
 * busting, sizes bounded, hashes checked.  It retries with backoff (250 ms
 * doubling to 30 s) until the new version shows there, then checks the
 * signature, the expiry and the SHA-256 of the files that changed (at
 * most HL_MONITOR_MAX_CHANGED) and of a few others taken in turn
 * (HL_MONITOR_SAMPLE a check, so every file is checked over time), and
 * records the propagation delay: publish done -> visible and verified.
 * Between publishes it checks again every interval seconds.
 *
 * Each monitor has its own thread: hl_monitor_published only records the
 * version and wakes it, so neither the publisher nor the API ever waits
 * for a public URL.  With a purge template, the same thread first asks
 * the CDN to drop each path that changed (at most HL_MONITOR_MAX_PURGE),
 * substituting {path}, {version} and {url} (public URL + path).
 */
#ifndef HL_MONITOR_H
#define HL_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HL_MONITOR_MAX_CHANGED	32
#define HL_MONITOR_SAMPLE	8
#define HL_MONITOR_MAX_PURGE	64
/* The largest manifest.json and signature read from a public URL. */
#define HL_MONITOR_MAX_MANIFEST	(16 << 20)
#define HL_MONITOR_MAX_SIG	1024

struct hl_monitor;

struct hl_monitor_opts {
	const char	*target;	/* its name, for logs */
	const char	*public_url;	/* base URL; NULL: purges only */
	const char	*purge_method;	/* NULL: no purges */
	const char	*purge_url;	/* template */
	const char	*signing_key;	/* PEM key whose public half checks
					   manifest.json.sig; NULL: none */
	int64_t		 interval;	/* seconds between checks */
	long		 timeout_ms;	/* one request */
};

/* What the monitor last saw. */
struct hl_monitor_state {
	int64_t	 wanted;		/* the version last published */
	int64_t	 published_ms;		/* when (Unix ms); 0: none yet */
	int64_t	 seen;			/* the version served publicly */
	int64_t	 propagated;		/* the last version seen verified */
	double	 propagation_s;		/* its delay; < 0: none measured */
	int64_t	 measured_at;		/* when (Unix s) */
	int64_t	 checked_at;		/* last check (Unix s); 0: none */
	int64_t	 ok_ms;			/* last check that passed (Unix ms) */
	int	 bad;			/* the public copy fails verification */
	char	 error[256];		/* last check's error, "" if none */
	int64_t	 failed_since_ms;	/* first failed check in a row */
	int64_t	 checks;
	int64_t	 failures;
	int64_t	 purges;
	int64_t	 purge_failures;
};

/*
 * Starts the monitor's thread.  HL_EINVAL / HL_EIO when the signing key
 * can't be loaded.  On success *out is owned by the caller; stop it with
 * hl_monitor_stop.
 */
int	hl_monitor_start(struct hl_monitor **out,
	    const struct hl_monitor_opts *o, struct hl_err *err);
/*
 * The target now holds version; changed names its files that changed
 * (copied; the first HL_MONITOR_MAX_PURGE are kept).  Never blocks long.
 */
void	hl_monitor_published(struct hl_monitor *m, int64_t version,
	    const char *const *changed, size_t nchanged);
void	hl_monitor_state(struct hl_monitor_state *out, struct hl_monitor *m);
/* The public URL (borrowed), or NULL when only purging. */
const char *hl_monitor_url(const struct hl_monitor *m);
/* Stops the thread (a request in flight ends by its timeout) and frees m. */
void	hl_monitor_stop(struct hl_monitor *m);

#endif
