/*
 * s3url: parsing of s3:// target URLs and building of the HTTP URLs of a
 * bucket and its objects, with S3's percent-encoding of keys.  Used by
 * pub_s3.c; the format is described in s3url.h.
 *
 * Worked example:
 *
 *   s3://helios/pub?endpoint=http://127.0.0.1:9000&region=eu-west-1
 *       bucket "helios", prefix "pub/", path style
 *       key "pub/lists/a+b.txt" ->
 *           http://127.0.0.1:9000/helios/pub/lists/a%2Bb.txt
 *   s3://helios
 *       virtual style, key "manifest.json" ->
 *           https://helios.s3.us-east-1.amazonaws.com/manifest.json
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "s3url.h"


/* A malloc'ed, NUL-terminated copy of s[0..n) with %XX decoded. */
static char *
decode(const char *s, size_t n)
{
	char	*d, *p;
	size_t	 i;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0, p = d; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hl_hexval((unsigned char)s[i + 1]) >= 0 &&
		    hl_hexval((unsigned char)s[i + 2]) >= 0) {
			*p++ = (char)(hl_hexval((unsigned char)s[i + 1]) * 16 +
			    hl_hexval((unsigned char)s[i + 2]));
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return d;
}

static int
valid_bucket(const char *b)
{
	size_t	 n = strlen(b), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) ||
		    isdigit((unsigned char)b[i]) || b[i] == '.' ||
		    b[i] == '-' || b[i] == '_'))
			return 0;
	return 1;
}

static int
valid_region(const char *r)
{
	size_t	 i;

	if (*r == '\0' || strlen(r) > 64)
		return 0;
	for (i = 0; r[i] != '\0'; i++)
		if (!(isalnum((unsigned char)r[i]) || r[i] == '-' ||
		    r[i] == '_'))
			return 0;
	return 1;
}

/* An endpoint is http(s)://host[:port][/path], printable, no query. */
static int
valid_endpoint(const char *e)
{
	const char	*h;
	size_t		 i;

	if (strncmp(e, "http://", 7) == 0)
		h = e + 7;
	else if (strncmp(e, "https://", 8) == 0)
		h = e + 8;
	else
		return 0;
	if (*h == '\0' || *h == '/')
		return 0;
	for (i = 0; e[i] != '\0'; i++)
		if (!isgraph((unsigned char)e[i]) || e[i] == '?' ||
		    e[i] == '#' || e[i] == '@')
			return 0;
	return 1;
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

void
hl_s3url_clear(struct hl_s3url *u)
{
	if (u == NULL)
		return;
	free(u->bucket);
	free(u->prefix);
	free(u->region);
	free(u->endpoint);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

int
hl_s3url_parse(struct hl_s3url *out, const char *url, struct hl_err *err)
{
	struct hl_s3url	 u;
	struct hl_buf	 nb = HL_BUF_INIT;
	const char	*p, *q, *slash, *amp, *eq;
	char		*name = NULL, *val = NULL, *pre = NULL;
	char		*style = NULL;
	size_t		 n;
	int		 rc = HL_ENOMEM;

	memset(&u, 0, sizeof(u));
	memset(out, 0, sizeof(*out));
	u.tries = HL_S3URL_TRIES;
	u.backoff_ms = HL_S3URL_BACKOFF_MS;
	u.timeout_ms = HL_S3URL_TIMEOUT_MS;
	if (strncmp(url, "s3://", 5) != 0) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: not s3://");
		goto out;
	}
	p = url + 5;
	q = strchr(p, '?');
	if (q == NULL)
		q = p + strlen(p);
	slash = memchr(p, '/', (size_t)(q - p));
	n = (slash != NULL ? slash : q) - p;
	if ((u.bucket = decode(p, n)) == NULL)
		goto out;
	if (!valid_bucket(u.bucket)) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: bad bucket name");
		goto out;
	}
	if (slash != NULL) {
		while (slash < q && *slash == '/')
			slash++;
		if ((pre = decode(slash, (size_t)(q - slash))) == NULL)
			goto out;
	} else if ((pre = strdup("")) == NULL)
		goto out;
	n = strlen(pre);
	if (n > 0 && pre[n - 1] != '/') {
		if ((u.prefix = malloc(n + 2)) == NULL)
			goto out;
		memcpy(u.prefix, pre, n);
		u.prefix[n] = '/';
		u.prefix[n + 1] = '\0';
	} else {
		u.prefix = pre;
		pre = NULL;
	}
	if (strlen(u.prefix) > 512) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: prefix too long");
		goto out;
	}

	for (p = *q == '?' ? q + 1 : q; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL) {
			rc = hl_err_set(err, HL_EINVAL,
			    "s3 url: parameter without a value");
			goto out;
		}
		free(name);
		free(val);
		val = NULL;
		if ((name = decode(p, (size_t)(eq - p))) == NULL ||
		    (val = decode(eq + 1, (size_t)(amp - eq - 1))) == NULL)
			goto out;
		if (strcmp(name, "endpoint") == 0) {
			free(u.endpoint);
			u.endpoint = val;
			val = NULL;
		} else if (strcmp(name, "region") == 0) {
			free(u.region);
			u.region = val;
			val = NULL;
		} else if (strcmp(name, "style") == 0) {
			free(style);
			style = val;
			val = NULL;
		} else if (strcmp(name, "tries") == 0) {
			if (parse_int(val, 1, 20, &u.tries) == -1) {
				rc = hl_err_set(err, HL_EINVAL,
				    "s3 url: tries must be 1 to 20");
				goto out;
			}
		} else if (strcmp(name, "backoff_ms") == 0) {
			if (parse_int(val, 0, 60000, &u.backoff_ms) == -1) {
				rc = hl_err_set(err, HL_EINVAL,
				    "s3 url: backoff_ms must be 0 to 60000");
				goto out;
			}
		} else if (strcmp(name, "timeout_ms") == 0) {
			if (parse_int(val, 100, 600000, &u.timeout_ms) == -1) {
				rc = hl_err_set(err, HL_EINVAL,
				    "s3 url: timeout_ms must be 100 to 600000");
				goto out;
			}
		} else {
			/* The value is not echoed: it might be a secret. */
			rc = hl_err_set(err, HL_EINVAL,
			    "s3 url: unknown parameter \"%.40s\"", name);
			goto out;
		}
	}

	if (u.region == NULL && (u.region = strdup("us-east-1")) == NULL)
		goto out;
	if (!valid_region(u.region)) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: bad region");
		goto out;
	}
	if (style == NULL)
		u.path_style = u.endpoint != NULL;
	else if (strcmp(style, "path") == 0)
		u.path_style = 1;
	else if (strcmp(style, "virtual") == 0)
		u.path_style = 0;
	else {
		rc = hl_err_set(err, HL_EINVAL,
		    "s3 url: style must be path or virtual");
		goto out;
	}
	if (u.endpoint == NULL) {
		if (hl_buf_printf(&nb, "https://s3.%s.amazonaws.com",
		    u.region) != 0)
			goto out;
		u.endpoint = hl_buf_detach(&nb, NULL);
	}
	n = strlen(u.endpoint);
	while (n > 0 && u.endpoint[n - 1] == '/')
		u.endpoint[--n] = '\0';
	if (!valid_endpoint(u.endpoint)) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: bad endpoint");
		goto out;
	}
	if (!u.path_style && strchr(u.bucket, '.') != NULL &&
	    strncmp(u.endpoint, "https://", 8) == 0) {
		rc = hl_err_set(err, HL_EINVAL, "s3 url: a bucket name with "
		    "dots needs style=path over https");
		goto out;
	}

	hl_buf_reset(&nb);
	if (hl_buf_printf(&nb, "s3://%s/", u.bucket) != 0 ||
	    hl_s3url_encode(&nb, u.prefix, 1) != 0 ||
	    hl_buf_printf(&nb, "?endpoint=%s&region=%s&style=%s",
	    u.endpoint, u.region, u.path_style ? "path" : "virtual") != 0)
		goto out;
	u.name = hl_buf_detach(&nb, NULL);
	*out = u;
	memset(&u, 0, sizeof(u));
	rc = 0;
out:
	if (rc == HL_ENOMEM)
		hl_err_set(err, HL_ENOMEM, "s3 url: out of memory");
	hl_s3url_clear(&u);
	hl_buf_free(&nb);
	free(name);
	free(val);
	free(pre);
	free(style);
	return rc;
}

int
hl_s3url_encode(struct hl_buf *b, const char *s, int keep_slash)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 e[3];
	int			 rc;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9'))
			rc = hl_buf_putc(b, *p);
		else if (*p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (*p == '/' && keep_slash))
			rc = hl_buf_putc(b, *p);
		else {
			e[0] = '%';
			e[1] = hex[*p >> 4];
			e[2] = hex[*p & 15];
			rc = hl_buf_put(b, e, 3);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* "http://host:port/BUCKET" or "https://BUCKET.host", no trailing '/'. */
static int
base_url(struct hl_buf *b, const struct hl_s3url *u)
{
	const char	*h;
	size_t		 sch;

	if (u->path_style)
		return hl_buf_printf(b, "%s/%s", u->endpoint, u->bucket);
	h = strstr(u->endpoint, "://");
	sch = (size_t)(h - u->endpoint) + 3;
	return hl_buf_printf(b, "%.*s%s.%s", (int)sch, u->endpoint,
	    u->bucket, u->endpoint + sch);
}

int
hl_s3url_bucket_url(struct hl_buf *b, const struct hl_s3url *u)
{
	int	 rc;

	/*
	 * Path style names the bucket "/BUCKET", without a final '/':
	 * servers that rebuild the canonical path from the bucket name
	 * (s3rver) sign "/BUCKET", and AWS signs the path as sent.
	 */
	if ((rc = base_url(b, u)) != 0 || u->path_style)
		return rc;
	return hl_buf_putc(b, '/');
}

int
hl_s3url_object_url(struct hl_buf *b, const struct hl_s3url *u,
    const char *key)
{
	int	 rc;

	if ((rc = base_url(b, u)) != 0 || (rc = hl_buf_putc(b, '/')) != 0)
		return rc;
	return hl_s3url_encode(b, key, 1);
}
