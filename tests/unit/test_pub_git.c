/*
 * test_pub_git: the git pages target (pub_git.c) and the git archive
 * (gitarchive.c) against real repositories: a bare repository by path,
 * and smart HTTP with basic auth through nginx, fcgiwrap and
 * git-http-backend started by tests/tools/git-http.sh on a free port.
 * Results are checked with the git command-line tool.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>

#include "err.h"
#include "gitarchive.h"
#include "gitcache.h"
#include "pub_git.h"
#include "testgit.h"
#include "target.h"
#include "tree.h"

#define MAXF	80

struct ttree {
	struct hl_file	f[MAXF];
	char		path[MAXF][128];
	unsigned char	*data[MAXF];
	size_t		n;
	char		summary[160];
	struct hl_tree	t;
};

static void
hex(char *out, const unsigned char *md, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		(void)sprintf(out + 2 * i, "%02x", md[i]);
}

/* Adds or replaces path in tt with a copy of data. */
static void
put(struct ttree *tt, const char *path, const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t i;

	for (i = 0; i < tt->n; i++)
		if (strcmp(tt->path[i], path) == 0)
			break;
	assert_true(i < MAXF);
	if (i == tt->n)
		tt->n++;
	free(tt->data[i]);
	tt->data[i] = malloc(len + 1);
	assert_non_null(tt->data[i]);
	memcpy(tt->data[i], data, len);
	(void)snprintf(tt->path[i], sizeof(tt->path[i]), "%s", path);
	memset(&tt->f[i], 0, sizeof(tt->f[i]));
	tt->f[i].path = tt->path[i];
	tt->f[i].data = tt->data[i];
	tt->f[i].len = len;
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(),
	    NULL), 1);
	hex(tt->f[i].sha256, md, mdlen);
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL),
	    1);
	hex(tt->f[i].md5, md, mdlen);
	tt->f[i].cache = strncmp(path, "objects/", 8) == 0 ?
	    HL_CACHE_IMMUTABLE : strncmp(path, "manifest", 8) == 0 ?
	    HL_CACHE_REVALIDATE : HL_CACHE_SHORT;
	tt->f[i].content_type = "application/octet-stream";
}

static void
puts_(struct ttree *tt, const char *path, const char *s)
{
	put(tt, path, s, strlen(s));
}

static const struct hl_tree *
version(struct ttree *tt, int64_t v)
{
	char m[64];

	(void)snprintf(m, sizeof(m), "{\"version\":%" PRId64 "}\n", v);
	puts_(tt, "manifest.json", m);
	(void)snprintf(tt->summary, sizeof(tt->summary),
	    "v%" PRId64 ": +1 watch-keyword (by alice)", v);
	tt->t.version = v;
	tt->t.files = tt->f;
	tt->t.n = tt->n;
	tt->t.summary = tt->summary;
	return &tt->t;
}

static void
tree_free(struct ttree *tt)
{
	size_t i;

	for (i = 0; i < tt->n; i++)
		free(tt->data[i]);
	memset(tt, 0, sizeof(*tt));
}

/* Runs a shell command and gives its stdout without the last newline. */
static char *
sh(const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t len = 0, cap = 0, got;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	assert_true(vsnprintf(cmd, sizeof(cmd), fmt, ap) < (int)sizeof(cmd));
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		if ((got = fread(out + len, 1, cap - len - 1, p)) == 0)
			break;
		len += got;
	}
	out[len] = '\0';
	st = pclose(p);
	if (st != 0)
		fail_msg("command failed (%d): %s\n%s", st, cmd, out);
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	return out;
}

static void
sh_ok(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	assert_true(vsnprintf(cmd, sizeof(cmd), fmt, ap) < (int)sizeof(cmd));
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
}

static int
count(const char *dir, const char *rev)
{
	char *s = sh("git --git-dir=%s rev-list --count %s", dir, rev);
	int n = atoi(s);

	free(s);
	return n;
}

struct fix {
	char	dir[64];
	char	bare[128];
	char	url[256];
};

static int
setup(void **state)
{
	struct fix *fx = calloc(1, sizeof(*fx));
	char cache[128];

	if (fx == NULL)
		return -1;
	(void)strcpy(fx->dir, "/tmp/helios-git.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	(void)snprintf(fx->bare, sizeof(fx->bare), "%s/pages.git", fx->dir);
	(void)snprintf(fx->url, sizeof(fx->url), "git+file://%s#gh-pages",
	    fx->bare);
	(void)snprintf(cache, sizeof(cache), "%s/cache", fx->dir);
	setenv("HELIOS_GIT_CACHE", cache, 1);
	unsetenv("HELIOS_GIT_USERNAME");
	unsetenv("HELIOS_GIT_PASSWORD");
	unsetenv("HELIOS_GIT_TOKEN");
	unsetenv("HELIOS_GIT_CREDENTIALS");
	sh_ok("git init -q --bare %s", fx->bare);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *fx = *state;
	char cmd[1024];

	/* A failed test may have left the HTTP servers running. */
	(void)snprintf(cmd, sizeof(cmd), "if [ -d %s/http ]; then "
	    "sh %s stop %s/http; fi; rm -rf %s", fx->dir, hl_testgit_server(),
	    fx->dir,
	    fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void
publish_ok(struct hl_pub_git *g, const struct hl_tree *t)
{
	struct hl_err err = HL_ERR_INIT;
	int rc = hl_pub_git_publish(g, t, &err);

	if (rc != 0)
		fail_msg("publish v%" PRId64 ": %d %s", t->version, rc,
		    err.msg);
}

static void
test_a_publish_to_a_bare_repository_gives_exactly_the_tree(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct ttree tt = { 0 };
	void *st = NULL;
	char *s;

	puts_(&tt, "lists/watch-keyword.txt", "spam\\.example\tbob\n");
	puts_(&tt, "lists/watch-keyword.json", "{\"items\":[]}\n");
	puts_(&tt, "objects/ab12", "spam\\.example\tbob\n");
	puts_(&tt, "changes/1-1.json", "[]\n");
	puts_(&tt, "index.html", "<!doctype html>\n");
	assert_int_equal(hl_pub_git_ops.open(&st, fx->url, &err), 0);
	assert_string_equal(hl_pub_git_ops.kind, "git");
	assert_int_equal(hl_pub_git_ops.publish(st, version(&tt, 7), &err), 0);
	hl_pub_git_ops.close(st);

	sh_ok("git clone -q -b gh-pages %s %s/clone", fx->bare, fx->dir);
	s = sh("git -C %s/clone ls-files | tr '\\n' ' '", fx->dir);
	assert_string_equal(s, ".nojekyll changes/1-1.json index.html "
	    "lists/watch-keyword.json lists/watch-keyword.txt manifest.json "
	    "objects/ab12 ");
	free(s);
	/* One content, one blob, whatever the path. */
	s = sh("cd %s/clone && git rev-parse HEAD:objects/ab12 "
	    "HEAD:lists/watch-keyword.txt | uniq | wc -l", fx->dir);
	assert_string_equal(s, "1");
	free(s);
	s = sh("cat %s/clone/lists/watch-keyword.txt", fx->dir);
	assert_string_equal(s, "spam\\.example\tbob");
	free(s);
	s = sh("git -C %s/clone log -1 --format=%%B", fx->dir);
	assert_string_equal(s, "v7: +1 watch-keyword (by alice)\n\n"
	    "Helios-Version: 7");
	free(s);
	s = sh("git -C %s/clone log -1 --format='%%an <%%ae>'", fx->dir);
	assert_string_equal(s, "Helios <helios@localhost>");
	free(s);
	assert_int_equal(count(fx->bare, "gh-pages"), 1);
	tree_free(&tt);
}

/*
 * objects=0 leaves out the objects/ copies of the tree's files, and keeps
 * an objects/ file that copies none; objects=1 puts the copies back.
 */
static void
test_objects_0_leaves_out_the_object_copies(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	char url[256], *s;

	(void)snprintf(url, sizeof(url), "git+file://%s?objects=0#gh-pages",
	    fx->bare);
	puts_(&tt, "lists/watch-keyword.txt", "spam\\.example\tbob\n");
	puts_(&tt, "objects/ab12", "spam\\.example\tbob\n");
	puts_(&tt, "objects/cd34", "a segment\n");
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	publish_ok(g, version(&tt, 1));
	hl_pub_git_close(g);
	s = sh("git --git-dir=%s ls-tree -r --name-only gh-pages | "
	    "tr '\\n' ' '", fx->bare);
	assert_string_equal(s, ".nojekyll lists/watch-keyword.txt "
	    "manifest.json objects/cd34 ");
	free(s);
	(void)snprintf(url, sizeof(url), "git+file://%s?objects=1#gh-pages",
	    fx->bare);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	publish_ok(g, version(&tt, 2));
	hl_pub_git_close(g);
	s = sh("git --git-dir=%s ls-tree -r --name-only gh-pages | "
	    "tr '\\n' ' '", fx->bare);
	assert_string_equal(s, ".nojekyll lists/watch-keyword.txt "
	    "manifest.json objects/ab12 objects/cd34 ");
	free(s);
	tree_free(&tt);
}

static void
test_publishing_the_same_tree_twice_makes_no_new_commit(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	char *a, *b;

	setenv("HELIOS_GIT_AUTHOR_NAME", "Pages Bot", 1);
	setenv("HELIOS_GIT_AUTHOR_EMAIL", "bot@example.org", 1);
	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), 0);
	unsetenv("HELIOS_GIT_AUTHOR_NAME");
	unsetenv("HELIOS_GIT_AUTHOR_EMAIL");
	puts_(&tt, "lists/blacklist-website.txt", "spam\\.com\n");
	publish_ok(g, version(&tt, 1));
	a = sh("git --git-dir=%s rev-parse gh-pages", fx->bare);
	publish_ok(g, version(&tt, 1));
	b = sh("git --git-dir=%s rev-parse gh-pages", fx->bare);
	assert_string_equal(a, b);
	assert_string_equal(hl_pub_git_head(g), a);
	free(a);
	free(b);
	assert_int_equal(count(fx->bare, "gh-pages"), 1);
	a = sh("git --git-dir=%s log -1 --format='%%an <%%ae>' gh-pages",
	    fx->bare);
	assert_string_equal(a, "Pages Bot <bot@example.org>");
	free(a);
	/* A new target on the same branch picks up where the last left. */
	hl_pub_git_close(g);
	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), 0);
	publish_ok(g, version(&tt, 1));
	assert_int_equal(count(fx->bare, "gh-pages"), 1);
	puts_(&tt, "lists/blacklist-website.txt", "spam\\.com\nham\\.org\n");
	publish_ok(g, version(&tt, 2));
	assert_int_equal(count(fx->bare, "gh-pages"), 2);
	hl_pub_git_close(g);
	tree_free(&tt);
}

static void
test_a_hundred_versions_read_back_from_the_archive(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct hl_gitarchive_rev rev, *revs = NULL;
	struct ttree tt = { 0 };
	static const int64_t at[] = { 1, 2, 37, 64, 99, 100 };
	char body[64], want[64], repo[256];
	unsigned char *data = NULL;
	size_t len, n, i;
	uint64_t bytes;
	int64_t v;

	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), 0);
	/* Packed after v1, v17, ..., v97: the archive reads packs too. */
	hl_pub_git__pack_at(g, 1);
	puts_(&tt, "lists/blacklist-website.txt", "fixed\n");
	for (v = 1; v <= 100; v++) {
		(void)snprintf(body, sizeof(body), "pattern-%" PRId64 "\n", v);
		if (v % 10 != 5)	/* v5, v15...: only the manifest */
			puts_(&tt, "lists/watch-keyword.txt", body);
		publish_ok(g, version(&tt, v));
	}
	assert_int_equal(hl_gitcache_loose(&n, &bytes, hl_pub_git__repo(g),
	    &err), 0);
	assert_true(n <= 3 * 5);	/* v98..v100: blobs, trees, commits */
	hl_pub_git_close(g);
	assert_int_equal(count(fx->bare, "gh-pages"), 100);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", fx->bare);

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		v = at[i] % 10 == 5 ? at[i] - 1 : at[i];
		(void)snprintf(want, sizeof(want), "pattern-%" PRId64 "\n", v);
		assert_int_equal(hl_gitarchive_read(&data, &len, fx->url, NULL,
		    "lists/watch-keyword.txt", at[i], 0, &err), 0);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(data, want, len);
		free(data);
	}
	/* By path, with the branch given; v105 does not exist yet. */
	assert_int_equal(hl_gitarchive_read(&data, &len, fx->bare, "gh-pages",
	    "manifest.json", 105, 0, &err), 0);
	assert_string_equal((char *)data, "{\"version\":100}\n");
	free(data);
	assert_int_equal(hl_gitarchive_read(&data, &len, fx->bare, NULL,
	    "manifest.json", 0, 0, &err), 0);
	assert_string_equal((char *)data, "{\"version\":100}\n");
	free(data);
	/* A plain clone reads the same. */
	sh_ok("git clone -q -b gh-pages %s %s/clone", fx->bare, fx->dir);
	(void)snprintf(repo, sizeof(repo), "%s/clone", fx->dir);
	assert_int_equal(hl_gitarchive_read(&data, &len, repo, NULL,
	    "manifest.json", 42, 0, &err), 0);
	assert_string_equal((char *)data, "{\"version\":42}\n");
	free(data);
	/* By time: all in the past, none before 1970. */
	assert_int_equal(hl_gitarchive_find(&rev, fx->url, NULL, 0,
	    (int64_t)time(NULL) + 60, &err), 0);
	assert_int_equal(rev.version, 100);
	assert_int_equal(hl_gitarchive_find(&rev, fx->url, NULL, 0, 1, &err),
	    HL_ENOTFOUND);
	assert_int_equal(hl_gitarchive_find(&rev, fx->url, NULL, 50, 0, &err),
	    0);
	assert_int_equal(rev.version, 50);
	assert_string_equal(rev.summary, "v50: +1 watch-keyword (by alice)");
	assert_int_equal(strlen(rev.commit), 40);
	/* Missing file, missing branch. */
	assert_int_equal(hl_gitarchive_read(&data, &len, fx->url, NULL,
	    "lists/nope.txt", 10, 0, &err), HL_ENOTFOUND);
	assert_null(data);
	assert_int_equal(hl_gitarchive_read(&data, &len, fx->url, "other",
	    "manifest.json", 10, 0, &err), HL_ENOTFOUND);
	assert_int_equal(hl_gitarchive_versions(&revs, &n, fx->url, NULL, 0,
	    &err), 0);
	assert_int_equal(n, 100);
	for (i = 0; i < n; i++)
		assert_int_equal(revs[i].version, 100 - (int64_t)i);
	free(revs);
	assert_int_equal(hl_gitarchive_versions(&revs, &n, fx->url, NULL, 3,
	    &err), 0);
	assert_int_equal(n, 3);
	free(revs);
	tree_free(&tt);
}

static void
test_a_branch_moved_by_someone_else_is_a_conflict(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL, *g2 = NULL;
	struct ttree tt = { 0 };
	char *tip, *now, url[300];

	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), 0);
	puts_(&tt, "lists/blacklist-keyword.txt", "casino\n");
	publish_ok(g, version(&tt, 1));
	sh_ok("git clone -q -b gh-pages %s %s/clone && cd %s/clone && "
	    "echo x > extra.txt && git add extra.txt && git -c user.name=Eve "
	    "-c user.email=eve@example.org commit -qm 'by hand' && "
	    "git push -q origin gh-pages", fx->bare, fx->dir, fx->dir);
	tip = sh("git --git-dir=%s rev-parse gh-pages", fx->bare);

	puts_(&tt, "lists/blacklist-keyword.txt", "casino\npoker\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 2), &err),
	    HL_ECONFLICT);
	assert_non_null(strstr(err.msg, "moved by someone else"));
	now = sh("git --git-dir=%s rev-parse gh-pages", fx->bare);
	assert_string_equal(tip, now);
	free(now);
	/* It stays stopped: the next try says the same. */
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 3), &err),
	    HL_ECONFLICT);
	/* A fresh cache: a tip without the trailer is not ours either. */
	setenv("HELIOS_GIT_CACHE", fx->dir, 1);
	assert_int_equal(hl_pub_git_open(&g2, fx->url, &err), 0);
	assert_int_equal(hl_pub_git_publish(g2, version(&tt, 3), &err),
	    HL_ECONFLICT);
	hl_pub_git_close(g2);
	now = sh("git --git-dir=%s rev-parse gh-pages", fx->bare);
	assert_string_equal(tip, now);
	free(now);
	free(tip);

	/* force=1 publishes on top of it. */
	(void)snprintf(url, sizeof(url), "git+file://%s?force=1&tag=1"
	    "#gh-pages", fx->bare);
	assert_int_equal(hl_pub_git_open(&g2, url, &err), 0);
	publish_ok(g2, version(&tt, 4));
	hl_pub_git_close(g2);
	assert_int_equal(count(fx->bare, "gh-pages"), 3);
	now = sh("git --git-dir=%s ls-tree -r --name-only gh-pages | "
	    "tr '\\n' ' '", fx->bare);
	assert_string_equal(now, ".nojekyll lists/blacklist-keyword.txt "
	    "manifest.json ");
	free(now);
	now = sh("git --git-dir=%s rev-parse v4^{commit} gh-pages | uniq | "
	    "wc -l", fx->bare);
	assert_string_equal(now, "1");
	free(now);
	hl_pub_git_close(g);
	tree_free(&tt);
}

static void
test_bad_urls_and_paths_are_refused(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct hl_pub_git__url u;
	struct ttree tt = { 0 };
	char url[256];
	static const char *bad[] = {
		"git+ftp://host/repo.git", "git+https://host", "s3://bucket",
		"git+https://user:pw@host/repo.git",
		"git+https://host/repo.git?push=1#gh-pages",
		"git+https://host/repo.git#bad..branch",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hl_pub_git_open(&g, bad[i], &err), HL_EINVAL);
		assert_null(g);
	}
	assert_int_equal(hl_pub_git__parse_url(&u,
	    "git+https://h.example/o/r.git?tag=1&force=1#pages", &err), 0);
	assert_string_equal(u.remote, "https://h.example/o/r.git");
	assert_string_equal(u.branch, "pages");
	assert_true(u.tag && u.force && !u.local);
	assert_int_equal(hl_pub_git__parse_url(&u,
	    "git+ssh://git@h.example/o/r.git", &err), 0);
	assert_string_equal(u.remote, "ssh://git@h.example/o/r.git");
	assert_string_equal(u.branch, "gh-pages");
	assert_true(!u.tag && !u.force);

	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), 0);
	puts_(&tt, "lists/../x", "no\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 1), &err),
	    HL_EINVAL);
	tree_free(&tt);
	puts_(&tt, "a", "file\n");
	puts_(&tt, "a/b", "and dir\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 1), &err),
	    HL_EINVAL);
	tree_free(&tt);
	puts_(&tt, ".git/config", "no\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 1), &err),
	    HL_EINVAL);
	hl_pub_git_close(g);
	g = NULL;
	tree_free(&tt);
	/* A checked-out repository is not written behind its back. */
	sh_ok("git init -q %s/work", fx->dir);
	(void)snprintf(url, sizeof(url), "git+file://%s/work", fx->dir);
	assert_int_equal(hl_pub_git_open(&g, url, &err), HL_EINVAL);
	assert_null(g);
	/* A missing one is created, bare. */
	(void)snprintf(url, sizeof(url), "git+file://%s/new.git", fx->dir);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	puts_(&tt, "a.txt", "a\n");
	publish_ok(g, version(&tt, 1));
	hl_pub_git_close(g);
	tree_free(&tt);
	(void)snprintf(url, sizeof(url), "%s/new.git", fx->dir);
	assert_int_equal(count(url, "gh-pages"), 1);
}

static void
test_a_credentials_file_others_can_read_is_refused(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git__cred c;
	struct hl_pub_git *g = NULL;
	char path[160];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/cred", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# git pages\nusername=alice\npassword=s3cret\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	setenv("HELIOS_GIT_CREDENTIALS", path, 1);
	assert_int_equal(hl_pub_git_open(&g, fx->url, &err), HL_EAUTH);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_null(strstr(err.msg, "s3cret"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(hl_pub_git__cred_load(&c, &err), 0);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.password, "s3cret");
	hl_pub_git__cred_wipe(&c);
	setenv("HELIOS_GIT_TOKEN", "ghp_abc", 1);
	unsetenv("HELIOS_GIT_CREDENTIALS");
	assert_int_equal(hl_pub_git__cred_load(&c, &err), 0);
	assert_string_equal(c.username, "x-access-token");
	assert_string_equal(c.password, "ghp_abc");
	hl_pub_git__cred_wipe(&c);
	unsetenv("HELIOS_GIT_TOKEN");
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Starts git's smart-HTTP server in DIR/http (srv), user alice, password
 * s3cret, whom the environment names for pub_git: its port (malloc'd);
 * bare is the repository it serves, url its gh-pages target.
 */
static char *
http_start(const struct fix *fx, char srv[128], char bare[192],
    char url[256])
{
	char *port;

	(void)snprintf(srv, 128, "%s/http", fx->dir);
	sh_ok("mkdir -p %s && sh %s start %s alice 's3cret' >/dev/null",
	    srv, hl_testgit_server(), srv);
	(void)snprintf(bare, 192, "%s/root/pages.git", srv);
	port = sh("cat %s/port", srv);
	(void)snprintf(url, 256, "git+http://127.0.0.1:%s/pages.git#gh-pages",
	    port);
	setenv("HELIOS_GIT_USERNAME", "alice", 1);
	setenv("HELIOS_GIT_PASSWORD", "s3cret", 1);
	return port;
}

/* Closes g, forgets the credentials and stops the server of srv. */
static void
http_stop(struct hl_pub_git *g, const char *srv, char *port)
{
	hl_pub_git_close(g);
	unsetenv("HELIOS_GIT_USERNAME");
	unsetenv("HELIOS_GIT_PASSWORD");
	sh_ok("sh %s stop %s", hl_testgit_server(), srv);
	free(port);
}

/* A tree of about 2 MB: 16 lists of 128 KiB. */
static void
big_tree(struct ttree *tt)
{
	static char buf[128 * 1024];
	char path[64];
	uint32_t x = 12345;
	size_t i, j;

	for (i = 0; i < 16; i++) {
		for (j = 0; j < sizeof(buf); j++) {
			x = x * 1103515245 + 12345;
			buf[j] = (j % 40 == 39) ? '\n' : 'a' + (x >> 16) % 26;
		}
		(void)snprintf(path, sizeof(path), "lists/list-%02zu.txt", i);
		put(tt, path, buf, sizeof(buf));
	}
}

static double
measure(struct hl_pub_git *g, struct ttree *tt, int64_t *v, int rounds)
{
	char line[64];
	double t0, total = 0;
	int i;

	for (i = 0; i < rounds; i++) {
		(*v)++;
		(void)snprintf(line, sizeof(line), "pattern-%" PRId64 "\n",
		    *v);
		puts_(tt, "lists/list-03.txt", line);
		t0 = now_ms();
		publish_ok(g, version(tt, *v));
		total += now_ms() - t0;
	}
	return total / rounds;
}

static void
test_smart_http_publish_with_auth_and_outages(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL, *bad = NULL;
	struct ttree tt = { 0 };
	char url[256], srv[128], bare[192], other[128], cache[128], *port, *s;
	unsigned char *data = NULL;
	size_t len;
	double ms, ms_file;
	int64_t v = 0;

	/* Right password. */
	port = http_start(fx, srv, bare, url);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	puts_(&tt, "lists/watch-keyword.txt", "first\n");
	publish_ok(g, version(&tt, ++v));
	sh_ok("git clone -q -b gh-pages http://alice:s3cret@127.0.0.1:%s/"
	    "pages.git %s/clone", port, fx->dir);
	s = sh("git -C %s/clone ls-files | tr '\\n' ' '", fx->dir);
	assert_string_equal(s, ".nojekyll lists/watch-keyword.txt "
	    "manifest.json ");
	free(s);

	/* Wrong password (another cache: another installation). */
	(void)snprintf(other, sizeof(other), "%s/cache2", fx->dir);
	(void)snprintf(cache, sizeof(cache), "%s", getenv("HELIOS_GIT_CACHE"));
	setenv("HELIOS_GIT_CACHE", other, 1);
	setenv("HELIOS_GIT_PASSWORD", "wrong", 1);
	assert_int_equal(hl_pub_git_open(&bad, url, &err), 0);
	assert_int_equal(hl_pub_git_publish(bad, version(&tt, ++v), &err),
	    HL_EAUTH);
	assert_null(strstr(err.msg, "wrong"));
	hl_pub_git_close(bad);
	/* No credentials at all. */
	unsetenv("HELIOS_GIT_USERNAME");
	unsetenv("HELIOS_GIT_PASSWORD");
	assert_int_equal(hl_pub_git_open(&bad, url, &err), 0);
	assert_int_equal(hl_pub_git_publish(bad, version(&tt, v), &err),
	    HL_EAUTH);
	hl_pub_git_close(bad);
	setenv("HELIOS_GIT_CACHE", cache, 1);
	assert_int_equal(count(bare, "gh-pages"), 1);

	/* Server down, then up again: the newest version goes out. */
	sh_ok("sh %s stop %s", hl_testgit_server(), srv);
	puts_(&tt, "lists/watch-keyword.txt", "second\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, ++v), &err),
	    HL_EIO);
	puts_(&tt, "lists/watch-keyword.txt", "third\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, ++v), &err),
	    HL_EIO);
	sh_ok("sh %s start %s alice 's3cret' >/dev/null",
	    hl_testgit_server(), srv);
	puts_(&tt, "lists/watch-keyword.txt", "fourth\n");
	publish_ok(g, version(&tt, ++v));
	s = sh("git --git-dir=%s show gh-pages:lists/watch-keyword.txt", bare);
	assert_string_equal(s, "fourth");
	free(s);
	/*
	 * Pushing switched off (403): the commit is kept and goes out with
	 * the next one, as the ones made while the server was down did.
	 */
	sh_ok("git --git-dir=%s config http.receivepack false", bare);
	puts_(&tt, "lists/watch-keyword.txt", "fifth\n");
	assert_int_equal(hl_pub_git_publish(g, version(&tt, ++v), &err),
	    HL_EAUTH);
	sh_ok("git --git-dir=%s config http.receivepack true", bare);
	puts_(&tt, "lists/watch-keyword.txt", "sixth\n");
	publish_ok(g, version(&tt, ++v));
	s = sh("git --git-dir=%s log --format=%%s gh-pages | tr '\\n' ' '",
	    bare);
	assert_string_equal(s, "v7: +1 watch-keyword (by alice) "
	    "v6: +1 watch-keyword (by alice) v5: +1 watch-keyword (by alice) "
	    "v4: +1 watch-keyword (by alice) v3: +1 watch-keyword (by alice) "
	    "v1: +1 watch-keyword (by alice) ");
	free(s);

	/* Read back over http, with a credentials file this time. */
	s = sh("printf 'username=alice\\npassword=s3cret\\n' > %s/cred && "
	    "chmod 600 %s/cred && echo %s/cred", fx->dir, fx->dir, fx->dir);
	setenv("HELIOS_GIT_CREDENTIALS", s, 1);
	free(s);
	assert_int_equal(hl_gitarchive_read(&data, &len, url, NULL,
	    "lists/watch-keyword.txt", 6, 0, &err), 0);
	assert_string_equal((char *)data, "fifth\n");
	free(data);
	assert_int_equal(hl_gitarchive_read(&data, &len, url, NULL,
	    "lists/watch-keyword.txt", 4, 0, &err), 0);
	assert_string_equal((char *)data, "third\n");
	free(data);

	/* Time per publish: 2 MB tree, one file changed. */
	big_tree(&tt);
	publish_ok(g, version(&tt, ++v));
	ms = measure(g, &tt, &v, 20);
	hl_pub_git_close(g);
	unsetenv("HELIOS_GIT_CREDENTIALS");
	{
		struct hl_pub_git *gf = NULL;

		assert_int_equal(hl_pub_git_open(&gf, fx->url, &err), 0);
		publish_ok(gf, version(&tt, ++v));
		ms_file = measure(gf, &tt, &v, 20);
		hl_pub_git_close(gf);
	}
	printf("# commit+push per publish, 2 MB tree, one file changed: "
	    "%.1f ms over smart HTTP, %.1f ms to a bare repository by path\n",
	    ms, ms_file);
	assert_true(ms < 2000);
	s = sh("git --git-dir=%s rev-list --count gh-pages", bare);
	assert_string_equal(s, "27");
	free(s);

	sh_ok("sh %s stop %s", hl_testgit_server(), srv);
	free(port);
	tree_free(&tt);
}

/*
 * Over smart HTTP a one-line change to a 2 MB list sends a thin pack: the
 * server receives a few kilobytes, not the file (bytes counted by
 * tests/tools/byteproxy.py between the target and nginx), and the
 * server's repository is whole (git fsck).
 */
static void
test_a_one_line_change_to_a_big_list_pushes_a_thin_pack(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	char url[256], srv[128], bare[192], counter[160], *port, *s;
	long b0, b1, b2;
	int64_t v = 0;
	int pport, pid;

	port = http_start(fx, srv, bare, url);
	(void)snprintf(counter, sizeof(counter), "%s/bytes", fx->dir);
	s = sh("python3 -c 'import socket; s=socket.socket(); "
	    "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
	pport = atoi(s);
	free(s);
	s = sh("d=${HL_SRCDIR:-.}; python3 $d/tests/tools/byteproxy.py %d %s "
	    "%s >/dev/null 2>&1 & echo $!", pport, port, counter);
	pid = atoi(s);
	free(s);
	sh_ok("n=0; until [ -s %s ] || [ $n -gt 50 ]; do sleep 0.1; "
	    "n=$((n+1)); done; [ -s %s ]", counter, counter);
	(void)snprintf(url, sizeof(url),
	    "git+http://127.0.0.1:%d/pages.git#gh-pages", pport);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);

	big_tree(&tt);
	publish_ok(g, version(&tt, ++v));
	b0 = atol(s = sh("cat %s", counter));
	free(s);
	/* One line more at the end of a 128 KB list, and at the start. */
	{
		size_t i;
		unsigned char *d;

		for (i = 0; i < tt.n; i++)
			if (strcmp(tt.path[i], "lists/list-05.txt") == 0)
				break;
		assert_true(i < tt.n);
		d = malloc(tt.f[i].len + 32);
		assert_non_null(d);
		memcpy(d, "first\n", 6);
		memcpy(d + 6, tt.data[i], tt.f[i].len);
		memcpy(d + 6 + tt.f[i].len, "\nlast\n", 6);
		put(&tt, "lists/list-05.txt", d, tt.f[i].len + 12);
		free(d);
	}
	publish_ok(g, version(&tt, ++v));
	b1 = atol(s = sh("cat %s", counter));
	free(s);
	printf("# one line changed in a 2 MB tree: %ld bytes sent\n",
	    b1 - b0);
	assert_true(b1 - b0 < 16 * 1024);
	s = sh("git --git-dir=%s show gh-pages:lists/list-05.txt | "
	    "sed -n '1p;$p' | tr '\\n' ' '", bare);
	assert_string_equal(s, "first last ");
	free(s);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", bare);

	/*
	 * A server that keeps packs as they come (index-pack --fix-thin
	 * completes them): a change in the middle of a list, a new list.
	 */
	sh_ok("git --git-dir=%s config receive.unpackLimit 1", bare);
	puts_(&tt, "lists/list-06.txt", "only line\n");
	{
		size_t i;
		unsigned char *d;

		for (i = 0; i < tt.n; i++)
			if (strcmp(tt.path[i], "lists/list-07.txt") == 0)
				break;
		assert_true(i < tt.n);
		d = malloc(tt.f[i].len);
		assert_non_null(d);
		memcpy(d, tt.data[i], tt.f[i].len);
		d[0] = d[0] == 'x' ? 'y' : 'x';
		put(&tt, "lists/list-07.txt", d, tt.f[i].len);
		free(d);
	}
	publish_ok(g, version(&tt, ++v));
	b2 = atol(s = sh("cat %s", counter));
	free(s);
	assert_true(b2 - b1 < 16 * 1024);
	s = sh("git --git-dir=%s show gh-pages:lists/list-06.txt", bare);
	assert_string_equal(s, "only line");
	free(s);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", bare);
	assert_int_equal(count(bare, "gh-pages"), 3);

	sh_ok("kill %d", pid);
	http_stop(g, srv, port);
	tree_free(&tt);
}

/*
 * An object database backend in front of the cache's that counts the
 * whole reads (read or readstream) of one object and passes them on.
 */
static git_oid	spy_id;
static int	spy_reads;

static int
spy_read(void **buf, size_t *len, git_object_t *type, git_odb_backend *b,
    const git_oid *id)
{
	(void)buf;
	(void)len;
	(void)type;
	(void)b;
	if (git_oid_equal(id, &spy_id))
		spy_reads++;
	return GIT_ENOTFOUND;
}

static int
spy_readstream(git_odb_stream **out, size_t *len, git_object_t *type,
    git_odb_backend *b, const git_oid *id)
{
	(void)out;
	return spy_read(NULL, len, type, b, id);
}

static void
spy_free(git_odb_backend *b)
{
	free(b);
}

/*
 * A push over smart HTTP reads a changed list not once from the cache:
 * its delta takes the new version and the last pushed one from memory
 * (pub_git's noted blobs), the receive-pack request and its pack are
 * Helios's own, and libgit2 builds no pack beside it (its push would
 * read, delta and hold every new object again before a byte went out).
 * The server gets the change whole.
 */
static void
test_a_push_over_http_reads_a_changed_list_from_memory(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	git_odb_backend *spy;
	git_odb *odb = NULL;
	char url[256], srv[128], bare[192], *port, *s;
	unsigned char *d;
	size_t i, len;
	int k;

	port = http_start(fx, srv, bare, url);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	big_tree(&tt);
	publish_ok(g, version(&tt, 1));

	/* One line more at the end of two 128 KB lists. */
	for (k = 5; k <= 6; k++) {
		(void)snprintf(url, sizeof(url), "lists/list-%02d.txt", k);
		for (i = 0; i < tt.n; i++)
			if (strcmp(tt.path[i], url) == 0)
				break;
		assert_true(i < tt.n);
		len = tt.f[i].len + 7;
		d = malloc(len);
		assert_non_null(d);
		memcpy(d, tt.data[i], tt.f[i].len);
		memcpy(d + tt.f[i].len, "\nlast.\n", 7);
		if (k == 5)
			assert_int_equal(git_odb_hash(&spy_id, d, len,
			    GIT_OBJECT_BLOB), 0);
		put(&tt, url, d, len);
		free(d);
	}
	spy = calloc(1, sizeof(*spy));
	assert_non_null(spy);
	assert_int_equal(git_odb_init_backend(spy, GIT_ODB_BACKEND_VERSION),
	    0);
	spy->read = spy_read;
	spy->readstream = spy_readstream;
	spy->free = spy_free;
	assert_int_equal(git_repository_odb(&odb, hl_pub_git__repo(g)), 0);
	assert_int_equal(git_odb_add_backend(odb, spy, 1000), 0);
	git_odb_free(odb);
	spy_reads = 0;
	publish_ok(g, version(&tt, 2));
	printf("# whole reads of the changed list in its push: %d\n",
	    spy_reads);
	assert_int_equal(spy_reads, 0);
	s = sh("git --git-dir=%s show gh-pages:lists/list-05.txt | tail -1",
	    bare);
	assert_string_equal(s, "last.");
	free(s);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", bare);

	http_stop(g, srv, port);
	tree_free(&tt);
}

/*
 * A publish to a remote holds its new objects in memory while it pushes
 * (gitmem.h), and leaves every one of them in the cache's files before it
 * returns: after a push, and after a push that could not be made (the
 * commit kept for the next one).  git, which reads only files, checks.
 */
static void
test_a_publish_leaves_its_objects_on_disk_pushed_or_not(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	char url[256], srv[128], bare[192], *port, *cache, *s;

	port = http_start(fx, srv, bare, url);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	big_tree(&tt);
	publish_ok(g, version(&tt, 1));
	cache = sh("ls -d %s/*.git", getenv("HELIOS_GIT_CACHE"));
	sh_ok("git --git-dir=%s fsck --connectivity-only --no-dangling "
	    "refs/heads/gh-pages >/dev/null 2>&1", cache);

	puts_(&tt, "lists/list-07.txt", "changed while the server is down\n");
	sh_ok("sh %s stop %s", hl_testgit_server(), srv);
	assert_int_equal(hl_pub_git_publish(g, version(&tt, 2), &err), HL_EIO);
	s = sh("git --git-dir=%s show gh-pages:lists/list-07.txt", cache);
	assert_string_equal(s, "changed while the server is down");
	free(s);
	sh_ok("git --git-dir=%s fsck --connectivity-only --no-dangling "
	    "refs/heads/gh-pages >/dev/null 2>&1", cache);

	sh_ok("sh %s start %s alice 's3cret' >/dev/null",
	    hl_testgit_server(), srv);
	publish_ok(g, version(&tt, 3));
	s = sh("git --git-dir=%s show gh-pages:lists/list-07.txt", bare);
	assert_string_equal(s, "changed while the server is down");
	free(s);
	sh_ok("git --git-dir=%s fsck --connectivity-only --no-dangling "
	    "refs/heads/gh-pages >/dev/null 2>&1", cache);
	free(cache);
	http_stop(g, srv, port);
	tree_free(&tt);
}

/*
 * layout=smokedetector over smart HTTP: the thin pack carries the list
 * file's one new line; the branch keeps SmokeDetector's code and the
 * commits others push, which the next publish builds on.
 */
static void
test_smokedetector_layout_over_http_pushes_thin_on_top(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree big = { 0 }, tt = { 0 };
	char url[256], srv[128], bare[192], counter[160], work[160];
	char *port, *s, *theirs;
	unsigned char *d;
	long b0, b1;
	int pport, pid;
	FILE *fp;

	port = http_start(fx, srv, bare, url);
	(void)snprintf(work, sizeof(work), "%s/sd", fx->dir);
	big_tree(&big);
	sh_ok("git init -q -b master %s && printf 'def f():\\n    pass\\n' "
	    ">%s/findspam.py", work, work);
	(void)snprintf(url, sizeof(url), "%s/bad_keywords.txt", work);
	fp = fopen(url, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(big.data[0], 1, big.f[0].len, fp),
	    big.f[0].len);
	assert_int_equal(fputc('\n', fp), '\n');
	assert_int_equal(fclose(fp), 0);
	sh_ok("cd %s && git add -A && git -c user.name=Sd -c user.email=s@e "
	    "commit -q -m sd && git push -q http://alice:s3cret@127.0.0.1:%s/"
	    "pages.git master", work, port);

	(void)snprintf(counter, sizeof(counter), "%s/bytes", fx->dir);
	s = sh("python3 -c 'import socket; s=socket.socket(); "
	    "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
	pport = atoi(s);
	free(s);
	s = sh("d=${HL_SRCDIR:-.}; python3 $d/tests/tools/byteproxy.py %d %s "
	    "%s >/dev/null 2>&1 & echo $!", pport, port, counter);
	pid = atoi(s);
	free(s);
	sh_ok("n=0; until [ -s %s ] || [ $n -gt 50 ]; do sleep 0.1; "
	    "n=$((n+1)); done; [ -s %s ]", counter, counter);
	(void)snprintf(url, sizeof(url), "git+http://127.0.0.1:%d/pages.git"
	    "?layout=smokedetector#master", pport);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);

	d = malloc(big.f[0].len + 16);
	assert_non_null(d);
	memcpy(d, big.data[0], big.f[0].len);
	memcpy(d + big.f[0].len, "\nnew\\.example\n", 14);
	put(&tt, "lists/blacklist-keyword.txt", d, big.f[0].len + 14);
	free(d);
	b0 = atol(s = sh("cat %s", counter));
	free(s);
	publish_ok(g, version(&tt, 1));
	b1 = atol(s = sh("cat %s", counter));
	free(s);
	printf("# smokedetector layout, one line more: %ld bytes sent\n",
	    b1 - b0);
	assert_true(b1 - b0 < 16 * 1024);
	assert_int_equal(count(bare, "master"), 2);
	s = sh("git --git-dir=%s show master:bad_keywords.txt | tail -1",
	    bare);
	assert_string_equal(s, "new\\.example");
	free(s);
	s = sh("git --git-dir=%s ls-tree --name-only master | tr '\\n' ' '",
	    bare);
	assert_string_equal(s, "bad_keywords.txt findspam.py ");
	free(s);

	/* Someone else pushes; the next version goes on top of theirs. */
	sh_ok("cd %s && git pull -q http://alice:s3cret@127.0.0.1:%s/pages.git"
	    " master && echo '# more' >>findspam.py && git -c user.name=Sd "
	    "-c user.email=s@e commit -q -am code && git push -q "
	    "http://alice:s3cret@127.0.0.1:%s/pages.git master", work, port,
	    port);
	theirs = sh("git --git-dir=%s rev-parse master", bare);
	d = malloc(tt.f[0].len);
	assert_non_null(d);
	memcpy(d, tt.data[0], tt.f[0].len);
	memcpy(d + tt.f[0].len - 4, "org\n", 4);
	put(&tt, "lists/blacklist-keyword.txt", d, tt.f[0].len);
	free(d);
	publish_ok(g, version(&tt, 2));
	assert_int_equal(count(bare, "master"), 4);
	s = sh("git --git-dir=%s rev-parse master~1", bare);
	assert_string_equal(s, theirs);
	free(s);
	s = sh("git --git-dir=%s show master:findspam.py | tail -1", bare);
	assert_string_equal(s, "# more");
	free(s);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", bare);

	free(theirs);
	sh_ok("kill %d", pid);
	http_stop(g, srv, port);
	tree_free(&tt);
	tree_free(&big);
}

/* Appends line to the file at path of tt. */
static void
append(struct ttree *tt, const char *path, const char *line)
{
	unsigned char *d;
	size_t i, n = strlen(line);

	for (i = 0; i < tt->n; i++)
		if (strcmp(tt->path[i], path) == 0)
			break;
	assert_true(i < tt->n);
	d = malloc(tt->f[i].len + n);
	assert_non_null(d);
	memcpy(d, tt->data[i], tt->f[i].len);
	memcpy(d + tt->f[i].len, line, n);
	put(tt, path, d, tt->f[i].len + n);
	free(d);
}

/*
 * libgit2 writes each object loose; the cache packs them after a push
 * once they pass a size (here 1 byte), on the first publish and every
 * 16th after, keeping larger-than-4 MB objects loose.  The packed cache
 * is whole (git fsck), the pack of 16 changes takes under a quarter of
 * their loose objects, and the cache goes on publishing, also when
 * opened again.
 */
static void
test_the_cache_packs_its_loose_objects(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_pub_git *g = NULL;
	struct ttree tt = { 0 };
	char url[256], srv[128], bare[192], cache[1024], line[64], *port, *s;
	unsigned char *huge;
	uint64_t bytes, loose_max = 0;
	size_t n, i;
	long packed_kb;
	int64_t v = 0;

	port = http_start(fx, srv, bare, url);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	hl_pub_git__pack_at(g, 1);
	(void)snprintf(cache, sizeof(cache), "%s",
	    git_repository_path(hl_pub_git__repo(g)));

	big_tree(&tt);
	huge = malloc(HL_GITCACHE_OBJECT_MAX + 1);
	assert_non_null(huge);
	for (i = 0; i <= HL_GITCACHE_OBJECT_MAX; i++)
		huge[i] = (unsigned char)(i * 2654435761u >> 13);
	put(&tt, "lists/huge.bin", huge, HL_GITCACHE_OBJECT_MAX + 1);
	free(huge);
	publish_ok(g, version(&tt, ++v));
	assert_int_equal(hl_gitcache_loose(&n, &bytes, hl_pub_git__repo(g),
	    &err), 0);
	assert_int_equal(n, 1);	/* the huge blob, left loose */
	s = sh("du -sk %s/objects/pack | cut -f1", cache);
	packed_kb = atol(s);
	free(s);

	/* Fifteen one-line changes stay loose; the sixteenth packs. */
	for (i = 0; i < 16; i++) {
		(void)snprintf(line, sizeof(line), "pattern-%zu\n", i);
		append(&tt, "lists/list-03.txt", line);
		publish_ok(g, version(&tt, ++v));
		assert_int_equal(hl_gitcache_loose(&n, &bytes,
		    hl_pub_git__repo(g), &err), 0);
		if (bytes > loose_max)
			loose_max = bytes;
		if (i < 15)
			assert_true(n > 1);
	}
	assert_int_equal(n, 1);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", cache);
	s = sh("du -sk %s/objects/pack | cut -f1", cache);
	packed_kb = atol(s) - packed_kb;
	free(s);
	printf("# 16 one-line changes: %ld KB packed, %" PRIu64 " KB loose "
	    "before\n", packed_kb, loose_max / 1024);
	assert_true((uint64_t)packed_kb * 1024 < loose_max / 4);

	/* A cache opened again reads its pack and goes on publishing. */
	hl_pub_git_close(g);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	append(&tt, "lists/list-03.txt", "after the pack\n");
	publish_ok(g, version(&tt, ++v));
	assert_int_equal(count(bare, "gh-pages"), 18);
	s = sh("git --git-dir=%s show gh-pages:lists/list-03.txt | tail -n 2 |"
	    " tr '\\n' ' '", bare);
	assert_string_equal(s, "pattern-15 after the pack ");
	free(s);
	sh_ok("git --git-dir=%s fsck --no-dangling >/dev/null 2>&1", cache);

	http_stop(g, srv, port);
	tree_free(&tt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_publish_to_a_bare_repository_gives_exactly_the_tree,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_objects_0_leaves_out_the_object_copies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_publishing_the_same_tree_twice_makes_no_new_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_hundred_versions_read_back_from_the_archive,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_branch_moved_by_someone_else_is_a_conflict,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_urls_and_paths_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_credentials_file_others_can_read_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_smart_http_publish_with_auth_and_outages,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_one_line_change_to_a_big_list_pushes_a_thin_pack,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_push_over_http_reads_a_changed_list_from_memory,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_publish_leaves_its_objects_on_disk_pushed_or_not,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_smokedetector_layout_over_http_pushes_thin_on_top,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_cache_packs_its_loose_objects, setup, teardown),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
