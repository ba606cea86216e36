/*
 * test_gitmem: a git cache's objects held in memory until flushed
 * (gen/targets/gitmem.c), and the repair of a cache whose refs name
 * objects it lost (hl_gitcache_repair), on real bare repositories made
 * here; what is on disk is checked with the git command-line tool, which
 * sees only files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>

#include "err.h"
#include "gitcache.h"
#include "gitmem.h"

struct fix {
	char		 dir[64];
	git_repository	*repo;
};

/* 0 when the command succeeds. */
static int
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Whether git, reading the files, has object id. */
static int
on_disk(const struct fix *fx, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return run("git --git-dir=%s cat-file -e %s 2>/dev/null", fx->dir,
	    hex) == 0;
}

static int
setup(void **state)
{
	struct fix *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)strcpy(fx->dir, "/tmp/hl-gitmem-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    git_repository_init(&fx->repo, fx->dir, 1) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *fx = *state;
	int rc;

	git_repository_free(fx->repo);
	rc = run("rm -rf %s", fx->dir);
	free(fx);
	return rc == 0 ? 0 : -1;
}

static void
test_objects_are_held_until_flushed_then_on_disk(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_gitmem *m = NULL;
	git_oid blob, tree;
	git_treebuilder *tb = NULL;
	git_blob *b = NULL;
	size_t bytes;

	assert_int_equal(hl_gitmem_attach(&m, fx->repo, &err), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, fx->repo,
	    "spam\n", 5), 0);
	assert_int_equal(git_treebuilder_new(&tb, fx->repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "a.txt", &blob,
	    GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tree, tb), 0);
	git_treebuilder_free(tb);
	/* Readable through libgit2, in no file yet. */
	assert_int_equal(hl_gitmem_count(m, &bytes), 2);
	assert_true(bytes > 5);
	assert_int_equal(git_blob_lookup(&b, fx->repo, &blob), 0);
	assert_memory_equal(git_blob_rawcontent(b), "spam\n", 5);
	git_blob_free(b);
	assert_false(on_disk(fx, &blob));
	assert_false(on_disk(fx, &tree));

	assert_int_equal(hl_gitmem_flush(m, &err), 0);
	assert_int_equal(hl_gitmem_count(m, &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_true(on_disk(fx, &blob));
	assert_true(on_disk(fx, &tree));
	assert_int_equal(run("git --git-dir=%s cat-file -p %.*s | "
	    "grep -qx spam", fx->dir, 40, git_oid_tostr_s(&blob)), 0);
	/* Written again: already there, nothing held. */
	assert_int_equal(git_blob_create_from_buffer(&blob, fx->repo,
	    "spam\n", 5), 0);
	assert_int_equal(hl_gitmem_count(m, NULL), 0);
}

static void
test_a_big_object_goes_to_disk_at_once(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_gitmem *m = NULL;
	size_t len = HL_GITMEM_OBJECT_MAX + 1;
	git_oid id;
	char *big;

	assert_int_equal(hl_gitmem_attach(&m, fx->repo, &err), 0);
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'x', len);
	assert_int_equal(git_blob_create_from_buffer(&id, fx->repo, big, len),
	    0);
	free(big);
	assert_int_equal(hl_gitmem_count(m, NULL), 0);
	assert_true(on_disk(fx, &id));
}

static void
test_the_held_bytes_are_bounded(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_gitmem *m = NULL;
	size_t len = 1024 * 1024, bytes, i, n;
	git_oid id[16];
	char *buf;

	assert_int_equal(hl_gitmem_attach(&m, fx->repo, &err), 0);
	buf = malloc(len);
	assert_non_null(buf);
	for (i = 0; i < 16; i++) {	/* 16 MB of distinct objects */
		memset(buf, 'a' + (int)i, len);
		assert_int_equal(git_blob_create_from_buffer(&id[i], fx->repo,
		    buf, len), 0);
	}
	free(buf);
	n = hl_gitmem_count(m, &bytes);
	assert_true(bytes <= HL_GITMEM_HELD_MAX);
	assert_true(n < 16);
	for (i = n; i < 16; i++)	/* the rest went to disk */
		assert_true(on_disk(fx, &id[i]));
	assert_int_equal(hl_gitmem_flush(m, &err), 0);
	for (i = 0; i < 16; i++)
		assert_true(on_disk(fx, &id[i]));
}

/* A blob whose id the caller computed: held unless already there. */
static void
test_a_blob_put_by_its_id_is_held_once(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_gitmem *m = NULL;
	git_oid id, got;
	char *big;

	assert_int_equal(hl_gitmem_attach(&m, fx->repo, &err), 0);
	assert_int_equal(git_odb_hash(&id, "ham\n", 4, GIT_OBJECT_BLOB), 0);
	assert_int_equal(hl_gitmem_put_blob(m, fx->repo, &id, "ham\n", 4), 0);
	assert_int_equal(hl_gitmem_count(m, NULL), 1);
	assert_int_equal(hl_gitmem_put_blob(m, fx->repo, &id, "ham\n", 4), 0);
	assert_int_equal(hl_gitmem_count(m, NULL), 1);
	assert_int_equal(hl_gitmem_flush(m, &err), 0);
	assert_true(on_disk(fx, &id));
	assert_int_equal(run("test \"$(printf 'ham\\n' | git hash-object "
	    "--stdin)\" = %s", git_oid_tostr_s(&id)), 0);
	/* On disk now: not held again. */
	assert_int_equal(hl_gitmem_put_blob(m, fx->repo, &id, "ham\n", 4), 0);
	assert_int_equal(hl_gitmem_count(m, NULL), 0);
	/* Too big: declined, for libgit2 to write. */
	big = calloc(1, HL_GITMEM_OBJECT_MAX + 1);
	assert_non_null(big);
	assert_int_equal(git_odb_hash(&got, big, HL_GITMEM_OBJECT_MAX + 1,
	    GIT_OBJECT_BLOB), 0);
	assert_int_equal(hl_gitmem_put_blob(m, fx->repo, &got, big,
	    HL_GITMEM_OBJECT_MAX + 1), 1);
	assert_int_equal(hl_gitmem_count(m, NULL), 0);
	free(big);
}

/* A ref to an object a crash lost is dropped; the others stay. */
static void
test_repair_drops_refs_to_lost_objects(void **state)
{
	struct fix *fx = *state;
	struct hl_err err = HL_ERR_INIT;
	git_oid blob, lost;
	git_reference *ref = NULL;
	size_t n = 99;

	assert_int_equal(git_blob_create_from_buffer(&blob, fx->repo, "ok\n",
	    3), 0);
	assert_int_equal(git_reference_create(&ref, fx->repo,
	    "refs/heads/kept", &blob, 1, NULL), 0);
	git_reference_free(ref);
	assert_int_equal(git_oid_fromstr(&lost,
	    "0123456789abcdef0123456789abcdef01234567"), 0);
	assert_int_equal(run("printf '%s\\n' >%s/refs/heads/lost && "
	    "printf '%s\\n' >%s/refs/tags/v9", git_oid_tostr_s(&lost),
	    fx->dir, git_oid_tostr_s(&lost), fx->dir), 0);

	assert_int_equal(hl_gitcache_repair(&n, fx->repo, &err), 0);
	assert_int_equal(n, 2);
	assert_int_not_equal(run("git --git-dir=%s rev-parse -q --verify "
	    "refs/heads/lost >/dev/null", fx->dir), 0);
	assert_int_not_equal(run("git --git-dir=%s rev-parse -q --verify "
	    "refs/tags/v9 >/dev/null", fx->dir), 0);
	assert_int_equal(run("git --git-dir=%s rev-parse -q --verify "
	    "refs/heads/kept >/dev/null", fx->dir), 0);
	assert_int_equal(hl_gitcache_repair(&n, fx->repo, &err), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_objects_are_held_until_flushed_then_on_disk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_big_object_goes_to_disk_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_held_bytes_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_blob_put_by_its_id_is_held_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_repair_drops_refs_to_lost_objects, setup, teardown),
	};

	git_libgit2_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
