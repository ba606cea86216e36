/*
 * test_restore: the restore core trusts no name from the tree it reads.
 * Paths are plain relative paths or refused; a manifest that names a path
 * out of the tree, a file whose bytes are not the manifest's, or a file
 * longer than the manifest says is refused before any byte of it is used,
 * and no database is left behind.  A sound tree (built here by hand, as
 * the generator lays it out) restores.
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
#include <jansson.h>

#include "blob.h"
#include "restore.h"
#include "store.h"

/* An in-memory tree: path -> bytes; and what was asked of it. */
struct mem {
	const char	*path[8];
	const char	*data[8];
	size_t		 n;
	char		 asked[1024];
};

static int
mem_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	struct mem *m = arg;
	size_t i, len;

	strncat(m->asked, path, sizeof(m->asked) - strlen(m->asked) - 2);
	strcat(m->asked, " ");
	for (i = 0; i < m->n; i++)
		if (strcmp(m->path[i], path) == 0) {
			len = strlen(m->data[i]);
			if (len > max)
				return hl_err_set(err, HL_ETOOBIG, "over");
			return hl_buf_put(out, m->data[i], len);
		}
	return hl_err_set(err, HL_ENOTFOUND, "%s: no such file", path);
}

static const char text[] = "# a comment\nspam\\.example\n";
static const char list_json[] = "{\"items\": [{\"text_pattern\":"
    " \"spam\\\\.example\", \"created_at\": 1500000000, \"created_by\":"
    " \"alice\", \"modified_at\": 1500000001, \"modified_by\": \"bob\"}]}";

/* A manifest naming text and list_json (with tpath as the text's path). */
static char *
manifest(const char *tpath, const char *tsha, long tbytes)
{
	char s1[65], s2[65], *m;
	json_t *j;

	hl_digest(s1, NULL, text, strlen(text));
	hl_digest(s2, NULL, list_json, strlen(list_json));
	j = json_pack("{s:i, s:i, s:i, s:[{s:s, s:s, s:s, s:i}],"
	    " s:[{s:s, s:s, s:I}, {s:s, s:s, s:I}]}",
	    "format", 1, "version", 42, "notifications_version", 0,
	    "lists", "id", "blacklist-keyword", "text", tpath,
	    "json", "lists/blacklist-keyword.json", "version", 40,
	    "files", "path", tpath, "sha256", tsha ? tsha : s1,
	    "bytes", (json_int_t)(tbytes >= 0 ? tbytes : (long)strlen(text)),
	    "path", "lists/blacklist-keyword.json", "sha256", s2,
	    "bytes", (json_int_t)strlen(list_json));
	assert_non_null(j);
	m = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return m;
}

static void
setup_mem(struct mem *m, const char *man, const char *tpath,
    const char *tdata)
{
	memset(m, 0, sizeof(*m));
	m->path[0] = "manifest.json";
	m->data[0] = man;
	m->path[1] = tpath;
	m->data[1] = tdata;
	m->path[2] = "lists/blacklist-keyword.json";
	m->data[2] = list_json;
	m->n = 3;
}

static int
run(struct mem *m, const char *db, struct hl_err *err)
{
	struct hl_restore_src src = { "mem", mem_read, m };
	struct hl_restore_opts o = HL_RESTORE_OPTS_INIT;
	struct hl_restore_stats st;

	o.db = db;
	return hl_restore_run(&st, &src, &o, err);
}

static void
test_plain_relative_paths_only(void **state)
{
	static const char *const good[] = { "manifest.json",
	    "lists/watch-keyword.txt", "objects/3f2a", "a/b.c_d-e" };
	static const char *const bad[] = { "", "/etc/passwd", "../x",
	    "lists/../../x", "lists//x", "lists/", "./x", "lists/.",
	    "a\\b", "a b", "lists/x\n", "%2e%2e/x", "a:b" };
	char longp[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(hl_restore_path_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hl_restore_path_ok(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(hl_restore_path_ok(longp));
	assert_false(hl_restore_path_ok(NULL));
}

static void
test_unsound_trees_are_refused_and_write_nothing(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct mem m;
	char db[64], *man;

	(void)state;
	snprintf(db, sizeof(db), "/tmp/test_restore.%ld.sqlite",
	    (long)getpid());

	/* A path out of the tree is never read. */
	man = manifest("../outside.txt", NULL, -1);
	setup_mem(&m, man, "../outside.txt", text);
	assert_int_equal(run(&m, db, &err), HL_EINVAL);
	assert_null(strstr(m.asked, "outside"));
	assert_int_equal(access(db, F_OK), -1);
	free(man);

	/* Bytes that are not the manifest's. */
	man = manifest("lists/blacklist-keyword.txt", NULL, -1);
	setup_mem(&m, man, "lists/blacklist-keyword.txt",
	    "# a comment\nham\\.example\n");
	assert_int_equal(run(&m, db, &err), HL_EINVAL);
	assert_non_null(strstr(err.msg, "does not match the manifest"));
	assert_int_equal(access(db, F_OK), -1);

	/* Longer than the manifest says: read no further than one byte. */
	setup_mem(&m, man, "lists/blacklist-keyword.txt",
	    "# a comment\nspam\\.example\nmore\n");
	assert_int_equal(run(&m, db, &err), HL_EINVAL);
	assert_int_equal(access(db, F_OK), -1);

	/* No manifest at all. */
	setup_mem(&m, man, "lists/blacklist-keyword.txt", text);
	m.path[0] = "nothing";
	assert_int_equal(run(&m, db, &err), HL_ENOTFOUND);
	assert_int_equal(access(db, F_OK), -1);
	free(man);
}

static void
test_a_sound_tree_restores(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	struct hl_item *items = NULL;
	struct mem m;
	char db[64], *man;
	size_t n = 0;

	(void)state;
	snprintf(db, sizeof(db), "/tmp/test_restore.%ld.ok.sqlite",
	    (long)getpid());
	man = manifest("lists/blacklist-keyword.txt", NULL, -1);
	setup_mem(&m, man, "lists/blacklist-keyword.txt", text);
	if (run(&m, db, &err) != 0)
		fail_msg("%s", err.msg);
	/* Read through objects/ first: none here, so the path. */
	assert_non_null(strstr(m.asked, "lists/blacklist-keyword.txt"));
	assert_int_equal(hl_store_open(&st, db, &err), 0);
	assert_int_equal(hl_store_version(st), 42);
	assert_int_equal(hl_store_items(&items, &n, st, "blacklist-keyword",
	    1, &err), 0);
	assert_int_equal(n, 2);		/* the comment, then the pattern */
	assert_true(items[0].verbatim);
	assert_string_equal(items[1].value, "spam\\.example");
	assert_string_equal(items[1].created_by, "alice");
	assert_string_equal(items[1].modified_by, "bob");
	hl_items_free(items, n);
	hl_store_close(st);
	/* A second restore over it is refused. */
	assert_int_equal(run(&m, db, &err), HL_EEXISTS);
	unlink(db);
	free(man);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_relative_paths_only),
		cmocka_unit_test(test_unsound_trees_are_refused_and_write_nothing),
		cmocka_unit_test(test_a_sound_tree_restores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
