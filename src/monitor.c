/*
 * monitor: one thread per watched target (see monitor.h).
 *
 * The shared state is the published version, the paths waiting to be
 * purged and checked, the last results and a stop flag, under one mutex
 * and condition variable.  A check runs outside the lock on copies.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "blob.h"
#include "buf.h"
#include "log.h"
#include "monitor.h"
#include "outreq.h"
#include "signer.h"

#define RETRY_MIN_MS	250
#define RETRY_MAX_MS	30000
#define MAX_PATH_LEN	512

struct hl_monitor {
	pthread_t	 thr;
	int		 started;
	char		*target;
	char		*url;		/* ends with '/'; NULL: purges only */
	char		*purge_method;
	char		*purge_url;
	struct hl_signer *signer;	/* the daemon's keys, or NULL */
	int64_t		 interval_ms;
	long		 timeout_ms;
	size_t		 rr;		/* next sampled file (thread only) */
	/* The last file that failed, checked first until it passes. */
	char		 suspect[MAX_PATH_LEN];	/* thread only */

	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	atomic_int	 stop;
	int		 fresh;		/* a publish not yet looked at */
	char		*paths[HL_MONITOR_MAX_PURGE];	/* changed */
	size_t		 npaths;
	int64_t		 retry_ms;	/* 0: none due */
	int64_t		 backoff_ms;
	int64_t		 next_ms;	/* next periodic check */
	struct hl_monitor_state st;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A path from a manifest, safe to put after the base URL. */
static int
safe_path(const char *p)
{
	size_t n = strlen(p);

	return n > 0 && n < MAX_PATH_LEN && p[0] != '/' &&
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-/") == n && strstr(p, "..") == NULL;
}

static int
get(struct hl_buf *out, struct hl_monitor *m, const char *path, size_t max,
    struct hl_err *err)
{
	struct hl_outreq r = { .method = "GET", .max_body = max,
	    .timeout_ms = m->timeout_ms };
	struct hl_err e = HL_ERR_INIT;
	char url[2048];
	long status;
	int rc;

	if (snprintf(url, sizeof(url), "%s%s", m->url, path) >=
	    (int)sizeof(url))
		return hl_err_set(err, HL_EINVAL, "%s: URL too long", path);
	r.url = url;
	if ((rc = hl_outreq_send(&status, out, &r, &e)) != 0)
		return hl_err_set(err, rc == HL_ETOOBIG ? HL_ETOOBIG : HL_EIO,
		    "%s: %s", path, e.msg);
	if (status != 200)
		return hl_err_set(err, HL_EIO, "%s: HTTP %ld", path, status);
	return 0;
}

/* One file the manifest names: fetched, its size and SHA-256 checked. */
static int
check_file(struct hl_monitor *m, json_t *f, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	const char *path = json_string_value(json_object_get(f, "path"));
	const char *sha = json_string_value(json_object_get(f, "sha256"));
	json_int_t bytes = json_integer_value(json_object_get(f, "bytes"));
	char got[65];
	int rc;

	if (path == NULL || sha == NULL || !safe_path(path) || bytes < 0 ||
	    bytes > HL_MONITOR_MAX_MANIFEST * 16LL)
		return hl_err_set(err, HL_EINVAL, "manifest.json names a bad"
		    " file entry");
	snprintf(m->suspect, sizeof(m->suspect), "%s", path);
	/* One byte over what the manifest says is already wrong. */
	rc = get(&b, m, path, (size_t)bytes, err);
	if (rc == HL_ETOOBIG)
		rc = hl_err_set(err, HL_EINVAL, "%s: longer than the manifest"
		    " says", path);
	else if (rc == 0) {
		hl_digest(got, NULL, b.data ? b.data : "", b.len);
		if (b.len != (size_t)bytes || strcmp(got, sha) != 0)
			rc = hl_err_set(err, HL_EINVAL, "%s: sha256 differs"
			    " from the manifest", path);
	}
	if (rc == 0)
		m->suspect[0] = '\0';
	hl_buf_free(&b);
	return rc;
}

/*
 * The entries of the manifest's files, the .gz of each after it, flat,
 * into out (at most max).
 */
static size_t
flat_files(json_t **out, size_t max, json_t *files)
{
	json_t *f, *gz;
	size_t i, n = 0;

	json_array_foreach(files, i, f) {
		if (n < max)
			out[n++] = f;
		if ((gz = json_object_get(f, "gz")) != NULL && n < max)
			out[n++] = gz;
	}
	return n;
}

/* 1 when sig is key's signature of man. */
static int
sig_ok(EVP_PKEY *key, const struct hl_buf *sig, const struct hl_buf *man)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (key == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, (const unsigned char *)sig->data, sig->len,
	    (const unsigned char *)man->data, man->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * manifest.json.sig must verify with the daemon's current key or, during
 * a rotation's overlap, the previous one (which signs it then).  The keys
 * are read again when their files changed, as the publisher does.
 */
static int
verify_sig(struct hl_monitor *m, const struct hl_buf *man, struct hl_err *err)
{
	struct hl_buf sig = HL_BUF_INIT;
	struct hl_err e2 = HL_ERR_INIT;
	int rc, ok;

	if ((rc = get(&sig, m, "manifest.json.sig", HL_MONITOR_MAX_SIG,
	    err)) != 0) {
		hl_buf_free(&sig);
		return rc == HL_ETOOBIG ? hl_err_set(err, HL_EINVAL,
		    "manifest.json.sig: too long") : rc;
	}
	if (hl_signer_refresh(m->signer, &e2) != 0)
		hl_log_warnx("monitor %s: %s", m->target, e2.msg);
	ok = sig_ok(hl_signer_current(m->signer), &sig, man) ||
	    sig_ok(hl_signer_previous(m->signer), &sig, man);
	hl_buf_free(&sig);
	return ok ? 0 : hl_err_set(err, HL_EINVAL, "manifest.json.sig: bad"
	    " signature");
}

/*
 * Checks the public copy.  *seen: the version it serves (0 when unknown).
 * 0 when it serves at least wanted and all checks passed, or a lower
 * version whose manifest passed (not there yet: the caller retries);
 * HL_EINVAL when the copy fails verification; HL_EIO when it could not
 * be read.
 */
static int
check(int64_t *seen, struct hl_monitor *m, int64_t wanted,
    char *const *paths, size_t npaths, struct hl_err *err)
{
	struct hl_buf man = HL_BUF_INIT;
	json_t *root = NULL, *files, *flat[4096], *f;
	json_error_t je;
	const char *p;
	size_t nflat, i, k, done = 0;
	int64_t expires;
	int rc;

	*seen = 0;
	if ((rc = get(&man, m, "manifest.json", HL_MONITOR_MAX_MANIFEST,
	    err)) != 0) {
		if (rc == HL_ETOOBIG)
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: over"
			    " %d bytes", HL_MONITOR_MAX_MANIFEST);
		goto out;
	}
	if ((root = json_loadb(man.data ? man.data : "", man.len, 0,
	    &je)) == NULL || !json_is_integer(json_object_get(root,
	    "version")) || !json_is_array(files = json_object_get(root,
	    "files"))) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: not a"
		    " manifest");
		goto out;
	}
	*seen = json_integer_value(json_object_get(root, "version"));
	if (m->signer != NULL && (rc = verify_sig(m, &man, err)) != 0)
		goto out;
	expires = json_integer_value(json_object_get(root, "expires_at"));
	if (expires > 0 && expires * 1000 < now_ms()) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: expired at"
		    " %lld", (long long)expires);
		goto out;
	}
	if (*seen < wanted)
		goto out;
	nflat = flat_files(flat, sizeof(flat) / sizeof(flat[0]), files);
	/* The file that failed last time stays wrong until it passes. */
	for (i = 0; m->suspect[0] != '\0' && i < nflat; i++) {
		p = json_string_value(json_object_get(flat[i], "path"));
		if (p != NULL && strcmp(p, m->suspect) == 0) {
			if ((rc = check_file(m, flat[i], err)) != 0)
				goto out;
			break;
		}
	}
	m->suspect[0] = '\0';
	/* The files that changed, by path. */
	for (k = 0; k < npaths && done < HL_MONITOR_MAX_CHANGED; k++)
		for (i = 0; i < nflat; i++) {
			f = flat[i];
			p = json_string_value(json_object_get(f, "path"));
			if (p == NULL || strcmp(p, paths[k]) != 0)
				continue;
			if (atomic_load(&m->stop))
				goto out;
			if ((rc = check_file(m, f, err)) != 0)
				goto out;
			done++;
			break;
		}
	/* And a few others in turn. */
	for (i = 0; i < HL_MONITOR_SAMPLE && i < nflat &&
	    !atomic_load(&m->stop); i++) {
		m->rr %= nflat;
		if ((rc = check_file(m, flat[m->rr++], err)) != 0)
			goto out;
	}
out:
	json_decref(root);
	hl_buf_free(&man);
	return rc;
}

/* Appends template t with its placeholders filled to b. */
static int
expand(struct hl_buf *b, const char *t, const struct hl_monitor *m,
    const char *path, int64_t version)
{
	int rc = 0;

	while (*t != '\0' && rc == 0) {
		if (strncmp(t, "{path}", 6) == 0) {
			rc = hl_buf_puts(b, path);
			t += 6;
		} else if (strncmp(t, "{version}", 9) == 0) {
			rc = hl_buf_printf(b, "%lld", (long long)version);
			t += 9;
		} else if (strncmp(t, "{url}", 5) == 0) {
			rc = hl_buf_printf(b, "%s%s", m->url ? m->url : "",
			    path);
			t += 5;
		} else
			rc = hl_buf_putc(b, *t++);
	}
	return rc;
}

/* Asks the CDN to drop each path; returns the failures. */
static int64_t
purge(struct hl_monitor *m, char *const *paths, size_t n, int64_t version)
{
	struct hl_buf url = HL_BUF_INIT;
	struct hl_outreq r = { .method = m->purge_method, .max_body = 65536,
	    .timeout_ms = m->timeout_ms };
	struct hl_err e = HL_ERR_INIT;
	int64_t failed = 0;
	long status;
	size_t i;

	for (i = 0; i < n && !atomic_load(&m->stop); i++) {
		hl_buf_reset(&url);
		if (expand(&url, m->purge_url, m, paths[i], version) != 0) {
			failed++;
			continue;
		}
		r.url = url.data;
		hl_err_clear(&e);
		/* The URL may hold a key: the log names the path only. */
		if (hl_outreq_send(&status, NULL, &r, &e) != 0 ||
		    status < 200 || status > 299) {
			failed++;
			hl_log_warnx("%s: purge of %s: %s", m->target,
			    paths[i], e.msg[0] ? e.msg : "HTTP error");
		}
	}
	hl_buf_free(&url);
	return failed;
}

static void
wait_until(struct hl_monitor *m, int64_t ms)
{
	struct timespec until;

	until.tv_sec = ms / 1000;
	until.tv_nsec = (ms % 1000) * 1000000;
	pthread_cond_timedwait(&m->cv, &m->mu, &until);
}

static void *
monitor_main(void *arg)
{
	struct hl_monitor *m = arg;
	struct hl_err err = HL_ERR_INIT;
	char *paths[HL_MONITOR_MAX_PURGE];
	size_t npaths, i;
	int64_t t, wanted, seen = 0, failed, wake;
	int fresh, checks, rc;

	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		t = now_ms();
		/* Checks (periodic, retries) need a public URL. */
		checks = m->url != NULL && m->st.published_ms != 0;
		if (!m->fresh && !(checks && m->retry_ms != 0 &&
		    t >= m->retry_ms) && !(checks && t >= m->next_ms)) {
			wake = m->next_ms;
			if (m->retry_ms != 0 && m->retry_ms < wake)
				wake = m->retry_ms;
			if (!checks || wake < t)
				wake = t + 60000;
			wait_until(m, wake);
			continue;
		}
		fresh = m->fresh;
		m->fresh = 0;
		wanted = m->st.wanted;
		npaths = m->npaths;
		memcpy(paths, m->paths, npaths * sizeof(paths[0]));
		m->npaths = 0;
		pthread_mutex_unlock(&m->mu);

		failed = 0;
		if (fresh && m->purge_url != NULL)
			failed = purge(m, paths, npaths, wanted);
		hl_err_clear(&err);
		rc = m->url != NULL ? check(&seen, m, wanted, paths, npaths,
		    &err) : 0;
		for (i = 0; i < npaths; i++)
			free(paths[i]);

		pthread_mutex_lock(&m->mu);
		t = now_ms();
		if (fresh && m->purge_url != NULL) {
			m->st.purges += (int64_t)npaths;
			m->st.purge_failures += failed;
		}
		if (m->url == NULL)
			continue;
		m->st.checks++;
		m->st.checked_at = t / 1000;
		m->next_ms = t + m->interval_ms;
		if (rc == 0)
			m->st.seen = seen;
		if (rc == 0 && seen >= m->st.wanted) {
			if (m->st.propagated < m->st.wanted) {
				m->st.propagated = m->st.wanted;
				m->st.propagation_s = (double)(t -
				    m->st.published_ms) / 1e3;
				m->st.measured_at = t / 1000;
				hl_log_info("%s: v%lld public after %.3f s",
				    m->target, (long long)m->st.wanted,
				    m->st.propagation_s);
			}
			m->st.error[0] = '\0';
			m->st.bad = 0;
			m->st.ok_ms = t;
			m->st.failed_since_ms = 0;
			m->retry_ms = 0;
			m->backoff_ms = 0;
			continue;
		}
		if (rc == 0) {
			/* Not there yet; nothing wrong with what is. */
			m->st.error[0] = '\0';
			m->st.bad = 0;
			m->st.ok_ms = t;
			m->st.failed_since_ms = 0;
		} else {
			if (m->st.error[0] == '\0' ||
			    strcmp(m->st.error, err.msg) != 0)
				hl_log_warnx("%s: public copy: %s", m->target,
				    err.msg);
			m->st.failures++;
			snprintf(m->st.error, sizeof(m->st.error), "%s",
			    err.msg);
			m->st.bad = rc == HL_EINVAL;
			if (m->st.failed_since_ms == 0)
				m->st.failed_since_ms = t;
		}
		m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 :
		    RETRY_MIN_MS;
		if (m->backoff_ms > RETRY_MAX_MS)
			m->backoff_ms = RETRY_MAX_MS;
		if (m->backoff_ms > m->interval_ms)
			m->backoff_ms = m->interval_ms;
		m->retry_ms = t + m->backoff_ms;
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int
hl_monitor_start(struct hl_monitor **out, const struct hl_monitor_opts *o,
    struct hl_err *err)
{
	struct hl_monitor *m;
	size_t n;
	int rc = 0;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->st.propagation_s = -1;
	m->interval_ms = (o->interval > 0 ? o->interval : 300) * 1000;
	m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if ((m->target = strdup(o->target)) == NULL)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	if (rc == 0 && o->public_url != NULL) {
		n = strlen(o->public_url);
		if ((m->url = malloc(n + 2)) == NULL)
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		else
			snprintf(m->url, n + 2, "%s%s", o->public_url,
			    n > 0 && o->public_url[n - 1] == '/' ? "" : "/");
	}
	if (rc == 0 && o->purge_url != NULL &&
	    ((m->purge_url = strdup(o->purge_url)) == NULL ||
	    (m->purge_method = strdup(o->purge_method ? o->purge_method :
	    "PURGE")) == NULL))
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	if (rc == 0 && o->signing_key != NULL)
		rc = hl_signer_open(&m->signer, o->signing_key, err);
	if (rc == 0) {
		if (pthread_create(&m->thr, NULL, monitor_main, m) != 0)
			rc = hl_err_set(err, HL_EIO, "cannot start a thread");
		else
			m->started = 1;
	}
	if (rc != 0) {
		hl_monitor_stop(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
hl_monitor_published(struct hl_monitor *m, int64_t version,
    const char *const *changed, size_t nchanged)
{
	size_t i, k;
	int known;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	/* A refresh of the same version is no new publish to time. */
	if (version > m->st.wanted || m->st.published_ms == 0) {
		m->st.wanted = version;
		m->st.published_ms = now_ms();
	}
	/* Paths still waiting from a publish not looked at stay. */
	for (i = 0; i < nchanged && m->npaths < HL_MONITOR_MAX_PURGE; i++) {
		for (k = 0, known = 0; k < m->npaths && !known; k++)
			known = strcmp(m->paths[k], changed[i]) == 0;
		if (!known && (m->paths[m->npaths] = strdup(changed[i])) !=
		    NULL)
			m->npaths++;
	}
	m->fresh = 1;
	m->retry_ms = 0;
	m->backoff_ms = 0;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void
hl_monitor_state(struct hl_monitor_state *out, struct hl_monitor *m)
{
	pthread_mutex_lock(&m->mu);
	*out = m->st;
	pthread_mutex_unlock(&m->mu);
}

const char *
hl_monitor_url(const struct hl_monitor *m)
{
	return m->url;
}

void
hl_monitor_stop(struct hl_monitor *m)
{
	size_t i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = 1;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	if (m->started)
		pthread_join(m->thr, NULL);
	for (i = 0; i < m->npaths; i++)
		free(m->paths[i]);
	hl_signer_free(m->signer);
	free(m->target);
	free(m->url);
	free(m->purge_method);
	free(m->purge_url);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
