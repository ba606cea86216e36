/*
 * test_fetch: the parts of fetch.c and pull.c that need no server:
 * Retry-After values, paths that would leave the tree, conditional reads
 * of a local directory, and manifests a client must refuse to parse.
 * (Servers, real and broken, are in tests/integration/t0600-pull.sh.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fetch.h"
#include "pull.h"

#define TEST(name, fn)	{ name, fn, NULL, NULL, NULL }

static void
retry_after_takes_seconds_and_dates(void **state)
{
	(void)state;
	assert_int_equal(hl_fetch_retry_after("120", 0), 120);
	assert_int_equal(hl_fetch_retry_after(" 7\r\n", 0), 7);
	assert_int_equal(hl_fetch_retry_after("-3", 0), -1);
	assert_int_equal(hl_fetch_retry_after("soon", 0), -1);
	/* Thu, 01 Jan 1970 00:01:40 GMT is 100. */
	assert_int_equal(hl_fetch_retry_after(
	    "Thu, 01 Jan 1970 00:01:40 GMT", 40), 60);
	assert_int_equal(hl_fetch_retry_after(
	    "Thu, 01 Jan 1970 00:01:40 GMT", 500), 0);
}

static void
paths_outside_the_tree_are_refused(void **state)
{
	static const char *const bad[] = { "../etc/passwd", "/etc/passwd",
	    "lists/../../x", "lists//x", "lists/", "", "a\\b", "./x" };
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_fetch *f = NULL;
	size_t i;

	(void)state;
	assert_int_equal(hl_fetch_new(&f, "/tmp", NULL, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hl_fetch_get(&res, f, bad[i], NULL, 0, 0,
		    NULL), HL_EINVAL);
	hl_fetch_free(f);
	hl_buf_free(&res.body);
	assert_int_equal(hl_fetch_new(&f, "ftp://example.org/", NULL, NULL),
	    HL_EINVAL);
	assert_null(f);
}

static void
a_directory_answers_like_a_server(void **state)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_fetch_stats st;
	struct hl_fetch *f = NULL;
	char dir[] = "/tmp/helios-fetch.XXXXXX", path[64], etag[160];
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("hello\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "file://%s", dir);
	assert_int_equal(hl_fetch_new(&f, path, NULL, NULL), 0);
	assert_int_equal(hl_fetch_get(&res, f, "a.txt", NULL, 0, 0, NULL), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body.len, 6);
	/* The ETag is the quoted MD5 of the bytes, as S3 and the daemon. */
	assert_string_equal(res.etag, "\"b1946ac92492d2347c6235b4d2611184\"");
	snprintf(etag, sizeof(etag), "%s", res.etag);
	assert_int_equal(hl_fetch_get(&res, f, "a.txt", etag, 0, 0, NULL), 0);
	assert_int_equal(res.status, 304);
	assert_int_equal(res.body.len, 0);
	assert_int_equal(hl_fetch_get(&res, f, "a.txt", NULL, 5, 0, NULL),
	    HL_ETOOBIG);
	assert_int_equal(hl_fetch_get(&res, f, "b.txt", NULL, 0, 0, NULL),
	    HL_ENOTFOUND);
	hl_fetch_stats(&st, f);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.bytes, 6);
	assert_int_equal(st.not_modified, 1);
	hl_fetch_free(f);
	hl_buf_free(&res.body);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	unlink(path);
	rmdir(dir);
}

static void
bad_manifests_are_refused(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{\"format\":2,\"version\":1,\"expires_at\":1,\"files\":[],"
		"\"lists\":[]}",
		"{\"format\":1,\"version\":1,\"files\":[],\"lists\":[]}",
		/* a file path that climbs out of the tree */
		"{\"format\":1,\"version\":1,\"expires_at\":1,\"lists\":[],"
		"\"files\":[{\"path\":\"../x\",\"bytes\":1,\"sha256\":"
		"\"0000000000000000000000000000000000000000000000000000000000"
		"000000\"}]}",
		/* a list file name with a slash */
		"{\"format\":1,\"version\":1,\"expires_at\":1,\"files\":[],"
		"\"lists\":[{\"id\":\"x\",\"file\":\"../bad_keywords.txt\","
		"\"format\":\"plain\",\"text\":\"lists/x.txt\"}]}",
		/* a list whose text file is not among the files */
		"{\"format\":1,\"version\":1,\"expires_at\":1,\"files\":[],"
		"\"lists\":[{\"id\":\"x\",\"file\":\"x.txt\","
		"\"format\":\"plain\",\"text\":\"lists/x.txt\"}]}",
	};
	struct hl_pull_manifest m;
	struct hl_err e = HL_ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hl_pull_manifest_parse(&m, bad[i],
		    strlen(bad[i]), &e), HL_EINVAL);
		assert_int_equal(m.nfiles, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST("Retry-After is read as seconds or as an HTTP date",
		    retry_after_takes_seconds_and_dates),
		TEST("paths that would leave the tree are refused",
		    paths_outside_the_tree_are_refused),
		TEST("a directory answers ETags, 304s, caps and 404s like a "
		    "server", a_directory_answers_like_a_server),
		TEST("manifests a client must not trust are refused",
		    bad_manifests_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
