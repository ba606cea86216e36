/*
 * test_site: the site renderer (gen/site*.c) on rows made here, with the
 * repository's site/ templates and with none: every page is made, values
 * from the lists and events are escaped, each list gets its page and
 * feed, the change rows link to the entry's permalink, the index shows
 * sizes, hashes and the key's fingerprint, and the API page documents
 * every endpoint of schema/openapi.json, and changes to notifications
 * (which name chat users) are left out; the index shows the propagation
 * delay measured to each public copy, escaped, or that none was.  A
 * cache kept across builds gives the same pages as none, makes a list's
 * page or feed again only when what it shows changed, and keeps the API
 * reference with the openapi.json text it was made from.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "par.h"
#include "site.h"
#include "site_int.h"

static const char seg[] =
    "{\"from\":1,\"to\":3,\"events\":["
    "{\"version\":1,\"at\":1700000000,\"op\":\"add\",\"list\":"
    "\"watch-keyword\",\"value\":\"spam\\\\.example\",\"actor\":\"alice\","
    "\"record\":{\"id\":7}},"
    "{\"version\":2,\"at\":1700000060,\"op\":\"add\",\"list\":"
    "\"watch-keyword\",\"value\":\"<script>x</script>\",\"actor\":"
    "\"bob & co\",\"record\":{\"id\":8}},"
    "{\"version\":3,\"at\":1700000120,\"op\":\"delete\",\"list\":"
    "\"blacklist-cidr\",\"value\":\"10.0.0.0/8\",\"actor\":\"carol\","
    "\"record\":{\"id\":3}},"
    "{\"version\":4,\"at\":1700000180,\"op\":\"add\",\"list\":"
    "\"notifications\",\"value\":\"user 4242 in room 17\",\"actor\":"
    "\"dave\",\"record\":{\"id\":1}}]}";

static struct hl_list lists[2] = {
	{ .id = "watch-keyword", .file = "watched_keywords.txt",
	    .fmt = HL_FMT_TSV, .version = 2, .count = 2 },
	{ .id = "blacklist-cidr", .file = "blacklisted_cidrs.yml",
	    .fmt = HL_FMT_YAML_CIDR, .version = 3, .count = 0 },
};

static const char *
page(const struct hl_site_file *f, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].path, path) == 0)
			return f[i].data;
	return NULL;
}

/* The propagation the next build() shows (none by default). */
static const struct hl_site_prop *props;
static size_t nprops;

static const char seg2[] =
    "{\"from\":5,\"to\":6,\"events\":["
    "{\"version\":5,\"at\":1700000240,\"op\":\"add\",\"list\":"
    "\"watch-keyword\",\"value\":\"later\",\"actor\":\"erin\","
    "\"record\":{\"id\":9}},"
    "{\"version\":6,\"at\":1700000300,\"op\":\"delete\",\"list\":"
    "\"blacklist-cidr\",\"value\":\"192.0.2.0/24\",\"actor\":"
    "\"frank\",\"record\":{\"id\":4}}]}";

static const char seg3[] =
    "{\"from\":7,\"to\":7,\"events\":["
    "{\"version\":7,\"at\":1700000360,\"op\":\"add\",\"list\":"
    "\"watch-keyword\",\"value\":\"newest\",\"actor\":\"grace\","
    "\"record\":{\"id\":10}}]}";

/*
 * The window, cache and second thread the next build() uses (seg alone,
 * none, none).
 */
static struct hl_site_seg *win;
static size_t nwin;
static struct hl_site_cache *cache;
static struct hl_par *par;
/* The lists the next build() shows: from lists[first_list] on. */
static size_t first_list;

static void
build(struct hl_site_file **f, size_t *n, const char *site_dir)
{
	static struct hl_site_list sl[2];
	static struct hl_site_seg sg;
	struct hl_site_in in = { 0 };
	struct hl_err err = HL_ERR_INIT;
	static char fpr[HL_SITE_FPR_LEN];
	unsigned char raw[32] = { 1, 2, 3 };

	sl[0].info = &lists[0];
	sl[0].json = (struct hl_site_ref){ "lists/watch-keyword.json",
	    "aa11", 2048, "lists/watch-keyword.json.gz", "bb22", 300 };
	sl[0].text = (struct hl_site_ref){ "lists/watch-keyword.txt",
	    "cc33", 1000, "lists/watch-keyword.txt.gz", "dd44", 200 };
	sl[1].info = &lists[1];
	sl[1].json = (struct hl_site_ref){ "lists/blacklist-cidr.json",
	    "ee55", 10, "lists/blacklist-cidr.json.gz", "ff66", 20 };
	sl[1].text = (struct hl_site_ref){ "lists/blacklist-cidr.yml",
	    "0077", 30, "lists/blacklist-cidr.yml.gz", "0088", 40 };
	sg.data = seg;
	sg.len = strlen(seg);
	hl_site_key_fpr(fpr, raw, sizeof(raw));
	in.lists = sl + first_list;
	in.nlists = 2 - first_list;
	in.version = 3;
	in.ttl = 604800;
	in.key_fpr = fpr;
	in.segs = win ? win : &sg;
	in.nsegs = win ? nwin : 1;
	in.cache = cache;
	in.par = par;
	in.props = props;
	in.nprops = nprops;
	assert_int_equal(hl_site_build(f, n, site_dir, &in, &err), 0);
}

static void
every_page_is_made(void **state)
{
	static const char *const want[] = {
		"api.html", "blacklist-cidr.html", "caught.html",
		"changes.html", "feed-blacklist-cidr.xml",
		"feed-watch-keyword.xml", "feed.xml", "index.html",
		"proposals.html", "watch-keyword.html",
	};
	struct hl_site_file *f = NULL;
	size_t n = 0, i;

	(void)state;
	build(&f, &n, "site");
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		assert_string_equal(f[i].path, want[i]);
	hl_site_files_free(f, n);
	/* Without templates the built-in ones make the same pages. */
	build(&f, &n, NULL);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_non_null(strstr(page(f, n, "index.html"), "watch-keyword"));
	hl_site_files_free(f, n);
}

static void
values_are_escaped(void **state)
{
	struct hl_site_file *f = NULL;
	size_t n = 0, i;

	(void)state;
	build(&f, &n, "site");
	for (i = 0; i < n; i++) {
		assert_null(strstr(f[i].data, "<script>x"));
		assert_null(strstr(f[i].data, "bob & co"));
	}
	assert_non_null(strstr(page(f, n, "changes.html"),
	    "&lt;script&gt;x&lt;/script&gt;"));
	assert_non_null(strstr(page(f, n, "feed.xml"), "bob &amp; co"));
	/* Notification records name chat users: not on the site. */
	for (i = 0; i < n; i++)
		assert_null(strstr(f[i].data, "user 4242"));
	hl_site_files_free(f, n);
}

static void
pages_say_what_they_should(void **state)
{
	struct hl_site_file *f = NULL;
	size_t n = 0;
	const char *idx, *ch, *wk, *feed, *api;

	(void)state;
	build(&f, &n, "site");
	idx = page(f, n, "index.html");
	ch = page(f, n, "changes.html");
	wk = page(f, n, "watch-keyword.html");
	feed = page(f, n, "feed-watch-keyword.xml");
	api = page(f, n, "api.html");
	/* No inline script: every script is a file under assets/. */
	assert_null(strstr(idx, "<script>"));
	assert_non_null(strstr(idx, "Content-Security-Policy"));
	assert_non_null(strstr(idx, "<title>Helios: SmokeDetector pattern "
	    "lists</title>"));
	assert_non_null(strstr(idx, "2.0 KiB"));
	assert_non_null(strstr(idx, "aa11"));
	assert_non_null(strstr(idx, "data-copy=\"lists/watch-keyword.txt\""));
	assert_non_null(strstr(idx, "SHA256:"));
	/* Newest change first, linked to the entry. */
	assert_true(strstr(ch, "10.0.0.0/8") < strstr(ch, "spam\\.example"));
	assert_non_null(strstr(ch, "href=\"watch-keyword.html#7\""));
	assert_non_null(strstr(wk, "data-gz=\"lists/watch-keyword.json.gz\""));
	assert_non_null(strstr(wk, "data-kind=\"regex\""));
	assert_non_null(strstr(page(f, n, "blacklist-cidr.html"),
	    "data-kind=\"cidr\""));
	assert_non_null(strstr(feed, "<feed xmlns=\"http://www.w3.org/2005/"
	    "Atom\">"));
	assert_non_null(strstr(feed, "<id>tag:helios,2024:v2</id>"));
	assert_null(strstr(feed, "10.0.0.0/8"));
	assert_non_null(strstr(api, "id=\"post-blacklists-id\""));
	assert_non_null(strstr(api, "id=\"post-test\""));
	hl_site_files_free(f, n);
}

static void
the_index_shows_propagation(void **state)
{
	static const struct hl_site_prop p[2] = {
		{ "https://cdn.example.org/<x>&y/", 3, 1.25, 1700000300 },
		{ "http://127.0.0.1:8080/", 2, 0.004, 1700000200 },
	};
	struct hl_site_file *f = NULL;
	size_t n = 0, k;
	const char *idx;
	const char *dirs[2] = { "site", NULL };

	(void)state;
	for (k = 0; k < 2; k++) {
		props = NULL;
		nprops = 0;
		build(&f, &n, dirs[k]);
		assert_non_null(strstr(page(f, n, "index.html"),
		    "<span id=\"propagation\">not measured</span>"));
		hl_site_files_free(f, n);
		props = p;
		nprops = 2;
		build(&f, &n, dirs[k]);
		idx = page(f, n, "index.html");
		assert_non_null(strstr(idx, "<li data-seconds=\"1.250\">v3 at"
		    " <code>https://cdn.example.org/&lt;x&gt;&amp;y/</code>"
		    " 1.2 s after it was published"));
		assert_non_null(strstr(idx, "<li data-seconds=\"0.004\">v2 at"
		    " <code>http://127.0.0.1:8080/</code> 0.0 s"));
		assert_null(strstr(idx, "<x>"));
		hl_site_files_free(f, n);
	}
	props = NULL;
	nprops = 0;
}

/* Every page of a against b's, byte for byte. */
static void
same_pages(const struct hl_site_file *a, size_t na,
    const struct hl_site_file *b, size_t nb)
{
	size_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_string_equal(a[i].path, b[i].path);
		assert_int_equal(a[i].len, b[i].len);
		assert_memory_equal(a[i].data, b[i].data, a[i].len);
	}
}

/*
 * Builds with the cache keep and with none: the same pages, byte for
 * byte.  *f gets the first build's, the caller's to free.
 */
static void
build_cached(struct hl_site_file **f, size_t *n, struct hl_site_cache *keep,
    const char *site_dir)
{
	struct hl_site_file *g = NULL;
	size_t m = 0;

	cache = keep;
	build(f, n, site_dir);
	cache = NULL;
	build(&g, &m, site_dir);
	same_pages(*f, *n, g, m);
	hl_site_files_free(g, m);
}

/*
 * A cache kept across builds (as the generator keeps it) gives the same
 * pages as none while the window moves on: a segment comes in, the
 * newest change of each list follows it, a segment leaves.
 */
static void
a_cache_gives_the_same_pages(void **state)
{
	struct hl_site_seg both[2] = {
		{ .from = 1, .to = 3, .data = seg, .len = strlen(seg) },
		{ .from = 5, .to = 6, .data = seg2, .len = strlen(seg2) },
	};
	static const size_t from[3] = { 0, 0, 1 }, count[3] = { 1, 2, 1 };
	struct hl_site_cache *keep = NULL;
	struct hl_site_file *f = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, k;
	const char *idx;

	(void)state;
	assert_int_equal(hl_site_cache_new(&keep, &err), 0);
	for (k = 0; k < 3; k++) {
		win = &both[from[k]];
		nwin = count[k];
		/* keep: kept from the window before */
		build_cached(&f, &n, keep, "site");
		idx = page(f, n, "index.html");
		if (k == 0) {
			assert_non_null(strstr(idx, "(v2)"));
			assert_non_null(strstr(idx, "(v3)"));
		} else {
			assert_non_null(strstr(idx, "(v5)"));
			assert_non_null(strstr(idx, "(v6)"));
			assert_null(strstr(idx, "(v3)"));
		}
		hl_site_files_free(f, n);
	}
	hl_site_cache_free(keep);
	win = NULL;
	nwin = 0;
}

/*
 * With a cache, a list's page is made again only when what it shows
 * changed, and is the page a build without cache makes: a build of the
 * same input makes none, a change to one list's fields makes that list's
 * page alone, and a window that no longer holds a list's events makes
 * that list's page again.
 */
static void
a_change_to_one_list_makes_that_page_alone(void **state)
{
	struct hl_site_seg both[2] = {
		{ .from = 1, .to = 3, .data = seg, .len = strlen(seg) },
		{ .from = 5, .to = 6, .data = seg2, .len = strlen(seg2) },
	};
	static const unsigned long made[4] = { 2, 2, 3, 5 };
	struct hl_site_cache *keep = NULL;
	struct hl_site_file *f = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, k;

	(void)state;
	assert_int_equal(hl_site_cache_new(&keep, &err), 0);
	win = both;
	nwin = 2;
	for (k = 0; k < 4; k++) {
		if (k == 2) {
			/* blacklist-cidr alone changes */
			lists[1].count++;
			lists[1].version = 7;
		}
		if (k == 3) {
			/* the window moves on past the first segment */
			win = &both[1];
			nwin = 1;
		}
		build_cached(&f, &n, keep, "site");
		assert_int_equal(keep->list_pages_made, made[k]);
		hl_site_files_free(f, n);
	}
	lists[1].count--;
	lists[1].version = 3;
	hl_site_cache_free(keep);
	win = NULL;
	nwin = 0;
}

/*
 * With a cache, a feed is made again only when the events it shows
 * changed, and is the feed a build without cache makes: a change to one
 * list makes feed.xml and that list's feed, not the other lists'.  With
 * the second thread (par.h) or without, the pages are the same.
 */
static void
a_change_to_one_list_makes_its_feed_alone(void **state)
{
	struct hl_site_seg segs[2] = {
		{ .from = 1, .to = 3, .data = seg, .len = strlen(seg) },
		{ .from = 7, .to = 7, .data = seg3, .len = strlen(seg3) },
	};
	static const unsigned long made[3] = { 3, 3, 5 };
	static const size_t count[3] = { 1, 1, 2 };
	struct hl_site_cache *keep = NULL;
	struct hl_site_file *f = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, k;

	(void)state;
	assert_int_equal(hl_site_cache_new(&keep, &err), 0);
	assert_int_equal(hl_par_new(&par, &err), 0);
	win = segs;
	for (k = 0; k < 3; k++) {
		nwin = count[k];
		build_cached(&f, &n, keep, "site");
		assert_int_equal(keep->feeds_made, made[k]);
		if (k == 2)
			assert_non_null(strstr(page(f, n,
			    "feed-watch-keyword.xml"), "newest"));
		hl_site_files_free(f, n);
		/* and the same again on one thread */
		hl_par_free(par);
		par = NULL;
		build_cached(&f, &n, keep, "site");
		assert_int_equal(keep->feeds_made, made[k]);
		assert_int_equal(hl_par_new(&par, &err), 0);
		hl_site_files_free(f, n);
	}
	hl_par_free(par);
	par = NULL;
	cache = NULL;
	hl_site_cache_free(keep);
	win = NULL;
	nwin = 0;
}

/*
 * The cache keeps each segment's events with the index of their list;
 * when the set of lists changes (a list dropped, the others moved up),
 * those are made again: the pages are those a build without cache makes,
 * and the dropped list's changes are on none of them.
 */
static void
a_cache_follows_a_change_to_the_set_of_lists(void **state)
{
	struct hl_site_cache *keep = NULL;
	struct hl_site_file *f = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, k;

	(void)state;
	assert_int_equal(hl_site_cache_new(&keep, &err), 0);
	for (k = 0; k < 3; k++) {
		first_list = k == 1;	/* watch-keyword dropped, then back */
		build_cached(&f, &n, keep, "site");
		assert_true((strstr(page(f, n, "changes.html"), "alice") ==
		    NULL) == (k == 1));
		hl_site_files_free(f, n);
	}
	first_list = 0;
	hl_site_cache_free(keep);
}

static void
put_text(const char *path, const char *text)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/*
 * The API reference is kept in the cache with the openapi.json text it
 * was made from: the next build with that text gives the same page as a
 * fresh one, and a changed text makes the reference again.
 */
static void
the_cache_keeps_the_api_reference(void **state)
{
	static const char *const doc[2] = {
		"{\"info\":{\"description\":\"First text.\"},\"paths\":{}}",
		"{\"info\":{\"description\":\"Second text.\"},\"paths\":{}}",
	};
	struct hl_site_cache *keep = NULL;
	struct hl_site_file *f = NULL;
	struct hl_err err = HL_ERR_INIT;
	char dir[64], site[96], api[96];
	size_t n = 0, k;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/helios-site.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(site, sizeof(site), "%s/site", dir);
	snprintf(api, sizeof(api), "%s/openapi.json", dir);
	assert_int_equal(mkdir(site, 0755), 0);
	assert_int_equal(hl_site_cache_new(&keep, &err), 0);
	for (k = 0; k < 4; k++) {
		put_text(api, doc[k / 2]);
		build_cached(&f, &n, keep, site);
		assert_non_null(strstr(page(f, n, "api.html"),
		    k < 2 ? "First text." : "Second text."));
		/* what the cache holds: the text the page was made from */
		assert_non_null(keep->api_src);
		assert_int_equal(keep->api_srclen, strlen(doc[k / 2]));
		assert_memory_equal(keep->api_src, doc[k / 2],
		    strlen(doc[k / 2]));
		hl_site_files_free(f, n);
	}
	hl_site_cache_free(keep);
	assert_int_equal(unlink(api), 0);
	assert_int_equal(rmdir(site), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A key is the SHA-256 of its fields as (length, bytes) and integers,
 * whatever the buffering: fields that cross the buffer's end, one longer
 * than the buffer, NULL, and none at all give the digest of that stream
 * fed at once.
 */
static void
a_key_is_the_digest_of_its_fields(void **state)
{
	struct hl_site_key k;
	unsigned char got[32], want[32];
	unsigned int len = 0;
	char *big;
	size_t n, i;
	int64_t v;
	EVP_MD_CTX *x;

	big = malloc(3 * sizeof(k.buf));
	assert_non_null(big);
	for (i = 0; i < 3 * sizeof(k.buf); i++)
		big[i] = (char)('a' + i % 26);
	big[3 * sizeof(k.buf) - 1] = '\0';
	x = EVP_MD_CTX_new();
	assert_true(EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1);
	assert_true(hl_site__key_begin(&k));
	big[2000] = '\0';
	for (i = 0; i < 700; i++) {	/* ~11 KB: the buffer fills twice */
		v = (int64_t)i * 7919;
		n = 2 + i % 5;
		assert_true(hl_site__key_int(&k, v));
		assert_true(hl_site__key_str(&k, big + 2000 - n));
		EVP_DigestUpdate(x, &v, sizeof(v));
		EVP_DigestUpdate(x, &n, sizeof(n));
		EVP_DigestUpdate(x, big + 2000 - n, n);
	}
	big[2000] = 'z';
	assert_true(hl_site__key_str(&k, NULL));
	n = (size_t)-1;
	EVP_DigestUpdate(x, &n, sizeof(n));
	assert_true(hl_site__key_str(&k, big));	/* longer than buf */
	n = strlen(big);
	EVP_DigestUpdate(x, &n, sizeof(n));
	EVP_DigestUpdate(x, big, n);
	assert_int_equal(hl_site__key_end(&k, got, 1), 0);
	assert_true(EVP_DigestFinal_ex(x, want, &len) == 1 && len == 32);
	assert_memory_equal(got, want, 32);
	/* Nothing at all: the digest of nothing; a failure says -1. */
	assert_true(hl_site__key_begin(&k));
	assert_int_equal(hl_site__key_end(&k, got, 1), 0);
	assert_true(EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestFinal_ex(x, want, &len) == 1);
	assert_memory_equal(got, want, 32);
	assert_true(hl_site__key_begin(&k));
	assert_int_equal(hl_site__key_end(&k, got, 0), -1);
	EVP_MD_CTX_free(x);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_index_shows_propagation),
		cmocka_unit_test(a_key_is_the_digest_of_its_fields),
		cmocka_unit_test(every_page_is_made),
		cmocka_unit_test(values_are_escaped),
		cmocka_unit_test(pages_say_what_they_should),
		cmocka_unit_test(a_cache_gives_the_same_pages),
		cmocka_unit_test(a_change_to_one_list_makes_that_page_alone),
		cmocka_unit_test(a_change_to_one_list_makes_its_feed_alone),
		cmocka_unit_test(a_cache_follows_a_change_to_the_set_of_lists),
		cmocka_unit_test(the_cache_keeps_the_api_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
