/*
 * pub_s3: the S3-compatible publish target (hl_pub_s3_ops, target.h).
 *
 * It owns the object layout in the bucket, the uploads (libcurl multi with
 * curl's own SigV4 signing), what the target remembers of the bucket
 * between publishes, and the retry policy.  The URL is parsed by s3url.c;
 * the tree, its order and its cache classes come from tree.h.
 *
 * Key layout
 * ----------
 * Each file of the tree is one object whose key is the target's PREFIX
 * followed by the file's path; nothing else is written.  For
 *
 *   s3://helios/pub?endpoint=http://127.0.0.1:9000&region=us-east-1
 *
 *   tree path                    object key                   headers
 *   objects/9f86d0...0a08        pub/objects/9f86d0...0a08    I, type of
 *                                                             the copy
 *   objects/9f86d0...0a08.gz     pub/objects/9f86d0...0a08.gz I, G
 *   changes/41-42.json           pub/changes/41-42.json       I, J
 *   lists/watch-keyword.txt      pub/lists/watch-keyword.txt  S, text/plain
 *   lists/watch-keyword.txt.gz   pub/lists/watch-keyword.txt.gz  S, G
 *   manifest.json                pub/manifest.json            R, J
 *   manifest.json.sig            pub/manifest.json.sig        R
 *
 *   I, S, R: Cache-Control of the immutable, short and revalidate classes
 *   (hl_tree_cache_control); J: application/json; G: application/gzip.
 *
 * A key goes into the request path percent-encoded as SigV4 wants it:
 * A-Z a-z 0-9 - . _ ~ and '/' stay, every other byte becomes %XX, so the
 * key "pub/a+b:c=d é.txt" is requested as
 * /helios/pub/a%2Bb%3Ac%3Dd%20%C3%A9.txt (path style) or
 * /pub/a%2Bb%3Ac%3Dd%20%C3%A9.txt on helios.s3.REGION.amazonaws.com
 * (virtual style).  curl 7.88 signs the path as given, and S3 computes
 * the canonical path from the same encoding, so the two agree.
 *
 * The .gz files
 * -------------
 * A .gz file is stored and served as what it is: Content-Type
 * application/gzip and no Content-Encoding.  Every client (curl, Python
 * requests, browsers, CDNs) then receives the stored bytes unchanged,
 * whose sha256 and ETag are the ones the manifest names; with
 * Content-Encoding: gzip some clients would silently inflate the body and
 * the hash would no longer match, and CDNs would mix the two
 * representations of one URL.  A client that wants a smaller download asks
 * for the .gz file by name and inflates it itself.
 *
 * One publish
 * -----------
 * 1. On the first publish only, the target lists the prefix with
 *    ListObjectsV2 (1000 keys a request, so ceil(keys / 1000) requests)
 *    and remembers every key and its ETag.  The alternative, a HEAD for
 *    each immutable file of the tree, would cost one request per object
 *    on every restart, and could not tell which mutable files are already
 *    current.  Later publishes trust this memory, updated by each
 *    successful PUT: an object deleted behind the daemon's back is only
 *    noticed after a restart.
 * 2. Immutable files the bucket lacks and that copy no mutable file of
 *    the tree (change segments, the manifest's copy) are uploaded, at
 *    most S3_MAX_FLIGHT at once.
 * 3. Mutable (short) files whose MD5 differs from the ETag the bucket
 *    holds (as listed, or as this target last wrote) are uploaded, at
 *    most S3_MAX_FLIGHT at once.
 * 3b. The objects/<sha256> copies of mutable files that the bucket lacks
 *    are server-side copies (PUT with x-amz-copy-source and
 *    x-amz-metadata-directive: REPLACE, their own headers, no body) of
 *    the mutable file now in place, so each new content's bytes go up
 *    once.  The copy goes to a new key: a store need not recompute the
 *    ETag of a key it overwrites by copy (s3rver 5 does not), and an
 *    object key is never overwritten.  Keys with bytes outside
 *    A-Z a-z 0-9 - . _ ~ / are uploaded instead, as stores decode
 *    x-amz-copy-source differently; a 404 on a copy (the source removed
 *    behind our back) falls back to an upload too.  A 200 whose body is
 *    not a CopyObjectResult is an error (S3 can fail a copy after 200).
 *    A reader of the old manifest still finds its objects, and the new
 *    manifest goes up only after its objects.
 * 4. manifest.json, then manifest.json.sig, one at a time.  The manifest
 *    is written with If-Match: the ETag of the manifest this target last
 *    saw (listed or written), so on a store that honours conditional
 *    writes (AWS S3 since 2024) a manifest written by someone else makes
 *    the PUT fail with 412: HL_ECONFLICT, and the target stops.  A store
 *    that ignores If-Match (s3rver 5 does: it honours only If-None-Match
 *    on GET) gives an unconditional write, which cannot be told apart by
 *    the client; a store that refuses it with 501 NotImplemented is
 *    noticed, and the target writes without it from then on.
 * Before its first publish the publisher reads PREFIXmanifest.json back
 * with one signed GET (s3_manifest; 404 means none yet), so that the
 * chain of "previous" hashes goes on across restarts.
 * A phase starts only when the previous one has completed, so if a
 * publish fails the manifest was not replaced and the old one names only
 * objects that exist.
 *
 * Every PUT carries Content-Type, Cache-Control, Content-MD5 (the store
 * checks the body) and x-amz-content-sha256 (curl 7.88 does not add it;
 * it signs it with the other headers), and x-amz-security-token with
 * session credentials.
 *
 * Faults
 * ------
 * Connection failures, timeouts, 5xx (503 SlowDown included), 408, 429
 * and RequestTimeout are retried with exponential backoff and jitter:
 * after try t the wait is d/2 + random(d/2) with d = backoff_ms *
 * 2^(t-1), capped at 20 s, and a request is tried at most `tries` times
 * in one publish; then HL_EIO.
 * 401 and 403 (SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied,
 * ...) are HL_EAUTH at once, with no retry.  Other 4xx are HL_EIO without
 * retry.  Messages carry the HTTP status and the S3 error Code.
 *
 * Timeouts: connecting may take timeout_ms; a transfer that moves no byte
 * for timeout_ms (rounded up to seconds; curl averages the speed over a
 * few seconds, so a stall after a burst is seen about 5 s later) is cut;
 * and a whole request must end within 3 * timeout_ms plus its body's
 * length at S3_MIN_RATE (16 kB/s), which also bounds a server that
 * accepts the body and never answers.
 *
 * Credentials
 * -----------
 * If HELIOS_S3_CREDENTIALS names a file, it is read, and refused unless
 * it is a regular file owned by the user with no group or other
 * permission (0600 or stricter).  It holds key=value lines:
 *
 *     access_key_id=AKIA...
 *     secret_access_key=...
 *     session_token=...          (optional)
 *
 * (the aws_ prefixed names of ~/.aws/credentials are accepted too; '#'
 * and '[' lines are ignored).  Otherwise AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are used.  They are read at
 * open, never logged, and wiped at close.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "pub_s3.h"
#include "s3url.h"
#include "target.h"
#include "tree.h"

#define S3_MAX_FLIGHT	8		/* transfers in flight */
#define S3_MAX_RESP	(32 << 20)	/* bytes of a response body kept */
#define S3_MAX_BACKOFF	20000		/* ms */
#define S3_MAX_CREDS	65536		/* bytes of credentials file */
#define S3_MIN_RATE	16		/* bytes/ms a body must move at */
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A set of keys, each with the MD5 hex of what the bucket holds. */
struct held_ent {
	char	*key;
	char	 md5[33];	/* "" when unknown */
};

struct held {
	struct held_ent	*e;
	size_t		 cap;	/* a power of two, or 0 */
	size_t		 n;
};

struct s3 {
	struct hl_s3url		 u;
	char			*key_id;
	char			*secret;
	char			*token;
	char			 sigv4[96];
	CURLM			*multi;
	struct held		 held;	/* path (no prefix) -> md5 */
	int			 listed;
	char			 manifest_etag[80];
	int			 no_if_match;
	struct hl_s3_stats	 st;
};

enum { X_WAIT, X_RUN, X_DONE };
enum { REQ_PUT, REQ_LIST, REQ_GET };

struct xfer {
	int			 req;
	const struct hl_file	*f;	/* REQ_PUT */
	const struct hl_file	*src;	/* REQ_PUT by copy: f's bytes, held */
	char			*key;	/* object key (PUT, GET) */
	char			*url;
	struct curl_slist	*hdrs;
	CURL			*h;
	int			 state;
	int			 tries;
	int64_t			 due;	/* ms, monotonic clock */
	struct hl_buf		 resp;
	int			 resp_over;
	size_t			 max;	/* REQ_GET: body bound, 0: S3_MAX_RESP */
	int			 more;	/* list page IsTruncated */
	char			 etag[80];
	uint64_t		 off;	/* a spooled PUT: bytes sent */
	struct hl_err		 rerr;	/* ... and why reading it failed */
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t	 n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ---- the set of held keys ---- */

static uint64_t
hash_str(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct held_ent *
held_find(const struct held *t, const char *key)
{
	size_t	 i;

	if (t->cap == 0)
		return NULL;
	for (i = hash_str(key) & (t->cap - 1); t->e[i].key != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

static int
held_grow(struct held *t)
{
	struct held_ent	*ne;
	size_t		 ncap = t->cap ? t->cap * 2 : 256, i, j;

	if ((ne = calloc(ncap, sizeof(*ne))) == NULL)
		return HL_ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->e[i].key == NULL)
			continue;
		for (j = hash_str(t->e[i].key) & (ncap - 1); ne[j].key != NULL;
		    j = (j + 1) & (ncap - 1))
			;
		ne[j] = t->e[i];
	}
	free(t->e);
	t->e = ne;
	t->cap = ncap;
	return 0;
}

/* Records that the bucket holds key with the given MD5 ("" if unknown). */
static int
held_set(struct held *t, const char *key, const char *md5)
{
	struct held_ent	*e;
	size_t		 i;

	if ((e = held_find(t, key)) == NULL) {
		if ((t->n + 1) * 2 > t->cap && held_grow(t) != 0)
			return HL_ENOMEM;
		for (i = hash_str(key) & (t->cap - 1); t->e[i].key != NULL;
		    i = (i + 1) & (t->cap - 1))
			;
		if ((t->e[i].key = strdup(key)) == NULL)
			return HL_ENOMEM;
		t->n++;
		e = &t->e[i];
	}
	snprintf(e->md5, sizeof(e->md5), "%s", md5);
	return 0;
}

static void
held_free(struct held *t)
{
	size_t	 i;

	for (i = 0; i < t->cap; i++)
		free(t->e[i].key);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* ---- small text helpers ---- */

/* Decodes the five XML entities and &#N; in place. */
static void
xml_unescape(char *s)
{
	static const struct {
		const char	*ent;
		char		 c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	char		*r, *w;
	size_t		 i, n;
	unsigned long	 v;
	char		*end;

	for (r = w = s; *r != '\0';) {
		if (*r != '&') {
			*w++ = *r++;
			continue;
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			n = strlen(ents[i].ent);
			if (strncmp(r, ents[i].ent, n) == 0)
				break;
		}
		if (i < sizeof(ents) / sizeof(ents[0])) {
			*w++ = ents[i].c;
			r += n;
			continue;
		}
		if (r[1] == '#') {
			v = r[2] == 'x' ? strtoul(r + 3, &end, 16) :
			    strtoul(r + 2, &end, 10);
			if (*end == ';' && v > 0 && v < 0x80) {
				*w++ = (char)v;
				r = end + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

/*
 * The text of the first <tag>...</tag> in [p, end), unescaped, into a
 * malloc'ed string; NULL when absent or out of memory.
 */
static char *
xml_tag(const char *p, const char *end, const char *tag)
{
	char		 open[64], close[64];
	const char	*a, *b;
	char		*s;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((a = memmem(p, (size_t)(end - p), open, strlen(open))) == NULL)
		return NULL;
	a += strlen(open);
	if ((b = memmem(a, (size_t)(end - a), close, strlen(close))) == NULL)
		return NULL;
	if ((s = strndup(a, (size_t)(b - a))) != NULL)
		xml_unescape(s);
	return s;
}

/* The S3 error Code of a response body, or "" (into a small buffer). */
static void
s3_code(char *out, size_t outsz, const struct hl_buf *b)
{
	char	*c = NULL;
	size_t	 i;

	out[0] = '\0';
	if (b->data != NULL)
		c = xml_tag(b->data, b->data + b->len, "Code");
	if (c == NULL)
		return;
	/* Only a token: a hostile body must not put garbage in logs. */
	for (i = 0; c[i] != '\0' && i + 1 < outsz; i++) {
		if (!((c[i] >= 'A' && c[i] <= 'Z') ||
		    (c[i] >= 'a' && c[i] <= 'z') ||
		    (c[i] >= '0' && c[i] <= '9') || c[i] == '.'))
			break;
		out[i] = c[i];
	}
	out[i] = '\0';
	free(c);
}

static int
md5_base64(char out[25], const char *hex)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		 d[18] = { 0 };
	unsigned int		 v;
	size_t			 i;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		d[i] = (unsigned char)v;
	}
	for (i = 0; i < 6; i++) {
		v = (unsigned)d[3 * i] << 16 | (unsigned)d[3 * i + 1] << 8 |
		    d[3 * i + 2];
		out[4 * i] = b64[v >> 18 & 63];
		out[4 * i + 1] = b64[v >> 12 & 63];
		out[4 * i + 2] = b64[v >> 6 & 63];
		out[4 * i + 3] = b64[v & 63];
	}
	out[22] = out[23] = '=';
	out[24] = '\0';
	return 0;
}

static int
is_md5_hex(const char *s, size_t n)
{
	size_t	 i;

	if (n != 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- credentials ---- */

static int
creds_ok(const char *s, int allow_colon)
{
	if (s == NULL || *s == '\0' || strlen(s) > 4096)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f ||
		    (*s == ':' && !allow_colon))
			return 0;
	return 1;
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static int
creds_file(struct s3 *s, const char *path, struct hl_err *err)
{
	struct stat	 sb;
	char		 buf[S3_MAX_CREDS + 1];
	char		*line, *next, *eq, *k, *v, **dst;
	ssize_t		 r;
	size_t		 len = 0;
	int		 fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return hl_err_set(err, HL_EAUTH, "s3 credentials %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		rc = hl_err_set(err, HL_EAUTH,
		    "s3 credentials %s: not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
		rc = hl_err_set(err, HL_EAUTH, "s3 credentials %s: mode %03o "
		    "or owner refused: must be the user's and 0600 or "
		    "stricter", path, (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	while (len < S3_MAX_CREDS &&
	    (r = read(fd, buf + len, S3_MAX_CREDS - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			rc = hl_err_set(err, HL_EAUTH,
			    "s3 credentials %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		k = line + strspn(line, " \t");
		if (*k == '\0' || *k == '#' || *k == '[')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			continue;
		v = eq + 1 + strspn(eq + 1, " \t");
		while (eq > k && (eq[-1] == ' ' || eq[-1] == '\t'))
			eq--;
		*eq = '\0';
		v[strcspn(v, " \t")] = '\0';
		if (strncmp(k, "aws_", 4) == 0)
			k += 4;
		if (strcmp(k, "access_key_id") == 0)
			dst = &s->key_id;
		else if (strcmp(k, "secret_access_key") == 0)
			dst = &s->secret;
		else if (strcmp(k, "session_token") == 0)
			dst = &s->token;
		else
			continue;
		wipe_free(*dst);
		if ((*dst = strdup(v)) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
			goto out;
		}
	}
	if (s->key_id == NULL || s->secret == NULL)
		rc = hl_err_set(err, HL_EAUTH, "s3 credentials %s: needs "
		    "access_key_id and secret_access_key", path);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int
creds_load(struct s3 *s, struct hl_err *err)
{
	const char	*file, *id, *sec, *tok;
	int		 rc;

	file = getenv("HELIOS_S3_CREDENTIALS");
	if (file != NULL && *file != '\0') {
		if ((rc = creds_file(s, file, err)) != 0)
			return rc;
	} else {
		id = getenv("AWS_ACCESS_KEY_ID");
		sec = getenv("AWS_SECRET_ACCESS_KEY");
		tok = getenv("AWS_SESSION_TOKEN");
		if (id == NULL || *id == '\0' || sec == NULL || *sec == '\0')
			return hl_err_set(err, HL_EAUTH, "s3: no credentials "
			    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
			    "HELIOS_S3_CREDENTIALS)");
		if ((s->key_id = strdup(id)) == NULL ||
		    (s->secret = strdup(sec)) == NULL ||
		    (tok != NULL && *tok != '\0' &&
		    (s->token = strdup(tok)) == NULL))
			return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
	}
	if (!creds_ok(s->key_id, 0) || !creds_ok(s->secret, 1) ||
	    (s->token != NULL && !creds_ok(s->token, 1)))
		return hl_err_set(err, HL_EAUTH,
		    "s3: credentials hold a forbidden character");
	return 0;
}

/* ---- transfers ---- */

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 lim = x->max > 0 ? x->max : S3_MAX_RESP;

	if (x->resp.len + n > lim || hl_buf_put(&x->resp, p, n) != 0) {
		x->resp_over = 1;
		if (x->max > 0)
			return 0;	/* a bounded GET stops reading */
	}
	(void)sz;
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = sz * n, a, b;

	if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
		for (a = 5; a < len && (p[a] == ' ' || p[a] == '\t'); a++)
			;
		for (b = len; b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' ||
		    p[b - 1] == ' '); b--)
			;
		if (b - a < sizeof(x->etag))
			snprintf(x->etag, sizeof(x->etag), "%.*s",
			    (int)(b - a), p + a);
	}
	return len;
}

static void
xfer_clear(struct s3 *s, struct xfer *x)
{
	if (x->h != NULL) {
		if (x->state == X_RUN)
			curl_multi_remove_handle(s->multi, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->hdrs);
	free(x->key);
	free(x->url);
	hl_buf_free(&x->resp);
	memset(x, 0, sizeof(*x));
}

static int
add_header(struct curl_slist **l, const char *fmt, const char *v)
{
	char			 line[4200];
	struct curl_slist	*n;

	if (snprintf(line, sizeof(line), fmt, v) >= (int)sizeof(line))
		return HL_EINVAL;
	if ((n = curl_slist_append(*l, line)) == NULL)
		return HL_ENOMEM;
	*l = n;
	return 0;
}

/* x-amz-copy-source: /BUCKET/PREFIXpath of src, percent-encoded. */
static int
copy_source(struct curl_slist **l, const struct s3 *s,
    const struct hl_file *src)
{
	struct hl_buf	 b = HL_BUF_INIT;
	int		 rc;

	if (hl_buf_puts(&b, "x-amz-copy-source: /") != 0 ||
	    hl_s3url_encode(&b, s->u.bucket, 0) != 0 ||
	    hl_buf_putc(&b, '/') != 0 ||
	    hl_s3url_encode(&b, s->u.prefix, 1) != 0 ||
	    hl_s3url_encode(&b, src->path, 1) != 0)
		rc = HL_ENOMEM;
	else
		rc = add_header(l, "%s", b.data);
	hl_buf_free(&b);
	return rc;
}

/* Builds the headers of x (again, when If-Match is dropped). */
static int
xfer_headers(struct s3 *s, struct xfer *x)
{
	const struct hl_file	*f = x->f;
	const char		*ctype;
	char			 md5[25];
	int			 rc = 0;

	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	if (x->req != REQ_PUT)
		rc = add_header(&x->hdrs, "x-amz-content-sha256: %s",
		    S3_EMPTY_SHA256);
	else {
		if (ends_with(f->path, ".gz"))
			ctype = "application/gzip";
		else if (f->content_type != NULL)
			ctype = f->content_type;
		else
			ctype = hl_tree_content_type(f->path);
		if (ctype == NULL)
			ctype = "application/octet-stream";
		rc = add_header(&x->hdrs, "Content-Type: %s", ctype);
		if (rc == 0 && hl_tree_cache_control(f->cache) != NULL)
			rc = add_header(&x->hdrs, "Cache-Control: %s",
			    hl_tree_cache_control(f->cache));
		if (x->src != NULL) {
			/* A copy: no body, the headers given here. */
			if (rc == 0)
				rc = copy_source(&x->hdrs, s, x->src);
			if (rc == 0)
				rc = add_header(&x->hdrs, "%s",
				    "x-amz-metadata-directive: REPLACE");
			if (rc == 0)
				rc = add_header(&x->hdrs,
				    "x-amz-content-sha256: %s",
				    S3_EMPTY_SHA256);
		} else {
			if (rc == 0 && md5_base64(md5, f->md5) == 0)
				rc = add_header(&x->hdrs, "Content-MD5: %s",
				    md5);
			if (rc == 0)
				rc = add_header(&x->hdrs,
				    "x-amz-content-sha256: %s", f->sha256);
		}
		if (rc == 0 && strcmp(f->path, "manifest.json") == 0 &&
		    s->manifest_etag[0] != '\0' && !s->no_if_match)
			rc = add_header(&x->hdrs, "If-Match: %s",
			    s->manifest_etag);
	}
	if (rc == 0 && s->token != NULL)
		rc = add_header(&x->hdrs, "x-amz-security-token: %s",
		    s->token);
	return rc;
}

/*
 * The body of a PUT of a spooled file (tree.h), read in pieces as curl
 * sends it: the file is never whole in memory.
 */
static size_t
on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t got = 0;

	if (hl_file_read(x->f, x->off, buf, size * nitems, &got,
	    &x->rerr) != 0)
		return CURL_READFUNC_ABORT;
	x->off += got;
	return got;
}

/* curl rewinds the body to send it again (a redirect, a retry). */
static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > x->f->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->off = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int
xfer_start(struct s3 *s, struct xfer *x, struct hl_err *err)
{
	CURL	*h;
	long	 stall;

	if (x->h == NULL) {
		if ((x->h = curl_easy_init()) == NULL)
			return hl_err_set(err, HL_ENOMEM,
			    "s3: curl_easy_init failed");
		h = x->h;
		stall = (s->u.timeout_ms + 999) / 1000;
		curl_easy_setopt(h, CURLOPT_URL, x->url);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "helios");
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, s->key_id);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)s->u.timeout_ms);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3L * s->u.timeout_ms +
		    (long)((x->req == REQ_PUT && x->src == NULL ?
		    x->f->len : 0) /
		    S3_MIN_RATE));
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(h, CURLOPT_PRIVATE, x);
		if (x->req == REQ_PUT) {
			/*
			 * A PUT with the body as POSTFIELDS: curl sends it
			 * from memory and asks for 100-continue only above
			 * 1 MB ("Expect:" to turn it off would be signed).
			 */
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
			if (x->src == NULL && x->f->spool != NULL) {
				/* Spooled: streamed from its file. */
				curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
				curl_easy_setopt(h, CURLOPT_READFUNCTION,
				    on_read);
				curl_easy_setopt(h, CURLOPT_READDATA, x);
				curl_easy_setopt(h, CURLOPT_SEEKFUNCTION,
				    on_seek);
				curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
				curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				    (curl_off_t)x->f->len);
			} else {
				curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				    x->f->len > 0 && x->src == NULL ?
				    (const char *)x->f->data : "");
				curl_easy_setopt(h,
				    CURLOPT_POSTFIELDSIZE_LARGE,
				    (curl_off_t)(x->src == NULL ?
				    x->f->len : 0));
			}
		} else
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	hl_buf_reset(&x->resp);
	x->resp_over = 0;
	x->etag[0] = '\0';
	if (curl_multi_add_handle(s->multi, x->h) != CURLM_OK)
		return hl_err_set(err, HL_EIO, "s3: curl_multi_add_handle");
	x->state = X_RUN;
	x->off = 0;
	x->tries++;
	s->st.requests++;
	if (x->req == REQ_PUT && x->src != NULL)
		s->st.copies++;
	if (x->req == REQ_PUT)
		s->st.puts++;
	else if (x->req == REQ_LIST)
		s->st.lists++;
	else
		s->st.gets++;
	if (x->tries > 1)
		s->st.retries++;
	return 0;
}

/* Errors that another try cannot mend. */
static int
curl_permanent(CURLcode res)
{
	switch (res) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return 1;
	default:
		return 0;
	}
}

static int
backoff_ms(const struct s3 *s, int tries)
{
	int64_t	 d = s->u.backoff_ms;
	int	 i;

	for (i = 1; i < tries && d < S3_MAX_BACKOFF; i++)
		d *= 2;
	if (d > S3_MAX_BACKOFF)
		d = S3_MAX_BACKOFF;
	return (int)(d / 2 + arc4random_uniform((uint32_t)(d / 2 + 1)));
}

/*
 * Settles a finished transfer: X_DONE on success, X_WAIT with a due time
 * for a retry, or an error (HL_EAUTH, HL_ECONFLICT, HL_EIO).
 */
static int
xfer_finish(struct s3 *s, struct xfer *x, CURLcode res, struct hl_err *err)
{
	const char	*op = x->req == REQ_PUT ? "put" :
			    x->req == REQ_GET ? "get" : "list";
	const char	*what = x->req == REQ_LIST ? s->u.prefix : x->key;
	char		 desc[128], code[64];
	curl_off_t	 up = 0;
	long		 status = 0;
	int		 wait;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(x->h, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK &&
	    up > 0)
		s->st.bytes_up += (uint64_t)up;
	curl_multi_remove_handle(s->multi, x->h);
	x->state = X_DONE;

	if (x->resp_over && x->max > 0)
		return hl_err_set(err, HL_ETOOBIG, "s3 get %s: over %zu bytes",
		    what, x->max);
	if (res == CURLE_OK && status >= 200 && status < 300) {
		if (x->resp_over)
			return hl_err_set(err, HL_EIO, "s3 %s %s: response "
			    "over %d bytes", op, what, S3_MAX_RESP);
		return 0;
	}
	code[0] = '\0';
	if (res != CURLE_OK)
		snprintf(desc, sizeof(desc), "%s", curl_easy_strerror(res));
	else {
		s3_code(code, sizeof(code), &x->resp);
		snprintf(desc, sizeof(desc), "HTTP %ld%s%s", status,
		    code[0] ? " " : "", code);
	}

	if (res == CURLE_OK && (status == 401 || status == 403))
		return hl_err_set(err, HL_EAUTH, "s3 %s %s: %s", op, what,
		    desc);
	if (res == CURLE_OK && status == 404 && x->req == REQ_GET)
		return hl_err_set(err, HL_ENOTFOUND, "s3 get %s: %s", what,
		    desc);
	if (res == CURLE_OK && status == 404 && x->req == REQ_PUT &&
	    x->src != NULL) {
		/* The object was removed behind our back: send the bytes. */
		hl_log_warnx("s3 %s: copy of %s for %s: %s; uploading it",
		    s->u.name, x->src->path, x->key, desc);
		x->src = NULL;
		curl_easy_cleanup(x->h);
		x->h = NULL;
		if (xfer_headers(s, x) != 0)
			return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
		x->state = X_WAIT;
		x->due = now_ms();
		x->tries--;
		return 0;
	}
	if (res == CURLE_OK && status == 412)
		return hl_err_set(err, HL_ECONFLICT, "s3 %s %s: %s: the "
		    "manifest was replaced by another writer", op, what, desc);
	if (res == CURLE_OK && status == 501 && x->req == REQ_PUT &&
	    !s->no_if_match && strcmp(x->f->path, "manifest.json") == 0 &&
	    s->manifest_etag[0] != '\0') {
		hl_log_warnx("s3 %s: the store refuses If-Match (%s); "
		    "manifest writes are unconditional from now on",
		    s->u.name, desc);
		s->no_if_match = 1;
		if (xfer_headers(s, x) != 0)
			return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
		x->state = X_WAIT;
		x->due = now_ms();
		x->tries--;
		return 0;
	}
	if (res != CURLE_OK ? curl_permanent(res) :
	    !(status >= 500 || status == 408 || status == 429 ||
	    strcmp(code, "RequestTimeout") == 0 ||
	    strcmp(code, "SlowDown") == 0))
		return hl_err_set(err, HL_EIO, "s3 %s %s: %s", op, what, desc);
	if (x->tries >= s->u.tries)
		return hl_err_set(err, HL_EIO, "s3 %s %s: %s (%d tries)", op,
		    what, desc, x->tries);
	wait = backoff_ms(s, x->tries);
	hl_log_warnx("s3 %s: %s %s: %s; try %d of %d in %d ms", s->u.name, op,
	    what, desc, x->tries + 1, s->u.tries, wait);
	x->state = X_WAIT;
	x->due = now_ms() + wait;
	return 0;
}

/*
 * Runs the transfers xs[0..n) with at most S3_MAX_FLIGHT in flight, each
 * retried as xfer_finish decides; ok() is called for each success.  On
 * the first error the transfers in flight are abandoned.
 */
static int
run(struct s3 *s, struct xfer *xs, size_t n,
    int (*ok)(struct s3 *, struct xfer *, struct hl_err *),
    struct hl_err *err)
{
	struct CURLMsg	*m;
	struct xfer	*x;
	char		*priv;
	size_t		 i, lo = 0, done = 0, flying = 0;
	int64_t		 now, timeout;
	int		 rc = 0, still, left;

	while (done < n) {
		now = now_ms();
		for (i = lo; i < n && flying < S3_MAX_FLIGHT; i++) {
			if (xs[i].state != X_WAIT || xs[i].due > now)
				continue;
			if ((rc = xfer_start(s, &xs[i], err)) != 0)
				goto out;
			flying++;
		}
		if (curl_multi_perform(s->multi, &still) != CURLM_OK) {
			rc = hl_err_set(err, HL_EIO, "s3: curl_multi_perform");
			goto out;
		}
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			x = (struct xfer *)(void *)priv;
			flying--;
			if ((rc = xfer_finish(s, x, m->data.result, err)) != 0)
				goto out;
			if (x->state == X_DONE) {
				done++;
				if ((rc = ok(s, x, err)) != 0)
					goto out;
			}
		}
		while (lo < n && xs[lo].state == X_DONE)
			lo++;
		if (done == n)
			break;
		timeout = 1000;
		now = now_ms();
		for (i = lo; i < n && flying < S3_MAX_FLIGHT; i++)
			if (xs[i].state == X_WAIT && xs[i].due - now < timeout)
				timeout = xs[i].due > now ? xs[i].due - now : 0;
		if (timeout > 0 && curl_multi_poll(s->multi, NULL, 0,
		    (int)timeout, NULL) != CURLM_OK) {
			rc = hl_err_set(err, HL_EIO, "s3: curl_multi_poll");
			goto out;
		}
	}
out:
	for (i = 0; i < n; i++)
		if (xs[i].state == X_RUN) {
			curl_multi_remove_handle(s->multi, xs[i].h);
			xs[i].state = X_DONE;
		}
	return rc;
}

/* ---- listing ---- */

static int
list_ok(struct s3 *s, struct xfer *x, struct hl_err *err)
{
	const char	*p, *end, *c, *ce;
	char		*key = NULL, *etag = NULL, *trunc = NULL;
	const char	*md5;
	size_t		 plen = strlen(s->u.prefix), n;
	int		 rc = 0;

	if (x->resp.data == NULL ||
	    memmem(x->resp.data, x->resp.len, "<ListBucketResult", 17) == NULL)
		return hl_err_set(err, HL_EIO, "s3 list %s: not a "
		    "ListBucketResult", s->u.prefix);
	p = x->resp.data;
	end = p + x->resp.len;
	while ((c = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL) {
		if ((ce = memmem(c, (size_t)(end - c), "</Contents>", 11)) ==
		    NULL)
			break;
		key = xml_tag(c, ce, "Key");
		etag = xml_tag(c, ce, "ETag");
		if (key != NULL && strncmp(key, s->u.prefix, plen) == 0) {
			md5 = "";
			n = etag != NULL ? strlen(etag) : 0;
			if (n == 34 && etag[0] == '"' && etag[33] == '"' &&
			    is_md5_hex(etag + 1, 32)) {
				etag[33] = '\0';
				md5 = etag + 1;
			}
			if (held_set(&s->held, key + plen, md5) != 0) {
				rc = hl_err_set(err, HL_ENOMEM,
				    "s3: out of memory");
				goto out;
			}
			if (strcmp(key + plen, "manifest.json") == 0 &&
			    *md5 != '\0')
				snprintf(s->manifest_etag,
				    sizeof(s->manifest_etag), "\"%s\"", md5);
		}
		free(key);
		free(etag);
		key = etag = NULL;
		p = ce + 11;
	}
	/* list_all reads the continuation token from the body. */
	trunc = xml_tag(x->resp.data, end, "IsTruncated");
	x->more = trunc != NULL && strcmp(trunc, "true") == 0;
out:
	free(trunc);
	free(key);
	free(etag);
	return rc;
}

/*
 * Lists PREFIX with ListObjectsV2 into s->held.  Parameters are sent in
 * sorted order and encoded, as SigV4's canonical query string wants them
 * (curl 7.88 signs the query as given).
 */
static int
list_all(struct s3 *s, struct hl_err *err)
{
	struct hl_buf	 u = HL_BUF_INIT;
	struct xfer	 x;
	char		*token = NULL;
	int		 rc = 0, pages = 0;

	memset(&x, 0, sizeof(x));
	for (;;) {
		hl_buf_reset(&u);
		if (hl_s3url_bucket_url(&u, &s->u) != 0 ||
		    hl_buf_putc(&u, '?') != 0 ||
		    (token != NULL &&
		    (hl_buf_puts(&u, "continuation-token=") != 0 ||
		    hl_s3url_encode(&u, token, 0) != 0 ||
		    hl_buf_putc(&u, '&') != 0)) ||
		    hl_buf_puts(&u, "list-type=2") != 0 ||
		    (s->u.prefix[0] != '\0' &&
		    (hl_buf_puts(&u, "&prefix=") != 0 ||
		    hl_s3url_encode(&u, s->u.prefix, 0) != 0))) {
			rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
			goto out;
		}
		xfer_clear(s, &x);
		x.req = REQ_LIST;
		if ((x.url = strdup(u.data)) == NULL ||
		    xfer_headers(s, &x) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
			goto out;
		}
		if ((rc = run(s, &x, 1, list_ok, err)) != 0)
			goto out;
		if (!x.more)
			break;
		free(token);
		token = xml_tag(x.resp.data, x.resp.data + x.resp.len,
		    "NextContinuationToken");
		if (token == NULL || *token == '\0' || ++pages > 100000) {
			rc = hl_err_set(err, HL_EIO, "s3 list %s: truncated "
			    "without a continuation token", s->u.prefix);
			goto out;
		}
	}
	s->listed = 1;
out:
	xfer_clear(s, &x);
	hl_buf_free(&u);
	free(token);
	return rc;
}

/* ---- publishing ---- */

static int
put_ok(struct s3 *s, struct xfer *x, struct hl_err *err)
{
	/* A copy can fail after its 200 OK: the body then holds <Error>. */
	if (x->src != NULL && (x->resp.data == NULL || memmem(x->resp.data,
	    x->resp.len, "<CopyObjectResult", 17) == NULL)) {
		char code[64];

		s3_code(code, sizeof(code), &x->resp);
		return hl_err_set(err, HL_EIO, "s3 copy %s to %s: %s",
		    x->src->path, x->key, code[0] ? code : "no result");
	}
	s->st.uploaded++;
	if (held_set(&s->held, x->f->path, x->f->md5) != 0)
		return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
	if (strcmp(x->f->path, "manifest.json") == 0) {
		if (x->etag[0] != '\0')
			snprintf(s->manifest_etag, sizeof(s->manifest_etag),
			    "%s", x->etag);
		else
			snprintf(s->manifest_etag, sizeof(s->manifest_etag),
			    "\"%s\"", x->f->md5);
	}
	return 0;
}

static int
get_ok(struct s3 *s, struct xfer *x, struct hl_err *err)
{
	(void)s;
	(void)x;
	(void)err;
	return 0;
}

/* Does the bucket hold f as it is? */
static int
is_held(const struct s3 *s, const struct hl_file *f)
{
	const struct held_ent	*e = held_find(&s->held, f->path);

	if (e == NULL)
		return 0;
	/*
	 * An object is named by content: held when it is there, unless its
	 * ETag (the MD5 of what the bucket holds) names other bytes, such as
	 * a gzip an older build compressed otherwise (listseg.h).  A file
	 * made without an MD5 (HL_BLOB_NO_MD5) is held by its key alone.
	 */
	if (f->cache == HL_CACHE_IMMUTABLE)
		return e->md5[0] == '\0' || f->md5[0] == '\0' ||
		    strcmp(e->md5, f->md5) == 0;
	return e->md5[0] != '\0' && strcmp(e->md5, f->md5) == 0;
}

/*
 * Is key sent the same encoded or not (A-Z a-z 0-9 - . _ ~ /)?  Stores
 * differ in how they decode x-amz-copy-source (S3 fully, s3rver with
 * JavaScript's decodeURI, which keeps %2B and friends), so only such keys
 * are copied from.
 */
static int
plain_key(const char *k)
{
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		    (*k >= '0' && *k <= '9') || strchr("-._~/", *k) != NULL))
			return 0;
	return 1;
}

/*
 * The mutable file of tree with the bytes of the immutable f (f is its
 * objects/<sha256> copy), or NULL.  With held, only one the bucket holds
 * as it is, under a key that can be copied from.
 */
static const struct hl_file *
short_twin(const struct s3 *s, const struct hl_tree *tree,
    const struct hl_file *f, int held)
{
	const struct hl_file	*g;
	size_t			 i;

	for (i = 0; i < tree->n; i++) {
		g = &tree->files[i];
		if (g->cache == HL_CACHE_SHORT && g->len == f->len &&
		    strcmp(g->sha256, f->sha256) == 0 &&
		    (!held || (is_held(s, g) && plain_key(s->u.prefix) &&
		    plain_key(g->path))))
			return g;
	}
	return NULL;
}

/*
 * Uploads the files of class cls that the bucket lacks, at most
 * S3_MAX_FLIGHT at once, or one at a time when one_by_one.  For the
 * immutable class, twins says which: 0 those with no mutable twin in the
 * tree, 1 those with one, which are server-side copies of it (sent once
 * the twin is up).
 */
static int
put_class(struct s3 *s, const struct hl_tree *tree, int cls, int twins,
    int one_by_one, struct hl_err *err)
{
	struct hl_buf	 u = HL_BUF_INIT;
	struct xfer	*xs = NULL;
	size_t		 i, n = 0, j;
	int		 rc = 0;

	if ((xs = calloc(tree->n + 1, sizeof(*xs))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
	for (i = 0; i < tree->n; i++) {
		const struct hl_file *f = &tree->files[i];

		if (f->cache != cls || (cls == HL_CACHE_IMMUTABLE &&
		    twins != (short_twin(s, tree, f, 0) != NULL)))
			continue;
		if (is_held(s, f)) {
			s->st.skipped++;
			continue;
		}
		hl_buf_reset(&u);
		xs[n].req = REQ_PUT;
		xs[n].f = f;
		if (cls == HL_CACHE_IMMUTABLE)
			xs[n].src = short_twin(s, tree, f, 1);
		if (hl_buf_printf(&u, "%s%s", s->u.prefix, f->path) != 0 ||
		    (xs[n].key = hl_buf_detach(&u, NULL)) == NULL ||
		    hl_s3url_object_url(&u, &s->u, xs[n].key) != 0 ||
		    (xs[n].url = hl_buf_detach(&u, NULL)) == NULL ||
		    xfer_headers(s, &xs[n]) != 0) {
			n++;
			rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
			goto out;
		}
		n++;
	}
	if (one_by_one) {
		for (j = 0; j < n && rc == 0; j++)
			rc = run(s, &xs[j], 1, put_ok, err);
	} else
		rc = run(s, xs, n, put_ok, err);
out:
	for (i = 0; i < n; i++)
		xfer_clear(s, &xs[i]);
	free(xs);
	hl_buf_free(&u);
	return rc;
}

static int
s3_publish(void *state, const struct hl_tree *tree, struct hl_err *err)
{
	struct s3	*s = state;
	int		 rc;

	if (!s->listed && (rc = list_all(s, err)) != 0)
		return rc;
	if ((rc = put_class(s, tree, HL_CACHE_IMMUTABLE, 0, 0, err)) != 0 ||
	    (rc = put_class(s, tree, HL_CACHE_SHORT, 0, 0, err)) != 0 ||
	    (rc = put_class(s, tree, HL_CACHE_IMMUTABLE, 1, 0, err)) != 0 ||
	    (rc = put_class(s, tree, HL_CACHE_REVALIDATE, 0, 1, err)) != 0)
		return rc;
	s->st.publishes++;
	return 0;
}

/* A relative path without empty, "." or ".." segments. */
static int
plain_path(const char *p)
{
	const char	*seg = p;
	size_t		 n;

	if (p == NULL || *p == '\0')
		return 0;
	for (;;) {
		n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (seg[n] == '\0')
			return 1;
		seg += n + 1;
	}
}

int
hl_pub_s3_get(struct hl_buf *out, void *state, const char *path, size_t max,
    struct hl_err *err)
{
	struct s3	*s = state;
	struct hl_buf	 u = HL_BUF_INIT;
	struct xfer	 x;
	int		 rc;

	if (!plain_path(path) || max == 0)
		return hl_err_set(err, HL_EINVAL, "s3 get: bad path or bound");
	memset(&x, 0, sizeof(x));
	x.req = REQ_GET;
	x.max = max;
	if (hl_buf_printf(&u, "%s%s", s->u.prefix, path) != 0 ||
	    (x.key = hl_buf_detach(&u, NULL)) == NULL ||
	    hl_s3url_object_url(&u, &s->u, x.key) != 0 ||
	    (x.url = hl_buf_detach(&u, NULL)) == NULL ||
	    xfer_headers(s, &x) != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
		goto out;
	}
	if ((rc = run(s, &x, 1, get_ok, err)) != 0)
		goto out;
	if (hl_buf_put(out, x.resp.data ? x.resp.data : "", x.resp.len) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "s3: out of memory");
out:
	xfer_clear(s, &x);
	hl_buf_free(&u);
	return rc;
}

/*
 * GET PREFIXmanifest.json, signed like every other request and retried
 * on the same faults.  HL_ENOTFOUND on 404 (NoSuchKey).
 */
static int
s3_manifest(struct hl_buf *out, void *state, struct hl_err *err)
{
	return hl_pub_s3_get(out, state, "manifest.json",
	    HL_TARGET_MAX_MANIFEST, err);
}

static void
s3_close(void *state)
{
	struct s3	*s = state;

	if (s == NULL)
		return;
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	held_free(&s->held);
	wipe_free(s->key_id);
	wipe_free(s->secret);
	wipe_free(s->token);
	hl_s3url_clear(&s->u);
	free(s);
}

static int
s3_open(void **state, const char *url, struct hl_err *err)
{
	struct s3	*s;
	int		 rc;

	*state = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "s3: out of memory");
	if ((rc = hl_s3url_parse(&s->u, url, err)) != 0 ||
	    (rc = creds_load(s, err)) != 0)
		goto fail;
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->u.region);
	if ((s->multi = curl_multi_init()) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "s3: curl_multi_init failed");
		goto fail;
	}
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)S3_MAX_FLIGHT);
	*state = s;
	return 0;
fail:
	s3_close(s);
	return rc;
}

void
hl_pub_s3_stats(struct hl_s3_stats *out, const void *state)
{
	const struct s3	*s = state;

	*out = s->st;
}

const struct hl_target_ops hl_pub_s3_ops = {
	.kind = "s3",
	.open = s3_open,
	.publish = s3_publish,
	.manifest = s3_manifest,
	.close = s3_close,
};
