/*
 * test_api: the routes of api.c driven directly with struct hl_request
 * over a real store in memory (no HTTP server), so that every status and
 * error code is checked without a network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "store.h"
#include "validate.h"

struct fx {
	struct hl_store	*st;
	struct hl_api	*api;
	char		 admin[HL_AUTH_TOKEN_LEN + 1];
	char		 writer[HL_AUTH_TOKEN_LEN + 1];
	int64_t		 changed;	/* last version given to on_change */
	int		 nchanged;
	unsigned	 status;
	const char	*allow;
	json_t		*j;		/* the last response body */
};

static void
on_change(int64_t version, void *payload)
{
	struct fx *f = payload;

	f->changed = version;
	f->nchanged++;
}

static void
add_token(struct fx *f, char *out, const char *name, unsigned scopes)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token t = { 0 };
	unsigned char hash[32];

	assert_int_equal(hl_auth_token_new(out, &err), 0);
	hl_auth_token_hash(hash, out);
	assert_int_equal(hl_store_token_add(&t, f->st, name, hash, scopes,
	    "test", &err), 0);
	hl_token_clear(&t);
}

static int
setup(void **state)
{
	struct hl_api_opts o = HL_API_OPTS_INIT;
	struct hl_err err = HL_ERR_INIT;
	struct fx *f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(hl_store_open(&f->st, ":memory:", &err), 0);
	add_token(f, f->admin, "root", HL_SCOPE_ADMIN);
	add_token(f, f->writer, "bot", HL_SCOPE_WRITE);
	o.store = f->st;
	o.on_change = on_change;
	o.payload = f;
	o.openapi_file = "schema/openapi.json";
	assert_int_equal(hl_api_new(&f->api, &o, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	json_decref(f->j);
	hl_api_free(f->api);
	hl_store_close(f->st);
	free(f);
	return 0;
}

/*
 * Sends one request; sets f->status and f->j (the parsed body, NULL when
 * not JSON).  path may carry "?query".  ct NULL with a body means
 * application/json.
 */
static unsigned
call(struct fx *f, const char *method, const char *path, const char *auth,
    const char *ct, const char *body)
{
	struct hl_response res = HL_RESPONSE_INIT;
	struct hl_request req = { 0 };
	char p[512], *q;

	snprintf(p, sizeof(p), "%s", path);
	if ((q = strchr(p, '?')) != NULL)
		*q++ = '\0';
	req.method = method;
	req.path = p;
	req.query = q;
	req.authorization = auth;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = ct ? ct : body ? "application/json" : NULL;
	assert_int_equal(hl_api_handle(&res, f->api, &req), 0);
	json_decref(f->j);
	f->j = json_loadb(res.body.data, res.body.len, 0, NULL);
	f->status = res.status;
	f->allow = res.allow;
	hl_response_clear(&res);
	return f->status;
}

static const char *
jstr(struct fx *f, const char *key)
{
	return json_string_value(json_object_get(f->j, key));
}

static json_t *
item0(struct fx *f)
{
	return json_array_get(json_object_get(f->j, "items"), 0);
}

static int64_t
num_items(struct fx *f)
{
	return json_integer_value(json_object_get(f->j, "numItems"));
}

static void
test_healthz_answers_ok_with_the_version(void **state)
{
	struct fx *f = *state;

	assert_int_equal(call(f, "GET", "/healthz", NULL, NULL, NULL), 200);
	assert_string_equal(jstr(f, "status"), "ok");
	assert_non_null(json_object_get(f->j, "version"));
	assert_int_equal(num_items(f), 0);
}

static void
test_test_auth_names_the_token_owner_or_answers_401(void **state)
{
	struct fx *f = *state;
	char hdr[100];

	snprintf(hdr, sizeof(hdr), "Bearer %s", f->writer);
	assert_int_equal(call(f, "GET", "/test_auth", hdr, NULL, NULL), 200);
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "name")), "bot");
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "scopes")), "write");
	assert_int_equal(call(f, "GET", "/test_auth", NULL, NULL, NULL), 401);
	assert_string_equal(jstr(f, "error"), "unauthorized");
	assert_int_equal(call(f, "GET", "/test_auth", "nope", NULL, NULL),
	    401);
}

static void
test_an_admin_mints_a_token_that_works_once_and_until_revoked(void **state)
{
	struct fx *f = *state;
	char tok[100], path[64];
	int64_t id;

	assert_int_equal(call(f, "POST", "/auth/create", f->admin, NULL,
	    "{\"name\":\"ci\",\"scopes\":[\"write\"]}"), 201);
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "name")), "ci");
	snprintf(tok, sizeof(tok), "%s", json_string_value(
	    json_object_get(item0(f), "token")));
	assert_int_equal(strlen(tok), 64);
	id = json_integer_value(json_object_get(item0(f), "id"));
	assert_int_equal(call(f, "GET", "/test_auth", tok, NULL, NULL), 200);
	assert_null(json_object_get(item0(f), "token"));

	/* A write token may not mint or list tokens. */
	assert_int_equal(call(f, "POST", "/auth/create", tok, NULL,
	    "{\"name\":\"x\"}"), 403);
	assert_string_equal(jstr(f, "error"), "forbidden");
	assert_int_equal(call(f, "GET", "/tokens", tok, NULL, NULL), 403);

	assert_int_equal(call(f, "GET", "/tokens", f->admin, NULL, NULL), 200);
	assert_int_equal(num_items(f), 3);
	snprintf(path, sizeof(path), "/tokens/%lld", (long long)id);
	assert_int_equal(call(f, "DELETE", path, f->admin, NULL, NULL), 200);
	assert_int_equal(call(f, "GET", "/test_auth", tok, NULL, NULL), 401);
	assert_int_equal(call(f, "DELETE", path, f->admin, NULL, NULL), 404);
	assert_int_equal(call(f, "DELETE", "/tokens/x1", f->admin, NULL,
	    NULL), 400);
	assert_int_equal(call(f, "POST", "/auth/create", f->admin, NULL,
	    "{\"name\":\"y\",\"scopes\":\"root\"}"), 400);
	assert_int_equal(call(f, "POST", "/auth/create", NULL, NULL,
	    "{\"name\":\"y\"}"), 401);
}

static void
test_a_pattern_is_added_refused_twice_and_removed(void **state)
{
	struct fx *f = *state;
	int64_t v;

	assert_int_equal(call(f, "POST", "/blacklists/watch-keyword",
	    f->writer, NULL, "{\"pattern\":\"spam\\\\.example\"}"), 201);
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "text_pattern")), "spam\\.example");
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "created_by")), "bot");
	v = json_integer_value(json_object_get(f->j, "version"));
	assert_true(v > 0);
	assert_int_equal(f->changed, v);

	/* tsv duplicates compare exactly, as SmokeDetector's do. */
	assert_int_equal(call(f, "POST", "/blacklists/watch-keyword",
	    f->writer, "application/json; charset=utf-8",
	    "{\"pattern\":\"spam\\\\.example\"}"), 409);
	assert_string_equal(jstr(f, "error"), "duplicate");
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "text_pattern")), "spam\\.example");

	assert_int_equal(call(f, "GET", "/blacklists/watch-keyword", NULL,
	    NULL, NULL), 200);
	assert_int_equal(num_items(f), 1);

	assert_int_equal(call(f, "DELETE",
	    "/blacklists/watch-keyword?pattern=spam%5C.example", f->writer,
	    NULL, NULL), 200);
	assert_int_equal(f->changed, v + 1);
	assert_int_equal(call(f, "DELETE", "/blacklists/watch-keyword",
	    f->writer, NULL, "{\"pattern\":\"spam\\\\.example\"}"), 404);
	assert_int_equal(f->nchanged, 2);
}

static void
test_the_yaml_lists_take_their_own_fields(void **state)
{
	struct fx *f = *state;

	assert_int_equal(call(f, "POST", "/blacklists/watch-ns", f->writer,
	    NULL, "{\"ns\":[\"ns1.example.com.\",\"ns2.example.com.\"],"
	    "\"comment\":\"a pair\"}"), 201);
	assert_int_equal(json_array_size(json_object_get(item0(f), "ns")), 2);
	assert_int_equal(call(f, "POST", "/blacklists/watch-asn", f->writer,
	    NULL, "{\"asn\":13335,\"disable\":true}"), 201);
	assert_string_equal(json_string_value(json_object_get(item0(f),
	    "asn")), "13335");
	assert_int_equal(call(f, "POST", "/blacklists/blacklist-cidr",
	    f->writer, NULL, "{\"ip\":\"192.0.2.1\",\"pass\":true}"), 201);
	assert_int_equal(call(f, "POST", "/blacklists/blacklist-cidr",
	    f->writer, NULL, "{\"ip\":\"192.0.2.300\"}"), 400);
	assert_int_equal(call(f, "POST", "/blacklists/blacklist-keyword",
	    f->writer, NULL, "{\"pattern\":\"x\",\"comment\":\"c\"}"), 400);
	assert_int_equal(call(f, "DELETE", "/blacklists/watch-asn?asn=13335",
	    f->writer, NULL, NULL), 200);
}

static void
test_bad_input_gets_the_right_status_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct hl_response res = HL_RESPONSE_INIT;
	struct hl_request req = { 0 };
	char big[HL_VALIDATE_MAX_VALUE + 64];
	static const struct {
		const char *method, *path, *ct, *body;
		unsigned status;
		const char *error;
	} cases[] = {
		{ "POST", "/blacklists/watch-keyword", NULL, "{\"pattern\":",
		    400, "invalid_json" },
		{ "POST", "/blacklists/watch-keyword", "text/plain",
		    "{\"pattern\":\"a\"}", 415, "unsupported_media_type" },
		{ "POST", "/blacklists/watch-keyword", "application/jsonx",
		    "{\"pattern\":\"a\"}", 415, "unsupported_media_type" },
		{ "POST", "/blacklists/watch-keyword", NULL, "{}", 400,
		    "missing_field" },
		{ "POST", "/blacklists/watch-keyword", NULL, "[1]", 400,
		    "invalid_json" },
		{ "POST", "/blacklists/watch-keyword", NULL,
		    "{\"pattern\":5}", 400, "wrong_type" },
		{ "POST", "/blacklists/watch-keyword", NULL,
		    "{\"pattern\":\"\"}", 400, "invalid" },
		{ "POST", "/blacklists/watch-keyword", NULL,
		    "{\"pattern\":\"a\\u0001b\"}", 400, "invalid" },
		{ "POST", "/blacklists/watch-keyword", NULL,
		    "{\"pattern\":\"\xc3\x28\"}", 400, "invalid_utf8" },
		{ "POST", "/blacklists/watch-keyword", NULL,
		    "{\"pattern\":\"a(b\"}", 400, "invalid" },
		{ "POST", "/blacklists/no-such-list", NULL,
		    "{\"pattern\":\"a\"}", 404, "not_found" },
		{ "GET", "/blacklists/../../etc/passwd", NULL, NULL, 400,
		    "bad_path" },
		{ "GET", "/blacklists/%2e%2e/x", NULL, NULL, 400,
		    "bad_path" },
		{ "GET", "/blacklists/a%2fb", NULL, NULL, 400, "bad_path" },
		{ "GET", "//blacklists", NULL, NULL, 400, "bad_path" },
		{ "GET", "/blacklists/%zz", NULL, NULL, 400, "bad_path" },
		{ "GET", "/blacklists/a%00", NULL, NULL, 400, "bad_path" },
		{ "GET", "/blacklists/watch-keyword/junk", NULL, NULL, 404,
		    "not_found" },
		{ "GET", "/blacklists/", NULL, NULL, 404, "not_found" },
		{ "DELETE", "/tokens/", NULL, NULL, 404, "not_found" },
		{ "PUT", "/blacklists/watch-keyword", NULL, NULL, 405,
		    "method_not_allowed" },
		{ "GET", "/changes?since=x", NULL, NULL, 400, "invalid" },
		{ "GET", "/changes?limit=0", NULL, NULL, 400, "invalid" },
	};
	int64_t before = hl_store_version(f->st);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call(f, cases[i].method, cases[i].path, f->writer,
		    cases[i].ct, cases[i].body);
		if (f->status != cases[i].status || f->j == NULL ||
		    strcmp(jstr(f, "error"), cases[i].error) != 0)
			fail_msg("case %zu (%s %s): got %u %s", i,
			    cases[i].method, cases[i].path, f->status,
			    f->j ? jstr(f, "error") : "(no JSON)");
		assert_non_null(jstr(f, "message"));
	}
	call(f, "DELETE", "/healthz", NULL, NULL, NULL);
	assert_int_equal(f->status, 405);
	assert_string_equal(f->allow, "GET, HEAD");

	/* Over-long value: 413, as for a body over the limit. */
	memcpy(big, "{\"pattern\":\"", 12);
	memset(big + 12, 'a', HL_VALIDATE_MAX_VALUE + 1);
	strcpy(big + 12 + HL_VALIDATE_MAX_VALUE + 1, "\"}");
	assert_int_equal(call(f, "POST", "/blacklists/watch-keyword",
	    f->writer, NULL, big), 413);

	req.method = "POST";
	req.path = "/blacklists/watch-keyword";
	req.authorization = f->writer;
	req.too_big = 1;
	assert_int_equal(hl_api_handle(&res, f->api, &req), 0);
	assert_int_equal(res.status, 413);
	hl_response_clear(&res);

	/* Missing token, missing scope. */
	assert_int_equal(call(f, "POST", "/blacklists/watch-keyword", NULL,
	    NULL, "{\"pattern\":\"a\"}"), 401);
	assert_int_equal(call(f, "POST", "/notifications", NULL, NULL,
	    "{\"user_id\":1,\"room_id\":11540,\"site\":\"a.example\"}"),
	    401);

	assert_int_equal(hl_store_version(f->st), before);
	assert_int_equal(f->nchanged, 0);
}

static void
test_notifications_are_added_listed_and_removed(void **state)
{
	struct fx *f = *state;
	const char *n = "{\"user_id\":1234,\"server\":\"stackexchange.com\","
	    "\"room_id\":11540,\"site\":\"stackoverflow.com\"}";

	assert_int_equal(call(f, "POST", "/notifications", f->writer, NULL,
	    n), 201);
	assert_int_equal(call(f, "POST", "/notifications", f->writer, NULL,
	    n), 409);
	assert_int_equal(json_integer_value(json_object_get(item0(f),
	    "user_id")), 1234);
	assert_int_equal(call(f, "GET", "/notifications", f->writer, NULL,
	    NULL), 200);
	assert_int_equal(num_items(f), 1);
	assert_int_equal(call(f, "POST", "/notifications", f->writer, NULL,
	    "{\"user_id\":\"1\",\"server\":\"s\",\"room_id\":1,"
	    "\"site\":\"x\"}"), 400);
	assert_string_equal(jstr(f, "error"), "wrong_type");
	assert_int_equal(call(f, "DELETE", "/notifications", f->writer, NULL,
	    n), 200);
	assert_int_equal(call(f, "DELETE", "/notifications", f->writer, NULL,
	    n), 404);
}

static void
test_changes_come_in_pages_with_a_next_cursor(void **state)
{
	struct fx *f = *state;
	char body[64];
	json_t *next;
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"pattern\":\"p%d\"}", i);
		assert_int_equal(call(f, "POST", "/blacklists/blacklist-keyword",
		    f->writer, NULL, body), 201);
	}
	assert_int_equal(call(f, "GET", "/changes?since=0&limit=3", NULL,
	    NULL, NULL), 200);
	assert_int_equal(num_items(f), 3);
	next = json_object_get(f->j, "next");
	assert_non_null(next);
	assert_int_equal(json_integer_value(next), 3);
	assert_int_equal(call(f, "GET", "/changes?since=3&limit=3", NULL,
	    NULL, NULL), 200);
	assert_int_equal(num_items(f), 2);
	assert_null(json_object_get(f->j, "next"));
	assert_int_equal(call(f, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_int_equal(call(f, "GET", "/blacklists", NULL, NULL, NULL), 200);
	assert_int_equal(num_items(f), 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_healthz_answers_ok_with_the_version, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_test_auth_names_the_token_owner_or_answers_401,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_admin_mints_a_token_that_works_once_and_until_revoked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_pattern_is_added_refused_twice_and_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_yaml_lists_take_their_own_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_input_gets_the_right_status_and_changes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_notifications_are_added_listed_and_removed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_changes_come_in_pages_with_a_next_cursor, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
