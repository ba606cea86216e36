/*
 * testroute: POST /test (see testroute.h): the per-address rate limit, the
 * cache of compiled patterns and the search.
 *
 * The limit is a token bucket per address: HL_TEST_BURST requests at once,
 * then one every HL_TEST_REFILL seconds.  The table holds the last
 * HL_TEST_CLIENTS addresses; a new one takes the place of the one seen
 * longest ago.  One mutex guards the table, another the cache (held while
 * a request searches, so requests are answered one at a time: the limit
 * keeps that cheap).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "item.h"
#include "store.h"
#include "testroute.h"

/* As src/validate.c compiles patterns. */
#define PAT_OPTIONS	(PCRE2_UTF | PCRE2_CASELESS | PCRE2_UCP | \
			    PCRE2_DUPNAMES | PCRE2_NEVER_BACKSLASH_C)
/* A pattern that backtracks without end gives up, not the server. */
#define MATCH_LIMIT	200000
#define DEPTH_LIMIT	10000

struct client {
	char	addr[48];
	double	tokens;
	double	last;
};

struct pat {
	pcre2_code	*code;	/* NULL: PCRE2 could not compile it */
	int64_t		 id;
	char		*value;
	char		*error;
};

struct cached {
	char		*id;
	int64_t		 version;
	struct pat	*pats;
	size_t		 n;
};

struct hl_testroute {
	pthread_mutex_t		 lock;		/* clients */
	struct client		*clients;
	size_t			 nclients;
	pthread_mutex_t		 cache_lock;	/* lists, mctx, md */
	struct cached		*lists;
	size_t			 nlists;
	pcre2_match_context	*mctx;
	pcre2_match_data	*md;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
hl_testroute_new(struct hl_testroute **out, struct hl_err *err)
{
	struct hl_testroute *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->clients = calloc(HL_TEST_CLIENTS, sizeof(*t->clients))) ==
	    NULL || (t->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (t->md = pcre2_match_data_create(1, NULL)) == NULL) {
		hl_testroute_free(t);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	pcre2_set_match_limit(t->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(t->mctx, DEPTH_LIMIT);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->cache_lock, NULL);
	*out = t;
	return 0;
}

static void
cached_clear(struct cached *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		pcre2_code_free(c->pats[i].code);
		free(c->pats[i].value);
		free(c->pats[i].error);
	}
	free(c->pats);
	free(c->id);
	memset(c, 0, sizeof(*c));
}

void
hl_testroute_free(struct hl_testroute *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nlists; i++)
		cached_clear(&t->lists[i]);
	free(t->lists);
	free(t->clients);
	pcre2_match_context_free(t->mctx);
	pcre2_match_data_free(t->md);
	if (t->md != NULL) {
		pthread_mutex_destroy(&t->lock);
		pthread_mutex_destroy(&t->cache_lock);
	}
	free(t);
}

/* Takes one request from remote's bucket; 0 when allowed, else seconds. */
static int
limited(struct hl_testroute *t, const char *remote)
{
	struct client *c = NULL;
	double at = now();
	size_t i, oldest = 0;
	int wait = 0;

	if (remote == NULL)
		remote = "";
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nclients; i++) {
		if (strcmp(t->clients[i].addr, remote) == 0) {
			c = &t->clients[i];
			break;
		}
		if (t->clients[i].last < t->clients[oldest].last)
			oldest = i;
	}
	if (c == NULL) {
		c = &t->clients[t->nclients < HL_TEST_CLIENTS ?
		    t->nclients++ : oldest];
		snprintf(c->addr, sizeof(c->addr), "%s", remote);
		c->tokens = HL_TEST_BURST;
		c->last = at;
	}
	c->tokens += (at - c->last) / HL_TEST_REFILL;
	if (c->tokens > HL_TEST_BURST)
		c->tokens = HL_TEST_BURST;
	c->last = at;
	if (c->tokens >= 1)
		c->tokens -= 1;
	else
		wait = (int)((1 - c->tokens) * HL_TEST_REFILL) + 1;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

static int
is_regex_list(const struct hl_list *l)
{
	return (l->fmt == HL_FMT_PLAIN || l->fmt == HL_FMT_TSV) &&
	    strstr(l->id, "number") == NULL;
}

/* Brings the cache of list l up to date.  Cache lock held. */
static int
refresh(struct cached *c, const struct hl_list *l, struct hl_store *st,
    struct hl_err *err)
{
	struct hl_item *items = NULL;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE eoff;
	size_t n = 0, i;
	int rc, ecode;

	if (c->id != NULL && c->version == l->version)
		return 0;
	if ((rc = hl_store_items(&items, &n, st, l->id, 0, err)) != 0)
		return rc;
	cached_clear(c);
	if ((c->id = strdup(l->id)) == NULL ||
	    (c->pats = calloc(n ? n : 1, sizeof(*c->pats))) == NULL) {
		hl_items_free(items, n);
		cached_clear(c);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	c->version = l->version;
	for (i = 0; i < n; i++) {
		struct pat *p = &c->pats[c->n];

		if (items[i].value == NULL ||
		    items[i].disabled == HL_DISABLE_TRUE)
			continue;
		p->id = items[i].id;
		p->value = items[i].value;
		items[i].value = NULL;
		c->n++;
		p->code = pcre2_compile((PCRE2_SPTR)p->value,
		    PCRE2_ZERO_TERMINATED, PAT_OPTIONS, &ecode, &eoff, NULL);
		if (p->code == NULL) {
			pcre2_get_error_message(ecode, msg, sizeof(msg));
			if (asprintf(&p->error, "PCRE2: %s at offset %zu",
			    (char *)msg, (size_t)eoff) < 0)
				p->error = NULL;
			continue;
		}
		(void)pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	}
	hl_items_free(items, n);
	return 0;
}

static int
search(json_t *hits, json_t *unchecked, struct hl_testroute *t,
    const struct cached *c, const char *text, size_t len)
{
	PCRE2_SIZE *ov;
	size_t i;
	int rc;

	for (i = 0; i < c->n; i++) {
		const struct pat *p = &c->pats[i];

		if (p->code == NULL) {
			if (json_array_append_new(unchecked, json_pack(
			    "{s:s, s:I, s:s, s:s}", "list", c->id, "id",
			    (json_int_t)p->id, "pattern", p->value, "reason",
			    p->error ? p->error : "PCRE2 cannot compile it"))
			    != 0)
				return HL_ENOMEM;
			continue;
		}
		rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, 0, 0, t->md,
		    t->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			if (json_array_append_new(unchecked, json_pack(
			    "{s:s, s:I, s:s, s:s}", "list", c->id, "id",
			    (json_int_t)p->id, "pattern", p->value, "reason",
			    "gave up: too much backtracking")) != 0)
				return HL_ENOMEM;
			continue;
		}
		ov = pcre2_get_ovector_pointer(t->md);
		if (json_array_append_new(hits, json_pack(
		    "{s:s, s:I, s:s, s:s%}", "list", c->id, "id",
		    (json_int_t)p->id, "pattern", p->value, "match",
		    text + ov[0], (size_t)(ov[1] - ov[0]))) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

/* Runs text through every regex list.  Cache lock held. */
static int
run(json_t *hits, json_t *unchecked, json_t *names, struct hl_testroute *t,
    struct hl_store *st, const char *text, size_t len, struct hl_err *err)
{
	struct hl_list *lists = NULL;
	struct cached *c, *nl;
	size_t n = 0, i, j;
	int rc;

	if ((rc = hl_store_lists(&lists, &n, st, err)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if (!is_regex_list(&lists[i]))
			continue;
		for (j = 0; j < t->nlists; j++)
			if (strcmp(t->lists[j].id, lists[i].id) == 0)
				break;
		if (j == t->nlists) {
			if ((nl = realloc(t->lists, (t->nlists + 1) *
			    sizeof(*nl))) == NULL) {
				rc = hl_err_set(err, HL_ENOMEM, "no memory");
				break;
			}
			t->lists = nl;
			memset(&t->lists[t->nlists], 0, sizeof(*nl));
			/* refresh fills the id; a failed one is dropped. */
			t->nlists++;
		}
		c = &t->lists[j];
		if ((rc = refresh(c, &lists[i], st, err)) != 0) {
			cached_clear(c);
			t->lists[j] = t->lists[--t->nlists];
			break;
		}
		json_array_append_new(names, json_string(lists[i].id));
		rc = search(hits, unchecked, t, c, text, len);
	}
	hl_lists_free(lists, n);
	return rc;
}

static int
is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int
answer(unsigned *status, struct hl_buf *body, unsigned code,
    const char *error, const char *message, json_t *items, json_t *extra)
{
	json_t *o;
	char *s;
	int rc;

	if (items == NULL)
		items = json_array();
	o = json_pack("{s:o, s:I, s:s}", "items", items, "numItems",
	    (json_int_t)json_array_size(items), "message", message);
	if (o != NULL && error != NULL)
		json_object_set_new(o, "error", json_string(error));
	if (o != NULL && extra != NULL)
		json_object_update(o, extra);
	json_decref(extra);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return HL_ENOMEM;
	}
	json_decref(o);
	hl_buf_reset(body);
	rc = hl_buf_puts(body, s);
	free(s);
	*status = code;
	return rc;
}

int
hl_testroute_answer(unsigned *status, struct hl_buf *body,
    struct hl_testroute *t, struct hl_store *st, const char *remote,
    const char *content_type, const char *req, size_t len)
{
	struct hl_err err = HL_ERR_INIT;
	json_error_t je;
	json_t *doc, *hits, *unchecked, *names;
	const char *text;
	size_t tlen;
	char msg[128];
	int wait, rc;

	if ((wait = limited(t, remote)) > 0) {
		snprintf(msg, sizeof(msg), "too many tests from this address; "
		    "try again in %d s", wait);
		return answer(status, body, 429, "rate_limited", msg, NULL,
		    json_pack("{s:i}", "retryAfter", wait));
	}
	if (!is_json(content_type))
		return answer(status, body, 415, "unsupported_media_type",
		    "send the text as application/json: {\"text\": ...}",
		    NULL, NULL);
	if (req == NULL || (doc = json_loadb(req, len, 0, &je)) == NULL)
		return answer(status, body, 400, "invalid_json",
		    "the body is not JSON", NULL, NULL);
	if ((text = json_string_value(json_object_get(doc, "text"))) ==
	    NULL) {
		json_decref(doc);
		return answer(status, body, 400, "missing_field",
		    "\"text\" (a string) is required", NULL, NULL);
	}
	tlen = json_string_length(json_object_get(doc, "text"));
	if (tlen > HL_TEST_MAX_TEXT) {
		json_decref(doc);
		snprintf(msg, sizeof(msg), "the text is over %d bytes",
		    HL_TEST_MAX_TEXT);
		return answer(status, body, 413, "too_large", msg, NULL, NULL);
	}
	/* Line breaks are text to test; other control characters are not. */
	if (tlen == 0 || memchr(text, '\0', tlen) != NULL) {
		json_decref(doc);
		return answer(status, body, 400, "invalid",
		    "the text is empty or holds a NUL", NULL, NULL);
	}
	hits = json_array();
	unchecked = json_array();
	names = json_array();
	pthread_mutex_lock(&t->cache_lock);
	rc = run(hits, unchecked, names, t, st, text, tlen, &err);
	pthread_mutex_unlock(&t->cache_lock);
	json_decref(doc);
	if (rc != 0) {
		json_decref(hits);
		json_decref(unchecked);
		json_decref(names);
		if (rc == HL_ENOMEM)
			return HL_ENOMEM;
		return answer(status, body, rc == HL_EBUSY ? 503 : 500,
		    rc == HL_EBUSY ? "busy" : "internal", err.msg, NULL,
		    NULL);
	}
	snprintf(msg, sizeof(msg), "%zu pattern%s match%s", json_array_size(
	    hits), json_array_size(hits) == 1 ? "" : "s",
	    json_array_size(hits) == 1 ? "es" : "");
	return answer(status, body, 200, NULL, msg, hits, json_pack(
	    "{s:o, s:o, s:s}", "unchecked", unchecked, "lists", names,
	    "engine", "PCRE2"));
}
