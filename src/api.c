/*
 * api: the routes of the write API over the store, independent of the
 * HTTP server (see api.h for the envelope and the choices it documents).
 *
 * A request goes through the same steps in the same order, so that the
 * status of a bad request does not depend on the route:
 *
 *   1. decode the path             400 bad_path
 *   2. find the route              404 not_found (unrouted: maybe static)
 *   3. check the method            405 method_not_allowed + Allow
 *   4. body over the limit         413 too_large
 *   5. token and scope             401 unauthorized / 403 forbidden
 *   6. Content-Type, JSON, fields  415 / 400
 *   7. the store                   HL_E* -> status, by the table below
 *
 * Nothing here holds a lock of its own; the metrics are C11 atomics and
 * the store serialises itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "api.h"
#include "auth.h"
#include "item.h"
#include "log.h"
#include "review.h"
#include "store.h"
#include "testroute.h"
#include "validate.h"

/* Longest token name, server and site, in bytes. */
#define MAX_NAME	100
#define MAX_FIELD	255
#define MAX_SEGS	8
#define OPENAPI_MAX	(1024 * 1024)

/*
 * The one status table: every error the API answers, with its status and
 * the machine code sent in "error".
 */
enum aerr {
	E_BAD_PATH, E_NOT_FOUND, E_METHOD, E_TOO_BIG, E_AUTH, E_PERM,
	E_MEDIA, E_JSON, E_UTF8, E_MISSING, E_TYPE, E_INVALID, E_DUP,
	E_CONFLICT, E_BUSY, E_NOSPACE, E_INTERNAL,
};

static const struct {
	unsigned	 status;
	const char	*code;
} errtab[] = {
	[E_BAD_PATH] =	{ 400, "bad_path" },
	[E_NOT_FOUND] =	{ 404, "not_found" },
	[E_METHOD] =	{ 405, "method_not_allowed" },
	[E_TOO_BIG] =	{ 413, "too_large" },
	[E_AUTH] =	{ 401, "unauthorized" },
	[E_PERM] =	{ 403, "forbidden" },
	[E_MEDIA] =	{ 415, "unsupported_media_type" },
	[E_JSON] =	{ 400, "invalid_json" },
	[E_UTF8] =	{ 400, "invalid_utf8" },
	[E_MISSING] =	{ 400, "missing_field" },
	[E_TYPE] =	{ 400, "wrong_type" },
	[E_INVALID] =	{ 400, "invalid" },
	[E_DUP] =	{ 409, "duplicate" },
	[E_CONFLICT] =	{ 409, "conflict" },
	[E_BUSY] =	{ 503, "busy" },
	[E_NOSPACE] =	{ 507, "insufficient_storage" },
	[E_INTERNAL] =	{ 500, "internal" },
};

/* The store's and the validator's codes, in the table's terms. */
static enum aerr
from_hl(int code)
{
	switch (code) {
	case HL_ENOTFOUND:	return E_NOT_FOUND;
	case HL_EEXISTS:	return E_DUP;
	case HL_EINVAL:		return E_INVALID;
	case HL_EAUTH:		return E_AUTH;
	case HL_EPERM:		return E_PERM;
	case HL_ETOOBIG:	return E_TOO_BIG;
	case HL_EBUSY:		return E_BUSY;
	case HL_ENOSPC:		return E_NOSPACE;
	case HL_ECONFLICT:	return E_CONFLICT;
	default:		return E_INTERNAL;
	}
}

enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_DELETE = 8 };

/* Latency histogram bounds, in microseconds (Prometheus "le"). */
static const uint64_t lat_bounds[] = {
	250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000,
};
#define NBOUNDS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct hl_api {
	struct hl_store	*st;
	int		 dev;
	int		 notifs_private;
	void		(*on_change)(int64_t, void *);
	void		(*health)(json_t *, void *);
	void		*payload;
	int		(*metrics)(struct hl_buf *, void *);
	void		*metrics_payload;
	const struct hl_review_opts *review;
	char		*openapi;
	size_t		 openapi_len;
	struct hl_testroute *test;	/* POST /test */
	atomic_uint_fast64_t by_class[6];
	atomic_uint_fast64_t writes;
	atomic_uint_fast64_t lat[NBOUNDS + 1];
	atomic_uint_fast64_t lat_sum;
	atomic_uint_fast64_t lat_count;
};

struct ctx {
	struct hl_api		*api;
	const struct hl_request	*req;
	struct hl_response	*res;
	unsigned		 method;
	char			*path;		/* decoded */
	char			*seg[MAX_SEGS];
	size_t			 nseg;
	struct hl_token		 tok;
	int			 authed;
	json_t			*body;
	int			 nomem;
};

struct route {
	const char	*pattern;	/* '*' matches one segment */
	unsigned	 methods;
	const char	*allow;
	void		(*fn)(struct ctx *);
};

static void	h_auth_create(struct ctx *);
static void	h_test_auth(struct ctx *);
static void	h_tokens(struct ctx *);
static void	h_token(struct ctx *);
static void	h_lists(struct ctx *);
static void	h_list(struct ctx *);
static void	h_notifs(struct ctx *);
static void	h_changes(struct ctx *);
static void	h_healthz(struct ctx *);
static void	h_metrics(struct ctx *);
static void	h_openapi(struct ctx *);
static void	h_proposals(struct ctx *);
static void	h_test(struct ctx *);

static const struct route routes[] = {
	{ "auth/create",	M_POST,	"POST", h_auth_create },
	{ "test_auth",		M_GET | M_HEAD, "GET, HEAD", h_test_auth },
	{ "tokens",		M_GET | M_HEAD, "GET, HEAD", h_tokens },
	{ "tokens/*",		M_DELETE, "DELETE", h_token },
	{ "blacklists",		M_GET | M_HEAD, "GET, HEAD", h_lists },
	{ "blacklists/*",	M_GET | M_HEAD | M_POST | M_DELETE,
	    "GET, HEAD, POST, DELETE", h_list },
	{ "notifications",	M_GET | M_HEAD | M_POST | M_DELETE,
	    "GET, HEAD, POST, DELETE", h_notifs },
	{ "changes",		M_GET | M_HEAD, "GET, HEAD", h_changes },
	{ "healthz",		M_GET | M_HEAD, "GET, HEAD", h_healthz },
	{ "metrics",		M_GET | M_HEAD, "GET, HEAD", h_metrics },
	{ "openapi.json",	M_GET | M_HEAD, "GET, HEAD", h_openapi },
	{ "proposals",		M_GET | M_HEAD, "GET, HEAD", h_proposals },
	{ "proposals/*",	M_GET | M_HEAD, "GET, HEAD", h_proposals },
	{ "proposals/*/*",	M_POST, "POST", h_proposals },
	{ "test",		M_POST,	"POST", h_test },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Output. */

static int
dump_cb(const char *p, size_t n, void *arg)
{
	return hl_buf_put(arg, p, n) == 0 ? 0 : -1;
}

/*
 * Sends the envelope: items (stolen; NULL for none), message, error code
 * (NULL on success) and the fields of extra (stolen; may be NULL).
 */
static void
reply(struct ctx *c, unsigned status, json_t *items, const char *code,
    const char *msg, json_t *extra)
{
	json_t *o, *m;

	if (items == NULL)
		items = json_array();
	o = json_object();
	if (o == NULL || items == NULL) {
		c->nomem = 1;
		goto out;
	}
	json_object_set(o, "items", items);
	json_object_set_new(o, "numItems",
	    json_integer((json_int_t)json_array_size(items)));
	if (code != NULL)
		json_object_set_new(o, "error", json_string(code));
	if ((m = json_string(msg ? msg : "")) == NULL)
		m = json_string("(the message is not valid UTF-8)");
	json_object_set_new(o, "message", m);
	if (extra != NULL)
		json_object_update(o, extra);
	hl_buf_reset(&c->res->body);
	if (json_dump_callback(o, dump_cb, &c->res->body, JSON_COMPACT) != 0 ||
	    hl_buf_putc(&c->res->body, '\n') != 0) {
		c->nomem = 1;
		goto out;
	}
	c->res->status = status;
	c->res->content_type = "application/json";
out:
	json_decref(o);
	json_decref(items);
	json_decref(extra);
}

static void
fail_items(struct ctx *c, enum aerr e, json_t *items, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail_items(struct ctx *c, enum aerr e, json_t *items, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply(c, errtab[e].status, items, errtab[e].code, msg, NULL);
}

#define fail(c, e, ...)	fail_items((c), (e), NULL, __VA_ARGS__)

/* An error from the store or the validator.  500s don't leak details. */
static void
fail_hl(struct ctx *c, const struct hl_err *err, int code)
{
	enum aerr e = from_hl(code);

	if (e == E_INTERNAL) {
		hl_log_warnx("%s %s: %s", c->req->method, c->path ? c->path :
		    "?", err->msg);
		fail(c, e, "internal error");
	} else if (e == E_BUSY) {
		hl_log_warnx("%s %s: %s", c->req->method, c->path ? c->path :
		    "?", err->msg);
		fail(c, e, "the store is busy; try again");
	} else
		fail(c, e, "%s", err->msg);
}

/* Input: the path. */


/*
 * Percent-decodes n bytes of s into the buffer; plus: '+' is a space (in
 * a query).  Returns 0 or HL_EINVAL on a bad escape or a NUL.
 */
static int
pct_decode(struct hl_buf *b, const char *s, size_t n, int plus)
{
	size_t i;
	int hi, lo, ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '%') {
			if (i + 2 >= n)
				return HL_EINVAL;
			if ((hi = hl_hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hl_hexval((unsigned char)s[i + 2])) < 0)
				return HL_EINVAL;
			ch = hi << 4 | lo;
			i += 2;
		} else if (ch == '+' && plus)
			ch = ' ';
		if (ch == '\0')
			return HL_EINVAL;
		if (hl_buf_putc(b, ch) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

int
hl_api_path_decode(char **out, const char *raw, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT, seg = HL_BUF_INIT;
	struct hl_err verr = HL_ERR_INIT;
	const char *p, *e;
	size_t i;
	int rc;

	*out = NULL;
	if (raw == NULL || raw[0] != '/') {
		rc = hl_err_set(err, HL_EINVAL, "the path must start with /");
		goto out;
	}
	p = raw + 1;
	for (;;) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p && *e == '/') {
			rc = hl_err_set(err, HL_EINVAL,
			    "empty path segment (//)");
			goto out;
		}
		hl_buf_reset(&seg);
		if ((rc = pct_decode(&seg, p, (size_t)(e - p), 0)) != 0) {
			if (rc == HL_EINVAL)
				hl_err_set(err, rc, "bad %%-escape or NUL "
				    "in the path");
			goto out;
		}
		if (seg.len > 0) {
			if (strcmp(seg.data, ".") == 0 ||
			    strcmp(seg.data, "..") == 0) {
				rc = hl_err_set(err, HL_EINVAL,
				    "'.' and '..' are not allowed in a path");
				goto out;
			}
			for (i = 0; i < seg.len; i++)
				if (seg.data[i] == '/' || seg.data[i] == '\\') {
					rc = hl_err_set(err, HL_EINVAL,
					    "an encoded / or \\ is not "
					    "allowed in a path");
					goto out;
				}
			if (hl_validate_text(seg.data, seg.len, 1024,
			    &verr) != 0) {
				rc = hl_err_set(err, HL_EINVAL, "path: %s",
				    verr.msg);
				goto out;
			}
		}
		if ((rc = hl_buf_putc(&b, '/')) != 0 ||
		    (seg.len > 0 && (rc = hl_buf_put(&b, seg.data,
		    seg.len)) != 0))
			goto out;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	*out = hl_buf_detach(&b, NULL);
	rc = 0;
out:
	if (rc == HL_ENOMEM)
		hl_err_set(err, rc, "out of memory");
	hl_buf_free(&b);
	hl_buf_free(&seg);
	return rc;
}

/* Splits the decoded path into c->seg (pointers into c->path). */
static void
split_path(struct ctx *c)
{
	char *p = c->path + 1, *e;

	c->nseg = 0;
	while (*p != '\0') {
		if (c->nseg == MAX_SEGS) {
			c->nseg = MAX_SEGS + 1;
			return;
		}
		c->seg[c->nseg++] = p;
		if ((e = strchr(p, '/')) == NULL)
			break;
		*e = '\0';
		p = e + 1;
		if (*p == '\0') {
			/* A trailing slash: no API route has one. */
			c->nseg = MAX_SEGS + 1;
			return;
		}
	}
}

static int
route_match(const struct route *r, const struct ctx *c)
{
	const char *p = r->pattern, *e;
	size_t i = 0, n;

	if (c->nseg > MAX_SEGS)
		return 0;
	while (*p != '\0') {
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (i >= c->nseg)
			return 0;
		if (!(n == 1 && *p == '*') && (strlen(c->seg[i]) != n ||
		    strncmp(c->seg[i], p, n) != 0))
			return 0;
		i++;
		p += n;
		if (*p == '/')
			p++;
	}
	return i == c->nseg;
}

/* 1 when s is 1 to max printable ASCII characters. */
static int
printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return i > 0;
}

/* 1 when seg is the first segment of an API route. */
static int
api_prefix(const char *seg, size_t nseg)
{
	size_t i, n = strlen(seg);

	/*
	 * A deeper path is the API's only where some route goes deeper:
	 * /blacklists/a/b is, /changes/1-16.json (a published file) is not.
	 */
	for (i = 0; i < NROUTES; i++)
		if (strncmp(routes[i].pattern, seg, n) == 0 &&
		    ((routes[i].pattern[n] == '\0' && nseg == 1) ||
		    routes[i].pattern[n] == '/'))
			return 1;
	return 0;
}

static unsigned
method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return M_GET;
	if (strcmp(m, "HEAD") == 0)
		return M_HEAD;
	if (strcmp(m, "POST") == 0)
		return M_POST;
	if (strcmp(m, "DELETE") == 0)
		return M_DELETE;
	return 0;
}

/* Input: the query. */

/*
 * The decoded value of the query parameter name (first occurrence).
 * Returns 0 with *out malloc'd, HL_ENOTFOUND, HL_EINVAL or HL_ENOMEM.
 */
static int
query_get(char **out, const char *query, const char *name)
{
	struct hl_buf b = HL_BUF_INIT;
	const char *p, *e, *eq;
	size_t nlen = strlen(name);
	int rc;

	*out = NULL;
	if (query == NULL)
		return HL_ENOTFOUND;
	for (p = query; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		eq = memchr(p, '=', (size_t)(e - p));
		hl_buf_reset(&b);
		rc = pct_decode(&b, p, (size_t)((eq ? eq : e) - p), 1);
		if (rc != 0)
			goto out;
		if (b.len != nlen || memcmp(b.data, name, nlen) != 0)
			continue;
		hl_buf_reset(&b);
		if (eq != NULL && (rc = pct_decode(&b, eq + 1,
		    (size_t)(e - eq - 1), 1)) != 0)
			goto out;
		if ((rc = hl_buf_putc(&b, '\0')) != 0)
			goto out;
		b.len--;
		*out = hl_buf_detach(&b, NULL);
		return 0;
	}
	rc = HL_ENOTFOUND;
out:
	hl_buf_free(&b);
	return rc;
}

/*
 * A non-negative decimal integer from the query: 0 with *v, or -1 after
 * replying 400.  *v is untouched when the parameter is absent.
 */
static int
query_int(struct ctx *c, const char *name, int64_t *v)
{
	char *s = NULL, *end;
	long long x;
	int rc;

	rc = query_get(&s, c->req->query, name);
	if (rc == HL_ENOTFOUND)
		return 0;
	if (rc == HL_ENOMEM) {
		c->nomem = 1;
		return -1;
	}
	if (rc == 0 && s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0') {
			*v = x;
			free(s);
			return 0;
		}
	}
	free(s);
	fail(c, E_INVALID, "query parameter '%s' must be a non-negative "
	    "integer", name);
	return -1;
}

/* Input: the body. */

static int
media_is_json(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	p = ct + 16;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p != ';')
		return 0;
	/* Parameters: only a charset of utf-8 is meaningful. */
	if ((p = strcasestr(p, "charset=")) != NULL) {
		p += 8;
		if (*p == '"')
			p++;
		return strncasecmp(p, "utf-8", 5) == 0;
	}
	return 1;
}

/* Parses the body into c->body, an object; or replies and returns -1. */
static int
need_body(struct ctx *c)
{
	json_error_t jerr;

	if (c->req->body_len == 0 && c->req->content_type == NULL) {
		fail(c, E_JSON, "a JSON object body is required");
		return -1;
	}
	if (!media_is_json(c->req->content_type)) {
		fail(c, E_MEDIA, "the body must be sent as "
		    "Content-Type: application/json");
		return -1;
	}
	if (c->req->body_len == 0) {
		fail(c, E_JSON, "a JSON object body is required");
		return -1;
	}
	c->body = json_loadb(c->req->body, c->req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (c->body == NULL) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			fail(c, E_UTF8, "the body is not valid UTF-8");
		else if (json_error_code(&jerr) == json_error_out_of_memory)
			c->nomem = 1;
		else
			fail(c, E_JSON, "malformed JSON at line %d, column "
			    "%d: %s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(c->body)) {
		fail(c, E_JSON, "the body must be a JSON object");
		return -1;
	}
	return 0;
}

/*
 * A string field: 0 with *out (borrowed; NULL when absent or null and not
 * required), or -1 after replying.
 */
static int
field_str(struct ctx *c, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(c->body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		fail(c, E_MISSING, "'%s' is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		fail(c, E_TYPE, "'%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A text field checked by hl_validate_text; -1 after replying. */
static int
field_text(struct ctx *c, const char *key, size_t max, const char **out)
{
	struct hl_err err = HL_ERR_INIT;
	int rc;

	if (field_str(c, key, 1, out) != 0)
		return -1;
	if ((rc = hl_validate_text(*out, strlen(*out), max, &err)) != 0) {
		fail(c, from_hl(rc), "%s: %s", key, err.msg);
		return -1;
	}
	return 0;
}

static int
field_bool(struct ctx *c, const char *key, int *out)
{
	json_t *v = json_object_get(c->body, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		fail(c, E_TYPE, "'%s' must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A positive integer field (user_id, room_id). */
static int
field_id(struct ctx *c, const char *key, int64_t *out)
{
	json_t *v = json_object_get(c->body, key);

	if (v == NULL || json_is_null(v)) {
		fail(c, E_MISSING, "'%s' is required", key);
		return -1;
	}
	if (!json_is_integer(v)) {
		fail(c, E_TYPE, "'%s' must be an integer", key);
		return -1;
	}
	if (json_integer_value(v) <= 0) {
		fail(c, E_INVALID, "'%s' must be positive", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* Authentication. */

/* 0 when the request's token holds need; else -1 after replying. */
static int
need_auth(struct ctx *c, unsigned need)
{
	struct hl_err err = HL_ERR_INIT;
	int rc;

	rc = hl_auth_check(&c->tok, c->api->st, c->req->authorization, need,
	    &err);
	if (rc == 0 || rc == HL_EPERM) {
		c->authed = 1;
		snprintf(c->res->user, sizeof(c->res->user), "%s",
		    c->tok.name ? c->tok.name : "?");
	}
	if (rc != 0) {
		fail_hl(c, &err, rc);
		return -1;
	}
	return 0;
}

static struct hl_actor
actor(const struct ctx *c)
{
	struct hl_actor a = { .name = "anonymous" };

	if (c->authed) {
		a.token_id = c->tok.id;
		a.name = c->tok.name;
	}
	return a;
}

static void
changed(struct ctx *c, int64_t version)
{
	atomic_fetch_add(&c->api->writes, 1);
	if (c->api->on_change != NULL)
		c->api->on_change(version, c->api->payload);
}

static json_t *
one(json_t *item)
{
	json_t *a = json_array();

	if (a != NULL && item != NULL)
		json_array_append_new(a, item);
	else
		json_decref(item);
	return a;
}

/* Handlers. */

static int
parse_scopes(struct ctx *c, unsigned *out)
{
	json_t *v = json_object_get(c->body, "scopes"), *e;
	unsigned bits;
	size_t i;

	*out = HL_SCOPE_WRITE;
	if (v == NULL || json_is_null(v))
		return 0;
	*out = 0;
	if (json_is_string(v)) {
		if (hl_scopes_parse(out, json_string_value(v)) != 0)
			goto bad;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				fail(c, E_TYPE, "'scopes' must be a string "
				    "or an array of strings");
				return -1;
			}
			if (hl_scopes_parse(&bits, json_string_value(e)) != 0)
				goto bad;
			*out |= bits;
		}
	} else {
		fail(c, E_TYPE, "'scopes' must be a string or an array of "
		    "strings");
		return -1;
	}
	if (*out == 0) {
		fail(c, E_INVALID, "at least one scope is required");
		return -1;
	}
	return 0;
bad:
	fail(c, E_INVALID, "unknown scope; known: admin, write, approve, "
	    "propose");
	return -1;
}

static void
h_auth_create(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token t = { 0 };
	unsigned char hash[32];
	char secret[HL_AUTH_TOKEN_LEN + 1];
	const char *name, *by, *lists = NULL;
	json_t *o, *exp;
	unsigned scopes;
	int64_t ttl = 0;
	int rc;

	if (c->api->dev) {
		/* Open to all; a valid token still names the creator. */
		if (hl_auth_header_token(c->req->authorization) != NULL &&
		    hl_auth_check(&c->tok, c->api->st,
		    c->req->authorization, 0, &err) == 0) {
			c->authed = 1;
			snprintf(c->res->user, sizeof(c->res->user), "%s",
			    c->tok.name);
		}
	} else if (need_auth(c, HL_SCOPE_ADMIN) != 0)
		return;
	if (need_body(c) != 0 || field_text(c, "name", MAX_NAME, &name) != 0 ||
	    parse_scopes(c, &scopes) != 0)
		return;
	if (json_object_get(c->body, "lists") != NULL &&
	    field_text(c, "lists", MAX_FIELD, &lists) != 0)
		return;
	exp = json_object_get(c->body, "expires_in");
	if (exp != NULL && !json_is_null(exp) && !(json_is_integer(exp) &&
	    json_integer_value(exp) > 0 && (ttl = json_integer_value(exp))) &&
	    !(json_is_string(exp) && hl_review_duration(&ttl,
	    json_string_value(exp)) == 0)) {
		fail(c, E_INVALID, "'expires_in' must be a number of seconds "
		    "or a duration such as \"90d\"");
		return;
	}
	if ((rc = hl_auth_token_new(secret, &err)) != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	hl_auth_token_hash(hash, secret);
	by = c->authed ? c->tok.name : "anonymous";
	rc = hl_store_token_add_limited(&t, c->api->st, name, hash, scopes,
	    lists, ttl ? (int64_t)time(NULL) + ttl : 0, by, &err);
	explicit_bzero(hash, sizeof(hash));
	if (rc != 0) {
		explicit_bzero(secret, sizeof(secret));
		fail_hl(c, &err, rc);
		return;
	}
	if ((o = hl_token_json(&t)) != NULL)
		json_object_set_new(o, "token", json_string(secret));
	explicit_bzero(secret, sizeof(secret));
	hl_token_clear(&t);
	if (o == NULL) {
		c->nomem = 1;
		return;
	}
	reply(c, 201, one(o), NULL, "token created; the secret is shown "
	    "only this once", NULL);
}

static void
h_test_auth(struct ctx *c)
{
	char msg[160];

	if (need_auth(c, 0) != 0)
		return;
	snprintf(msg, sizeof(msg), "this token belongs to %s", c->tok.name);
	reply(c, 200, one(hl_token_json(&c->tok)), NULL, msg, NULL);
}

static void
h_tokens(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token *v = NULL;
	json_t *a;
	size_t i, n = 0;
	int rc;

	if (need_auth(c, HL_SCOPE_ADMIN) != 0)
		return;
	if ((rc = hl_store_tokens(&v, &n, c->api->st, &err)) != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	if ((a = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(a, hl_token_json(&v[i]));
	hl_tokens_free(v, n);
	reply(c, 200, a, NULL, "tokens", NULL);
}

static void
h_token(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token *v = NULL;
	json_t *a;
	char *end, msg[96];
	long long id;
	size_t i, n = 0;
	int rc;

	if (need_auth(c, HL_SCOPE_ADMIN) != 0)
		return;
	errno = 0;
	id = strtoll(c->seg[1], &end, 10);
	if (c->seg[1][0] < '0' || c->seg[1][0] > '9' || *end != '\0' ||
	    errno != 0 || id <= 0) {
		fail(c, E_INVALID, "a token id is a positive integer");
		return;
	}
	if ((rc = hl_store_token_revoke(c->api->st, id, &err)) != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	if ((a = json_array()) == NULL) {
		c->nomem = 1;
		return;
	}
	if (hl_store_tokens(&v, &n, c->api->st, &err) == 0) {
		for (i = 0; i < n; i++)
			if (v[i].id == id)
				json_array_append_new(a,
				    hl_token_json(&v[i]));
		hl_tokens_free(v, n);
	}
	snprintf(msg, sizeof(msg), "token %lld revoked", id);
	reply(c, 200, a, NULL, msg, NULL);
}

static void
h_lists(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_list *v = NULL;
	json_t *a;
	size_t i, n = 0;
	int rc;

	if ((rc = hl_store_lists(&v, &n, c->api->st, &err)) != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	if ((a = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_pack(
			    "{s:s, s:s, s:s, s:s, s:I, s:I}", "id", v[i].id,
			    "file", v[i].file, "format",
			    hl_fmt_name(v[i].fmt), "policy",
			    v[i].policy == HL_POLICY_REVIEW ? "review" :
			    "direct", "version",
			    (json_int_t)v[i].version, "count",
			    (json_int_t)v[i].count));
	hl_lists_free(v, n);
	reply(c, 200, a, NULL, "lists", json_pack("{s:I}", "version",
	    (json_int_t)hl_store_version(c->api->st)));
}

/* Review (review.c): the glue between its replies and this envelope. */

static void
review_send(struct ctx *c, struct hl_review_reply *r)
{
	if (r->version > 0)
		changed(c, r->version);
	if (r->status == 500 && r->code != NULL)
		hl_log_warnx("%s %s: %s", c->req->method, c->path, r->msg);
	reply(c, r->status, r->items, r->code, r->msg, r->extra);
	r->items = r->extra = NULL;
	hl_review_reply_clear(r);
}

static struct hl_review_req
review_req(struct ctx *c)
{
	struct hl_review_req r = { c->api->st, c->api->review,
	    c->authed ? &c->tok : NULL, c->method == M_POST, NULL, NULL,
	    c->req->query, c->body };

	return r;
}

/* 0 direct, 1 proposal, -1 after replying. */
static int
review_route(struct ctx *c, const struct hl_list *l)
{
	struct hl_review_reply r = { 0 };
	int rc = hl_review_route_write(&r, &c->tok, l);

	if (rc < 0)
		review_send(c, &r);
	return rc;
}

static int
review_checks(struct ctx *c, json_t **checks, const char **forced,
    const struct hl_list *l, const char *value, int propose)
{
	struct hl_review_reply r = { 0 };
	struct hl_review_req q = review_req(c);

	if (hl_review_check(&r, checks, forced, &q, l, value, propose) == 0)
		return 0;
	review_send(c, &r);
	return -1;
}

static void
review_propose(struct ctx *c, const struct hl_list *l, const char *op,
    const struct hl_item *in, json_t *checks)
{
	struct hl_review_reply r = { 0 };
	struct hl_review_req q = review_req(c);

	hl_review_propose(&r, &q, l, op, in, checks);
	review_send(c, &r);
}

/* A proposed removal: the list must hold the value now. */
static void
review_propose_delete(struct ctx *c, const struct hl_list *l,
    const char *value)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *v = NULL, in = { 0 };
	char *key, *k;
	size_t i, n = 0;
	int rc, found = 0;

	if ((rc = hl_store_items(&v, &n, c->api->st, l->id, 0, &err)) != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	if ((key = hl_item_key(l->fmt, value)) == NULL) {
		hl_items_free(v, n);
		c->nomem = 1;
		return;
	}
	for (i = 0; i < n && !found; i++) {
		if ((k = hl_item_key(l->fmt, v[i].value)) != NULL &&
		    strcmp(k, key) == 0) {
			found = 1;
			in.value = v[i].value;
			review_propose(c, l, "delete", &in, NULL);
		}
		free(k);
	}
	if (!found)
		fail(c, E_NOT_FOUND, "%s does not hold this value", l->id);
	free(key);
	hl_items_free(v, n);
}

/* The review record of a write an admin forced past the checks. */
static char *
forced_record(struct ctx *c, const char *reason, json_t *checks)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s, s:O?}", "forced_by", c->tok.name,
	    "force_reason", reason, "gates",
	    json_object_get(checks, "gates"));
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static void
h_proposals(struct ctx *c)
{
	struct hl_review_reply r = { 0 };
	struct hl_review_req q;

	if (c->method == M_POST) {
		if (need_auth(c, 0) != 0)
			return;
		/* The body is optional: an approval needs none. */
		if (c->req->body_len > 0 && need_body(c) != 0)
			return;
	}
	q = review_req(c);
	q.id = c->nseg > 1 ? c->seg[1] : NULL;
	q.action = c->nseg > 2 ? c->seg[2] : NULL;
	hl_review_handle(&r, &q);
	review_send(c, &r);
}

int
hl_api_query_get(char **out, const char *query, const char *name)
{
	return query_get(out, query, name);
}

static void
list_get(struct ctx *c, const struct hl_list *l)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *v = NULL;
	json_t *a;
	size_t i, n = 0;
	int rc;

	rc = hl_store_items(&v, &n, c->api->st, l->id, 0, &err);
	if (rc != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	if ((a = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(a,
			    hl_item_json(&v[i], l->id, l->fmt));
	hl_items_free(v, n);
	reply(c, 200, a, NULL, l->id, json_pack("{s:I}", "version",
	    (json_int_t)l->version));
}

/*
 * The value of an item from the body: "pattern", or for a yaml list its
 * own key (ip | ns | asn) as well.  ns may be an array of names (then
 * *seq is 1); asn may be a number.  *out is malloc'd.  -1 after replying.
 */
static int
body_value(struct ctx *c, const struct hl_list *l, char **out, int *seq)
{
	const char *key = hl_fmt_key(l->fmt);
	struct hl_buf b = HL_BUF_INIT;
	json_t *v = NULL, *e;
	size_t i;

	*out = NULL;
	*seq = 0;
	if (hl_fmt_is_yaml(l->fmt))
		v = json_object_get(c->body, key);
	if (v == NULL || json_is_null(v)) {
		key = "pattern";
		v = json_object_get(c->body, key);
	}
	if (v == NULL || json_is_null(v)) {
		if (hl_fmt_is_yaml(l->fmt))
			fail(c, E_MISSING, "'%s' (or 'pattern') is required",
			    hl_fmt_key(l->fmt));
		else
			fail(c, E_MISSING, "'pattern' is required");
		return -1;
	}
	if (json_is_string(v)) {
		if ((*out = strdup(json_string_value(v))) == NULL)
			c->nomem = 1;
		return *out ? 0 : -1;
	}
	if (l->fmt == HL_FMT_YAML_ASN && json_is_integer(v) &&
	    json_integer_value(v) > 0) {
		if (asprintf(out, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v)) < 0) {
			*out = NULL;
			c->nomem = 1;
			return -1;
		}
		return 0;
	}
	if (l->fmt == HL_FMT_YAML_NS && json_is_array(v) &&
	    json_array_size(v) > 0) {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				goto type;
			if ((i > 0 && hl_buf_putc(&b, ' ') != 0) ||
			    hl_buf_puts(&b, json_string_value(e)) != 0) {
				hl_buf_free(&b);
				c->nomem = 1;
				return -1;
			}
		}
		if ((*out = hl_buf_detach(&b, NULL)) == NULL)
			*out = strdup("");
		*seq = 1;
		return 0;
	}
type:
	hl_buf_free(&b);
	if (l->fmt == HL_FMT_YAML_NS)
		fail(c, E_TYPE, "'%s' must be a string or a non-empty array "
		    "of strings", key);
	else if (l->fmt == HL_FMT_YAML_ASN)
		fail(c, E_TYPE, "'%s' must be a string or a positive "
		    "integer", key);
	else
		fail(c, E_TYPE, "'%s' must be a string", key);
	return -1;
}

/* The answer to an item added to list (or not: rc), blocking or not. */
static void
post_answer(struct ctx *c, const char *list, int fmt, int rc,
    const struct hl_err *err, const struct hl_item *it, int64_t version,
    const char *note, json_t *checks)
{
	char msg[300];

	if (rc == HL_EEXISTS) {
		fail_items(c, E_DUP, one(hl_item_json(it, list, fmt)),
		    "%s already holds this value", list);
		return;
	}
	if (rc != 0) {
		fail_hl(c, err, rc);
		return;
	}
	changed(c, version);
	if (note != NULL)
		snprintf(msg, sizeof(msg), "added to %s; %s", list, note);
	else
		snprintf(msg, sizeof(msg), "added to %s", list);
	reply(c, 201, one(hl_item_json(it, list, fmt)), NULL, msg,
	    json_pack("{s:I, s:o*}", "version", (json_int_t)version,
	    "checks", json_incref(checks)));
}

/* The answer to an item removed from list (or not: rc). */
static void
delete_answer(struct ctx *c, const char *list, int fmt, int rc,
    const struct hl_err *err, const struct hl_item *it, int64_t version)
{
	if (rc == HL_ENOTFOUND) {
		fail(c, E_NOT_FOUND, "%s does not hold this value", list);
		return;
	}
	if (rc != 0) {
		fail_hl(c, err, rc);
		return;
	}
	changed(c, version);
	reply(c, 200, one(hl_item_json(it, list, fmt)), NULL,
	    "removed", json_pack("{s:I}", "version", (json_int_t)version));
}

/*
 * A list write answered when its commit is over (req->done): what the
 * answer needs once the request and its context are gone.  It owns
 * every field; wrote() frees it.
 */
struct later {
	struct hl_api		*api;
	struct hl_response	*res;
	void			(*done)(void *, int);
	void			*done_arg;
	int			 del;		/* DELETE, else POST */
	char			*path;		/* decoded, for the log */
	char			*list;
	int			 fmt;
	struct hl_item		 in;		/* POST: what is added */
	char			*value;		/* DELETE: what goes */
	char			*note;
	json_t			*checks;
	struct hl_actor		 who;
};

static void
later_free(struct later *w)
{
	free(w->path);
	free(w->list);
	hl_item_clear(&w->in);
	free(w->value);
	free(w->note);
	json_decref(w->checks);
	free((char *)w->who.name);
	free(w);
}

/*
 * The store's call when the write is committed (or failed), from the
 * thread that committed it: the answer is made as the blocking path
 * makes it, the state freed, and the server told.
 */
static void
wrote(int rc, const struct hl_err *err, struct hl_item *it,
    int64_t version, void *arg)
{
	struct later *w = arg;
	struct hl_request req = { .method = w->del ? "DELETE" : "POST" };
	struct ctx c = { 0 };
	void (*done)(void *, int) = w->done;
	void *done_arg = w->done_arg;
	int ret = 0;

	c.api = w->api;
	c.req = &req;
	c.res = w->res;
	c.path = w->path;
	c.method = w->del ? M_DELETE : M_POST;
	if (w->del)
		delete_answer(&c, w->list, w->fmt, rc, err, it, version);
	else
		post_answer(&c, w->list, w->fmt, rc, err, it, version,
		    w->note, w->checks);
	if (c.nomem || c.res->status == 0) {
		hl_buf_free(&c.res->body);
		c.res->status = 500;
		c.res->content_type = "application/json";
		ret = HL_ENOMEM;
	}
	later_free(w);
	done(done_arg, ret);
}

/*
 * Submits an add (in: its value, review; comment apart, borrowed) or a
 * delete (*value) to the store without waiting; the fields it keeps are
 * moved out of the caller's hands.  From here on c->res is wrote()'s.
 */
static void
write_later(struct ctx *c, const struct hl_list *l, struct hl_item *in,
    char **value, const char *comment, char **note, json_t **checks,
    const struct hl_actor *who)
{
	struct later *w;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		c->nomem = 1;
		return;
	}
	w->api = c->api;
	w->res = c->res;
	w->done = c->req->done;
	w->done_arg = c->req->done_arg;
	w->del = in == NULL;
	w->fmt = l->fmt;
	w->who = *who;
	w->path = strdup(c->path);
	w->list = strdup(l->id);
	w->who.name = who->name ? strdup(who->name) : NULL;
	if (in != NULL) {
		w->in = *in;
		memset(in, 0, sizeof(*in));
		w->in.comment = comment ? strdup(comment) : NULL;
		w->note = *note;
		*note = NULL;
		w->checks = *checks;
		*checks = NULL;
	} else {
		w->value = *value;
		*value = NULL;
	}
	if (w->path == NULL || w->list == NULL ||
	    (who->name != NULL && w->who.name == NULL) ||
	    (comment != NULL && w->in.comment == NULL)) {
		later_free(w);
		c->nomem = 1;
		return;
	}
	c->res->pending = 1;
	if (in != NULL)
		rc = hl_store_item_add_async(c->api->st, w->list, &w->in,
		    &w->who, wrote, w);
	else
		rc = hl_store_item_del_async(c->api->st, w->list, w->value,
		    &w->who, wrote, w);
	if (rc != 0) {
		c->res->pending = 0;
		later_free(w);
		c->nomem = 1;
	}
}

static void
list_post(struct ctx *c, const struct hl_list *l, int propose)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item in = { 0 }, it = { 0 };
	struct hl_actor who;
	const char *comment = NULL, *forced = NULL;
	char *note = NULL;
	json_t *checks = NULL;
	int64_t version = 0;
	int rc, dis = 0, pass = 0;

	if (need_body(c) != 0 || body_value(c, l, &in.value,
	    &in.ns_seq) != 0)
		goto out;
	if (field_str(c, "comment", 0, &comment) != 0 ||
	    field_bool(c, "disable", &dis) != 0 ||
	    field_bool(c, "pass", &pass) != 0)
		goto out;
	if (!hl_fmt_is_yaml(l->fmt) && (comment != NULL ||
	    json_object_get(c->body, "disable") != NULL ||
	    json_object_get(c->body, "pass") != NULL)) {
		fail(c, E_INVALID, "comment, disable and pass apply only to "
		    "the yaml lists");
		goto out;
	}
	if ((rc = hl_validate_list_value(&note, l->id, l->fmt, in.value,
	    &err)) != 0 || (rc = hl_validate_comment(comment, &err)) != 0) {
		fail_hl(c, &err, rc);
		goto out;
	}
	in.comment = (char *)comment;
	in.disabled = dis ? HL_DISABLE_TRUE : HL_DISABLE_NO;
	in.pass = pass;
	if (!propose && json_is_true(json_object_get(c->body, "propose"))) {
		if (l->policy == HL_POLICY_DIRECT) {
			fail(c, E_CONFLICT, "%s is a direct list: this token "
			    "writes it without review", l->id);
			goto out;
		}
		propose = 1;
	}
	if (review_checks(c, &checks, &forced, l, in.value, propose) != 0)
		goto out;
	if (propose) {
		review_propose(c, l, "add", &in, checks);
		goto out;
	}
	if (forced != NULL && (in.review = forced_record(c, forced,
	    checks)) == NULL) {
		c->nomem = 1;
		goto out;
	}
	who = actor(c);
	if (c->req->done != NULL) {
		in.comment = NULL;
		write_later(c, l, &in, NULL, comment, &note, &checks, &who);
		goto out;
	}
	rc = hl_store_item_add(&it, &version, c->api->st, l->id, &in, &who,
	    &err);
	post_answer(c, l->id, l->fmt, rc, &err, &it, version, note, checks);
out:
	in.comment = NULL;
	hl_item_clear(&in);
	hl_item_clear(&it);
	json_decref(checks);
	free(note);
}

static void
list_delete(struct ctx *c, const struct hl_list *l, int propose)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item it = { 0 };
	struct hl_actor who;
	char *value = NULL;
	int64_t version = 0;
	int rc, seq;

	if (c->req->body_len > 0) {
		if (need_body(c) != 0 || body_value(c, l, &value, &seq) != 0)
			goto out;
	} else {
		rc = query_get(&value, c->req->query, "pattern");
		if (rc == HL_ENOTFOUND && hl_fmt_is_yaml(l->fmt))
			rc = query_get(&value, c->req->query,
			    hl_fmt_key(l->fmt));
		if (rc == HL_ENOMEM) {
			c->nomem = 1;
			goto out;
		}
		if (rc == HL_EINVAL) {
			fail(c, E_INVALID, "bad %%-escape or NUL in the "
			    "query");
			goto out;
		}
		if (rc == HL_ENOTFOUND) {
			fail(c, E_MISSING, "'pattern' is required, in a "
			    "JSON body or as ?pattern=");
			goto out;
		}
	}
	if ((rc = hl_validate_text(value, strlen(value),
	    HL_VALIDATE_MAX_VALUE, &err)) != 0) {
		fail(c, from_hl(rc), "pattern: %s", err.msg);
		goto out;
	}
	if (propose) {
		review_propose_delete(c, l, value);
		goto out;
	}
	who = actor(c);
	if (c->req->done != NULL) {
		write_later(c, l, NULL, &value, NULL, NULL, NULL, &who);
		goto out;
	}
	rc = hl_store_item_del(&it, &version, c->api->st, l->id, value, &who,
	    &err);
	delete_answer(c, l->id, l->fmt, rc, &err, &it, version);
out:
	hl_item_clear(&it);
	free(value);
}

static void
h_list(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_list l = { 0 };
	int rc, propose = 0;

	if (c->method & (M_POST | M_DELETE) && need_auth(c, 0) != 0)
		return;
	if ((rc = hl_store_list(&l, c->api->st, c->seg[1], &err)) != 0) {
		if (rc == HL_ENOTFOUND)
			fail(c, E_NOT_FOUND, "no list '%s'; GET /blacklists "
			    "names them", c->seg[1]);
		else
			fail_hl(c, &err, rc);
		return;
	}
	if (c->method & (M_POST | M_DELETE) &&
	    (propose = review_route(c, &l)) < 0)
		;
	else if (c->method & (M_GET | M_HEAD))
		list_get(c, &l);
	else if (c->method == M_POST)
		list_post(c, &l, propose);
	else
		list_delete(c, &l, propose);
	hl_list_clear(&l);
}

static int
notif_body(struct ctx *c, struct hl_notif *n)
{
	const char *server, *site;

	if (need_body(c) != 0 || field_id(c, "user_id", &n->user_id) != 0 ||
	    field_text(c, "server", MAX_FIELD, &server) != 0 ||
	    field_id(c, "room_id", &n->room_id) != 0 ||
	    field_text(c, "site", MAX_FIELD, &site) != 0 ||
	    field_bool(c, "always_ping", &n->always_ping) != 0)
		return -1;
	n->server = (char *)server;
	n->site = (char *)site;
	return 0;
}

static void
h_notifs(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_notif in = { 0 }, out = { 0 }, *v = NULL;
	struct hl_actor who;
	int64_t version = 0;
	json_t *a;
	size_t i, n = 0;
	int rc;

	/* Reading is open, as notifications.json is, unless private. */
	if ((!(c->method & (M_GET | M_HEAD)) || c->api->notifs_private) &&
	    need_auth(c, c->method & (M_GET | M_HEAD) ? 0 :
	    HL_SCOPE_WRITE) != 0)
		return;
	if (c->method & (M_GET | M_HEAD)) {
		if ((rc = hl_store_notifs(&v, &n, c->api->st, &err)) != 0) {
			fail_hl(c, &err, rc);
			return;
		}
		if ((a = json_array()) != NULL)
			for (i = 0; i < n; i++)
				json_array_append_new(a,
				    hl_notif_json(&v[i]));
		hl_notifs_free(v, n);
		reply(c, 200, a, NULL, "notifications", json_pack("{s:I}",
		    "version", (json_int_t)hl_store_notifs_version(
		    c->api->st)));
		return;
	}
	if (notif_body(c, &in) != 0)
		return;
	who = actor(c);
	if (c->method == M_POST)
		rc = hl_store_notif_add(&out, &version, c->api->st, &in, &who,
		    &err);
	else
		rc = hl_store_notif_del(&out, &version, c->api->st, &in, &who,
		    &err);
	if (rc == HL_EEXISTS)
		fail_items(c, E_DUP, one(hl_notif_json(&out)),
		    "this notification already exists");
	else if (rc == HL_ENOTFOUND)
		fail(c, E_NOT_FOUND, "no such notification");
	else if (rc != 0)
		fail_hl(c, &err, rc);
	else {
		changed(c, version);
		reply(c, c->method == M_POST ? 201 : 200,
		    one(hl_notif_json(&out)), NULL, c->method == M_POST ?
		    "added" : "removed", json_pack("{s:I}", "version",
		    (json_int_t)version));
	}
	hl_notif_clear(&out);
}

static void
h_changes(struct ctx *c)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_event *v = NULL;
	int64_t since = 0, limit = HL_API_CHANGES_LIMIT;
	json_t *a, *extra;
	size_t i, n = 0, total;
	int rc;

	if (query_int(c, "since", &since) != 0 ||
	    query_int(c, "limit", &limit) != 0)
		return;
	if (limit <= 0) {
		fail(c, E_INVALID, "limit must be at least 1");
		return;
	}
	if (limit > HL_API_CHANGES_MAX)
		limit = HL_API_CHANGES_MAX;
	rc = hl_store_events(&v, &n, c->api->st, since, (size_t)limit + 1,
	    &err);
	if (rc != 0) {
		fail_hl(c, &err, rc);
		return;
	}
	extra = json_pack("{s:I}", "version",
	    (json_int_t)hl_store_version(c->api->st));
	total = n;
	if (n > (size_t)limit) {
		n = (size_t)limit;
		if (extra != NULL)
			json_object_set_new(extra, "next",
			    json_integer((json_int_t)v[n - 1].version));
	}
	if ((a = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(a, hl_event_json(&v[i]));
	hl_events_free(v, total);
	reply(c, 200, a, NULL, "changes", extra);
}

static void
h_healthz(struct ctx *c)
{
	json_t *extra;
	const char *st, *why;

	extra = json_pack("{s:s, s:I}", "status", "ok", "version",
	    (json_int_t)hl_store_version(c->api->st));
	if (extra != NULL && c->api->health != NULL)
		c->api->health(extra, c->api->payload);
	/*
	 * The health callback sets "stale" when a target lags too long,
	 * "public" with a "reason" when a public copy is wrong or late.
	 */
	st = json_string_value(json_object_get(extra, "status"));
	why = json_string_value(json_object_get(extra, "reason"));
	if (st != NULL && strcmp(st, "ok") != 0)
		reply(c, 503, NULL, NULL, why ? why : "a target lags the store",
		    extra);
	else
		reply(c, 200, NULL, NULL, "ok", extra);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static int
put_label(struct hl_buf *b, const char *v)
{
	int rc = 0;

	for (; *v != '\0' && rc == 0; v++)
		rc = *v == '\\' ? hl_buf_puts(b, "\\\\") :
		    *v == '"' ? hl_buf_puts(b, "\\\"") :
		    *v == '\n' ? hl_buf_puts(b, "\\n") : hl_buf_putc(b, *v);
	return rc;
}

/* The webhooks of /healthz ("webhooks"), labelled by their number. */
static int
webhook_metrics(struct hl_buf *b, json_t *hooks)
{
	static const struct {
		const char *key, *name, *type, *help;
	} m[] = {
		{ "deliveries", "helios_webhook_deliveries_total", "counter",
		    "Webhook notices a receiver acknowledged." },
		{ "failures", "helios_webhook_failures_total", "counter",
		    "Webhook tries that failed." },
		{ "dropped", "helios_webhook_dropped_total", "counter",
		    "Webhook notices given up after every try." },
		{ "delivered_version", "helios_webhook_delivered_version",
		    "gauge", "The last version a receiver acknowledged." },
	};
	json_t *h;
	size_t i, k;
	int rc = 0;

	if (json_array_size(hooks) == 0)
		return 0;
	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		rc |= hl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    m[k].name, m[k].help, m[k].name, m[k].type);
		json_array_foreach(hooks, i, h)
			rc |= hl_buf_printf(b, "%s{webhook=\"%lld\"} %lld\n",
			    m[k].name, (long long)json_integer_value(
			    json_object_get(h, "id")), (long long)
			    json_integer_value(json_object_get(h, m[k].key)));
	}
	return rc;
}

/*
 * The publisher's targets, taken from the same callback as /healthz, as
 * gauges and counters labelled by target.
 */
static int
target_metrics(struct hl_buf *b, struct hl_api *api)
{
	static const struct {
		const char *key, *name, *type, *help;
		double scale;
	} m[] = {
		{ "version", "helios_target_version", "gauge",
		    "The version a target last published.", 1 },
		{ "failures", "helios_target_failures_total", "counter",
		    "Failed publishes to a target.", 1 },
		{ "last_publish_ms", "helios_target_publish_seconds", "gauge",
		    "How long the target's last publish took.", 1e-3 },
		{ "publishes", "helios_target_publishes_total", "counter",
		    "Publishes to a target that succeeded.", 1 },
		{ "publish_ms_total", "helios_target_publish_seconds_total",
		    "counter", "Time spent publishing to a target.", 1e-3 },
		{ "rests", "helios_target_rests_total", "counter",
		    "Pauses between publishes under a stream of writes.", 1 },
		{ "expires_at", "helios_target_manifest_expiry_seconds",
		    "gauge", "When the target's manifest expires (Unix time).",
		    1 },
		{ "stopped", "helios_target_stopped", "gauge",
		    "1 when a target is stopped until an operator restarts.",
		    1 },
		{ "behind_versions", "helios_target_behind_versions", "gauge",
		    "Versions the store has that the target lacks.", 1 },
		{ "behind_seconds", "helios_target_behind_seconds", "gauge",
		    "Seconds since the oldest change the target lacks.", 1 },
		{ "stale", "helios_target_stale", "gauge",
		    "1 when the target lags over stale_after seconds.", 1 },
		/* Watched targets only (public_url, purge). */
		{ "public_version", "helios_public_version", "gauge",
		    "The version served at the target's public URL.", 1 },
		{ "public_verified", "helios_public_verified", "gauge",
		    "1 when the public copy's last check passed.", 1 },
		{ "propagation_seconds", "helios_propagation_seconds",
		    "gauge", "Publish done to visible and verified at the"
		    " public URL, last measured.", 1 },
		{ "public_lag_seconds", "helios_public_lag_seconds", "gauge",
		    "Seconds the published version has not shown publicly.",
		    1 },
		{ "public_checked_at", "helios_public_check_timestamp_seconds",
		    "gauge", "When the public copy was last checked (Unix"
		    " time).", 1 },
		{ "public_check_failures",
		    "helios_public_check_failures_total", "counter",
		    "Checks of the public copy that failed.", 1 },
		{ "purges", "helios_purge_requests_total", "counter",
		    "CDN purge requests sent.", 1 },
		{ "purge_failures", "helios_purge_failures_total", "counter",
		    "CDN purge requests that failed.", 1 },
	};
	json_t *obj, *targets, *t, *v;
	size_t i, k;
	int rc = 0;

	if (api->health == NULL || (obj = json_object()) == NULL)
		return 0;
	api->health(obj, api->payload);
	targets = json_object_get(obj, "targets");
	for (k = 0; k < sizeof(m) / sizeof(m[0]) && rc == 0; k++) {
		rc |= hl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    m[k].name, m[k].help, m[k].name, m[k].type);
		json_array_foreach(targets, i, t) {
			/* A key a target lacks, or null: no sample. */
			v = json_object_get(t, m[k].key);
			if (v == NULL || json_is_null(v))
				continue;
			rc |= hl_buf_printf(b, "%s{target=\"", m[k].name);
			rc |= put_label(b, json_string_value(json_object_get(t,
			    "name")) ? json_string_value(json_object_get(t,
			    "name")) : "");
			rc |= hl_buf_printf(b, "\",kind=\"%s\"} %.15g\n",
			    json_string_value(json_object_get(t, "kind")) ?
			    json_string_value(json_object_get(t, "kind")) : "",
			    (json_is_true(v) ? 1.0 : json_number_value(v)) *
			    m[k].scale);
		}
	}
	rc |= webhook_metrics(b, json_object_get(obj, "webhooks"));
	json_decref(obj);
	return rc;
}

static void
h_metrics(struct ctx *c)
{
	struct hl_api *api = c->api;
	struct hl_buf *b = &c->res->body;
	uint64_t cum = 0, commits, changes;
	size_t i;
	int rc = 0;

	hl_buf_reset(b);
	rc |= hl_buf_puts(b, "# HELP helios_http_requests_total HTTP "
	    "requests answered, by status class.\n"
	    "# TYPE helios_http_requests_total counter\n");
	for (i = 1; i < 6; i++)
		rc |= hl_buf_printf(b, "helios_http_requests_total"
		    "{code=\"%zuxx\"} %" PRIuFAST64 "\n", i,
		    atomic_load(&api->by_class[i]));
	rc |= hl_buf_printf(b, "# HELP helios_writes_total Committed "
	    "changes made through the API.\n"
	    "# TYPE helios_writes_total counter\n"
	    "helios_writes_total %" PRIuFAST64 "\n",
	    atomic_load(&api->writes));
	rc |= hl_buf_puts(b, "# HELP helios_http_request_duration_seconds "
	    "Time to answer a request.\n"
	    "# TYPE helios_http_request_duration_seconds histogram\n");
	for (i = 0; i < NBOUNDS; i++) {
		cum += atomic_load(&api->lat[i]);
		rc |= hl_buf_printf(b, "helios_http_request_duration_seconds"
		    "_bucket{le=\"%g\"} %" PRIu64 "\n",
		    (double)lat_bounds[i] / 1e6, cum);
	}
	cum += atomic_load(&api->lat[NBOUNDS]);
	rc |= hl_buf_printf(b, "helios_http_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %" PRIu64 "\n"
	    "helios_http_request_duration_seconds_sum %.6f\n"
	    "helios_http_request_duration_seconds_count %" PRIuFAST64 "\n",
	    cum, (double)atomic_load(&api->lat_sum) / 1e6,
	    atomic_load(&api->lat_count));
	hl_store_stats(&commits, &changes, api->st);
	rc |= hl_buf_printf(b, "# HELP helios_store_commits_total Write "
	    "transactions committed, each with one fsync of the WAL.\n"
	    "# TYPE helios_store_commits_total counter\n"
	    "helios_store_commits_total %" PRIu64 "\n"
	    "# HELP helios_store_changes_total Changes those transactions "
	    "held (the group commit: several writers, one fsync).\n"
	    "# TYPE helios_store_changes_total counter\n"
	    "helios_store_changes_total %" PRIu64 "\n", commits, changes);
	rc |= hl_buf_printf(b, "# HELP helios_version The highest committed "
	    "version.\n# TYPE helios_version gauge\nhelios_version %"
	    PRId64 "\n", hl_store_version(api->st));
	rc |= target_metrics(b, api);
	if (api->metrics != NULL)
		rc |= api->metrics(b, api->metrics_payload);
	if (rc != 0) {
		c->nomem = 1;
		return;
	}
	c->res->status = 200;
	c->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void
h_openapi(struct ctx *c)
{
	if (c->api->openapi == NULL) {
		fail(c, E_NOT_FOUND, "openapi.json is not installed");
		return;
	}
	hl_buf_reset(&c->res->body);
	if (hl_buf_put(&c->res->body, c->api->openapi,
	    c->api->openapi_len) != 0) {
		c->nomem = 1;
		return;
	}
	c->res->status = 200;
	c->res->content_type = "application/json";
}

/* POST /test: testroute.c answers it. */
static void
h_test(struct ctx *c)
{
	if (hl_testroute_answer(&c->res->status, &c->res->body, c->api->test,
	    c->api->st, c->req->remote, c->req->content_type, c->req->body,
	    c->req->body_len) != 0)
		c->nomem = 1;
	c->res->content_type = "application/json";
}

/* The API object. */

static int
load_file(char **out, size_t *len, const char *path)
{
	struct hl_buf b = HL_BUF_INIT;
	char chunk[8192];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > OPENAPI_MAX || hl_buf_put(&b, chunk, n) != 0) {
			fclose(f);
			hl_buf_free(&b);
			return -1;
		}
	}
	fclose(f);
	*out = hl_buf_detach(&b, len);
	return *out ? 0 : -1;
}

static void
load_openapi(struct hl_api *api, const char *file)
{
	static const char *rel[] = {
		"/../schema/openapi.json", "/../share/helios/openapi.json",
	};
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n;
	size_t i;

	if (file != NULL) {
		if (load_file(&api->openapi, &api->openapi_len, file) != 0)
			hl_log_warnx("cannot read %s", file);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
			if (load_file(&api->openapi, &api->openapi_len,
			    path) == 0)
				return;
		}
	}
	(void)load_file(&api->openapi, &api->openapi_len,
	    "schema/openapi.json");
}

int
hl_api_new(struct hl_api **out, const struct hl_api_opts *o,
    struct hl_err *err)
{
	struct hl_api *api;

	*out = NULL;
	if ((api = calloc(1, sizeof(*api))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	api->st = o->store;
	api->dev = o->dev_profile;
	api->notifs_private = o->notifications_private;
	api->on_change = o->on_change;
	api->health = o->health;
	api->payload = o->payload;
	api->metrics = o->metrics;
	api->metrics_payload = o->metrics_payload;
	api->review = o->review;
	load_openapi(api, o->openapi_file);
	if (hl_testroute_new(&api->test, err) != 0) {
		hl_api_free(api);
		return HL_ENOMEM;
	}
	*out = api;
	return 0;
}

void
hl_api_free(struct hl_api *api)
{
	if (api == NULL)
		return;
	free(api->openapi);
	hl_testroute_free(api->test);
	free(api);
}

void
hl_api_observe(struct hl_api *api, unsigned status, uint64_t usec)
{
	size_t i, cls = status / 100;

	if (cls > 5)
		cls = 0;
	atomic_fetch_add(&api->by_class[cls], 1);
	for (i = 0; i < NBOUNDS && usec > lat_bounds[i]; i++)
		;
	atomic_fetch_add(&api->lat[i], 1);
	atomic_fetch_add(&api->lat_sum, usec);
	atomic_fetch_add(&api->lat_count, 1);
}

void
hl_response_clear(struct hl_response *r)
{
	if (r == NULL)
		return;
	hl_buf_free(&r->body);
	free(r->path);
	r->path = NULL;
	r->status = 0;
	r->allow = NULL;
	r->content_type = NULL;
	r->unrouted = 0;
	r->user[0] = '\0';
}

int
hl_api_handle(struct hl_response *out, struct hl_api *api,
    const struct hl_request *req)
{
	struct hl_err err = HL_ERR_INIT;
	struct ctx c = { 0 };
	const struct route *r = NULL;
	size_t i;
	int rc;

	c.api = api;
	c.req = req;
	c.res = out;
	snprintf(out->user, sizeof(out->user), "-");
	c.method = method_bit(req->method);
	rc = hl_api_path_decode(&c.path, req->path, &err);
	if (rc == HL_ENOMEM) {
		c.nomem = 1;
		goto out;
	}
	if (rc != 0) {
		fail(&c, E_BAD_PATH, "%s", err.msg);
		goto out;
	}
	split_path(&c);
	for (i = 0; i < NROUTES; i++)
		if (route_match(&routes[i], &c)) {
			r = &routes[i];
			break;
		}
	if (r == NULL && c.nseg > 0 && api_prefix(c.seg[0], c.nseg)) {
		/* Under an API route: the API's 404, never a file. */
		fail(&c, E_NOT_FOUND, "no such resource");
		goto out;
	}
	if (r == NULL) {
		/* split_path cut c.path up; decode afresh for the caller. */
		out->unrouted = 1;
		free(out->path);
		out->path = NULL;
		if (hl_api_path_decode(&out->path, req->path, &err) != 0) {
			c.nomem = 1;
			goto out;
		}
		fail(&c, E_NOT_FOUND, "no such resource");
		goto out;
	}
	if (!(c.method & r->methods)) {
		fail(&c, E_METHOD, "%s is not allowed on %s; allowed: %s",
		    printable(req->method, 16) ? req->method : "this method",
		    req->path, r->allow);
		out->allow = r->allow;
		goto out;
	}
	if (req->too_big) {
		fail(&c, E_TOO_BIG, "the body is over %d bytes",
		    HL_API_MAX_BODY);
		goto out;
	}
	r->fn(&c);
out:
	if (c.authed)
		hl_token_clear(&c.tok);
	json_decref(c.body);
	free(c.path);
	/* Pending: out is wrote()'s now. */
	if (out->pending)
		return 0;
	if (c.nomem || out->status == 0) {
		hl_buf_free(&out->body);
		out->status = 500;
		out->content_type = "application/json";
		return HL_ENOMEM;
	}
	return 0;
}
