/*
 * test_pystr: hl_pystr_lower against what Python's str.lower() gives (the
 * expected strings were written by Python 3.11; tests/tools/
 * sd_parse_diff.py compares every code point through an import).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pystr.h"

static void
lowers_to(const char *in, const char *want)
{
	char *got = hl_pystr_lower(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
ascii_is_lowered_byte_for_byte(void **state)
{
	lowers_to("", "");
	lowers_to("Spam\\W?PILLS [A-Z]+", "spam\\w?pills [a-z]+");
}

static void
other_letters_are_lowered_as_unicode_says(void **state)
{
	lowers_to("CAF\xc3\x89", "caf\xc3\xa9");			/* É */
	lowers_to("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90",
	    "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0");	/* МОСКВА */
	lowers_to("\xe2\x84\xaa", "k");				/* Kelvin K */
	lowers_to("\xe1\xba\x9e", "\xc3\x9f");			/* ẞ to ß */
	lowers_to("\xc8\xba", "\xe2\xb1\xa5");			/* Ⱥ grows */
	lowers_to("\xc7\x85", "\xc7\x86");			/* ǅ */
	lowers_to("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8");	/* Deseret */
}

static void
capital_i_with_dot_becomes_two_code_points(void **state)
{
	lowers_to("\xc4\xb0stanbul", "i\xcc\x87stanbul");
}

static void
capital_sigma_ends_a_word_as_python_decides(void **state)
{
	/* ΜΆΙΟΣ: final. */
	lowers_to("\xce\x9c\xce\x86\xce\x99\xce\x9f\xce\xa3",
	    "\xce\xbc\xce\xac\xce\xb9\xce\xbf\xcf\x82");
	/* ΑΣΑ: inside a word; Σ alone: nothing cased before it. */
	lowers_to("\xce\x91\xce\xa3\xce\x91", "\xce\xb1\xcf\x83\xce\xb1");
	lowers_to("\xce\xa3", "\xcf\x83");
	/* Α'Σ: the apostrophe is case-ignorable, skipped. */
	lowers_to("\xce\x91'\xce\xa3", "\xce\xb1'\xcf\x82");
	/* ΑΣ'Α: a cased letter after it, past the apostrophe. */
	lowers_to("\xce\x91\xce\xa3'\xce\x91", "\xce\xb1\xcf\x83'\xce\xb1");
	/* ᴬΣ: a modifier letter is cased and case-ignorable: skipped. */
	lowers_to("\xe1\xb4\xac\xce\xa3", "\xe1\xb4\xac\xcf\x83");
	/* ΑΣ.: punctuation is neither, so the sigma is final. */
	lowers_to("\xce\x91\xce\xa3.", "\xce\xb1\xcf\x82.");
}

static void
bytes_that_are_not_utf8_stay_as_they_are(void **state)
{
	lowers_to("A\xff\xc3" "B\xc3\x89", "a\xff\xc3" "b\xc3\xa9");
	lowers_to("\xce\x91\xce", "\xce\xb1\xce");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ascii_is_lowered_byte_for_byte),
		cmocka_unit_test(other_letters_are_lowered_as_unicode_says),
		cmocka_unit_test(capital_i_with_dot_becomes_two_code_points),
		cmocka_unit_test(capital_sigma_ends_a_word_as_python_decides),
		cmocka_unit_test(bytes_that_are_not_utf8_stay_as_they_are),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
