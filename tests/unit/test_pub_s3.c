/*
 * test_pub_s3: the S3 target against a real S3-compatible server
 * (@20minutes/s3rver 5, which checks SigV4 signatures), started by
 * tests/tools/s3rver.sh on a free port in a temporary directory, with
 * tests/tools/s3fault.py in front of it where faults are injected.  The
 * bucket is checked with plain HTTP GETs and with awscli.  Without
 * node_modules the server cannot start and every test fails.
 *
 * Run from the top of the source tree: build/tests/test_pub_s3.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "buf.h"
#include "err.h"
#include "pub_s3.h"
#include "s3url.h"
#include "target.h"
#include "tree.h"

#define BUCKET	"helios"
#define MAXF	128

static char	tmpdir[256];
static int	s3_port;		/* the shared server */
static int	s3_pid;
static int	px_port;		/* the fault proxy in front of it */
static int	px_pid;
static int	second_pid;		/* a server stopped, restarted */

/* ---- helpers: processes and commands ---- */

/* Runs cmd with sh; returns its stdout (malloc'ed) or NULL on failure. */
static char *
run_cmd(const char *fmt, ...)
{
	struct hl_buf	 b = HL_BUF_INIT;
	char		 cmd[2048], chunk[4096];
	va_list		 ap;
	FILE		*f;
	size_t		 n;
	int		 st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		hl_buf_put(&b, chunk, n);
	st = pclose(f);
	hl_buf_putc(&b, '\0');
	if (st != 0) {
		fprintf(stderr, "# command failed (%d): %s\n# %s\n", st, cmd,
		    b.data);
		hl_buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int
server_start(const char *dir, int port, int *pid)
{
	char	*out;
	int	 p = 0;

	out = run_cmd("sh tests/tools/s3rver.sh start %s %d " BUCKET,
	    dir, port);
	if (out == NULL)
		return -1;
	if (sscanf(out, "%d %d", &p, pid) != 2)
		p = -1;
	free(out);
	return p;
}

static void
server_stop(int pid)
{
	free(run_cmd("sh tests/tools/s3rver.sh stop %d", pid));
}

/* Starts the fault proxy in front of upstream; returns its port. */
static int
proxy_start(int upstream, int *pid)
{
	char	*out;
	int	 p = -1;

	out = run_cmd("python3 tests/tools/s3fault.py %d </dev/null "
	    ">%s/proxy.port 2>%s/proxy.log & echo $!; "
	    "n=0; while [ ! -s %s/proxy.port ] && [ $n -lt 100 ]; do "
	    "sleep 0.05; n=$((n+1)); done; cat %s/proxy.port",
	    upstream, tmpdir, tmpdir, tmpdir, tmpdir);
	if (out == NULL || sscanf(out, "%d %d", pid, &p) != 2)
		p = -1;
	free(out);
	return p;
}

/* ---- helpers: HTTP ---- */

struct resp {
	long		 status;
	struct hl_buf	 body;
	char		 ctype[128];
	char		 cache[128];
	char		 cenc[64];
};

static size_t
resp_body(char *p, size_t sz, size_t n, void *arg)
{
	struct resp	*r = arg;

	hl_buf_put(&r->body, p, sz * n);
	return sz * n;
}

static void
hdr_copy(char *dst, size_t dsz, const char *p, size_t len, size_t skip)
{
	while (skip < len && p[skip] == ' ')
		skip++;
	while (len > skip && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	snprintf(dst, dsz, "%.*s", (int)(len - skip), p + skip);
}

static size_t
resp_hdr(char *p, size_t sz, size_t n, void *arg)
{
	struct resp	*r = arg;
	size_t		 len = sz * n;

	if (len > 13 && strncasecmp(p, "content-type:", 13) == 0)
		hdr_copy(r->ctype, sizeof(r->ctype), p, len, 13);
	else if (len > 14 && strncasecmp(p, "cache-control:", 14) == 0)
		hdr_copy(r->cache, sizeof(r->cache), p, len, 14);
	else if (len > 17 && strncasecmp(p, "content-encoding:", 17) == 0)
		hdr_copy(r->cenc, sizeof(r->cenc), p, len, 17);
	return len;
}

/* GETs an object over path-style HTTP without signing. */
static void
http_get(struct resp *r, int port, const char *key)
{
	struct hl_buf		 u = HL_BUF_INIT;
	struct curl_slist	*hdrs;
	CURL			*h;

	memset(r, 0, sizeof(*r));
	hdrs = curl_slist_append(NULL, "Accept-Encoding: gzip");
	hl_buf_printf(&u, "http://127.0.0.1:%d/" BUCKET "/", port);
	hl_s3url_encode(&u, key, 1);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, u.data);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, resp_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, resp_hdr);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	/* Ask for gzip: the .gz files must come back as stored anyway. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	hl_buf_free(&u);
}

static char *
proxy_stats(void)
{
	return run_cmd("curl -s http://127.0.0.1:%d/__fault/stats", px_port);
}

static void
proxy_set(const char *q)
{
	free(run_cmd("curl -s 'http://127.0.0.1:%d/__fault/%s' >/dev/null",
	    px_port, q));
}

static long
stat_field(const char *stats, const char *name)
{
	const char	*p = strstr(stats, name);

	return p == NULL ? -1 : strtol(p + strlen(name) + 1, NULL, 10);
}

/* ---- helpers: trees ---- */

struct ttree {
	struct hl_tree	 t;
	struct hl_file	 f[MAXF];
	char		*path[MAXF];
	unsigned char	*data[MAXF];
	int		 version;
};

static void
hexdigest(char *out, const EVP_MD *md, const void *p, size_t n)
{
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0, i;

	EVP_Digest(p, n, d, &len, md, NULL);
	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
gzip_bytes(unsigned char **out, size_t *outlen, const char *s)
{
	z_stream	 z;
	size_t		 cap = strlen(s) + 64;

	memset(&z, 0, sizeof(z));
	*out = malloc(cap);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)s;
	z.avail_in = (unsigned)strlen(s);
	z.next_out = *out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
}

static void
tt_add(struct ttree *tt, const char *path, const void *p, size_t n)
{
	struct hl_file	*f = &tt->f[tt->t.n];

	assert_true(tt->t.n < MAXF);
	tt->path[tt->t.n] = strdup(path);
	tt->data[tt->t.n] = malloc(n + 1);
	memcpy(tt->data[tt->t.n], p, n);
	f->path = tt->path[tt->t.n];
	f->data = tt->data[tt->t.n];
	f->len = n;
	hexdigest(f->sha256, EVP_sha256(), p, n);
	hexdigest(f->md5, EVP_md5(), p, n);
	f->cache = hl_tree_cache_class(path);
	f->content_type = hl_tree_content_type(path);
	tt->t.n++;
}

/* A mutable text file, its .gz, and both immutable copies. */
static void
tt_list(struct ttree *tt, const char *path, const char *text)
{
	unsigned char	*gz;
	size_t		 gzlen;
	char		 p[512], sha[65];

	gzip_bytes(&gz, &gzlen, text);
	hexdigest(sha, EVP_sha256(), text, strlen(text));
	snprintf(p, sizeof(p), "objects/%s", sha);
	tt_add(tt, p, text, strlen(text));
	hexdigest(sha, EVP_sha256(), gz, gzlen);
	snprintf(p, sizeof(p), "objects/%s.gz", sha);
	tt_add(tt, p, gz, gzlen);
	tt_add(tt, path, text, strlen(text));
	snprintf(p, sizeof(p), "%s.gz", path);
	tt_add(tt, p, gz, gzlen);
	free(gz);
}

static int
cmp_file(const void *a, const void *b)
{
	const struct hl_file	*x = a, *y = b;

	if (x->cache != y->cache)
		return x->cache - y->cache;
	return strcmp(x->path, y->path);
}

/*
 * A tree of version v: two lists (one with a key needing encoding), the
 * given text for watch-keyword, extra immutable objects, a manifest and
 * its signature, in publication order.
 */
static void
tt_build(struct ttree *tt, int v, const char *keywords, int extra)
{
	char	 m[256];
	int	 i;

	memset(tt, 0, sizeof(*tt));
	tt->t.version = v;
	tt->t.files = tt->f;
	tt->t.summary = "test";
	tt_list(tt, "lists/watch-keyword.txt", keywords);
	tt_list(tt, "lists/a+b:c=d \xc3\xa9.txt", "caf\xc3\xa9\tx\n");
	for (i = 0; i < extra; i++) {
		char	 p[64];

		snprintf(p, sizeof(p), "changes/%d-%d.json", i, i + 1);
		snprintf(m, sizeof(m), "{\"change\":%d}\n", i);
		tt_add(tt, p, m, strlen(m));
	}
	snprintf(m, sizeof(m), "{\"version\":%d,\"keywords\":\"%.40s\"}\n",
	    v, keywords);
	tt_add(tt, "manifest.json", m, strlen(m));
	snprintf(m, sizeof(m), "signature of v%d", v);
	tt_add(tt, "manifest.json.sig", m, strlen(m));
	qsort(tt->f, tt->t.n, sizeof(tt->f[0]), cmp_file);
}

static void
tt_free(struct ttree *tt)
{
	size_t	 i;

	for (i = 0; i < tt->t.n; i++) {
		free(tt->path[i]);
		free(tt->data[i]);
	}
	memset(tt, 0, sizeof(*tt));
}

static const struct hl_file *
tt_find(const struct ttree *tt, const char *path)
{
	size_t	 i;

	for (i = 0; i < tt->t.n; i++)
		if (strcmp(tt->f[i].path, path) == 0)
			return &tt->f[i];
	return NULL;
}

/* ---- helpers: targets ---- */

static void *
target_open(int port, const char *prefix, const char *extra)
{
	struct hl_err	 err = HL_ERR_INIT;
	char		 url[512];
	void		*st = NULL;

	snprintf(url, sizeof(url), "s3://" BUCKET "/%s?endpoint="
	    "http://127.0.0.1:%d&region=us-east-1&style=path%s", prefix,
	    port, extra);
	if (hl_pub_s3_ops.open(&st, url, &err) != 0)
		fail_msg("open %s: %s", url, err.msg);
	return st;
}

static struct hl_s3_stats
stats(void *st)
{
	struct hl_s3_stats	 s;

	hl_pub_s3_stats(&s, st);
	return s;
}

/* Every file of tt is in the bucket under prefix, as it should be. */
static void
check_bucket(const struct ttree *tt, int port, const char *prefix)
{
	struct resp	 r;
	char		 key[512];
	size_t		 i;

	for (i = 0; i < tt->t.n; i++) {
		const struct hl_file *f = &tt->f[i];

		snprintf(key, sizeof(key), "%s/%s", prefix, f->path);
		http_get(&r, port, key);
		if (r.status != 200)
			fail_msg("GET %s: %ld", key, r.status);
		assert_int_equal(r.body.len, f->len);
		assert_memory_equal(r.body.data, f->data, f->len);
		if (strstr(f->path, ".gz") != NULL) {
			assert_string_equal(r.ctype, "application/gzip");
			assert_string_equal(r.cenc, "");
		} else
			assert_string_equal(r.ctype, f->content_type);
		assert_string_equal(r.cache, hl_tree_cache_control(f->cache));
		hl_buf_free(&r.body);
	}
}

static void
set_creds(const char *id, const char *secret)
{
	setenv("AWS_ACCESS_KEY_ID", id, 1);
	setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("HELIOS_S3_CREDENTIALS");
}

/* Has t a mutable file with the bytes of its file i? */
static int
has_twin(const struct ttree *t, size_t i)
{
	size_t	 j;

	for (j = 0; j < t->t.n; j++)
		if (t->f[j].cache == HL_CACHE_SHORT &&
		    strcmp(t->f[j].sha256, t->f[i].sha256) == 0)
			return 1;
	return 0;
}

/*
 * The bytes of the files of b that a does not hold as they are, but for
 * the objects that copy a mutable file of b (when copies is set).
 */
static uint64_t
changed_bytes(const struct ttree *a, const struct ttree *b, int copies)
{
	uint64_t	 n = 0;
	size_t		 i, j;

	for (i = 0; i < b->t.n; i++) {
		for (j = 0; j < a->t.n; j++)
			if (strcmp(a->f[j].path, b->f[i].path) == 0 &&
			    strcmp(a->f[j].sha256, b->f[i].sha256) == 0)
				break;
		if (j == a->t.n && !(copies &&
		    b->f[i].cache == HL_CACHE_IMMUTABLE && has_twin(b, i)))
			n += b->f[i].len;
	}
	return n;
}

/* ---- tests ---- */

static void
test_urls_are_parsed_and_keys_encoded(void **unused)
{
	struct hl_s3url	 u;
	struct hl_err	 err = HL_ERR_INIT;
	struct hl_buf	 b = HL_BUF_INIT;

	assert_int_equal(hl_s3url_parse(&u, "s3://my-bucket/pub", &err), 0);
	assert_string_equal(u.prefix, "pub/");
	assert_string_equal(u.region, "us-east-1");
	assert_string_equal(u.endpoint, "https://s3.us-east-1.amazonaws.com");
	assert_int_equal(u.path_style, 0);
	hl_s3url_object_url(&b, &u, "pub/a+b:c=d \xc3\xa9~_.-x.txt");
	assert_string_equal(b.data, "https://my-bucket.s3.us-east-1."
	    "amazonaws.com/pub/a%2Bb%3Ac%3Dd%20%C3%A9~_.-x.txt");
	hl_s3url_clear(&u);
	hl_buf_reset(&b);

	assert_int_equal(hl_s3url_parse(&u, "s3://b12/a/b/?endpoint="
	    "http%3A%2F%2F127.0.0.1%3A9000/&region=eu-west-3&tries=2", &err),
	    0);
	assert_string_equal(u.prefix, "a/b/");
	assert_string_equal(u.endpoint, "http://127.0.0.1:9000");
	assert_int_equal(u.path_style, 1);
	assert_int_equal(u.tries, 2);
	hl_s3url_object_url(&b, &u, "a/b/manifest.json");
	assert_string_equal(b.data,
	    "http://127.0.0.1:9000/b12/a/b/manifest.json");
	assert_string_equal(u.name, "s3://b12/a/b/?endpoint="
	    "http://127.0.0.1:9000&region=eu-west-3&style=path");
	hl_s3url_clear(&u);
	hl_buf_free(&b);

	assert_int_equal(hl_s3url_parse(&u, "s3://b12", &err), 0);
	assert_string_equal(u.prefix, "");
	hl_s3url_clear(&u);

	assert_int_equal(hl_s3url_parse(&u, "s3://B!/x", &err), HL_EINVAL);
	assert_int_equal(hl_s3url_parse(&u, "http://b12/x", &err), HL_EINVAL);
	assert_int_equal(hl_s3url_parse(&u, "s3://b12/x?style=odd", &err),
	    HL_EINVAL);
	assert_int_equal(hl_s3url_parse(&u, "s3://b12/x?region=a:b", &err),
	    HL_EINVAL);
	assert_int_equal(hl_s3url_parse(&u,
	    "s3://b12/x?endpoint=ftp://h", &err), HL_EINVAL);
	assert_int_equal(hl_s3url_parse(&u,
	    "s3://b12/x?secret=hunter2", &err), HL_EINVAL);
	assert_null(strstr(err.msg, "hunter2"));
}

static void
test_first_publish_writes_every_file_with_its_headers(void **unused)
{
	struct ttree		 tt;
	struct hl_err		 err = HL_ERR_INIT;
	struct hl_s3_stats	 s;
	void			*st;
	char			*out, *p, line[512];
	size_t			 i, n;

	set_creds("S3RVER", "S3RVER");
	tt_build(&tt, 1, "spam\nham\n", 0);
	st = target_open(s3_port, "t1", "");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	s = stats(st);
	assert_int_equal(s.lists, 1);
	assert_int_equal(s.puts, tt.t.n);
	assert_int_equal(s.uploaded, tt.t.n);
	assert_int_equal(s.retries, 0);
	check_bucket(&tt, s3_port, "t1");

	/*
	 * awscli, an independent client, sees the same keys (decoded) and
	 * ETags (the MD5 of the bytes).
	 */
	out = run_cmd("aws --endpoint-url http://127.0.0.1:%d --region "
	    "us-east-1 s3api list-objects-v2 --bucket " BUCKET " --prefix t1/ "
	    "--query 'Contents[].[Key,ETag]' --output text", s3_port);
	assert_non_null(out);
	for (i = 0, n = 0; i < tt.t.n; i++) {
		snprintf(line, sizeof(line), "t1/%s\t\"%s\"\n",
		    tt.f[i].path, tt.f[i].md5);
		if (strstr(out, line) == NULL)
			fail_msg("awscli does not list %s", line);
	}
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_int_equal(n, tt.t.n);
	free(out);
	out = run_cmd("aws --endpoint-url http://127.0.0.1:%d --region "
	    "us-east-1 s3api head-object --bucket " BUCKET " --key "
	    "t1/lists/watch-keyword.txt.gz --query "
	    "'[ContentType,CacheControl,ContentEncoding]' --output text",
	    s3_port);
	assert_non_null(out);
	assert_string_equal(out,
	    "application/gzip\tpublic, max-age=60\tNone\n");
	free(out);

	hl_pub_s3_ops.close(st);
	tt_free(&tt);
}

/*
 * An object held under its key with other bytes (a gzip an older build
 * compressed otherwise, listseg.h) is uploaded again by a new target: its
 * ETag in the bucket's listing is not the file's MD5.  One made without an
 * MD5 (HL_BLOB_NO_MD5) is held by its key alone.
 */
static void
test_an_object_held_with_other_bytes_is_uploaded_again(void **unused)
{
	struct ttree		 tt;
	struct hl_err		 err = HL_ERR_INIT;
	struct hl_file		*f = NULL, *g = NULL;
	struct resp		 r;
	const char		 other[] = "the same content, compressed otherwise";
	char			 key[512];
	size_t			 i;
	void			*st;

	set_creds("S3RVER", "S3RVER");
	tt_build(&tt, 1, "spam\nham\n", 2);
	st = target_open(s3_port, "t9", "");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	hl_pub_s3_ops.close(st);
	/* Two immutable files take other bytes under the same names. */
	for (i = 0; i < tt.t.n; i++)
		if (tt.f[i].cache == HL_CACHE_IMMUTABLE)
			g = f, f = &tt.f[i];
	assert_non_null(f);
	assert_non_null(g);
	for (i = 0; i < tt.t.n; i++)
		if (&tt.f[i] == f || &tt.f[i] == g) {
			free(tt.data[i]);
			tt.data[i] = (unsigned char *)strdup(other);
			tt.f[i].data = tt.data[i];
			tt.f[i].len = strlen(other);
			hexdigest(tt.f[i].sha256, EVP_sha256(), other,
			    strlen(other));
			hexdigest(tt.f[i].md5, EVP_md5(), other,
			    strlen(other));
		}
	g->md5[0] = '\0';	/* made without an MD5: held by its key */
	st = target_open(s3_port, "t9", "");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	hl_pub_s3_ops.close(st);
	snprintf(key, sizeof(key), "t9/%s", f->path);
	http_get(&r, s3_port, key);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, strlen(other));
	assert_memory_equal(r.body.data, other, strlen(other));
	hl_buf_free(&r.body);
	snprintf(key, sizeof(key), "t9/%s", g->path);
	http_get(&r, s3_port, key);
	assert_int_equal(r.status, 200);
	assert_true(r.body.len != strlen(other) ||
	    memcmp(r.body.data, other, r.body.len) != 0);
	hl_buf_free(&r.body);
	tt_free(&tt);
}

static void
test_one_changed_list_uploads_its_files_and_manifest(void **unused)
{
	struct ttree		 a, b;
	struct hl_err		 err = HL_ERR_INIT;
	struct hl_s3_stats	 s0, s1;
	void			*st;

	set_creds("S3RVER", "S3RVER");
	tt_build(&a, 1, "spam\nham\n", 6);
	tt_build(&b, 2, "spam\nham\neggs\n", 6);
	st = target_open(s3_port, "t2", "");
	if (hl_pub_s3_ops.publish(st, &a.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	s0 = stats(st);
	if (hl_pub_s3_ops.publish(st, &b.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	s1 = stats(st);
	/* Two new objects, the .txt and its .gz, the manifest and .sig. */
	assert_int_equal(s1.lists - s0.lists, 0);
	assert_int_equal(s1.requests - s0.requests, 6);
	assert_int_equal(s1.uploaded - s0.uploaded, 6);
	/*
	 * The bytes of each go up once: the objects are server-side copies
	 * of the .txt and .gz just written.
	 */
	assert_int_equal(s1.copies - s0.copies, 2);
	assert_int_equal(s1.bytes_up - s0.bytes_up, changed_bytes(&a, &b, 1));
	assert_true(changed_bytes(&a, &b, 1) < changed_bytes(&a, &b, 0));
	fprintf(stderr, "# one changed list: %d files, %llu requests, "
	    "%llu bytes up (first publish: %llu requests, %llu bytes)\n",
	    (int)b.t.n, (unsigned long long)(s1.requests - s0.requests),
	    (unsigned long long)(s1.bytes_up - s0.bytes_up),
	    (unsigned long long)s0.requests,
	    (unsigned long long)s0.bytes_up);
	check_bucket(&b, s3_port, "t2");
	hl_pub_s3_ops.close(st);

	/* A new process lists the bucket once and uploads nothing. */
	st = target_open(s3_port, "t2", "");
	if (hl_pub_s3_ops.publish(st, &b.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	s1 = stats(st);
	assert_int_equal(s1.requests, 1);
	assert_int_equal(s1.puts, 0);
	assert_int_equal(s1.skipped, b.t.n);
	hl_pub_s3_ops.close(st);
	tt_free(&a);
	tt_free(&b);
}

static void
test_no_more_than_eight_uploads_run_at_once(void **unused)
{
	struct ttree	 tt;
	struct hl_err	 err = HL_ERR_INIT;
	void		*st;
	char		*out;

	set_creds("S3RVER", "S3RVER");
	proxy_set("reset");
	tt_build(&tt, 1, "spam\n", 40);
	st = target_open(px_port, "t3", "");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	out = proxy_stats();
	assert_non_null(out);
	assert_true(stat_field(out, "maxflight") <= 8);
	assert_true(stat_field(out, "maxflight") >= 2);
	free(out);
	hl_pub_s3_ops.close(st);
	tt_free(&tt);
}

static void
test_a_wrong_secret_is_an_auth_error_without_retries(void **unused)
{
	struct ttree		 tt;
	struct hl_err		 err = HL_ERR_INIT;
	void			*st;

	tt_build(&tt, 1, "spam\n", 0);
	set_creds("S3RVER", "not-the-secret");
	st = target_open(s3_port, "t4", "");
	assert_int_equal(hl_pub_s3_ops.publish(st, &tt.t, &err), HL_EAUTH);
	assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
	assert_null(strstr(err.msg, "not-the-secret"));
	assert_int_equal(stats(st).requests, 1);
	hl_pub_s3_ops.close(st);

	set_creds("NOBODY", "S3RVER");
	st = target_open(s3_port, "t4", "");
	assert_int_equal(hl_pub_s3_ops.publish(st, &tt.t, &err), HL_EAUTH);
	assert_non_null(strstr(err.msg, "InvalidAccessKeyId"));
	assert_int_equal(stats(st).requests, 1);
	hl_pub_s3_ops.close(st);
	set_creds("S3RVER", "S3RVER");
	tt_free(&tt);
}

static void
test_a_credentials_file_must_be_private(void **unused)
{
	struct ttree	 tt;
	struct hl_err	 err = HL_ERR_INIT;
	char		 path[512], url[256];
	void		*st = NULL;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/creds", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# test\naccess_key_id = S3RVER\nsecret_access_key=S3RVER\n", f);
	fclose(f);
	chmod(path, 0640);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("HELIOS_S3_CREDENTIALS", path, 1);
	snprintf(url, sizeof(url), "s3://" BUCKET "/t5?endpoint="
	    "http://127.0.0.1:%d", s3_port);
	assert_int_equal(hl_pub_s3_ops.open(&st, url, &err), HL_EAUTH);
	assert_non_null(strstr(err.msg, "640"));
	assert_null(st);

	chmod(path, 0600);
	if (hl_pub_s3_ops.open(&st, url, &err) != 0)
		fail_msg("open: %s", err.msg);
	tt_build(&tt, 1, "spam\n", 0);
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	hl_pub_s3_ops.close(st);
	tt_free(&tt);

	unsetenv("HELIOS_S3_CREDENTIALS");
	assert_int_equal(hl_pub_s3_ops.open(&st, url, &err), HL_EAUTH);
	set_creds("S3RVER", "S3RVER");
}

static void
test_slowdown_and_server_errors_are_retried(void **unused)
{
	struct ttree		 tt;
	struct hl_err		 err = HL_ERR_INIT;
	void			*st;
	char			*out;

	set_creds("S3RVER", "S3RVER");
	tt_build(&tt, 1, "spam\n", 2);
	st = target_open(px_port, "t6", "&backoff_ms=20");
	proxy_set("reset");
	proxy_set("set?fail=3&status=503&code=SlowDown");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	assert_int_equal(stats(st).retries, 3);
	out = proxy_stats();
	assert_int_equal(stat_field(out, "failed"), 3);
	free(out);
	check_bucket(&tt, s3_port, "t6");

	/* A 500 and a dropped connection on later requests. */
	tt_free(&tt);
	tt_build(&tt, 2, "spam\neggs\n", 2);
	proxy_set("set?skip=1&fail=1&status=500&code=InternalError");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	tt_free(&tt);
	tt_build(&tt, 3, "spam\neggs\nham\n", 2);
	proxy_set("set?skip=2&fail=2&mode=drop");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	assert_int_equal(stats(st).retries, 6);
	check_bucket(&tt, s3_port, "t6");
	proxy_set("reset");
	hl_pub_s3_ops.close(st);
	tt_free(&tt);
}

static void
test_a_stalled_request_times_out_and_is_retried(void **unused)
{
	struct ttree		 tt;
	struct hl_err		 err = HL_ERR_INIT;
	void			*st;

	set_creds("S3RVER", "S3RVER");
	tt_build(&tt, 1, "spam\n", 0);
	st = target_open(px_port, "t7", "&backoff_ms=10&timeout_ms=500");
	proxy_set("reset");
	proxy_set("set?skip=1&fail=1&mode=hang");
	if (hl_pub_s3_ops.publish(st, &tt.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	assert_int_equal(stats(st).retries, 1);
	check_bucket(&tt, s3_port, "t7");
	proxy_set("reset");
	hl_pub_s3_ops.close(st);
	tt_free(&tt);
}

static void
test_a_failed_publish_leaves_the_old_manifest(void **unused)
{
	struct ttree		 a, b;
	struct hl_err		 err = HL_ERR_INIT;
	struct resp		 r;
	void			*st;

	set_creds("S3RVER", "S3RVER");
	tt_build(&a, 1, "spam\n", 0);
	tt_build(&b, 2, "spam\neggs\n", 0);
	st = target_open(px_port, "t8", "&backoff_ms=10&tries=3");
	proxy_set("reset");
	if (hl_pub_s3_ops.publish(st, &a.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	/* The first object goes up, then everything fails. */
	proxy_set("set?skip=1&fail=1000&status=500&code=InternalError");
	assert_int_equal(hl_pub_s3_ops.publish(st, &b.t, &err), HL_EIO);
	assert_non_null(strstr(err.msg, "InternalError"));
	assert_non_null(strstr(err.msg, "3 tries"));
	http_get(&r, s3_port, "t8/manifest.json");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, tt_find(&a, "manifest.json")->len);
	assert_memory_equal(r.body.data, tt_find(&a, "manifest.json")->data,
	    r.body.len);
	hl_buf_free(&r.body);

	proxy_set("reset");
	if (hl_pub_s3_ops.publish(st, &b.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	check_bucket(&b, s3_port, "t8");
	hl_pub_s3_ops.close(st);
	tt_free(&a);
	tt_free(&b);
}

static void
test_a_manifest_written_by_another_is_a_conflict(void **unused)
{
	struct ttree		 a, b, c;
	struct hl_err		 err = HL_ERR_INIT;
	struct resp		 r;
	void			*one, *two;

	set_creds("S3RVER", "S3RVER");
	tt_build(&a, 1, "spam\n", 0);
	tt_build(&b, 2, "spam\nother writer\n", 0);
	tt_build(&c, 3, "spam\nthird\n", 0);
	proxy_set("reset");
	one = target_open(px_port, "t9", "");
	if (hl_pub_s3_ops.publish(one, &a.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	/* Another daemon lists, sees manifest v1 and replaces it. */
	two = target_open(px_port, "t9", "");
	if (hl_pub_s3_ops.publish(two, &b.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	assert_int_equal(hl_pub_s3_ops.publish(one, &c.t, &err),
	    HL_ECONFLICT);
	assert_non_null(strstr(err.msg, "412"));
	http_get(&r, s3_port, "t9/manifest.json");
	assert_int_equal(r.body.len, tt_find(&b, "manifest.json")->len);
	assert_memory_equal(r.body.data, tt_find(&b, "manifest.json")->data,
	    r.body.len);
	hl_buf_free(&r.body);
	hl_pub_s3_ops.close(one);
	hl_pub_s3_ops.close(two);
	tt_free(&a);
	tt_free(&b);
	tt_free(&c);
}

static void
test_a_target_catches_up_when_its_server_returns(void **unused)
{
	struct ttree		 a, b, c;
	struct hl_err		 err = HL_ERR_INIT;
	struct hl_s3_stats	 s0, s1;
	char			 dir[300];
	void			*st;
	int			 port, pid, p2;

	set_creds("S3RVER", "S3RVER");
	snprintf(dir, sizeof(dir), "%s/second", tmpdir);
	port = server_start(dir, 0, &pid);
	assert_true(port > 0);
	second_pid = pid;
	tt_build(&a, 1, "spam\n", 0);
	tt_build(&b, 2, "spam\neggs\n", 0);
	tt_build(&c, 3, "spam\neggs\nham\n", 0);
	st = target_open(port, "t10", "&backoff_ms=10&tries=3");
	if (hl_pub_s3_ops.publish(st, &a.t, &err) != 0)
		fail_msg("publish: %s", err.msg);

	server_stop(pid);
	second_pid = 0;
	s0 = stats(st);
	assert_int_equal(hl_pub_s3_ops.publish(st, &b.t, &err), HL_EIO);
	assert_non_null(strstr(err.msg, "3 tries"));
	s1 = stats(st);
	/* Bounded: at most 3 tries for each of the files tried. */
	assert_true(s1.requests - s0.requests >= 3);
	assert_true(s1.requests - s0.requests <= 3 * 4);

	p2 = server_start(dir, port, &pid);
	second_pid = pid;
	assert_int_equal(p2, port);
	if (hl_pub_s3_ops.publish(st, &c.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	check_bucket(&c, port, "t10");
	server_stop(pid);
	second_pid = 0;
	hl_pub_s3_ops.close(st);
	tt_free(&a);
	tt_free(&b);
	tt_free(&c);
}

/*
 * SmokeDetector's lists at their real sizes, made of pattern-like lines
 * with a varying token (so that gzip does not flatter them), each as .txt
 * or .yml, .json (the items with provenance) and their .gz, with the
 * immutable copies of all four.
 */
static const struct {
	const char	*id;
	const char	*ext;
	size_t		 bytes;
} real_lists[] = {
	{ "blacklist-keyword", ".txt", 70000 },
	{ "blacklist-website", ".txt", 100000 },
	{ "blacklist-username", ".txt", 15000 },
	{ "blacklist-number", ".txt", 10000 },
	{ "watch-keyword", ".txt", 1850000 },
	{ "watch-number", ".txt", 109000 },
	{ "blacklist-cidr", ".yml", 1200 },
	{ "blacklist-ns", ".yml", 40000 },
	{ "watch-ns", ".yml", 60000 },
	{ "watch-asn", ".yml", 1200 },
};

static const char *const real_words[] = {
	"1700000000\tsome user\t(?i)cheap-pills-", "\\bketo\\W*diet\\b",
	"buy[\\W_]*+followers", "  - ns: ns1.spam-host-", "casino-bonus-",
	"(?:1[\\W_]*+)?800[\\W_]*+555", "  - ip: 192.0.2.", "essay-writer",
};

static void
real_tree(struct ttree *tt, int v, const char *extra_line)
{
	struct hl_buf	 txt = HL_BUF_INIT, json = HL_BUF_INIT;
	char		 path[512], m[128];
	size_t		 i, n;

	memset(tt, 0, sizeof(*tt));
	tt->t.version = v;
	tt->t.files = tt->f;
	for (i = 0; i < sizeof(real_lists) / sizeof(real_lists[0]); i++) {
		hl_buf_reset(&txt);
		hl_buf_reset(&json);
		hl_buf_puts(&json, "{\"items\":[");
		for (n = 1; txt.len < real_lists[i].bytes; n++) {
			hl_buf_printf(&txt, "%s%zx\n",
			    real_words[(n * 7 + i) % 8],
			    (size_t)(n * 2654435761u % 100000));
			hl_buf_printf(&json, "%s{\"n\":%zu,\"created_by\":"
			    "\"user%zu\",\"created_at\":\"2024-05-%02zu"
			    "T10:00:00Z\"}", n > 1 ? "," : "", n,
			    n % 97, n % 28 + 1);
		}
	if (i == 4 && extra_line != NULL)
			hl_buf_printf(&txt, "%s\n", extra_line);
		hl_buf_puts(&json, "]}\n");
		snprintf(path, sizeof(path), "lists/%s%s", real_lists[i].id,
		    real_lists[i].ext);
		tt_list(tt, path, txt.data);
		snprintf(path, sizeof(path), "lists/%s.json", real_lists[i].id);
		if (i == 4 && extra_line != NULL)
			hl_buf_printf(&json, " ");
		tt_list(tt, path, json.data);
	}
	snprintf(m, sizeof(m), "{\"version\":%d}\n", v);
	tt_add(tt, "manifest.json", m, strlen(m));
	snprintf(m, sizeof(m), "signature of v%d", v);
	tt_add(tt, "manifest.json.sig", m, strlen(m));
	qsort(tt->f, tt->t.n, sizeof(tt->f[0]), cmp_file);
	hl_buf_free(&txt);
	hl_buf_free(&json);
}

static void
test_one_changed_pattern_at_real_size_uploads_one_list(void **unused)
{
	struct ttree		 a, b;
	struct hl_err		 err = HL_ERR_INIT;
	struct hl_s3_stats	 s0, s1;
	struct timespec		 t0, t1;
	uint64_t		 total = 0;
	void			*st;
	size_t			 i;

	set_creds("S3RVER", "S3RVER");
	real_tree(&a, 1, NULL);
	real_tree(&b, 2, "new\\.spam\\.pattern");
	for (i = 0; i < a.t.n; i++)
		total += a.f[i].len;
	st = target_open(s3_port, "real", "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hl_pub_s3_ops.publish(st, &a.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s0 = stats(st);
	fprintf(stderr, "# real size, first publish: %zu files, %llu bytes, "
	    "%llu requests, %llu bytes up, %ld ms\n", a.t.n,
	    (unsigned long long)total, (unsigned long long)s0.requests,
	    (unsigned long long)s0.bytes_up,
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hl_pub_s3_ops.publish(st, &b.t, &err) != 0)
		fail_msg("publish: %s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s1 = stats(st);
	fprintf(stderr, "# real size, one changed pattern in watch-keyword: "
	    "%llu requests, %llu bytes up, %ld ms\n",
	    (unsigned long long)(s1.requests - s0.requests),
	    (unsigned long long)(s1.bytes_up - s0.bytes_up),
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	/* .txt, .json, their .gz, the four copies, manifest and .sig. */
	assert_int_equal(s1.requests - s0.requests, 10);
	assert_int_equal(s1.skipped - s0.skipped, b.t.n - 10);
	hl_pub_s3_ops.close(st);
	tt_free(&a);
	tt_free(&b);
}

/* ---- fixture ---- */

static int
setup(void **unused)
{
	char	 dir[300];

	curl_global_init(CURL_GLOBAL_ALL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/helios-s3.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	set_creds("S3RVER", "S3RVER");
	snprintf(dir, sizeof(dir), "%s/main", tmpdir);
	if ((s3_port = server_start(dir, 0, &s3_pid)) <= 0) {
		fprintf(stderr, "# cannot start the S3 test server\n");
		return -1;
	}
	if ((px_port = proxy_start(s3_port, &px_pid)) <= 0) {
		fprintf(stderr, "# cannot start the fault proxy\n");
		return -1;
	}
	return 0;
}

static int
teardown(void **unused)
{
	if (px_pid > 0)
		kill(px_pid, SIGTERM);
	if (s3_pid > 0)
		server_stop(s3_pid);
	if (second_pid > 0)
		server_stop(second_pid);
	if (tmpdir[0] != '\0')
		free(run_cmd("rm -rf %s", tmpdir));
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls_are_parsed_and_keys_encoded),
		cmocka_unit_test(
		    test_first_publish_writes_every_file_with_its_headers),
		cmocka_unit_test(
		    test_one_changed_list_uploads_its_files_and_manifest),
		cmocka_unit_test(
		    test_an_object_held_with_other_bytes_is_uploaded_again),
		cmocka_unit_test(test_no_more_than_eight_uploads_run_at_once),
		cmocka_unit_test(
		    test_a_wrong_secret_is_an_auth_error_without_retries),
		cmocka_unit_test(test_a_credentials_file_must_be_private),
		cmocka_unit_test(test_slowdown_and_server_errors_are_retried),
		cmocka_unit_test(
		    test_a_stalled_request_times_out_and_is_retried),
		cmocka_unit_test(test_a_failed_publish_leaves_the_old_manifest),
		cmocka_unit_test(
		    test_a_manifest_written_by_another_is_a_conflict),
		cmocka_unit_test(
		    test_a_target_catches_up_when_its_server_returns),
		cmocka_unit_test(
		    test_one_changed_pattern_at_real_size_uploads_one_list),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
