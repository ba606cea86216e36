/*
 * publisher: one worker thread per target (see publisher.h).
 *
 * The shared state is small: the wanted version and a stop flag under one
 * mutex and condition variable.  Everything else belongs to a worker.
 *
 * Workers run at a lower CPU and I/O priority than the threads that
 * answer requests: a publish may take a core for a while, an
 * acknowledged write must not wait for it.
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "log.h"
#include "monitor.h"
#include "publisher.h"
#include "snapsrc.h"
#include "store.h"
#include "target.h"
#include "webhook.h"

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	(5 * 60 * 1000)
/* How often a worker checks the store for changes made by others. */
#define EXTERNAL_POLL_MS 2000
/* Refresh the manifest when less than this part of its life is left. */
#define REFRESH_DIVISOR	4
/*
 * Under a stream of writes, a worker that finds, when a publish ends,
 * changes made before it began to write its files, or more than one change
 * in all, rests as long as that publish took (REST_MAX_MS at most) before
 * the next: it then takes at most about half a core, the rest left to the
 * writers, and each publish takes in more changes.  A change made while
 * the worker is idle, or the one change made after its files were written
 * (a writer that waits to see its last change before it makes the next),
 * is published at once.
 */
#define REST_MAX_MS	1000
/* The workers' nice, above the process's; I/O class and level (BE, 7). */
#define WORKER_NICE	10
#define IOPRIO_BE_LOWEST ((2 << 13) | 7)

struct worker {
	struct hl_publisher	*p;
	pthread_t		 thr;
	int			 started;
	struct hl_target	*t;
	struct hl_store		*st;
	struct hl_snap_source	 src;	/* st, for the generator */
	struct hl_snap		*snap;
	/* The SHA-256 of the manifest this target holds ("" for none). */
	char			 previous[65];
	int			 seeded;
	/* Under p->mu: */
	int64_t			 version;	/* published */
	int64_t			 expires;
	int64_t			 retry_at_ms;	/* 0: no retry pending */
	int64_t			 rest_until;	/* ms; see REST_MAX_MS */
	int64_t			 backoff_ms;
	int			 stopped;	/* needs an operator */
	int64_t			 failures;
	double			 last_ms;
	int64_t			 publishes;	/* done, since start */
	int64_t			 rests;		/* taken, since start */
	double			 busy_ms;	/* in publish(), since start */
	char			 error[256];
	int64_t			 behind_since;	/* ms; 0: up to date */
	int			 resign;	/* the signing keys changed */
	/* The public copy's monitor, or NULL. */
	struct hl_monitor	*mon;
	/* The mutable files last published, to tell which changed. */
	char			**paths;
	char			(*shas)[65];
	size_t			 npaths;
};

struct hl_publisher {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int64_t			 wanted;
	int			 stop;
	int64_t			 ttl;
	int64_t			 stale_after;	/* seconds; 0: never */
	struct hl_webhook	*webhook;
	void			(*publishing)(void *, int);
	void			*publishing_payload;
	struct worker		*w;
	size_t			 nw;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Reads the manifest the target holds, so that the chain of "previous"
 * hashes goes on from it across restarts, on every kind of target.  Done
 * before the first build, and again after a failure (HL_EIO and friends
 * are retried with the publish's backoff).
 */
static int
seed_previous(struct worker *w, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	int rc;

	rc = hl_target_manifest(&b, w->t, err);
	if (rc == HL_ENOTFOUND) {
		w->previous[0] = '\0';
		rc = 0;
	} else if (rc == 0)
		hl_digest(w->previous, NULL, b.data ? b.data : "", b.len);
	hl_buf_free(&b);
	if (rc == 0)
		w->seeded = 1;
	return rc;
}

/*
 * Each target that lacks the wanted version is behind from now on, unless
 * it already was.  The caller holds p->mu.
 */
static void
mark_behind(struct hl_publisher *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (p->wanted > p->w[i].version && p->w[i].behind_since == 0)
			p->w[i].behind_since = now_ms();
}

/*
 * The generator's propagation callback (snapshot.h): what each watched
 * target's monitor last measured.  The monitors live as long as p.
 */
static size_t
propagation(struct hl_snap_prop *out, size_t max, void *payload)
{
	struct hl_publisher *p = payload;
	struct hl_monitor_state ms;
	const char *url;
	size_t i, n = 0;

	for (i = 0; i < p->nw && n < max; i++) {
		if (p->w[i].mon == NULL ||
		    (url = hl_monitor_url(p->w[i].mon)) == NULL)
			continue;
		hl_monitor_state(&ms, p->w[i].mon);
		if (ms.propagation_s < 0)
			continue;
		snprintf(out[n].url, sizeof(out[n].url), "%s", url);
		out[n].version = ms.propagated;
		out[n].seconds = ms.propagation_s;
		out[n].measured_at = ms.measured_at;
		n++;
	}
	return n;
}

/* Objects of the build under way, for the target to write ahead. */
static void
stage_early(const struct hl_file *files, size_t n, void *payload)
{
	struct worker *w = payload;

	hl_target_stage(w->t, files, n);
}

static int
worker_open(struct worker *w, const char *db, const char *url,
    const struct hl_snap_opts *so, struct hl_err *err)
{
	int rc;

	if ((rc = hl_target_open(&w->t, url, err)) != 0 ||
	    (rc = hl_store_open(&w->st, db, err)) != 0 ||
	    (rc = hl_snap_new(&w->snap, so, err)) != 0)
		return rc;
	hl_snapsrc_store(&w->src, w->st);
	w->src.early = stage_early;
	w->src.early_payload = w;
	if (w->p != NULL) {
		w->src.propagation = propagation;
		w->src.prop_payload = w->p;
	}
	return 0;
}

/* The monitor of target i, when it has a public URL or a purge. */
static int
worker_watch(struct worker *w, const struct hl_publisher_opts *o, size_t i,
    struct hl_err *err)
{
	struct hl_monitor_opts mo;
	const struct hl_publisher_watch *pw;

	if (o->watch == NULL)
		return 0;
	pw = &o->watch[i];
	if (pw->public_url == NULL && pw->purge_url == NULL)
		return 0;
	memset(&mo, 0, sizeof(mo));
	mo.target = hl_target_name(w->t);
	mo.public_url = pw->public_url;
	mo.purge_method = pw->purge_method;
	mo.purge_url = pw->purge_url;
	mo.signing_key = o->snap.signing_key;
	mo.interval = o->check_interval;
	return hl_monitor_start(&w->mon, &mo, err);
}

/* Versions the first target held before this start were announced. */
static void
webhook_baseline(struct hl_publisher *p)
{
	struct hl_target_state *v = NULL;
	struct hl_err e = HL_ERR_INIT;
	size_t n = 0, i;

	if (p->webhook == NULL || p->nw == 0 ||
	    hl_store_targets(&v, &n, p->w[0].st, &e) != 0)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, hl_target_name(p->w[0].t)) == 0)
			hl_webhook_baseline(p->webhook, v[i].version);
	hl_target_states_free(v, n);
}

static void
forget_paths(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->npaths; i++)
		free(w->paths[i]);
	free(w->paths);
	free(w->shas);
	w->paths = NULL;
	w->shas = NULL;
	w->npaths = 0;
}

static void
worker_close(struct worker *w)
{
	hl_monitor_stop(w->mon);
	forget_paths(w);
	hl_snap_free(w->snap);
	hl_store_close(w->st);
	hl_target_close(w->t);
}

/*
 * Tells the monitor which mutable files of tree changed since the last
 * publish (all of them after a start), and keeps their hashes for the
 * next one.  Out of memory: the monitor hears of no file, and the next
 * publish names every file again.
 */
static void
tell_monitor(struct worker *w, const struct hl_tree *tree)
{
	const struct hl_file *f;
	const char **changed = NULL;
	char **paths = NULL, (*shas)[65] = NULL;
	size_t i, k, n = 0, nc = 0;

	if (w->mon == NULL)
		return;
	if ((changed = calloc(tree->n + 1, sizeof(*changed))) == NULL ||
	    (paths = calloc(tree->n + 1, sizeof(*paths))) == NULL ||
	    (shas = calloc(tree->n + 1, sizeof(*shas))) == NULL)
		goto out;
	for (i = 0; i < tree->n; i++) {
		f = &tree->files[i];
		if (f->cache == HL_CACHE_IMMUTABLE)
			continue;
		for (k = 0; k < w->npaths; k++)
			if (strcmp(w->paths[k], f->path) == 0)
				break;
		if (k == w->npaths || strcmp(w->shas[k], f->sha256) != 0)
			changed[nc++] = f->path;
		if ((paths[n] = strdup(f->path)) == NULL)
			goto out;
		memcpy(shas[n++], f->sha256, 65);
	}
	hl_monitor_published(w->mon, tree->version, changed, nc);
	forget_paths(w);
	w->paths = paths;
	w->shas = shas;
	w->npaths = n;
	free(changed);
	return;
out:
	for (i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(paths);
	free(shas);
	free(changed);
	forget_paths(w);
	hl_monitor_published(w->mon, tree->version, NULL, 0);
}

/* Announces the first target's new version to the webhooks. */
static void
tell_webhooks(struct worker *w, const struct hl_tree *tree)
{
	struct hl_list *lists = NULL;
	struct hl_err e = HL_ERR_INIT;
	char url[2048];
	const char *base;
	size_t n = 0;

	if (w->p == NULL || w->p->webhook == NULL || w != &w->p->w[0])
		return;
	base = w->mon != NULL ? hl_monitor_url(w->mon) : NULL;
	if (base != NULL && snprintf(url, sizeof(url), "%smanifest.json",
	    base) >= (int)sizeof(url))
		base = NULL;
	if (hl_store_lists(&lists, &n, w->st, &e) != 0)
		hl_log_warnx("webhook: %s", e.msg);
	hl_webhook_notify(w->p->webhook, tree->version, now_ms() / 1000,
	    hl_target_name(w->t), w->previous, base ? url : NULL, lists, n);
	hl_lists_free(lists, n);
}

/*
 * Builds and publishes once; records the outcome in the store.  *waiting:
 * the newest version asked for when the build was done, as its files
 * began to be written (0 without a publisher).
 */
static int
publish(struct worker *w, int64_t *waiting, struct hl_err *err)
{
	const struct hl_tree *tree;
	struct hl_err e2 = HL_ERR_INIT;
	size_t i;
	int rc, hook = w->p != NULL && w->p->publishing != NULL &&
	    w == &w->p->w[0];

	if (!w->seeded && (rc = seed_previous(w, err)) != 0)
		return rc;
	/* Chained to what the target holds, not to a failed build. */
	hl_snap_set_previous(w->snap, w->previous);
	*waiting = 0;
	if ((rc = hl_snap_build(&tree, w->snap, &w->src, err)) != 0) {
		hl_target_stage(w->t, NULL, 0);	/* done with the early files */
		return rc;
	}
	if (hook)
		w->p->publishing(w->p->publishing_payload, 1);
	if (w->p != NULL) {
		pthread_mutex_lock(&w->p->mu);
		*waiting = w->p->wanted;
		pthread_mutex_unlock(&w->p->mu);
	}
	rc = hl_target_publish(w->t, tree, err);
	if (hook)
		w->p->publishing(w->p->publishing_payload, 0);
	if (rc != 0) {
		(void)hl_store_target_set(w->st, hl_target_name(w->t), 0,
		    err->msg, &e2);
		return rc;
	}
	for (i = 0; i < tree->n; i++)
		if (strcmp(tree->files[i].path, "manifest.json") == 0)
			memcpy(w->previous, tree->files[i].sha256,
			    sizeof(w->previous));
	if (hl_store_target_set(w->st, hl_target_name(w->t), tree->version,
	    NULL, &e2) != 0)
		hl_log_warnx("%s: %s", hl_target_name(w->t), e2.msg);
	hl_log_info("published %s to %s", tree->summary,
	    hl_target_name(w->t));
	tell_monitor(w, tree);
	tell_webhooks(w, tree);
	return 0;
}

/*
 * Names the calling thread and lowers its CPU priority by WORKER_NICE
 * (from the process's own, at most 19) and its I/O priority to the
 * lowest best-effort level.  Linux sets both per thread.
 */
static void
worker_yield_priority(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int n;

	(void)pthread_setname_np(pthread_self(), "hl-publish");
	errno = 0;
	n = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0 && setpriority(PRIO_PROCESS, (id_t)tid,
	    n + WORKER_NICE > 19 ? 19 : n + WORKER_NICE) != 0)
		hl_log_debug("publisher: setpriority: %m");
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, tid,
	    IOPRIO_BE_LOWEST) != 0)
		hl_log_debug("publisher: ioprio_set: %m");
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct hl_publisher *p = w->p;
	struct hl_err err = HL_ERR_INIT;
	struct timespec until;
	int64_t wake, t, refresh_at, v, waiting;
	double t0;
	int64_t started;
	int rc, resign;

	worker_yield_priority();
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		t = now_ms();
		/* Refresh with a quarter of the manifest's life left. */
		refresh_at = w->expires ?
		    (w->expires - p->ttl / REFRESH_DIVISOR) * 1000 : 0;
		/* Due: a newer version, a retry, or a manifest near expiry. */
		if (!w->stopped && ((w->retry_at_ms == 0 &&
		    ((p->wanted > w->version && t >= w->rest_until) ||
		    w->expires == 0 ||
		    t >= refresh_at || w->resign)) ||
		    (w->retry_at_ms != 0 && t >= w->retry_at_ms))) {
			pthread_mutex_unlock(&p->mu);
			t0 = mono_ms();
			started = now_ms();
			hl_err_clear(&err);
			rc = publish(w, &waiting, &err);
			pthread_mutex_lock(&p->mu);
			w->last_ms = mono_ms() - t0;
			w->busy_ms += w->last_ms;
			if (rc == 0) {
				w->publishes++;
				w->version = hl_snap_version(w->snap);
				w->expires = hl_snap_expires(w->snap);
				/*
				 * What it still lacks was committed after
				 * this build began.
				 */
				w->behind_since = w->version >= p->wanted ?
				    0 : started;
				w->rest_until = waiting <= w->version &&
				    p->wanted <= w->version + 1 ? 0 :
				    now_ms() + (w->last_ms < REST_MAX_MS ?
				    (int64_t)w->last_ms : REST_MAX_MS);
				w->rests += w->rest_until != 0;
				w->retry_at_ms = 0;
				w->backoff_ms = 0;
				w->error[0] = '\0';
				w->resign = 0;
				continue;
			}
			w->failures++;
			snprintf(w->error, sizeof(w->error), "%s", err.msg);
			if (rc == HL_ECONFLICT || rc == HL_EAUTH) {
				w->stopped = 1;
				hl_log_warnx("%s: %s; stopped until restart",
				    hl_target_name(w->t), err.msg);
				continue;
			}
			w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 :
			    BACKOFF_MIN_MS;
			if (w->backoff_ms > BACKOFF_MAX_MS)
				w->backoff_ms = BACKOFF_MAX_MS;
			/* Full jitter in the upper half of the interval. */
			w->retry_at_ms = now_ms() + w->backoff_ms / 2 +
			    (int64_t)(random() % (w->backoff_ms / 2 + 1));
			hl_log_warnx("%s: %s; retry in %lld ms",
			    hl_target_name(w->t), err.msg,
			    (long long)(w->retry_at_ms - now_ms()));
			continue;
		}
		wake = t + EXTERNAL_POLL_MS;
		if (refresh_at != 0 && refresh_at < wake)
			wake = refresh_at;
		if (w->retry_at_ms != 0 && w->retry_at_ms < wake)
			wake = w->retry_at_ms;
		if (w->rest_until > t && w->rest_until < wake)
			wake = w->rest_until;
		until.tv_sec = wake / 1000;
		until.tv_nsec = (wake % 1000) * 1000000;
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0) {
			/*
			 * Changes made by another process (helios import
			 * beside a running daemon) notify no one: look.
			 */
			pthread_mutex_unlock(&p->mu);
			v = hl_store_version(w->st);
			/* A key rotation began, or its overlap ended. */
			resign = w->expires != 0 && hl_snap_keys_stale(w->snap);
			pthread_mutex_lock(&p->mu);
			if (v > p->wanted)
				p->wanted = v;
			w->resign |= resign;
			mark_behind(p);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
hl_publisher_start(struct hl_publisher **out,
    const struct hl_publisher_opts *o, struct hl_err *err)
{
	struct hl_publisher *p;
	size_t i;
	int rc = 0;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->w = calloc(o->ntargets ? o->ntargets : 1,
	    sizeof(*p->w))) == NULL) {
		free(p);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->ttl = o->snap.manifest_ttl > 0 ? o->snap.manifest_ttl : 604800;
	p->stale_after = o->stale_after;
	p->webhook = o->webhook;
	p->publishing = o->publishing;
	p->publishing_payload = o->publishing_payload;
	p->nw = o->ntargets;
	for (i = 0; i < p->nw && rc == 0; i++) {
		p->w[i].p = p;
		if ((rc = worker_open(&p->w[i], o->db, o->targets[i],
		    &o->snap, err)) == 0)
			rc = worker_watch(&p->w[i], o, i, err);
	}
	if (rc == 0)
		webhook_baseline(p);
	/* Every target is behind until its first publish. */
	if (rc == 0 && p->nw > 0) {
		p->wanted = hl_store_version(p->w[0].st);
		for (i = 0; i < p->nw; i++)
			p->w[i].behind_since = now_ms();
	}
	for (i = 0; i < p->nw && rc == 0; i++) {
		if (pthread_create(&p->w[i].thr, NULL, worker_main,
		    &p->w[i]) != 0)
			rc = hl_err_set(err, HL_EIO, "cannot start a thread");
		else
			p->w[i].started = 1;
	}
	if (rc != 0) {
		hl_publisher_stop(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
hl_publisher_notify(struct hl_publisher *p, int64_t version)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (version > p->wanted)
		p->wanted = version;
	mark_behind(p);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int64_t
hl_publisher_version(struct hl_publisher *p)
{
	int64_t v = INT64_MAX;
	size_t i;

	if (p == NULL || p->nw == 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->nw; i++)
		if (p->w[i].version < v)
			v = p->w[i].version;
	pthread_mutex_unlock(&p->mu);
	return v;
}

/*
 * Adds the public copy's state to t; a reason (into why) when it fails
 * verification, or lags or is unreachable over stale_after seconds.
 */
static void
public_health(json_t *t, char *why, size_t whylen, struct worker *w,
    int64_t stale_after, int64_t now)
{
	struct hl_monitor_state ms;
	const char *url = hl_monitor_url(w->mon);
	int64_t lag_s = 0, down_s = 0;

	if (url == NULL)
		goto purges;
	hl_monitor_state(&ms, w->mon);
	if (ms.seen < ms.wanted && ms.published_ms != 0 &&
	    now > ms.published_ms)
		lag_s = (now - ms.published_ms) / 1000;
	if (ms.failed_since_ms != 0 && now > ms.failed_since_ms)
		down_s = (now - ms.failed_since_ms) / 1000;
	json_object_set_new(t, "public_url", json_string(url));
	json_object_set_new(t, "public_version", json_integer(ms.seen));
	json_object_set_new(t, "public_verified", json_boolean(
	    ms.checked_at != 0 && ms.error[0] == '\0' &&
	    ms.seen >= ms.wanted));
	json_object_set_new(t, "public_lag_seconds", json_integer(lag_s));
	json_object_set_new(t, "propagation_seconds", ms.propagation_s < 0 ?
	    json_null() : json_real(ms.propagation_s));
	json_object_set_new(t, "propagated_version",
	    json_integer(ms.propagated));
	json_object_set_new(t, "public_checked_at",
	    json_integer(ms.checked_at));
	json_object_set_new(t, "public_error", ms.error[0] ?
	    json_string(ms.error) : json_null());
	json_object_set_new(t, "public_checks", json_integer(ms.checks));
	json_object_set_new(t, "public_check_failures",
	    json_integer(ms.failures));
	if (why[0] != '\0')		/* the first target's reason shows */
		goto purges;
	if (ms.bad)
		snprintf(why, whylen, "the public copy of %s fails"
		    " verification: %s", hl_target_name(w->t), ms.error);
	else if (stale_after > 0 && ms.error[0] && down_s > stale_after)
		snprintf(why, whylen, "the public copy of %s is unreachable"
		    " for %lld s: %s", hl_target_name(w->t),
		    (long long)down_s, ms.error);
	else if (stale_after > 0 && lag_s > stale_after)
		snprintf(why, whylen, "the public copy of %s lags: v%lld"
		    " served, v%lld published %lld s ago",
		    hl_target_name(w->t), (long long)ms.seen,
		    (long long)ms.wanted, (long long)lag_s);
purges:
	hl_monitor_state(&ms, w->mon);
	json_object_set_new(t, "purges", json_integer(ms.purges));
	json_object_set_new(t, "purge_failures",
	    json_integer(ms.purge_failures));
}

void
hl_publisher_health(struct hl_publisher *p, json_t *obj)
{
	json_t *arr, *t;
	struct worker *w;
	int64_t now = now_ms(), behind_s;
	size_t i;
	int stale, any_stale = 0;
	char why[512] = "";

	if (p == NULL || (arr = json_array()) == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->nw; i++) {
		w = &p->w[i];
		behind_s = w->behind_since != 0 && now > w->behind_since ?
		    (now - w->behind_since) / 1000 : 0;
		stale = p->stale_after > 0 && behind_s > p->stale_after;
		any_stale |= stale;
		t = json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:f, s:I, s:I, s:f}",
		    "name", hl_target_name(w->t), "kind", hl_target_kind(w->t),
		    "version", (json_int_t)w->version,
		    "expires_at", (json_int_t)w->expires,
		    "stopped", w->stopped, "failures", (json_int_t)w->failures,
		    "last_publish_ms", w->last_ms,
		    "publishes", (json_int_t)w->publishes,
		    "rests", (json_int_t)w->rests,
		    "publish_ms_total", w->busy_ms);
		if (t == NULL)
			continue;
		json_object_set_new(t, "error", w->error[0] ?
		    json_string(w->error) : json_null());
		json_object_set_new(t, "behind_versions", json_integer(
		    p->wanted > w->version ? p->wanted - w->version : 0));
		json_object_set_new(t, "behind_seconds",
		    json_integer(behind_s));
		json_object_set_new(t, "stale", json_boolean(stale));
		if (w->mon != NULL)
			public_health(t, why, sizeof(why), w, p->stale_after,
			    now);
		json_array_append_new(arr, t);
	}
	json_object_set_new(obj, "wanted_version", json_integer(p->wanted));
	if (any_stale)
		json_object_set_new(obj, "status", json_string("stale"));
	else if (why[0] != '\0') {
		json_object_set_new(obj, "status", json_string("public"));
		json_object_set_new(obj, "reason", json_string(why));
	}
	pthread_mutex_unlock(&p->mu);
	json_object_set_new(obj, "targets", arr);
}

void
hl_publisher_stop(struct hl_publisher *p)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	/* All joined first: a build reads every monitor (propagation). */
	for (i = 0; i < p->nw; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].thr, NULL);
	for (i = 0; i < p->nw; i++)
		worker_close(&p->w[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->w);
	free(p);
}

int
hl_publish_once(const struct hl_publisher_opts *o, struct hl_err *err)
{
	struct worker w;
	struct hl_err e = HL_ERR_INIT;
	int64_t waiting;
	size_t i;
	int rc, first = 0;

	for (i = 0; i < o->ntargets; i++) {
		memset(&w, 0, sizeof(w));
		hl_err_clear(&e);
		rc = worker_open(&w, o->db, o->targets[i], &o->snap, &e);
		if (rc == 0)
			rc = publish(&w, &waiting, &e);
		if (rc != 0) {
			hl_log_warnx("%s: %s", o->targets[i], e.msg);
			if (first == 0) {
				first = rc;
				*err = e;
			}
		}
		worker_close(&w);
	}
	return first;
}

void
hl_publisher_set_stale_after(struct hl_publisher *p, int64_t seconds)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stale_after = seconds;
	pthread_mutex_unlock(&p->mu);
}
