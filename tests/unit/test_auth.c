/*
 * test_auth: tokens (format, hash, header parsing, constant-time compare,
 * scopes) and hl_auth_check against a real store in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "store.h"

static void
test_a_new_token_is_64_lower_case_hex_characters(void **state)
{
	char a[HL_AUTH_TOKEN_LEN + 1], b[HL_AUTH_TOKEN_LEN + 1];
	struct hl_err err = HL_ERR_INIT;
	size_t i;

	assert_int_equal(hl_auth_token_new(a, &err), 0);
	assert_int_equal(hl_auth_token_new(b, &err), 0);
	assert_int_equal(strlen(a), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

static void
test_the_hash_is_the_sha256_of_the_token_text(void **state)
{
	static const unsigned char want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char got[32];

	hl_auth_token_hash(got, "abc");
	assert_memory_equal(got, want, 32);
}

static void
test_hashes_compare_equal_only_when_every_byte_matches(void **state)
{
	unsigned char a[32], b[32];

	hl_auth_token_hash(a, "one");
	memcpy(b, a, 32);
	assert_true(hl_auth_hash_equal(a, b));
	b[31] ^= 1;
	assert_false(hl_auth_hash_equal(a, b));
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_false(hl_auth_hash_equal(a, b));
}

static void
test_the_header_takes_a_bare_token_or_bearer(void **state)
{
	char longtok[HL_AUTH_TOKEN_MAX + 2];

	assert_string_equal(hl_auth_header_token("abc123"), "abc123");
	assert_string_equal(hl_auth_header_token("Bearer abc123"), "abc123");
	assert_string_equal(hl_auth_header_token("bearer   abc"), "abc");
	assert_string_equal(hl_auth_header_token("BEARER x"), "x");
	/* "Bearerx" is a bare token that happens to start with Bearer. */
	assert_string_equal(hl_auth_header_token("Bearerx"), "Bearerx");
	assert_null(hl_auth_header_token(NULL));
	assert_null(hl_auth_header_token(""));
	assert_null(hl_auth_header_token("   "));
	assert_null(hl_auth_header_token("Bearer"));
	assert_null(hl_auth_header_token("Bearer "));
	assert_null(hl_auth_header_token("Bearer a b"));
	assert_null(hl_auth_header_token("a\tb"));
	assert_null(hl_auth_header_token("ab\x7f"));
	assert_null(hl_auth_header_token("Basic dXNlcjpwdw=="));
	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	assert_null(hl_auth_header_token(longtok));
	longtok[HL_AUTH_TOKEN_MAX] = '\0';
	assert_non_null(hl_auth_header_token(longtok));
}

static void
test_admin_grants_every_scope_and_write_grants_only_write(void **state)
{
	assert_true(hl_auth_scopes_grant(HL_SCOPE_ADMIN, HL_SCOPE_WRITE));
	assert_true(hl_auth_scopes_grant(HL_SCOPE_ADMIN, HL_SCOPE_ADMIN));
	assert_true(hl_auth_scopes_grant(HL_SCOPE_WRITE, HL_SCOPE_WRITE));
	assert_true(hl_auth_scopes_grant(HL_SCOPE_WRITE, 0));
	assert_false(hl_auth_scopes_grant(HL_SCOPE_WRITE, HL_SCOPE_ADMIN));
	assert_false(hl_auth_scopes_grant(0, HL_SCOPE_WRITE));
	assert_false(hl_auth_scopes_grant(HL_SCOPE_WRITE,
	    HL_SCOPE_WRITE | HL_SCOPE_APPROVE));
}

static void
test_a_token_is_checked_against_the_store(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st = NULL;
	struct hl_token t = { 0 }, added = { 0 };
	unsigned char hash[32];
	char tok[HL_AUTH_TOKEN_LEN + 1], hdr[128];

	assert_int_equal(hl_store_open(&st, ":memory:", &err), 0);
	assert_int_equal(hl_auth_token_new(tok, &err), 0);
	hl_auth_token_hash(hash, tok);
	assert_int_equal(hl_store_token_add(&added, st, "bot", hash,
	    HL_SCOPE_WRITE, "test", &err), 0);

	assert_int_equal(hl_auth_check(&t, st, tok, HL_SCOPE_WRITE, &err), 0);
	assert_string_equal(t.name, "bot");
	assert_int_equal(t.id, added.id);
	hl_token_clear(&t);

	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(hl_auth_check(&t, st, hdr, 0, &err), 0);
	hl_token_clear(&t);

	assert_int_equal(hl_auth_check(&t, st, hdr, HL_SCOPE_ADMIN, &err),
	    HL_EPERM);
	assert_non_null(strstr(err.msg, "admin"));
	hl_token_clear(&t);

	assert_int_equal(hl_auth_check(&t, st, NULL, 0, &err), HL_EAUTH);
	tok[0] = tok[0] == 'a' ? 'b' : 'a';
	assert_int_equal(hl_auth_check(&t, st, tok, 0, &err), HL_EAUTH);
	tok[0] = hdr[7];

	assert_int_equal(hl_store_token_revoke(st, added.id, &err), 0);
	assert_int_equal(hl_auth_check(&t, st, tok, 0, &err), HL_EAUTH);
	/* The message does not say whether it was unknown or revoked. */
	assert_string_equal(err.msg, "the token is unknown or revoked");

	hl_token_clear(&added);
	hl_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_a_new_token_is_64_lower_case_hex_characters),
		cmocka_unit_test(
		    test_the_hash_is_the_sha256_of_the_token_text),
		cmocka_unit_test(
		    test_hashes_compare_equal_only_when_every_byte_matches),
		cmocka_unit_test(
		    test_the_header_takes_a_bare_token_or_bearer),
		cmocka_unit_test(
		    test_admin_grants_every_scope_and_write_grants_only_write),
		cmocka_unit_test(
		    test_a_token_is_checked_against_the_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
