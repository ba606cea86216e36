/*
 * test_fetch: the parts of fetch.c and pull.c that need no server:
 * Retry-After values, paths that would leave the tree, conditional reads
 * of a local directory, manifests and change lists a client must refuse
 * to parse, the names pull writes, and the sink's caps on what a
 * download may be or inflate to.  (Servers, real and broken, are in
 * tests/integration/t0600-pull.sh and t0620-pull-hostile.sh.)
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

#include "blob.h"
#include "fetch.h"
#include "item.h"
#include "pull.h"
#include "sink.h"

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

#define Z64	"000000000000000000000000000000000000000000000000000000" \
		"0000000000"
/* A manifest with one file, lists/t.txt, and extra keys in its entry. */
#define MF(extra) "{\"format\":1,\"version\":1,\"expires_at\":1," \
	"\"files\":[{\"path\":\"lists/t.txt\",\"bytes\":1,\"sha256\":\"" \
	Z64 "\"" extra "}],\"lists\":["
#define LIST(id, file, fmt) "{\"id\":\"" id "\",\"file\":\"" file "\"," \
	"\"format\":\"" fmt "\",\"text\":\"lists/t.txt\"}"

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
		/* a known list under a name of the mirror's choosing */
		MF("") LIST("blacklist-keyword", "findspam.py", "plain") "]}",
		/* a known list in another format */
		MF("") LIST("blacklist-keyword", "bad_keywords.txt", "tsv")
		"]}",
		/* one id twice */
		MF("") LIST("blacklist-keyword", "bad_keywords.txt", "plain")
		"," LIST("blacklist-keyword", "bad_keywords.txt", "plain") "]}",
		/* two lists, one file (an unknown id) */
		MF("") LIST("blacklist-keyword", "bad_keywords.txt", "plain")
		"," LIST("x-files", "bad_keywords.txt", "plain") "]}",
		/* an unknown id naming notifications.json */
		MF("") LIST("x-files", "notifications.json", "plain") "]}",
		/* object paths that climb out of the tree */
		MF(",\"object\":\"../../etc/passwd\"")
		LIST("blacklist-keyword", "bad_keywords.txt", "plain") "]}",
		MF(",\"object\":\"/etc/passwd\"")
		LIST("blacklist-keyword", "bad_keywords.txt", "plain") "]}",
		MF(",\"gz\":{\"path\":\"lists/../../x.gz\",\"bytes\":1,"
		"\"sha256\":\"" Z64 "\"}")
		LIST("blacklist-keyword", "bad_keywords.txt", "plain") "]}",
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

static void
a_good_manifest_names_the_known_files(void **state)
{
	static const char ok[] = MF("") LIST("blacklist-keyword",
	    "bad_keywords.txt", "plain") "," LIST("x-files", "findspam.py",
	    "plain") "]}";
	struct hl_pull_manifest m;
	struct hl_err e = HL_ERR_INIT;

	(void)state;
	assert_int_equal(hl_pull_manifest_parse(&m, ok, strlen(ok), &e), 0);
	assert_int_equal(m.nlists, 2);
	assert_string_equal(m.lists[0].local, "bad_keywords.txt");
	assert_null(m.lists[1].local);	/* unknown: never written */
	hl_pull_manifest_clear(&m);
}

static void
the_eleven_lists_have_fixed_names(void **state)
{
	static const char *const ids[][2] = {
		{ "blacklist-keyword", "bad_keywords.txt" },
		{ "blacklist-website", "blacklisted_websites.txt" },
		{ "blacklist-username", "blacklisted_usernames.txt" },
		{ "blacklist-number", "blacklisted_numbers.txt" },
		{ "watch-keyword", "watched_keywords.txt" },
		{ "watch-number", "watched_numbers.txt" },
		{ "blacklist-cidr", "blacklisted_cidrs.yml" },
		{ "watch-cidr", "watched_cidrs.yml" },
		{ "blacklist-ns", "blacklisted_nses.yml" },
		{ "watch-ns", "watched_nses.yml" },
		{ "watch-asn", "watched_asns.yml" },
	};
	size_t i;
	int fmt;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_string_equal(hl_pull_known_file(ids[i][0], &fmt),
		    ids[i][1]);
	assert_null(hl_pull_known_file("findspam", &fmt));
	assert_null(hl_pull_known_file("../bad_keywords.txt", &fmt));
	assert_null(hl_pull_known_file(NULL, &fmt));
	assert_int_equal((hl_pull_known_file("watch-asn", &fmt), fmt),
	    HL_FMT_YAML_ASN);
}

static void
change_segments_outside_the_tree_are_refused(void **state)
{
	static const char *const bad[] = {
		"{\"segments\":[{\"path\":\"../../etc/passwd\",\"bytes\":1,"
		"\"sha256\":\"" Z64 "\",\"from\":1,\"to\":2}]}",
		"{\"segments\":[{\"path\":\"changes/1-2.json\",\"bytes\":1,"
		"\"sha256\":\"" Z64 "\",\"object\":\"/etc/passwd\","
		"\"from\":1,\"to\":2}]}",
		"{\"segments\":[{\"path\":\"changes/1-2.json\",\"bytes\":1,"
		"\"sha256\":\"" Z64 "\",\"gz\":{\"path\":\"changes/../..\","
		"\"bytes\":1,\"sha256\":\"" Z64 "\"},\"from\":1,\"to\":2}]}",
	};
	static const char good[] = "{\"segments\":[{\"path\":"
	    "\"changes/1-2.json\",\"bytes\":1,\"sha256\":\"" Z64 "\","
	    "\"from\":1,\"to\":2}]}";
	struct hl_pull_changes c;
	struct hl_err e = HL_ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hl_pull_changes_parse(&c, bad[i],
		    strlen(bad[i]), &e), HL_EINVAL);
		assert_int_equal(c.nsegs, 0);
	}
	assert_int_equal(hl_pull_changes_parse(&c, good, strlen(good), &e), 0);
	assert_int_equal(c.nsegs, 1);
	hl_pull_changes_clear(&c);
}

/* Feeds p to a sink in pieces of at most 1000 bytes. */
static int
feed(struct hl_sink *s, const void *p, size_t len, struct hl_err *e)
{
	size_t n;
	int rc;

	while (len > 0) {
		n = len < 1000 ? len : 1000;
		if ((rc = hl_sink_write(s, p, n, e)) != 0)
			return rc;
		p = (const char *)p + n;
		len -= n;
	}
	return 0;
}

static void
the_sink_caps_what_a_gzip_inflates_to(void **state)
{
	struct hl_buf gz = HL_BUF_INIT, out = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	struct hl_sink *s = NULL;
	char *zeros, raw[65], id[65], sha[65], md5[33];
	uint64_t rawn, idn;
	size_t big = (size_t)16 << 20;

	(void)state;
	/* 16 MiB of zeros is a gzip of 16 KB: a small bomb. */
	assert_non_null(zeros = calloc(1, big));
	assert_int_equal(hl_gzip(&gz, zeros, big, 9, &e), 0);
	assert_true(gz.len < 65536);

	/* Claimed 1000 bytes: stopped at the 1001st, nothing more kept. */
	assert_int_equal(hl_sink_new(&s, 1, gz.len, 1000, -1, &out, &e), 0);
	assert_int_equal(feed(s, gz.data, gz.len, &e), HL_ETOOBIG);
	assert_true(out.len <= 1000);
	hl_sink_free(s);
	hl_buf_reset(&out);

	/* The claimed size of the gzip itself is a cap too. */
	assert_int_equal(hl_sink_new(&s, 1, gz.len - 1, big, -1, NULL, &e),
	    0);
	assert_int_equal(feed(s, gz.data, gz.len, &e), HL_ETOOBIG);
	hl_sink_free(s);

	/* Within its claims it inflates whole, with both hashes. */
	assert_int_equal(hl_sink_new(&s, 1, gz.len, big, -1, NULL, &e), 0);
	assert_int_equal(feed(s, gz.data, gz.len, &e), 0);
	assert_int_equal(hl_sink_finish(s, raw, &rawn, id, &idn, &e), 0);
	assert_int_equal(rawn, gz.len);
	assert_int_equal(idn, big);
	hl_digest(sha, md5, zeros, big);
	assert_string_equal(id, sha);
	hl_digest(sha, md5, gz.data, gz.len);
	assert_string_equal(raw, sha);
	/* ... and a byte after the end of the stream is refused. */
	assert_int_equal(hl_sink_write(s, "x", 1, &e), HL_EINVAL);
	hl_sink_free(s);

	/* A truncated gzip does not finish. */
	assert_int_equal(hl_sink_new(&s, 1, gz.len, big, -1, NULL, &e), 0);
	assert_int_equal(feed(s, gz.data, gz.len - 8, &e), 0);
	assert_int_equal(hl_sink_finish(s, raw, &rawn, id, &idn, &e),
	    HL_EINVAL);
	hl_sink_free(s);

	/* Without gzip, the raw count is the cap. */
	assert_int_equal(hl_sink_new(&s, 0, 10, 0, -1, &out, &e), 0);
	assert_int_equal(hl_sink_write(s, "0123456789", 10, &e), 0);
	assert_int_equal(hl_sink_write(s, "a", 1, &e), HL_ETOOBIG);
	assert_int_equal(out.len, 10);
	hl_sink_free(s);

	free(zeros);
	hl_buf_free(&gz);
	hl_buf_free(&out);
}

static void
max_sizes_are_read_with_suffixes(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(hl_pull_parse_size(&v, "67108864"), 0);
	assert_int_equal(v, 67108864);
	assert_int_equal(hl_pull_parse_size(&v, "64M"), 0);
	assert_int_equal(v, (uint64_t)64 << 20);
	assert_int_equal(hl_pull_parse_size(&v, "1k"), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(hl_pull_parse_size(&v, "2G"), 0);
	assert_int_equal(v, (uint64_t)2 << 30);
	assert_int_equal(hl_pull_parse_size(&v, "0"), -1);
	assert_int_equal(hl_pull_parse_size(&v, "-1"), -1);
	assert_int_equal(hl_pull_parse_size(&v, "12Q"), -1);
	assert_int_equal(hl_pull_parse_size(&v, "2048G"), -1);
	assert_int_equal(hl_pull_parse_size(&v, ""), -1);
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
		TEST("a good manifest names the files this client knows, and"
		    " none for an unknown list",
		    a_good_manifest_names_the_known_files),
		TEST("the eleven SmokeDetector lists have fixed names",
		    the_eleven_lists_have_fixed_names),
		TEST("change segments whose paths leave the tree are refused",
		    change_segments_outside_the_tree_are_refused),
		TEST("the sink caps what a download is and what a gzip"
		    " inflates to", the_sink_caps_what_a_gzip_inflates_to),
		TEST("--max-size is read with k, M and G suffixes",
		    max_sizes_are_read_with_suffixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
