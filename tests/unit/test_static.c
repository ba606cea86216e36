/*
 * test_static: the built-in static server (src/static.c) behind a real
 * libmicrohttpd daemon on a free 127.0.0.1 port, driven with libcurl, over
 * a temporary published tree made here (some files with a .gz sibling,
 * symlinks that point out of the root, a hidden temp file).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "etagmark.h"
#include "static.h"

#define OBJ_SHA "0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define T_FIXED	1577934245	/* Thu, 02 Jan 2020 03:04:05 GMT */

static const char KW_TXT[] = "buy cheap\nfree money\ncasino\n";
static const char KW_JSON[] = "{\"items\":[\"buy cheap\"],\"numItems\":1}\n";
static const char MANIFEST[] = "{\"version\":7}\n";
static const char SECRET[] = "top secret outside the root\n";

static struct {
	char			 dir[64];	/* holds root/ and outside/ */
	char			 root[96];
	struct hl_static	*st;
	struct MHD_Daemon	*d;
	unsigned		 port;
	unsigned		 last_status;
	size_t			 last_bytes;
} F;

struct reply {
	long	code;
	char	*body;
	size_t	len;
	char	hdr[8192];
	size_t	hlen;
};

static void
md5_hex(char out[35], const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_md5(), NULL), 1);
	out[0] = '"';
	for (i = 0; i < len; i++)
		sprintf(out + 1 + 2 * i, "%02x", md[i]);
	out[33] = '"';
	out[34] = '\0';
}

/* gzip (RFC 1952, no name, no time) of p into a malloc'ed buffer. */
static unsigned char *
gzip_bytes(const void *p, size_t n, size_t *outlen)
{
	z_stream z;
	unsigned char *out;
	size_t cap = n + 128;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	out = malloc(cap);
	assert_non_null(out);
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
put_file(const char *rel, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", F.root, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
put_with_gz(const char *rel, const char *text)
{
	char gzrel[256];
	unsigned char *gz;
	size_t gzlen;

	put_file(rel, text, strlen(text));
	gz = gzip_bytes(text, strlen(text), &gzlen);
	snprintf(gzrel, sizeof(gzrel), "%s.gz", rel);
	put_file(gzrel, gz, gzlen);
	free(gz);
}

static void
set_mtime(const char *rel, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", F.root, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	unsigned status = 0;
	size_t bytes = 0;
	enum MHD_Result r;

	r = hl_static_serve(cls, conn, method, url, &status, &bytes);
	__atomic_store_n(&F.last_status, status, __ATOMIC_SEQ_CST);
	__atomic_store_n(&F.last_bytes, bytes, __ATOMIC_SEQ_CST);
	return r;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	struct hl_err err = HL_ERR_INIT;
	char path[512];
	unsigned char *gz;
	size_t gzlen;

	strcpy(F.dir, "/tmp/helios-static.XXXXXX");
	if (mkdtemp(F.dir) == NULL)
		return -1;
	snprintf(F.root, sizeof(F.root), "%s/root", F.dir);
	mkdir(F.root, 0755);
	snprintf(path, sizeof(path), "%s/outside", F.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/outside/secret.txt", F.dir);
	{
		FILE *f = fopen(path, "w");

		if (f == NULL)
			return -1;
		fputs(SECRET, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/lists", F.root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/changes", F.root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/objects", F.root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/assets", F.root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/docs", F.root);
	mkdir(path, 0755);

	put_with_gz("manifest.json", MANIFEST);
	put_file("manifest.json.sig", "\x01\x02sig", 5);
	put_with_gz("lists/watch-keyword.txt", KW_TXT);
	put_with_gz("lists/watch-keyword.json", KW_JSON);
	put_file("lists/blacklist-cidr.yml", "- 10.0.0.0/8\n", 13);
	put_file("lists/watch-number.txt", "AAAA\n", 5);
	put_with_gz("changes.json", "{\"segments\":[\"1-5\"]}\n");
	put_with_gz("changes/1-5.json", "{\"events\":[]}\n");
	put_with_gz("objects/" OBJ_SHA, KW_TXT);
	put_file("index.html", "<!doctype html><title>root</title>\n", 35);
	put_file("docs/index.html", "<!doctype html><title>docs</title>\n", 35);
	put_file("assets/site.css", "body{}\n", 7);
	put_file("assets/app.js", "void 0;\n", 8);
	put_file("assets/logo.svg", "<svg/>\n", 7);
	put_file("empty.txt", "", 0);
	put_file(".manifest.json.tmp.4242.7", "half written\n", 13);
	gz = gzip_bytes("x", 1, &gzlen);
	put_file("data.bin.gz", gz, gzlen);	/* a .gz with no plain file */
	free(gz);
	set_mtime("lists/watch-keyword.txt", T_FIXED);
	set_mtime("lists/watch-keyword.txt.gz", T_FIXED);

	/* three ways out of the root */
	snprintf(path, sizeof(path), "%s/evil", F.root);
	if (symlink("../outside/secret.txt", path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/evildir", F.root);
	if (symlink("../outside", path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/passwd", F.root);
	if (symlink("/etc/passwd", path) != 0)
		return -1;

	if (hl_static_new(&F.st, F.root, &err) != 0 ||
	    hl_static_start(F.st, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	F.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    handler, F.st, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_UNESCAPE_CALLBACK, hl_static_unescape, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_END);
	if (F.d == NULL)
		return -1;
	info = MHD_get_daemon_info(F.d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return -1;
	F.port = info->port;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int
teardown(void **state)
{
	if (F.d != NULL)
		MHD_stop_daemon(F.d);
	hl_static_free(F.st);
	curl_global_cleanup();
	if (F.dir[0] != '\0')
		nftw(F.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *cls)
{
	struct reply *r = cls;
	char *nb;

	nb = realloc(r->body, r->len + sz * n + 1);
	if (nb == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *cls)
{
	struct reply *r = cls;

	if (r->hlen + sz * n < sizeof(r->hdr)) {
		memcpy(r->hdr + r->hlen, p, sz * n);
		r->hlen += sz * n;
		r->hdr[r->hlen] = '\0';
	}
	return sz * n;
}

/* method path, then up to three extra request header lines, NULL-ended */
static void
request(struct reply *r, const char *method, const char *path, ...)
{
	struct curl_slist *hl = NULL;
	char url[1024];
	const char *h;
	va_list ap;
	CURL *c;

	memset(r, 0, sizeof(*r));
	c = curl_easy_init();
	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", F.port, path);
	va_start(ap, path);
	while ((h = va_arg(ap, const char *)) != NULL)
		hl = curl_slist_append(hl, h);
	va_end(ap);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
}

static void
reply_free(struct reply *r)
{
	free(r->body);
	r->body = NULL;
}

/* The value of response header name, or "" (a per-thread buffer). */
static const char *
header(const struct reply *r, const char *name)
{
	static _Thread_local char val[1024];
	const char *p = r->hdr, *e;
	size_t n = strlen(name), k;

	val[0] = '\0';
	while ((e = strstr(p, "\r\n")) != NULL) {
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			k = (size_t)(e - p);
			if (k >= sizeof(val))
				k = sizeof(val) - 1;
			memcpy(val, p, k);
			val[k] = '\0';
			return val;
		}
		p = e + 2;
	}
	return val;
}

static void
read_file(const char *rel, unsigned char **p, size_t *n)
{
	char path[512];
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", F.root, rel);
	assert_int_equal(stat(path, &sb), 0);
	*n = (size_t)sb.st_size;
	*p = malloc(*n + 1);
	assert_non_null(*p);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(*p, 1, *n, f), *n);
	fclose(f);
}

static void
test_etag(void **state)
{
	struct reply r;
	char want[35];

	request(&r, "GET", "/lists/watch-keyword.txt", NULL);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, strlen(KW_TXT));
	assert_memory_equal(r.body, KW_TXT, r.len);
	md5_hex(want, KW_TXT, strlen(KW_TXT));
	assert_string_equal(header(&r, "ETag"), want);
	assert_string_equal(header(&r, "Last-Modified"),
	    "Thu, 02 Jan 2020 03:04:05 GMT");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(header(&r, "Content-Encoding"), "");
	assert_int_equal(F.last_status, 200);
	assert_int_equal(F.last_bytes, strlen(KW_TXT));
	reply_free(&r);

	/* the second time it comes from the cache, and is the same */
	request(&r, "GET", "/lists/watch-keyword.txt", NULL);
	assert_string_equal(header(&r, "ETag"), want);
	reply_free(&r);

	request(&r, "GET", "/empty.txt", NULL);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, 0);
	assert_string_equal(header(&r, "ETag"),
	    "\"d41d8cd98f00b204e9800998ecf8427e\"");
	assert_string_equal(header(&r, "Content-Length"), "0");
	reply_free(&r);
}

static void
test_if_none_match(void **state)
{
	struct reply r;
	char etag[35], h[256];

	md5_hex(etag, KW_TXT, strlen(KW_TXT));

	snprintf(h, sizeof(h), "If-None-Match: %s", etag);
	request(&r, "GET", "/lists/watch-keyword.txt", h, NULL);
	assert_int_equal(r.code, 304);
	assert_int_equal(r.len, 0);
	assert_string_equal(header(&r, "ETag"), etag);
	assert_string_equal(header(&r, "Vary"), "Accept-Encoding");
	assert_string_equal(header(&r, "Cache-Control"), "public, max-age=60");
	assert_int_equal(F.last_status, 304);
	assert_int_equal(F.last_bytes, 0);
	reply_free(&r);

	snprintf(h, sizeof(h), "If-None-Match: \"aaaa\", %s , \"bbbb\"", etag);
	request(&r, "GET", "/lists/watch-keyword.txt", h, NULL);
	assert_int_equal(r.code, 304);
	assert_int_equal(r.len, 0);
	reply_free(&r);

	snprintf(h, sizeof(h), "If-None-Match: W/%s", etag);
	request(&r, "GET", "/lists/watch-keyword.txt", h, NULL);
	assert_int_equal(r.code, 304);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt", "If-None-Match: *",
	    NULL);
	assert_int_equal(r.code, 304);
	assert_int_equal(r.len, 0);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-None-Match: \"d41d8cd98f00b204e9800998ecf8427e\", W/\"x\"",
	    NULL);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, strlen(KW_TXT));
	reply_free(&r);

	/* a stale ETag wins over a date that alone would give a 304 */
	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-None-Match: \"0000\"",
	    "If-Modified-Since: Fri, 01 Jan 2038 00:00:00 GMT", NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);

	/* and a matching one wins over an old date */
	snprintf(h, sizeof(h), "If-None-Match: %s", etag);
	request(&r, "GET", "/lists/watch-keyword.txt", h,
	    "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT", NULL);
	assert_int_equal(r.code, 304);
	reply_free(&r);
}

static void
test_if_modified_since(void **state)
{
	struct reply r;

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: Thu, 02 Jan 2020 03:04:05 GMT", NULL);
	assert_int_equal(r.code, 304);
	assert_int_equal(r.len, 0);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: Thu, 02 Jan 2020 03:04:04 GMT", NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: Thursday, 02-Jan-20 03:04:05 GMT", NULL);
	assert_int_equal(r.code, 304);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: Thu Jan  2 03:04:05 2020", NULL);
	assert_int_equal(r.code, 304);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt",
	    "If-Modified-Since: yesterday", NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);
}

static void
expect_gzip(const char *ae, int gz)
{
	unsigned char *want;
	size_t wantlen;
	struct reply r;
	char etag[35], h[256];

	snprintf(h, sizeof(h), "Accept-Encoding: %s", ae);
	request(&r, "GET", "/lists/watch-keyword.txt", h, NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Vary"), "Accept-Encoding");
	assert_string_equal(header(&r, "Content-Type"),
	    "text/plain; charset=utf-8");
	if (gz) {
		read_file("lists/watch-keyword.txt.gz", &want, &wantlen);
		assert_string_equal(header(&r, "Content-Encoding"), "gzip");
	} else {
		read_file("lists/watch-keyword.txt", &want, &wantlen);
		assert_string_equal(header(&r, "Content-Encoding"), "");
	}
	assert_int_equal(r.len, wantlen);
	assert_memory_equal(r.body, want, wantlen);
	md5_hex(etag, want, wantlen);
	assert_string_equal(header(&r, "ETag"), etag);
	free(want);
	reply_free(&r);
}

static void
test_gzip(void **state)
{
	struct reply r;
	unsigned char *gz;
	size_t gzlen;
	char etag[35], h[256];

	expect_gzip("gzip", 1);
	expect_gzip("gzip, deflate, br", 1);
	expect_gzip("deflate;q=1.0, GZIP;q=0.5", 1);
	expect_gzip("*", 1);
	expect_gzip("gzip;q=0", 0);
	expect_gzip("gzip; q=0.000", 0);
	expect_gzip("gzip;q=0, *", 0);
	expect_gzip("*;q=0", 0);
	expect_gzip("identity", 0);
	expect_gzip("deflate, br", 0);
	expect_gzip("gzipx", 0);
	expect_gzip("gzip;q=2", 0);

	/* the gzip variant revalidates with its own ETag */
	read_file("lists/watch-keyword.txt.gz", &gz, &gzlen);
	md5_hex(etag, gz, gzlen);
	free(gz);
	snprintf(h, sizeof(h), "If-None-Match: %s", etag);
	request(&r, "GET", "/lists/watch-keyword.txt", h,
	    "Accept-Encoding: gzip", NULL);
	assert_int_equal(r.code, 304);
	assert_string_equal(header(&r, "Vary"), "Accept-Encoding");
	reply_free(&r);
	request(&r, "GET", "/lists/watch-keyword.txt", h, NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);

	/* no .gz sibling: no Vary, the plain bytes */
	request(&r, "GET", "/lists/blacklist-cidr.yml",
	    "Accept-Encoding: gzip", NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Vary"), "");
	assert_string_equal(header(&r, "Content-Encoding"), "");
	assert_string_equal(r.body, "- 10.0.0.0/8\n");
	reply_free(&r);

	/* the .gz itself is a file like any other */
	read_file("lists/watch-keyword.txt.gz", &gz, &gzlen);
	request(&r, "GET", "/lists/watch-keyword.txt.gz",
	    "Accept-Encoding: gzip", NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Content-Type"), "application/gzip");
	assert_string_equal(header(&r, "Content-Encoding"), "");
	assert_string_equal(header(&r, "Vary"), "");
	assert_int_equal(r.len, gzlen);
	assert_memory_equal(r.body, gz, gzlen);
	free(gz);
	reply_free(&r);

	/* a .gz without its plain file is not served under the plain name */
	request(&r, "GET", "/data.bin", "Accept-Encoding: gzip", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);
}

static void
test_head(void **state)
{
	struct reply r;
	char etag[35], len[32];

	md5_hex(etag, KW_JSON, strlen(KW_JSON));
	snprintf(len, sizeof(len), "%zu", strlen(KW_JSON));
	request(&r, "HEAD", "/lists/watch-keyword.json", NULL);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, 0);
	assert_string_equal(header(&r, "Content-Length"), len);
	assert_string_equal(header(&r, "ETag"), etag);
	assert_string_equal(header(&r, "Content-Type"),
	    "application/json; charset=utf-8");
	assert_string_equal(header(&r, "Vary"), "Accept-Encoding");
	assert_int_equal(F.last_status, 200);
	assert_int_equal(F.last_bytes, 0);
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.json", NULL);
	assert_int_equal(r.code, 200);
	assert_int_equal(F.last_bytes, strlen(KW_JSON));
	reply_free(&r);

	request(&r, "HEAD", "/nothing-here", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);
}

static void
expect_type(const char *path, const char *type)
{
	struct reply r;

	request(&r, "GET", path, NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Content-Type"), type);
	reply_free(&r);
}

static void
test_content_type(void **state)
{
	expect_type("/manifest.json", "application/json; charset=utf-8");
	expect_type("/lists/watch-keyword.txt", "text/plain; charset=utf-8");
	expect_type("/lists/blacklist-cidr.yml", "text/plain; charset=utf-8");
	expect_type("/index.html", "text/html; charset=utf-8");
	expect_type("/assets/site.css", "text/css; charset=utf-8");
	expect_type("/assets/app.js", "text/javascript; charset=utf-8");
	expect_type("/assets/logo.svg", "image/svg+xml");
	expect_type("/manifest.json.sig", "application/octet-stream");
	expect_type("/objects/" OBJ_SHA, "application/octet-stream");
	expect_type("/objects/" OBJ_SHA ".gz", "application/gzip");
}

static void
expect_cc(const char *path, const char *cc)
{
	struct reply r;

	request(&r, "GET", path, NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Cache-Control"), cc);
	reply_free(&r);
}

static void
test_cache_control(void **state)
{
	const char *year = "public, max-age=31536000, immutable";

	expect_cc("/manifest.json", "no-cache");
	expect_cc("/manifest.json.sig", "no-cache");
	expect_cc("/objects/" OBJ_SHA, year);
	expect_cc("/objects/" OBJ_SHA ".gz", year);
	expect_cc("/changes/1-5.json", year);
	expect_cc("/changes.json", "public, max-age=60");
	expect_cc("/lists/watch-keyword.json", "public, max-age=60");
	expect_cc("/", "public, max-age=60");
	expect_cc("/assets/site.css", "public, max-age=60");
}

static void
test_index(void **state)
{
	struct reply r;

	request(&r, "GET", "/", NULL);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "<title>root</title>"));
	assert_string_equal(header(&r, "Content-Type"),
	    "text/html; charset=utf-8");
	reply_free(&r);

	request(&r, "GET", "/docs/", NULL);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "<title>docs</title>"));
	reply_free(&r);

	request(&r, "GET", "/docs", NULL);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "<title>docs</title>"));
	reply_free(&r);

	request(&r, "GET", "/lists/", NULL);
	assert_int_equal(r.code, 404);
	assert_string_equal(header(&r, "Content-Type"),
	    "text/plain; charset=utf-8");
	reply_free(&r);

	request(&r, "GET", "/lists/watch-keyword.txt/", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);

	request(&r, "GET", "/lists/none.json", NULL);
	assert_int_equal(r.code, 404);
	assert_int_equal(F.last_status, 404);
	reply_free(&r);
}

static void
test_methods(void **state)
{
	const char *m[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
	struct reply r;
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		request(&r, m[i], "/manifest.json", NULL);
		assert_int_equal(r.code, 405);
		assert_string_equal(header(&r, "Allow"), "GET, HEAD");
		assert_null(strstr(r.body, "version"));
		reply_free(&r);
	}
}

static void
expect_refused(const char *path)
{
	struct reply r;

	request(&r, "GET", path, NULL);
	if (r.code != 400 && r.code != 404)
		fail_msg("%s: status %ld", path, r.code);
	if (r.body != NULL) {
		assert_null(strstr(r.body, "root:"));
		assert_null(strstr(r.body, "top secret"));
		assert_null(strstr(r.body, "half written"));
	}
	reply_free(&r);
}

static void
test_traversal(void **state)
{
	struct reply r;

	expect_refused("/../etc/passwd");
	expect_refused("/../../../../../../etc/passwd");
	expect_refused("/%2e%2e/etc/passwd");
	expect_refused("/%2e%2e/");
	expect_refused("/lists/%2e%2e/%2e%2e/outside/secret.txt");
	expect_refused("/lists/..%2f..%2foutside/secret.txt");
	expect_refused("/./manifest.json");
	expect_refused("//etc/passwd");
	expect_refused("/lists//watch-keyword.txt");
	expect_refused("/lists%5c..%5c..%5coutside%5csecret.txt");
	expect_refused("/evil");
	expect_refused("/evildir/secret.txt");
	expect_refused("/evildir/");
	expect_refused("/passwd");
	expect_refused("/.manifest.json.tmp.4242.7");
	expect_refused("/manifest.json%00.txt");
	expect_refused("/lists/%0a");

	request(&r, "GET", "/%2e%2e/etc/passwd", NULL);
	assert_int_equal(r.code, 400);
	reply_free(&r);
	request(&r, "GET", "//etc/passwd", NULL);
	assert_int_equal(r.code, 400);
	reply_free(&r);
	request(&r, "GET", "/evil", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);
	request(&r, "GET", "/manifest.json%00.txt", NULL);
	assert_int_equal(r.code, 400);
	reply_free(&r);

	/* the decoder itself */
	{
		char u[] = "/a%2e%2E/%41%zz%4%00x%";

		assert_int_equal(hl_static_unescape(NULL, NULL, u), 14);
		assert_string_equal(u, "/a../A%zz%4\x7fx%");
	}
}

static void
test_rename(void **state)
{
	struct reply r;
	char a[35], b[35], from[512], to[512];

	md5_hex(a, "AAAA\n", 5);
	md5_hex(b, "BBBB\n", 5);
	set_mtime("lists/watch-number.txt", T_FIXED);
	request(&r, "GET", "/lists/watch-number.txt", NULL);
	assert_string_equal(header(&r, "ETag"), a);
	reply_free(&r);

	/* same size, same mtime: only the inode tells the versions apart */
	put_file("lists/.watch-number.txt.tmp", "BBBB\n", 5);
	set_mtime("lists/.watch-number.txt.tmp", T_FIXED);
	snprintf(from, sizeof(from), "%s/lists/.watch-number.txt.tmp",
	    F.root);
	snprintf(to, sizeof(to), "%s/lists/watch-number.txt", F.root);
	assert_int_equal(rename(from, to), 0);
	request(&r, "GET", "/lists/watch-number.txt", NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "BBBB\n");
	assert_string_equal(header(&r, "ETag"), b);
	reply_free(&r);

	snprintf(from, sizeof(from), "If-None-Match: %s", a);
	request(&r, "GET", "/lists/watch-number.txt", from, NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);
}

/* GET path on handle c; returns the status, the ETag in etag */
static long
quick_get(CURL *c, const char *path, char etag[64])
{
	struct reply r;
	char url[256];
	long code = 0;

	memset(&r, 0, sizeof(r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", F.port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	snprintf(etag, 64, "%s", header(&r, "ETag"));
	free(r.body);
	return code;
}

#define MANY	1500	/* more files than the cache has slots */

static void
test_cache_capacity(void **state)
{
	char rel[64], path[256], body[32], want[35], got[64];
	CURL *c;
	int i, round;

	snprintf(path, sizeof(path), "%s/many", F.root);
	assert_int_equal(mkdir(path, 0755), 0);
	for (i = 0; i < MANY; i++) {
		snprintf(rel, sizeof(rel), "many/f%d.txt", i);
		snprintf(body, sizeof(body), "file %d\n", i);
		put_file(rel, body, strlen(body));
	}
	c = curl_easy_init();
	assert_non_null(c);
	for (round = 0; round < 2; round++)
		for (i = 0; i < MANY; i += round + 1) {
			snprintf(path, sizeof(path), "/many/f%d.txt", i);
			snprintf(body, sizeof(body), "file %d\n", i);
			md5_hex(want, body, strlen(body));
			assert_int_equal(quick_get(c, path, got), 200);
			assert_string_equal(got, want);
		}
	curl_easy_cleanup(c);
}

struct hammer {
	pthread_t	t;
	int		n;
	int		bad;
};

static void *
hammer_run(void *arg)
{
	static const char *const paths[] = {
		"/lists/watch-keyword.txt", "/lists/watch-keyword.json",
		"/manifest.json", "/changes.json", "/empty.txt",
	};
	static const char *const bodies[] = {
		KW_TXT, KW_JSON, MANIFEST, "{\"segments\":[\"1-5\"]}\n", "",
	};
	struct hammer *h = arg;
	char want[35], got[64];
	CURL *c;
	int i;

	if ((c = curl_easy_init()) == NULL) {
		h->bad++;
		return NULL;
	}
	for (i = 0; i < h->n; i++) {
		size_t k = (size_t)i % 5;

		md5_hex(want, bodies[k], strlen(bodies[k]));
		if (quick_get(c, paths[k], got) != 200 ||
		    strcmp(got, want) != 0)
			h->bad++;
	}
	curl_easy_cleanup(c);
	return NULL;
}

static void
test_threads(void **state)
{
	struct hammer h[4];
	int i;

	for (i = 0; i < 4; i++) {
		h[i].n = 50;
		h[i].bad = 0;
		assert_int_equal(pthread_create(&h[i].t, NULL, hammer_run,
		    &h[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(h[i].t, NULL);
		assert_int_equal(h[i].bad, 0);
	}
}

static void
test_new_rejects_non_directory(void **state)
{
	struct hl_static *s = (struct hl_static *)&s;
	struct hl_err err = HL_ERR_INIT;
	char path[512];

	snprintf(path, sizeof(path), "%s/manifest.json", F.root);
	assert_int_equal(hl_static_new(&s, path, &err), HL_EINVAL);
	assert_null(s);
	assert_int_equal(err.code, HL_EINVAL);
	snprintf(path, sizeof(path), "%s/no-such-dir", F.root);
	assert_int_equal(hl_static_new(&s, path, &err), HL_EINVAL);
	assert_null(s);
	hl_static_free(NULL);
}

/* Waits (up to 5 s) until the table has been built more than n times. */
static void
wait_build(unsigned long n)
{
	unsigned long b, h;
	int i;

	for (i = 0; i < 500; i++) {
		hl_static_counts(F.st, &b, &h);
		if (b > n)
			return;
		usleep(10000);
	}
	fail_msg("no table built after %lu", n);
}

/* Replaces rel with text by a temporary file and rename, as publishers do. */
static void
replace_file(const char *rel, const char *text)
{
	char tmp[256], from[512], to[512];
	const char *slash = strrchr(rel, '/');

	snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", slash ? (int)(slash - rel +
	    1) : 0, rel, slash ? slash + 1 : rel);
	put_file(tmp, text, strlen(text));
	snprintf(from, sizeof(from), "%s/%s", F.root, tmp);
	snprintf(to, sizeof(to), "%s/%s", F.root, rel);
	assert_int_equal(rename(from, to), 0);
}

static void
test_table_fresh(void **state)
{
	unsigned long b0, h0, b1, h1;
	struct reply r;
	char want[35], etag[64];
	char text[256];
	int i;

	/* the files of test_cache_capacity are more than a table holds */
	hl_static_counts(F.st, &b0, &h0);
	snprintf(text, sizeof(text), "%s/many", F.root);
	nftw(text, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	/* a table is built and answers the tree's files */
	wait_build(b0);
	for (i = 0; i < 500; i++) {
		hl_static_counts(F.st, &b0, &h0);
		request(&r, "GET", "/manifest.json", NULL);
		assert_int_equal(r.code, 200);
		reply_free(&r);
		hl_static_counts(F.st, &b1, &h1);
		if (h1 > h0)
			break;
		usleep(10000);
	}
	assert_true(h1 > h0);

	/* a file renamed over is served at once, before any rebuild */
	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "{\"version\":%d}\n", 100 + i);
		hl_static_counts(F.st, &b0, &h0);
		replace_file("manifest.json", text);
		md5_hex(want, text, strlen(text));
		request(&r, "GET", "/manifest.json", NULL);
		assert_int_equal(r.code, 200);
		assert_string_equal(r.body, text);
		assert_string_equal(header(&r, "ETag"), want);
		reply_free(&r);
		/* and from the new table once it is built */
		wait_build(b0);
		request(&r, "GET", "/manifest.json", "Accept-Encoding: gzip",
		    NULL);
		snprintf(etag, sizeof(etag), "%s", header(&r, "ETag"));
		reply_free(&r);
		/* the .gz is older than the new plain file: its own ETag */
		assert_string_not_equal(etag, want);
		request(&r, "GET", "/manifest.json", NULL);
		assert_string_equal(header(&r, "ETag"), want);
		assert_string_equal(r.body, text);
		reply_free(&r);
	}
	put_with_gz("manifest.json", MANIFEST);
}

/* Marks root/rel with md5 for its size and mtime (void_it: another). */
static void
mark_file(const char *rel, const char *md5, int void_it)
{
	char path[512];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", F.root, rel);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (void_it)
		st.st_mtim.tv_sec -= 10;
	assert_int_equal(hl_etagmark_set(fd, &st, md5), 0);
	close(fd);
}

static void
test_table_etag_mark(void **state)
{
	static const char fake[] = "0badc0de0badc0de0badc0de0badc0de";
	static const char marked[] = "bytes whose writer marked an ETag\n";
	static const char voided[] = "bytes whose mark is of another mtime\n";
	unsigned long b0, h0, b1, h1;
	struct reply r;
	char want[35], got[512];
	int i;

	hl_static_counts(F.st, &b0, &h0);
	put_file("marked.txt", marked, strlen(marked));
	put_file("voided.txt", voided, strlen(voided));
	mark_file("marked.txt", fake, 0);
	mark_file("voided.txt", fake, 1);
	wait_build(b0);
	/* from the table: the mark's ETag, not an MD5 of the bytes */
	for (i = 0; i < 500; i++) {
		hl_static_counts(F.st, &b0, &h0);
		request(&r, "GET", "/marked.txt", NULL);
		assert_int_equal(r.code, 200);
		assert_string_equal(r.body, marked);
		snprintf(got, sizeof(got), "%s", header(&r, "ETag"));
		reply_free(&r);
		hl_static_counts(F.st, &b1, &h1);
		if (h1 > h0)
			break;
		usleep(10000);
	}
	assert_true(h1 > h0);
	assert_string_equal(got, "\"0badc0de0badc0de0badc0de0badc0de\"");
	/* a mark of another mtime does not hold: the bytes are hashed */
	request(&r, "GET", "/voided.txt", NULL);
	md5_hex(want, voided, strlen(voided));
	assert_string_equal(header(&r, "ETag"), want);
	reply_free(&r);
	snprintf(got, sizeof(got), "%s/marked.txt", F.root);
	assert_int_equal(unlink(got), 0);
	snprintf(got, sizeof(got), "%s/voided.txt", F.root);
	assert_int_equal(unlink(got), 0);
}

static void
test_table_waits_for_tmp(void **state)
{
	unsigned long b0, h0, b1, h1;
	char from[512], to[512];
	struct reply r;

	usleep(300000);	/* the walk after the last test is over */
	hl_static_counts(F.st, &b0, &h0);
	/* a writer's temporary file, made and not yet renamed ... */
	put_file(".pending.json.tmp", "{}\n", 3);
	/* ... while another file is replaced: served at once, */
	replace_file("early.txt", "early\n");
	request(&r, "GET", "/early.txt", NULL);
	assert_string_equal(r.body, "early\n");
	reply_free(&r);
	/* but no table walked while the temporary file waits */
	usleep(200000);
	hl_static_counts(F.st, &b1, &h1);
	assert_int_equal(b1, b0);
	/* renamed into place: the table is walked */
	snprintf(from, sizeof(from), "%s/.pending.json.tmp", F.root);
	snprintf(to, sizeof(to), "%s/pending.json", F.root);
	assert_int_equal(rename(from, to), 0);
	wait_build(b0);
	assert_int_equal(unlink(to), 0);
	snprintf(to, sizeof(to), "%s/early.txt", F.root);
	assert_int_equal(unlink(to), 0);
}

/*
 * A publish the publisher announces: no table is walked while it goes
 * on, however long it pauses between files (each pause longer than the
 * quiet time a change by another writer waits for), its files are served
 * new at once all the same, and its end walks the tree once.
 */
static void
test_table_walked_once_per_publish(void **state)
{
	unsigned long b0, h0, b1, h1;
	struct reply r;
	char text[64], rel[64], path[512];
	int i;

	usleep(300000);	/* the walk after the last test is over */
	hl_static_counts(F.st, &b0, &h0);
	hl_static_publishing(F.st, 1);
	for (i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "published-%d.txt", i);
		snprintf(text, sizeof(text), "file %d of the publish\n", i);
		replace_file(rel, text);
		request(&r, "GET", "/published-0.txt", NULL);
		assert_int_equal(r.code, 200);
		assert_string_equal(r.body, "file 0 of the publish\n");
		reply_free(&r);
		usleep(80000);
	}
	hl_static_counts(F.st, &b1, &h1);
	assert_int_equal(b1, b0);
	hl_static_publishing(F.st, 0);
	wait_build(b0);
	usleep(200000);
	hl_static_counts(F.st, &b1, &h1);
	assert_int_equal(b1, b0 + 1);
	/* and the table holds the publish's files */
	request(&r, "GET", "/published-3.txt", NULL);
	assert_string_equal(r.body, "file 3 of the publish\n");
	reply_free(&r);
	hl_static_counts(F.st, &b0, &h0);
	assert_true(h0 > h1);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/published-%d.txt", F.root, i);
		assert_int_equal(unlink(path), 0);
	}
}

static void
test_table_gone(void **state)
{
	struct reply r;
	char path[512], want[35];
	unsigned long b, h;

	/* in the table... */
	request(&r, "GET", "/assets/logo.svg", NULL);
	assert_int_equal(r.code, 200);
	reply_free(&r);
	hl_static_counts(F.st, &b, &h);
	/* ...removed: 404 at once, never the bytes held */
	snprintf(path, sizeof(path), "%s/assets/logo.svg", F.root);
	assert_int_equal(unlink(path), 0);
	request(&r, "GET", "/assets/logo.svg", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);
	wait_build(b);
	request(&r, "GET", "/assets/logo.svg", NULL);
	assert_int_equal(r.code, 404);
	reply_free(&r);

	/* a file written in place (no rename) is served new at once */
	put_file("assets/site.css", "body{color:red}\n", 16);
	md5_hex(want, "body{color:red}\n", 16);
	request(&r, "GET", "/assets/site.css", NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "body{color:red}\n");
	assert_string_equal(header(&r, "ETag"), want);
	reply_free(&r);

	/* a new directory and its file are served at once */
	snprintf(path, sizeof(path), "%s/fresh", F.root);
	assert_int_equal(mkdir(path, 0755), 0);
	put_file("fresh/new.txt", "new\n", 4);
	request(&r, "GET", "/fresh/new.txt", NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "new\n");
	reply_free(&r);
	put_file("assets/logo.svg", "<svg/>\n", 7);
}

/* The open descriptors of the process. */
static int
count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

static void
test_table_fds(void **state)
{
	unsigned long b, h;
	struct reply r;
	char text[64];
	int before, after, i;

	wait_build(0);
	request(&r, "GET", "/lists/watch-keyword.json", NULL);
	reply_free(&r);
	before = count_fds();
	for (i = 0; i < 50; i++) {
		hl_static_counts(F.st, &b, &h);
		snprintf(text, sizeof(text), "{\"items\":[\"%d\"]}\n", i);
		replace_file("lists/watch-keyword.json", text);
		replace_file("lists/blacklist-cidr.yml", text);
		wait_build(b);
		request(&r, "GET", "/lists/watch-keyword.json", NULL);
		assert_string_equal(r.body, text);
		reply_free(&r);
	}
	after = count_fds();
	if (after > before + 4)
		fail_msg("descriptors: %d before 50 publishes, %d after",
		    before, after);
	put_with_gz("lists/watch-keyword.json", KW_JSON);
	put_file("lists/blacklist-cidr.yml", "- 10.0.0.0/8\n", 13);
}

static void
test_range_ignored(void **state)
{
	struct reply r;

	request(&r, "GET", "/lists/watch-keyword.txt", "Range: bytes=0-3",
	    NULL);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, KW_TXT);
	assert_string_equal(header(&r, "Accept-Ranges"), "none");
	reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		{ "the ETag is the quoted MD5 of the file's bytes",
		    test_etag, NULL, NULL, NULL },
		{ "If-None-Match answers 304 for exact, listed, weak and *",
		    test_if_none_match, NULL, NULL, NULL },
		{ "If-Modified-Since answers 304 when not modified",
		    test_if_modified_since, NULL, NULL, NULL },
		{ "the .gz sibling is sent to clients that accept gzip",
		    test_gzip, NULL, NULL, NULL },
		{ "HEAD sends the headers of GET and no body",
		    test_head, NULL, NULL, NULL },
		{ "the Content-Type follows the suffix",
		    test_content_type, NULL, NULL, NULL },
		{ "the Cache-Control follows the file class",
		    test_cache_control, NULL, NULL, NULL },
		{ "a directory is served by its index.html",
		    test_index, NULL, NULL, NULL },
		{ "methods other than GET and HEAD get 405",
		    test_methods, NULL, NULL, NULL },
		{ "no request reaches a file outside the root",
		    test_traversal, NULL, NULL, NULL },
		{ "a file replaced by rename gets a new ETag",
		    test_rename, NULL, NULL, NULL },
		{ "ETags stay right with more files than the cache holds",
		    test_cache_capacity, NULL, NULL, NULL },
		{ "parallel requests on several threads get the right ETags",
		    test_threads, NULL, NULL, NULL },
		{ "a root that is not a directory is refused",
		    test_new_rejects_non_directory, NULL, NULL, NULL },
		{ "the table answers, and a file renamed over is new at once",
		    test_table_fresh, NULL, NULL, NULL },
		{ "the table takes the ETag its writer marked on a file",
		    test_table_etag_mark, NULL, NULL, NULL },
		{ "no table is walked while a temporary file waits renaming",
		    test_table_waits_for_tmp, NULL, NULL, NULL },
		{ "a publish announced is walked once, at its end",
		    test_table_walked_once_per_publish, NULL, NULL, NULL },
		{ "a removed, rewritten or new file is seen at once",
		    test_table_gone, NULL, NULL, NULL },
		{ "50 publishes leave the open descriptors as they were",
		    test_table_fds, NULL, NULL, NULL },
		{ "a Range request gets the whole file (Accept-Ranges: none)",
		    test_range_ignored, NULL, NULL, NULL },
	};

	return cmocka_run_group_tests_name("static", tests, setup, teardown);
}
