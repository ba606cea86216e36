/*
 * test_blob: chunked gzip and hashing of published files, with and
 * without reuse of an earlier file's prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blob.h"

/* n bytes of list-like text, the same for the same seed. */
static char *
text(size_t n, unsigned seed)
{
	char *p = malloc(n + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = i % 37 == 36 ? '\n' : (char)('a' + (seed >> 16) % 26);
	}
	return p;
}

static void
check(const struct hl_blob *id, const struct hl_blob *gz, const char *want,
    size_t n)
{
	struct hl_buf out = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	char sha[65], md5[33];

	assert_int_equal(id->len, n);
	hl_digest(sha, md5, want, n);
	assert_string_equal(id->sha256, sha);
	assert_string_equal(id->md5, md5);
	assert_int_equal(hl_gunzip(&out, gz->data, gz->len, n + 1, &err), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data ? out.data : "", want, n);
	hl_buf_free(&out);
}

static void
chunked_gzip_decompresses_and_hashes_at_every_size(void **state)
{
	static const size_t sizes[] = { 0, 1, HL_BLOB_CHUNK - 1,
	    HL_BLOB_CHUNK, HL_BLOB_CHUNK + 1, 3 * HL_BLOB_CHUNK,
	    3 * HL_BLOB_CHUNK + 5 };
	struct hl_blob id, gz;
	struct hl_err err = HL_ERR_INIT;
	size_t i;
	char *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = text(sizes[i], 7);
		assert_int_equal(hl_blob_make(&id, &gz, NULL, p, sizes[i], 0, 6,
		    &err), 0);
		p = text(sizes[i], 7);
		check(&id, &gz, p, sizes[i]);
		free(p);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
	}
}

/* Growing a file through the memo gives the bytes of a fresh make. */
static void
an_append_reuses_the_prefix_and_gives_the_same_bytes(void **state)
{
	static const size_t steps[] = { 10, 3 * HL_BLOB_CHUNK + 100,
	    3 * HL_BLOB_CHUNK + 200, 4 * HL_BLOB_CHUNK, 5 * HL_BLOB_CHUNK + 1 };
	struct hl_blob_memo memo = { 0 };
	struct hl_blob id, gz, id2, gz2;
	struct hl_err err = HL_ERR_INIT;
	size_t i, prev = 0;
	char *all = text(6 * HL_BLOB_CHUNK, 3), *p;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		p = malloc(steps[i]);
		memcpy(p, all, steps[i]);
		assert_int_equal(hl_blob_make(&id, &gz, &memo, p, steps[i],
		    prev, 1, &err), 0);
		if (i >= 2)
			assert_true(memo.at >= 3 * HL_BLOB_CHUNK);
		p = malloc(steps[i]);
		memcpy(p, all, steps[i]);
		assert_int_equal(hl_blob_make(&id2, &gz2, NULL, p, steps[i],
		    0, 1, &err), 0);
		assert_string_equal(id.sha256, id2.sha256);
		assert_string_equal(id.md5, id2.md5);
		assert_int_equal(gz.len, gz2.len);
		assert_memory_equal(gz.data, gz2.data, gz.len);
		check(&id, &gz, all, steps[i]);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
		hl_blob_clear(&id2);
		hl_blob_clear(&gz2);
		prev = steps[i];
	}
	/* A change inside the prefix: keep says so, nothing stale is used. */
	p = malloc(steps[4]);
	memcpy(p, all, steps[4]);
	p[100] ^= 1;
	assert_int_equal(hl_blob_make(&id, &gz, &memo, p, steps[4], 100, 1,
	    &err), 0);
	all[100] ^= 1;
	check(&id, &gz, all, steps[4]);
	hl_blob_clear(&id);
	hl_blob_clear(&gz);
	hl_blob_memo_clear(&memo);
	free(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    chunked_gzip_decompresses_and_hashes_at_every_size),
		cmocka_unit_test(
		    an_append_reuses_the_prefix_and_gives_the_same_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
