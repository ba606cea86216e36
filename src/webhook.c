/*
 * webhook: one thread per receiver, all reading the newest notice (see
 * webhook.h).  The notice, each receiver's state and the stop flag are
 * under one mutex and condition variable; a delivery runs outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "buf.h"
#include "log.h"
#include "outreq.h"
#include "webhook.h"

struct lst {
	char		*id;
	int64_t		 version;
};

struct rcv {
	struct hl_webhook	*w;
	pthread_t		 thr;
	int			 started;
	int			 id;		/* 1, 2, ... */
	char			*url;
	/* Under w->mu: */
	int64_t			 delivered;	/* acknowledged */
	int64_t			 dropped;	/* given up after its tries */
	int64_t			 trying;	/* the version being sent */
	int			 tries;
	int64_t			 next_ms;	/* next try; 0: at once */
	char			 delivery[33];
	int64_t			 deliveries;
	int64_t			 failures;
	int64_t			 ndropped;
	long			 last_status;
	char			 error[256];
};

struct hl_webhook {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	unsigned char	 secret[HL_WEBHOOK_SECRET_MAX];
	size_t		 secret_len;
	long		 timeout_ms;
	long		 backoff_ms;
	/* The newest notice. */
	int64_t		 version;
	int64_t		 published_at;
	char		*target;
	char		 sha256[65];
	char		*manifest_url;
	struct lst	*lists;
	size_t		 nlists;
	struct rcv	 r[HL_WEBHOOK_MAX];
	size_t		 nr;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
hex(char *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* The notice for r, from the newest; the caller holds w->mu. */
static char *
body(struct hl_webhook *w, struct rcv *r)
{
	json_t *o, *changed;
	char *s;
	size_t i;

	if ((changed = json_array()) == NULL)
		return NULL;
	for (i = 0; i < w->nlists; i++)
		if (w->lists[i].version > r->delivered &&
		    w->lists[i].version <= w->version)
			json_array_append_new(changed,
			    json_string(w->lists[i].id));
	o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:o, s:o}",
	    "event", "publish", "version", (json_int_t)w->version,
	    "previous_version", (json_int_t)r->delivered,
	    "published_at", (json_int_t)w->published_at,
	    "target", w->target ? w->target : "",
	    "manifest_sha256", w->sha256,
	    "manifest_url", w->manifest_url ?
	    json_string(w->manifest_url) : json_null(),
	    "lists_changed", changed);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* One POST; 0 on a 2xx answer. */
static int
deliver(struct hl_webhook *w, struct rcv *r, const char *b,
    const char *delivery, long *status, struct hl_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char sig[32 + 2 * EVP_MAX_MD_SIZE], did[64];
	const char *hdr[6];
	struct hl_outreq q = { .method = "POST", .url = r->url, .body = b,
	    .body_len = strlen(b), .max_body = 65536,
	    .timeout_ms = w->timeout_ms };
	int rc;

	if (HMAC(EVP_sha256(), w->secret, (int)w->secret_len,
	    (const unsigned char *)b, strlen(b), md, &mdlen) == NULL)
		return hl_err_set(err, HL_EIO, "HMAC failed");
	memcpy(sig, "X-Helios-Signature: sha256=", 27);
	hex(sig + 27, md, mdlen);
	snprintf(did, sizeof(did), "X-Helios-Delivery: %s", delivery);
	hdr[0] = "Content-Type: application/json";
	hdr[1] = "X-Helios-Event: publish";
	hdr[2] = did;
	hdr[3] = sig;
	hdr[4] = "Expect:";
	hdr[5] = NULL;
	q.headers = hdr;
	if ((rc = hl_outreq_send(status, NULL, &q, err)) != 0)
		return rc;
	if (*status < 200 || *status > 299)
		return hl_err_set(err, HL_EIO, "HTTP %ld", *status);
	return 0;
}

static void *
rcv_main(void *arg)
{
	struct rcv *r = arg;
	struct hl_webhook *w = r->w;
	struct hl_err err = HL_ERR_INIT;
	struct timespec until;
	unsigned char rnd[16];
	char *b, delivery[33];
	int64_t t, v, floor;
	long status;
	int rc;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		t = now_ms();
		floor = r->delivered > r->dropped ? r->delivered : r->dropped;
		if (w->version <= floor || (r->next_ms != 0 &&
		    t < r->next_ms)) {
			if (w->version <= floor)
				pthread_cond_wait(&w->cv, &w->mu);
			else {
				until.tv_sec = r->next_ms / 1000;
				until.tv_nsec = (r->next_ms % 1000) * 1000000;
				pthread_cond_timedwait(&w->cv, &w->mu,
				    &until);
			}
			continue;
		}
		/* Newer versions replace the one being tried. */
		if (r->trying != w->version) {
			r->trying = w->version;
			r->tries = 0;
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				memset(rnd, 0, sizeof(rnd));
			hex(r->delivery, rnd, sizeof(rnd));
		}
		v = r->trying;
		memcpy(delivery, r->delivery, sizeof(delivery));
		b = body(w, r);
		pthread_mutex_unlock(&w->mu);
		hl_err_clear(&err);
		status = 0;
		rc = b != NULL ? deliver(w, r, b, delivery, &status, &err) :
		    hl_err_set(&err, HL_ENOMEM, "out of memory");
		free(b);
		pthread_mutex_lock(&w->mu);
		r->last_status = status;
		if (rc == 0) {
			r->deliveries++;
			r->delivered = v;
			r->next_ms = 0;
			r->error[0] = '\0';
			hl_log_info("webhook %d: v%lld delivered (%s)", r->id,
			    (long long)v, delivery);
			continue;
		}
		r->failures++;
		r->tries++;
		snprintf(r->error, sizeof(r->error), "%s", err.msg);
		if (r->tries >= HL_WEBHOOK_TRIES) {
			r->ndropped++;
			r->dropped = v;
			r->next_ms = 0;
			hl_log_warnx("webhook %d: v%lld: %s; given up after %d"
			    " tries", r->id, (long long)v, err.msg, r->tries);
			continue;
		}
		r->next_ms = now_ms() + (w->backoff_ms << (r->tries - 1));
		hl_log_warnx("webhook %d: v%lld: %s; try %d of %d in %ld ms",
		    r->id, (long long)v, err.msg, r->tries + 1,
		    HL_WEBHOOK_TRIES, w->backoff_ms << (r->tries - 1));
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
hl_webhook_secret(unsigned char *out, size_t *len, const char *spec,
    struct hl_err *err)
{
	const char *v;
	FILE *f;
	size_t n;

	*len = 0;
	if (strncmp(spec, "env:", 4) == 0) {
		if ((v = getenv(spec + 4)) == NULL || *v == '\0')
			return hl_err_set(err, HL_EINVAL, "webhook_secret: the"
			    " environment has no %s", spec + 4);
		if ((n = strlen(v)) > HL_WEBHOOK_SECRET_MAX)
			return hl_err_set(err, HL_EINVAL, "webhook_secret:"
			    " over %d bytes", HL_WEBHOOK_SECRET_MAX);
		memcpy(out, v, n);
	} else if (strncmp(spec, "file:", 5) == 0) {
		if ((f = fopen(spec + 5, "rb")) == NULL)
			return hl_err_set(err, HL_EIO, "webhook_secret: %s: %s",
			    spec + 5, strerror(errno));
		n = fread(out, 1, HL_WEBHOOK_SECRET_MAX, f);
		if (fgetc(f) != EOF) {
			fclose(f);
			explicit_bzero(out, HL_WEBHOOK_SECRET_MAX);
			return hl_err_set(err, HL_EINVAL, "webhook_secret: %s:"
			    " over %d bytes", spec + 5, HL_WEBHOOK_SECRET_MAX);
		}
		fclose(f);
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
			n--;
	} else
		return hl_err_set(err, HL_EINVAL, "webhook_secret: want"
		    " file:PATH or env:NAME (never the secret itself)");
	if (n == 0)
		return hl_err_set(err, HL_EINVAL, "webhook_secret: empty");
	*len = n;
	return 0;
}

int
hl_webhook_start(struct hl_webhook **out, const struct hl_webhook_opts *o,
    struct hl_err *err)
{
	struct hl_webhook *w;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (o->nurls == 0 || o->nurls > HL_WEBHOOK_MAX)
		return hl_err_set(err, HL_EINVAL, "webhook: want 1 to %d URLs",
		    HL_WEBHOOK_MAX);
	if (o->secret_len == 0 || o->secret_len > HL_WEBHOOK_SECRET_MAX)
		return hl_err_set(err, HL_EINVAL, "webhook: needs a"
		    " webhook_secret");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	memcpy(w->secret, o->secret, o->secret_len);
	w->secret_len = o->secret_len;
	w->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	w->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 1000;
	for (i = 0; i < o->nurls && rc == 0; i++) {
		w->r[i].w = w;
		w->r[i].id = (int)i + 1;
		if ((w->r[i].url = strdup(o->urls[i])) == NULL)
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		w->nr++;
	}
	for (i = 0; i < w->nr && rc == 0; i++) {
		if (pthread_create(&w->r[i].thr, NULL, rcv_main,
		    &w->r[i]) != 0)
			rc = hl_err_set(err, HL_EIO, "cannot start a thread");
		else
			w->r[i].started = 1;
	}
	if (rc != 0) {
		hl_webhook_stop(w);
		return rc;
	}
	*out = w;
	return 0;
}

void
hl_webhook_baseline(struct hl_webhook *w, int64_t v)
{
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (v > w->version)
		w->version = v;
	for (i = 0; i < w->nr; i++)
		if (v > w->r[i].delivered)
			w->r[i].delivered = v;
	pthread_mutex_unlock(&w->mu);
}

void
hl_webhook_notify(struct hl_webhook *w, int64_t version, int64_t published_at,
    const char *target, const char *manifest_sha256, const char *manifest_url,
    const struct hl_list *lists, size_t nlists)
{
	struct lst *v;
	char *t, *u = NULL;
	size_t i, n = 0;

	if (w == NULL)
		return;
	if ((v = calloc(nlists + 1, sizeof(*v))) == NULL ||
	    (t = strdup(target)) == NULL ||
	    (manifest_url != NULL && (u = strdup(manifest_url)) == NULL)) {
		free(v);
		return;
	}
	for (i = 0; i < nlists; i++)
		if ((v[n].id = strdup(lists[i].id)) != NULL)
			v[n++].version = lists[i].version;
	pthread_mutex_lock(&w->mu);
	if (version <= w->version) {
		pthread_mutex_unlock(&w->mu);
		for (i = 0; i < n; i++)
			free(v[i].id);
		free(v);
		free(t);
		free(u);
		return;
	}
	for (i = 0; i < w->nlists; i++)
		free(w->lists[i].id);
	free(w->lists);
	free(w->target);
	free(w->manifest_url);
	w->version = version;
	w->published_at = published_at;
	w->target = t;
	w->manifest_url = u;
	snprintf(w->sha256, sizeof(w->sha256), "%s", manifest_sha256);
	w->lists = v;
	w->nlists = n;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
hl_webhook_health(struct hl_webhook *w, json_t *obj)
{
	json_t *arr, *o;
	struct rcv *r;
	size_t i;

	if (w == NULL || (arr = json_array()) == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->nr; i++) {
		r = &w->r[i];
		o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:i}",
		    "id", r->id, "delivered_version", (json_int_t)r->delivered,
		    "pending_version", (json_int_t)(w->version > r->delivered ?
		    w->version : 0), "deliveries", (json_int_t)r->deliveries,
		    "failures", (json_int_t)r->failures,
		    "dropped", (json_int_t)r->ndropped,
		    "last_status", (int)r->last_status);
		if (o == NULL)
			continue;
		json_object_set_new(o, "error", r->error[0] ?
		    json_string(r->error) : json_null());
		json_array_append_new(arr, o);
	}
	pthread_mutex_unlock(&w->mu);
	json_object_set_new(obj, "webhooks", arr);
}

void
hl_webhook_stop(struct hl_webhook *w)
{
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nr; i++) {
		if (w->r[i].started)
			pthread_join(w->r[i].thr, NULL);
		free(w->r[i].url);
	}
	for (i = 0; i < w->nlists; i++)
		free(w->lists[i].id);
	free(w->lists);
	free(w->target);
	free(w->manifest_url);
	explicit_bzero(w->secret, sizeof(w->secret));
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
