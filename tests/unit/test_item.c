/*
 * test_item: record helpers, and the streaming item JSON writer against
 * jansson's own output for the same item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "item.h"

/* hl_item_json_write must give exactly jansson's bytes. */
static void
same_as_jansson(const struct hl_item *it, const char *list, int fmt)
{
	struct hl_buf b = HL_BUF_INIT;
	json_t *j;
	char *want;

	j = hl_item_json(it, list, fmt);
	assert_non_null(j);
	want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(want);
	assert_int_equal(hl_item_json_write(&b, it, list, fmt), 0);
	if (strcmp(b.data, want) != 0)
		fail_msg("streamed %s\n  jansson %s", b.data, want);
	free(want);
	json_decref(j);
	hl_buf_free(&b);
}

static void
the_streamed_json_of_an_item_is_jansson_s_byte_for_byte(void **state)
{
	static const char *const values[] = {
		"spam\\.example", "quote\" and back\\slash", "tab\there",
		"ctl\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"/slash/", "", "\xd9\x81\xd9\x86 \xd8\xa8\xdb\x8c\xd8\xa7\xd9\x86",
	};
	static const int fmts[] = { HL_FMT_PLAIN, HL_FMT_TSV,
	    HL_FMT_YAML_CIDR, HL_FMT_YAML_NS, HL_FMT_YAML_ASN };
	struct hl_item it;
	size_t i, k;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
			memset(&it, 0, sizeof(it));
			it.id = (int64_t)i * 1000 + 7;
			it.value = (char *)values[i];
			it.created_at = 1494568775;
			it.modified_at = 1796000000;
			it.created_by = (char *)"tripleee";
			it.modified_by = (char *)"K.D\xe1\xb4\x80\xe1\xb4\xa0\xc9\xaa\x73";
			same_as_jansson(&it, "watch-keyword", fmts[k]);
			it.comment = (char *)"FPs; \"do not\" watch\n";
			it.disabled = (int)(i % 3);
			it.pass = (int)(i % 2);
			it.token_id = (int64_t)i;
			it.verbatim = i == 3;
			it.created_by = i == 2 ? NULL : it.created_by;
			same_as_jansson(&it, "blacklist-ns", fmts[k]);
			/* The kept text, a duplicate, the verbatim kinds. */
			it.src = (char *)"- comment: >\n    folded\n  ns: a.b.\n";
			it.dup_of = (int64_t)i + 1;
			it.verbatim = (int)(i % 4);
			same_as_jansson(&it, "blacklist-ns", fmts[k]);
		}
	memset(&it, 0, sizeof(it));
	it.value = (char *)"ns1.example.com. ns2.example.com.";
	same_as_jansson(&it, "watch-ns", HL_FMT_YAML_NS);
	/* The review record of an approved proposal, as the store keeps it. */
	memset(&it, 0, sizeof(it));
	it.value = (char *)"spam\\.example";
	it.created_by = (char *)"tripleee";
	it.modified_by = (char *)"tripleee";
	it.review = (char *)"{\"approver\":\"K.D\xe1\xb4\x80\",\"evidence\":"
	    "{\"links\":[\"https://ms.example/s?q=a/b\"],\"tp\":3},"
	    "\"proposal\":7,\"reason\":\"a \\\"wave\\\"\\n\"}";
	for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++)
		same_as_jansson(&it, "blacklist-website", fmts[k]);
}

/*
 * it with disabled d: its JSON's "disable" is of type want (-1: absent),
 * and reads back as d.
 */
static void
disable_reads_back(struct hl_item *it, int d, int want)
{
	struct hl_item back;
	json_t *j, *v;

	it->disabled = d;
	j = hl_item_json(it, "watch-ns", HL_FMT_YAML_NS);
	v = json_object_get(j, "disable");
	if (want < 0)
		assert_null(v);
	else
		assert_int_equal(json_typeof(v), want);
	assert_int_equal(hl_item_from_json(&back, j), 0);
	assert_int_equal(back.disabled, d);
	hl_item_clear(&back);
	json_decref(j);
}

/* hl_item_from_json reads back what hl_item_json wrote. */
static void
an_item_reads_back_from_its_json(void **state)
{
	struct hl_item it, back;
	json_t *j;

	memset(&it, 0, sizeof(it));
	it.id = 42;
	it.value = (char *)"ns1.example. ns2.example.";
	it.comment = (char *)"a \"comment\"";
	it.created_at = 1494568775;
	it.created_by = (char *)"tripleee";
	it.modified_at = 1796000000;
	it.modified_by = (char *)"Makyen";
	it.token_id = 3;
	it.disabled = HL_DISABLE_TRUE;
	it.pass = 1;
	it.review = (char *)"{\"approver\":\"Makyen\",\"proposal\":9}";
	j = hl_item_json(&it, "watch-ns", HL_FMT_YAML_NS);
	assert_int_equal(hl_item_from_json(&back, j), 0);
	assert_int_equal(back.id, 42);
	assert_string_equal(back.value, it.value);
	assert_string_equal(back.comment, it.comment);
	assert_int_equal(back.created_at, it.created_at);
	assert_string_equal(back.created_by, it.created_by);
	assert_int_equal(back.modified_at, it.modified_at);
	assert_string_equal(back.modified_by, it.modified_by);
	assert_int_equal(back.token_id, 3);
	assert_int_equal(back.disabled, HL_DISABLE_TRUE);
	assert_int_equal(back.pass, 1);
	assert_int_equal(back.verbatim, 0);
	assert_string_equal(back.review, it.review);
	assert_null(back.src);
	assert_int_equal(back.dup_of, 0);
	hl_item_clear(&back);
	json_decref(j);
	/* The kept text, the duplicate mark and the verbatim kind too. */
	it.src = (char *)"- ns: \n  - ns1.example.\n  - ns2.example.\n";
	it.dup_of = 7;
	j = hl_item_json(&it, "watch-ns", HL_FMT_YAML_NS);
	assert_int_equal(hl_item_from_json(&back, j), 0);
	assert_string_equal(back.src, it.src);
	assert_int_equal(back.dup_of, 7);
	hl_item_clear(&back);
	json_decref(j);
	it.verbatim = HL_VERBATIM_SKIPPED;
	j = hl_item_json(&it, "watch-keyword", HL_FMT_TSV);
	assert_int_equal(hl_item_from_json(&back, j), 0);
	assert_int_equal(back.verbatim, HL_VERBATIM_SKIPPED);
	hl_item_clear(&back);
	json_decref(j);
	it.verbatim = HL_VERBATIM_HEAD;
	j = hl_item_json(&it, "watch-ns", HL_FMT_YAML_NS);
	assert_int_equal(hl_item_from_json(&back, j), 0);
	assert_int_equal(back.verbatim, HL_VERBATIM_HEAD);
	hl_item_clear(&back);
	json_decref(j);
	/*
	 * "disable:" with no value: PyYAML reads None, which SmokeDetector
	 * takes as not disabled; the JSON says null, not true.
	 */
	it.verbatim = 0;
	disable_reads_back(&it, HL_DISABLE_EMPTY, JSON_NULL);
	disable_reads_back(&it, HL_DISABLE_NO, -1);
	disable_reads_back(&it, HL_DISABLE_TRUE, JSON_TRUE);
	/* A notification record is no item. */
	j = json_pack("{s:I, s:s}", "user_id", (json_int_t)1, "site", "so");
	assert_int_equal(hl_item_from_json(&back, j), HL_EINVAL);
	assert_null(back.value);
	json_decref(j);
}

static void
scopes_round_trip_and_unknown_names_are_refused(void **state)
{
	unsigned s;
	char buf[64];

	assert_int_equal(hl_scopes_parse(&s, "write,admin"), 0);
	assert_int_equal(s, HL_SCOPE_WRITE | HL_SCOPE_ADMIN);
	hl_scopes_format(buf, sizeof(buf), s);
	assert_string_equal(buf, "admin,write");
	assert_int_equal(hl_scopes_parse(&s, "propose,approve"), 0);
	assert_int_equal(s, HL_SCOPE_PROPOSE | HL_SCOPE_APPROVE);
	hl_scopes_format(buf, sizeof(buf), s);
	assert_string_equal(buf, "propose,approve");
	assert_int_equal(hl_scopes_parse(&s, "write,root"), HL_EINVAL);
	assert_int_equal(hl_scopes_parse(&s, ""), 0);
	assert_int_equal(s, 0);
}

static void
duplicate_keys_follow_each_format_s_own_rule(void **state)
{
	char *k;

	/* BasicListParser.exists() lowers both sides, by str.lower(). */
	k = hl_item_key(HL_FMT_PLAIN, "Spam\\W?PILLS \xc3\x89");
	assert_string_equal(k, "spam\\w?pills \xc3\xa9");
	free(k);
	/* TSVDictParser.exists() and the yaml add() compare exactly. */
	k = hl_item_key(HL_FMT_TSV, "(?-i:AbC)");
	assert_string_equal(k, "(?-i:AbC)");
	free(k);
	k = hl_item_key(HL_FMT_YAML_NS, "NS1.Example.COM.");
	assert_string_equal(k, "NS1.Example.COM.");
	free(k);
	k = hl_item_key(HL_FMT_YAML_CIDR, "2001:DB8::1");
	assert_string_equal(k, "2001:DB8::1");
	free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_streamed_json_of_an_item_is_jansson_s_byte_for_byte),
		cmocka_unit_test(an_item_reads_back_from_its_json),
		cmocka_unit_test(
		    scopes_round_trip_and_unknown_names_are_refused),
		cmocka_unit_test(
		    duplicate_keys_follow_each_format_s_own_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
