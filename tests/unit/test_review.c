/*
 * test_review: the checks (checks.c) and the proposals of the store
 * (src/store/proposals.c) against a real database file.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "proposals.h"
#include "store.h"
#include "testdb.h"
#include "validate.h"

/*
 * PCRE2 compiles, counted: this definition, in the executable, comes
 * before the library's for every caller (validate.c and checks.c), and
 * passes on to it.
 */
static int compiles;

pcre2_code *
pcre2_compile(PCRE2_SPTR p, PCRE2_SIZE n, uint32_t o, int *ec,
    PCRE2_SIZE *eo, pcre2_compile_context *cc)
{
	static pcre2_code *(*real)(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *,
	    PCRE2_SIZE *, pcre2_compile_context *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pcre2_compile_8");
	__atomic_add_fetch(&compiles, 1, __ATOMIC_RELAXED);
	return real(p, n, o, ec, eo, cc);
}

static const struct hl_actor alice = { .name = "alice" };
static const struct hl_actor bob = { .name = "bob" };

struct fixture {
	char		 path[64];
	char		 ham[64];
	struct hl_store	*st;
	struct hl_checks *ck;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hl_err err = HL_ERR_INIT;
	FILE *fp;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/helios-review-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	snprintf(f->ham, sizeof(f->ham), "/tmp/helios-ham-XXXXXX");
	fd = mkstemp(f->ham);
	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs("a legitimate question about python\n"
	    "nothing to see here\n"
	    "another python answer\n", fp);
	fclose(fp);
	assert_int_equal(hl_store_open(&f->st, f->path, &err), 0);
	assert_int_equal(hl_checks_new(&f->ck, f->ham, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	hl_checks_free(f->ck);
	hl_store_close(f->st);
	hl_testdb_remove(f->path);
	unlink(f->ham);
	free(f);
	return 0;
}

/* Runs the checks of value on list at level; the result, *gate set. */
static json_t *
check_at(struct fixture *f, const char *list, const char *value,
    const char **gate, enum hl_checks_level level)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_list l;
	json_t *o = NULL;

	assert_int_equal(hl_store_list(&l, f->st, list, &err), 0);
	assert_int_equal(hl_checks_run(&o, gate, f->ck, f->st, &l, value,
	    level, &err), 0);
	hl_list_clear(&l);
	assert_non_null(o);
	return o;
}

static json_t *
check(struct fixture *f, const char *list, const char *value,
    const char **gate)
{
	return check_at(f, list, value, gate, HL_CHECKS_FULL);
}

/* check() at the gates level: no list, no corpus, no lock. */
static json_t *
check_gates(struct fixture *f, const char *list, const char *value,
    const char **gate)
{
	return check_at(f, list, value, gate, HL_CHECKS_GATES);
}

static void
add(struct fixture *f, const char *list, const char *value)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item in = { 0 }, out;
	int64_t v;

	in.value = (char *)value;
	assert_int_equal(hl_store_item_add(&out, &v, f->st, list, &in, &alice,
	    &err), 0);
	hl_item_clear(&out);
}

static int64_t
covered(json_t *o)
{
	return json_integer_value(json_object_get(json_object_get(o,
	    "covered"), "count"));
}

static void
test_gates_refuse_broad_and_backtracking_patterns(void **state)
{
	static const char *const broad[] = { ".*", "a|", "^", "(?:)", "\\w",
	    "." };
	static const char *const slow[] = { "(a+)+$", "(a|aa)+$",
	    "(x+x+)+y" };
	struct fixture *f = *state;
	const char *gate;
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof(broad) / sizeof(broad[0]); i++) {
		o = check(f, "watch-keyword", broad[i], &gate);
		assert_non_null(gate);
		assert_string_equal(gate, "broad");
		json_decref(o);
	}
	for (i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
		o = check(f, "watch-keyword", slow[i], &gate);
		assert_non_null(gate);
		assert_string_equal(gate, "backtracking");
		assert_true(json_integer_value(json_object_get(
		    json_object_get(o, "backtracking"), "work")) >=
		    HL_CHECKS_MATCH_LIMIT);
		json_decref(o);
	}
	o = check(f, "watch-keyword", "spam\\.example", &gate);
	assert_null(gate);
	assert_true(json_is_true(json_object_get(json_object_get(o,
	    "backtracking"), "ok")));
	json_decref(o);
	o = check(f, "watch-cidr", "0.0.0.0/0", &gate);
	assert_non_null(gate);
	json_decref(o);
	o = check(f, "watch-cidr", "::/8", &gate);
	assert_non_null(gate);
	json_decref(o);
	o = check(f, "watch-cidr", "10.0.0.0/8", &gate);
	assert_null(gate);
	json_decref(o);
}

static void
test_ham_lines_are_counted(void **state)
{
	struct fixture *f = *state;
	const char *gate;
	json_t *o, *h;

	assert_int_equal(hl_checks_ham_lines(f->ck), 3);
	o = check(f, "watch-keyword", "python", &gate);
	h = json_object_get(o, "ham");
	assert_int_equal(json_integer_value(json_object_get(h, "matched")), 2);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(json_object_get(h, "examples"), 1), "line")), 3);
	json_decref(o);
}

/*
 * Coverage follows the list through additions and removals (the cache is
 * brought up to date from the events), as a fresh checker sees it.
 */
static void
test_coverage_follows_the_list(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_checks *fresh;
	struct hl_item out;
	const char *gate;
	json_t *o;
	int64_t v;

	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 0);
	json_decref(o);
	add(f, "watch-keyword", "cheap-\\w+");
	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(o, "covered"), "by"), 0), "how")),
	    "matches");
	json_decref(o);
	add(f, "watch-keyword", "CHEAP-PILLS");
	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 2);
	json_decref(o);
	assert_int_equal(hl_store_item_del(&out, &v, f->st, "watch-keyword",
	    "cheap-\\w+", &alice, &err), 0);
	hl_item_clear(&out);
	/*
	 * A tsv list compares values exactly (SmokeDetector's rule), so the
	 * upper-case entry is no duplicate: it matches, caselessly.
	 */
	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(o, "covered"), "by"), 0), "how")),
	    "matches");
	json_decref(o);
	add(f, "watch-keyword", "cheap-pills");
	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(o, "covered"), "by"), 1), "how")),
	    "duplicate");
	json_decref(o);

	assert_int_equal(hl_checks_new(&fresh, NULL, &err), 0);
	{
		struct hl_list l;

		assert_int_equal(hl_store_list(&l, f->st, "watch-keyword",
		    &err), 0);
		assert_int_equal(hl_checks_run(&o, &gate, fresh, f->st, &l,
		    "cheap-pills", HL_CHECKS_FULL, &err), 0);
		hl_list_clear(&l);
	}
	assert_int_equal(covered(o), 2);
	json_decref(o);
	hl_checks_free(fresh);

	add(f, "watch-cidr", "198.51.100.0/24");
	o = check(f, "watch-cidr", "198.51.100.9", &gate);
	assert_int_equal(covered(o), 1);
	json_decref(o);
	o = check(f, "watch-cidr", "198.51.101.9", &gate);
	assert_int_equal(covered(o), 0);
	json_decref(o);
}

static void
propose(struct fixture *f, struct hl_proposal *out, const char *list,
    const char *value, const struct hl_actor *who)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal in = { 0 };
	int64_t v;

	in.list = (char *)list;
	in.op = "add";
	in.value = (char *)value;
	in.requester = "carol";
	in.reason = "seen twice";
	in.evidence = "{\"tp\":2}";
	assert_int_equal(hl_store_proposal_add(out, &v, f->st, &in, who,
	    &err), 0);
	assert_true(v > 0);
}

static void
test_a_proposal_is_decided_once(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal p, d, *v;
	struct hl_item it, *items;
	size_t n;
	int64_t ver, before;

	propose(f, &p, "blacklist-website", "good\\.example", &alice);
	assert_string_equal(p.state, "pending");
	before = hl_store_version(f->st);
	assert_int_equal(hl_store_proposal_decide(&d, &it, &ver, f->st, p.id,
	    "approved", NULL, "dave", "ok", &bob, &err), 0);
	assert_string_equal(d.state, "approved");
	assert_string_equal(d.decided_by, "dave");
	assert_true(it.id > 0);
	assert_string_equal(it.created_by, "carol");
	assert_non_null(strstr(it.review, "\"approver\":\"dave\""));
	assert_non_null(strstr(it.review, "\"evidence\":{\"tp\":2}"));
	/* The item's event, then the decision's. */
	assert_int_equal(ver, before + 2);
	assert_int_equal(hl_store_proposals_version(f->st), ver);
	hl_item_clear(&it);
	hl_proposal_clear(&d);
	assert_int_equal(hl_store_proposal_decide(&d, &it, &ver, f->st, p.id,
	    "rejected", NULL, NULL, "late", &bob, &err), HL_ECONFLICT);
	assert_string_equal(d.state, "approved");
	hl_proposal_clear(&d);
	hl_proposal_clear(&p);

	/* A rejection publishes nothing. */
	propose(f, &p, "blacklist-website", "bad\\.example", &alice);
	assert_int_equal(hl_store_proposal_decide(&d, &it, &ver, f->st, p.id,
	    "rejected", NULL, NULL, "no", &bob, &err), 0);
	assert_int_equal(it.id, 0);
	hl_proposal_clear(&d);
	hl_proposal_clear(&p);
	assert_int_equal(hl_store_items(&items, &n, f->st,
	    "blacklist-website", 0, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].value, "good\\.example");
	hl_items_free(items, n);

	/* Approving a value the list already holds changes nothing. */
	propose(f, &p, "blacklist-website", "GOOD\\.example", &alice);
	before = hl_store_version(f->st);
	assert_int_equal(hl_store_proposal_decide(&d, &it, &ver, f->st, p.id,
	    "approved", NULL, NULL, NULL, &bob, &err), HL_EEXISTS);
	assert_int_equal(hl_store_version(f->st), before);
	assert_int_equal(hl_store_proposal_get(&d, f->st, p.id, &err), 0);
	assert_string_equal(d.state, "pending");
	hl_proposal_clear(&d);
	hl_proposal_clear(&p);

	assert_int_equal(hl_store_proposals(&v, &n, f->st, "pending", NULL,
	    10, &err), 0);
	assert_int_equal(n, 1);
	hl_proposals_free(v, n);
	assert_int_equal(hl_store_proposals(&v, &n, f->st, NULL,
	    "blacklist-website", 10, &err), 0);
	assert_int_equal(n, 3);
	hl_proposals_free(v, n);
}

static void
test_a_conversion_goes_to_the_other_list(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal p, d;
	struct hl_item it;
	int64_t ver;

	propose(f, &p, "blacklist-keyword", "watch-me", &alice);
	assert_int_equal(hl_store_proposal_decide(&d, &it, &ver, f->st, p.id,
	    "converted", "watch-keyword", NULL, NULL, &bob, &err), 0);
	assert_string_equal(d.target, "watch-keyword");
	assert_non_null(strstr(it.review,
	    "\"converted_from\":\"blacklist-keyword\""));
	assert_int_equal(d.item_id, it.id);
	hl_item_clear(&it);
	hl_proposal_clear(&d);
	hl_proposal_clear(&p);
}

static void
test_a_pending_duplicate_is_refused(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal in = { 0 }, p, q;
	int64_t v;

	propose(f, &p, "watch-keyword", "twice", &alice);
	in.list = "watch-keyword";
	in.op = "add";
	in.value = "twice";
	assert_int_equal(hl_store_proposal_add(&q, &v, f->st, &in, &bob,
	    &err), HL_EEXISTS);
	assert_int_equal(q.id, p.id);
	hl_proposal_clear(&q);
	in.list = "no-such-list";
	assert_int_equal(hl_store_proposal_add(&q, &v, f->st, &in, &bob,
	    &err), HL_ENOTFOUND);
	hl_proposal_clear(&p);
}

static void
test_the_gates_level_gates_without_the_list(void **state)
{
	struct fixture *f = *state;
	const char *gate;
	json_t *o;

	add(f, "watch-keyword", "cheap\\w*");
	o = check_gates(f, "watch-keyword", "cheap-pills", &gate);
	assert_null(gate);
	assert_null(json_object_get(o, "covered"));
	assert_null(json_object_get(o, "ham"));
	assert_true(json_is_true(json_object_get(json_object_get(o,
	    "compile"), "ok")));
	assert_string_equal(json_string_value(json_object_get(o, "level")),
	    "gates");
	json_decref(o);
	o = check_gates(f, "watch-keyword", "(a|aa)+$", &gate);
	assert_non_null(gate);
	assert_string_equal(gate, "backtracking");
	json_decref(o);
	o = check_gates(f, "watch-keyword", "a|", &gate);
	assert_non_null(gate);
	assert_string_equal(gate, "broad");
	json_decref(o);
	o = check(f, "watch-keyword", "cheap-pills", &gate);
	assert_int_equal(covered(o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "level")),
	    "full");
	json_decref(o);
}

/* o without its timings, which differ from run to run. */
static json_t *
untimed(json_t *o)
{
	json_t *c = json_deep_copy(o);
	const char *k;
	json_t *v;

	json_object_del(c, "ms");
	json_object_foreach(c, k, v)
		if (json_is_object(v))
			json_object_del(v, "ms");
	return c;
}

/*
 * A write validates its pattern, then checks it: the checks take the
 * code the validation compiled (one compile, plus the step-counting one
 * of the backtracking check), and say exactly what they say after a
 * compile of their own.
 */
static void
test_the_checks_reuse_the_compile_of_the_validation(void **state)
{
	static const char *const values[] = {
		"reuse-(?:cheap|best)\\W*+pills\\.example\\.com",
		"writing(?<!(?:code|script)\\Wwriting) services?",
		"(a|aa)+$",
		"a|",
	};
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	const char *gate, *gate2;
	json_t *o, *o2, *a, *b;
	char *note;
	size_t i;
	int n, alone, valid;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		/*
		 * Alone: the checks compile the pattern (twice or more for
		 * a stand-in), and the step-counting copy.
		 */
		n = compiles;
		o2 = check_gates(f, "watch-keyword", values[i], &gate2);
		alone = compiles - n;
		/* After the validation: the step-counting copy only. */
		note = NULL;
		n = compiles;
		assert_int_equal(hl_validate_value(&note, HL_FMT_TSV,
		    values[i], &err), 0);
		valid = compiles - n;
		free(note);
		assert_true(valid >= 1);
		n = compiles;
		o = check_gates(f, "watch-keyword", values[i], &gate);
		if (compiles - n != alone - valid || compiles - n != 1)
			fail_msg("%s: %d compiles for the checks after the"
			    " validation's %d, %d alone", values[i],
			    compiles - n, valid, alone);
		a = untimed(o);
		b = untimed(o2);
		if (!json_equal(a, b) || (gate == NULL) != (gate2 == NULL) ||
		    (gate != NULL && strcmp(gate, gate2) != 0)) {
			char *x = json_dumps(a, JSON_SORT_KEYS);
			char *y = json_dumps(b, JSON_SORT_KEYS);

			fail_msg("%s: %s\nafter the validation, alone %s",
			    values[i], x, y);
		}
		json_decref(a);
		json_decref(b);
		json_decref(o);
		json_decref(o2);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_gates_refuse_broad_and_backtracking_patterns),
		T(test_the_gates_level_gates_without_the_list),
		T(test_ham_lines_are_counted),
		T(test_coverage_follows_the_list),
		T(test_a_proposal_is_decided_once),
		T(test_a_conversion_goes_to_the_other_list),
		T(test_a_pending_duplicate_is_refused),
		T(test_the_checks_reuse_the_compile_of_the_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
