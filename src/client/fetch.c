/*
 * fetch: GETs files of a published tree from a directory or over HTTP
 * (see fetch.h for what a base is and what a request promises).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "fetch.h"

struct hl_fetch {
	char			*base;	/* URL ending in '/', or a dir path */
	int			 http;
	CURL			*curl;
	struct hl_fetch_opts	 o;
	struct hl_fetch_stats	 st;
};

/* What the curl callbacks fill in during one request. */
struct xfer {
	struct hl_fetch_res	*res;
	CURL			*curl;
	size_t			 max;
	size_t			 got;	/* bytes of the 200 body so far */
	size_t			 dropped;	/* of another answer's body */
	int			 cut;	/* stopped reading an error page */
	hl_fetch_sink_fn	 sink;
	void			*payload;
	struct hl_err		*err;
	int			 over;
	int			 sink_rc;	/* the sink's error, 0 if none */
};

/* The sink of hl_fetch_get: appends to res->body. */
static int
to_buf(void *payload, const void *p, size_t n, struct hl_err *err)
{
	struct hl_fetch_res *res = payload;

	if (hl_buf_put(&res->body, p, n) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	return 0;
}

static int
prefix(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* A path inside the tree: relative, no "..", no empty name. */
static int
path_ok(const char *p)
{
	const char *s = p;
	size_t n;

	if (*p == '\0' || *p == '/')
		return 0;
	while (*s != '\0') {
		n = strcspn(s, "/");
		if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    (n == 1 && s[0] == '.'))
			return 0;
		s += n;
		if (*s == '/')
			s++;
		else
			break;
		if (*s == '\0')
			return 0;
	}
	return strchr(p, '\\') == NULL;
}

int
hl_fetch_new(struct hl_fetch **out, const char *base,
    const struct hl_fetch_opts *opts, struct hl_err *err)
{
	static const struct hl_fetch_opts defaults = HL_FETCH_OPTS_INIT;
	struct hl_fetch *f;
	size_t n;
	int rc = 0;

	*out = NULL;
	if (base == NULL || *base == '\0')
		return hl_err_set(err, HL_EINVAL, "empty URL");
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	f->o = opts ? *opts : defaults;
	if (prefix(base, "http://") || prefix(base, "https://")) {
		f->http = 1;
		n = strlen(base);
		if (asprintf(&f->base, "%s%s", base,
		    base[n - 1] == '/' ? "" : "/") < 0) {
			f->base = NULL;
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto fail;
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if ((f->curl = curl_easy_init()) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM,
			    "curl_easy_init failed");
			goto fail;
		}
	} else if (strstr(base, "://") != NULL && !prefix(base, "file://")) {
		rc = hl_err_set(err, HL_EINVAL,
		    "%s: not a directory, file:// or http(s):// URL", base);
		goto fail;
	} else {
		if (prefix(base, "file://"))
			base += strlen("file://");
		if (*base == '\0')
			base = ".";
		if ((f->base = strdup(base)) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto fail;
		}
	}
	*out = f;
	return 0;
fail:
	hl_fetch_free(f);
	return rc;
}

void
hl_fetch_free(struct hl_fetch *f)
{
	if (f == NULL)
		return;
	if (f->curl)
		curl_easy_cleanup(f->curl);
	free(f->base);
	free(f);
}

int
hl_fetch_is_http(const struct hl_fetch *f)
{
	return f->http;
}

void
hl_fetch_stats(struct hl_fetch_stats *out, const struct hl_fetch *f)
{
	*out = f->st;
}

long
hl_fetch_retry_after(const char *value, int64_t now)
{
	const char *p;
	char *end;
	long v;
	time_t t;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		errno = 0;
		v = strtol(value, &end, 10);
		for (p = end; *p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'; p++)
			;
		if (errno != 0 || *p != '\0' || v < 0)
			return -1;
		return v;
	}
	if ((t = curl_getdate(value, NULL)) == -1)
		return -1;
	return (int64_t)t > now ? (long)((int64_t)t - now) : 0;
}

/*
 * Reads fd from its start into md5 and, when sink is not NULL, into sink,
 * at most max bytes.  *len receives the size read.
 */
static int
read_pass(int fd, const char *full, size_t max, EVP_MD_CTX *md5,
    hl_fetch_sink_fn sink, void *payload, size_t *len, struct hl_err *err)
{
	unsigned char tmp[65536];
	ssize_t r;
	int rc;

	*len = 0;
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1)
		return hl_err_set(err, HL_EIO, "%s: %s", full,
		    strerror(errno));
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return hl_err_set(err, HL_EIO, "%s: %s", full,
			    strerror(errno));
		if (r == 0)
			return 0;
		if ((size_t)r > max - *len)
			return hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
			    full, max);
		*len += (size_t)r;
		EVP_DigestUpdate(md5, tmp, (size_t)r);
		if (sink != NULL && (rc = sink(payload, tmp, (size_t)r,
		    err)) != 0)
			return rc;
	}
}

/*
 * Reads dir/path, answering If-None-Match like a server would.  With an
 * If-None-Match, a first pass hashes the file and the second, only when
 * it differs, hands it to sink: nothing is held in memory either way.
 */
static int
get_local(struct hl_fetch_res *res, struct hl_fetch *f, const char *path,
    const char *inm, size_t max, hl_fetch_sink_fn sink, void *payload,
    struct hl_err *err)
{
	static const char hex[] = "0123456789abcdef";
	EVP_MD_CTX *md5 = NULL;
	struct stat sb;
	unsigned char d[16];
	char *full = NULL;
	size_t len = 0, i;
	int fd = -1, rc = 0, e;

	if (asprintf(&full, "%s/%s", f->base, path) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		e = errno;
		rc = hl_err_set(err, e == ENOENT ? HL_ENOTFOUND : HL_EIO,
		    "%s: %s", full, strerror(e));
		res->status = e == ENOENT ? 404 : 0;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = hl_err_set(err, HL_ENOTFOUND, "%s: not a file", full);
		res->status = 404;
		goto out;
	}
	if ((uint64_t)sb.st_size > (uint64_t)max) {
		rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes", full,
		    max);
		goto out;
	}
	if ((md5 = EVP_MD_CTX_new()) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	rc = read_pass(fd, full, max, md5, inm ? NULL : sink, payload, &len,
	    err);
	if (rc != 0)
		goto out;
	EVP_DigestFinal_ex(md5, d, NULL);
	res->etag[0] = '"';
	for (i = 0; i < 16; i++) {
		res->etag[1 + 2 * i] = hex[d[i] >> 4];
		res->etag[2 + 2 * i] = hex[d[i] & 15];
	}
	res->etag[33] = '"';
	res->etag[34] = '\0';
	res->status = 200;
	if (inm != NULL && strcmp(inm, res->etag) == 0) {
		res->status = 304;
		f->st.not_modified++;
		goto out;
	}
	if (inm != NULL && (rc = read_pass(fd, full, max, md5, sink, payload,
	    &len, err)) != 0)
		goto out;
	f->st.bytes += len;
out:
	EVP_MD_CTX_free(md5);
	if (fd != -1)
		close(fd);
	free(full);
	return rc;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	long status = 0;

	n *= size;
	/* Only a 200's body is the file; an error page is dropped. */
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		x->dropped += n;
		if (x->dropped > HL_FETCH_MAX_ERROR_BODY) {
			x->cut = 1;	/* enough: the status says it all */
			return 0;
		}
		return n;
	}
	if (n > x->max - x->got) {
		x->over = 1;
		return 0;
	}
	x->got += n;
	if ((x->sink_rc = x->sink(x->payload, p, n, x->err)) != 0)
		return 0;
	return n;
}

/* Copies a header's value, trimmed, into dst. */
static void
header_value(char *dst, size_t len, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	char v[160];

	n *= size;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a redirect): forget the last one. */
		x->res->etag[0] = '\0';
		x->res->retry_after = -1;
		x->got = 0;
		x->dropped = 0;
	} else if (n > 5 && strncasecmp(p, "etag:", 5) == 0)
		header_value(x->res->etag, sizeof(x->res->etag), p + 5,
		    n - 5);
	else if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		header_value(v, sizeof(v), p + 12, n - 12);
		x->res->retry_after = hl_fetch_retry_after(v,
		    (int64_t)time(NULL));
	}
	return n;
}

/* Appends path to the base URL, percent-encoding what needs it. */
static int
make_url(struct hl_buf *u, const char *base, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc;

	if ((rc = hl_buf_puts(u, base)) != 0)
		return rc;
	for (p = (const unsigned char *)path; *p != '\0' && rc == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL)
			rc = hl_buf_putc(u, *p);
		else
			rc = hl_buf_printf(u, "%%%c%c", hex[*p >> 4],
			    hex[*p & 15]);
	}
	return rc;
}

static int
get_http(struct hl_fetch_res *res, struct hl_fetch *f, const char *path,
    const char *inm, size_t max, unsigned flags, hl_fetch_sink_fn sink,
    void *payload, struct hl_err *err)
{
	struct hl_buf url = HL_BUF_INIT;
	struct curl_slist *hdrs = NULL, *h;
	struct xfer x = { res, f->curl, max, 0, 0, 0, sink, payload, err, 0,
	    0 };
	char line[200];
	curl_off_t got = 0;
	CURLcode cc;
	long status = 0;
	int rc = 0;

	if (make_url(&url, f->base, path) != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	if (inm != NULL && *inm != '\0') {
		if ((size_t)snprintf(line, sizeof(line), "If-None-Match: %s",
		    inm) >= sizeof(line) || strpbrk(inm, "\r\n") != NULL) {
			rc = hl_err_set(err, HL_EINVAL, "bad ETag %s", inm);
			goto out;
		}
		if ((hdrs = curl_slist_append(NULL, line)) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* A proxy or cache between us and the origin must revalidate. */
	if ((h = curl_slist_append(hdrs, "Cache-Control: no-cache")) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	hdrs = h;
	curl_easy_reset(f->curl);
	curl_easy_setopt(f->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(f->curl, CURLOPT_MAXREDIRS,
	    (long)HL_FETCH_MAX_REDIRS);
	curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    f->o.connect_timeout_ms);
	curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, f->o.timeout_ms);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_LIMIT,
	    f->o.low_speed_bytes);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_TIME, f->o.low_speed_secs);
	if (flags & HL_FETCH_GZIP)
		curl_easy_setopt(f->curl, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (f->o.user_agent)
		curl_easy_setopt(f->curl, CURLOPT_USERAGENT, f->o.user_agent);

	f->st.requests++;
	cc = curl_easy_perform(f->curl);
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(f->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
	res->status = status;
	f->st.bytes += (uint64_t)got;
	if (x.sink_rc != 0) {
		rc = x.sink_rc;	/* the sink said why */
		goto out;
	}
	if (x.over) {
		rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
		    url.data, max);
		goto out;
	}
	if (cc != CURLE_OK && !(x.cut && cc == CURLE_WRITE_ERROR)) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", url.data,
		    curl_easy_strerror(cc));
		goto out;
	}
	if (status == 304)
		f->st.not_modified++;
	else if (status == 404 || status == 410)
		rc = hl_err_set(err, HL_ENOTFOUND, "%s: HTTP %ld", url.data,
		    status);
	else if (status == 429 || status == 503)
		rc = hl_err_set(err, HL_EBUSY, "%s: HTTP %ld%s", url.data,
		    status, res->retry_after >= 0 ? " (Retry-After)" : "");
	else if (status != 200)
		rc = hl_err_set(err, HL_EIO, "%s: HTTP %ld", url.data, status);
out:
	curl_slist_free_all(hdrs);
	hl_buf_free(&url);
	return rc;
}

int
hl_fetch_stream(struct hl_fetch_res *res, struct hl_fetch *f,
    const char *path, const char *inm, size_t max, unsigned flags,
    hl_fetch_sink_fn sink, void *payload, struct hl_err *err)
{
	res->status = 0;
	res->etag[0] = '\0';
	res->retry_after = -1;
	if (max == 0)
		max = HL_FETCH_MAX_BODY;
	if (!path_ok(path))
		return hl_err_set(err, HL_EINVAL, "bad path \"%s\"", path);
	if (f->http)
		return get_http(res, f, path, inm, max, flags, sink, payload,
		    err);
	f->st.requests++;
	return get_local(res, f, path, inm, max, sink, payload, err);
}

int
hl_fetch_get(struct hl_fetch_res *res, struct hl_fetch *f, const char *path,
    const char *inm, size_t max, unsigned flags, struct hl_err *err)
{
	int rc;

	hl_buf_reset(&res->body);
	rc = hl_fetch_stream(res, f, path, inm, max, flags, to_buf, res, err);
	if (rc != 0 || res->status == 304)
		hl_buf_reset(&res->body);
	return rc;
}
