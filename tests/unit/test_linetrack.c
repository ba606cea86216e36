/*
 * test_linetrack: which commit each line of a file is attributed to as
 * versions follow one another (tests/fuzz/fuzz_linetrack.c compares the
 * same rule with a naive model on random histories).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linetrack.h"

/* Moves t to the version text, made by commit; the step is freed. */
static void
to(struct hl_linetrack *t, const char *text, size_t commit, size_t *nadded,
    size_t *nremoved)
{
	struct hl_linetrack_step step;
	char *d = strdup(text);
	size_t i, n = 0;

	assert_non_null(d);
	assert_int_equal(hl_linetrack_advance(t, d, strlen(text), commit,
	    &step), 0);
	for (i = 0; i < t->nlines; i++)
		n += step.added[i] != 0;
	if (nadded != NULL)
		*nadded = n;
	if (nremoved != NULL)
		*nremoved = step.nremoved;
	hl_linetrack_step_free(&step);
}

/* The lines of t as "text@commit text@commit ...". */
static void
lines_are(const struct hl_linetrack *t, const char *want)
{
	char got[1024] = "";
	size_t i, k = 0;

	for (i = 0; i < t->nlines; i++)
		k += (size_t)snprintf(got + k, sizeof(got) - k, "%s%.*s@%zu",
		    i ? " " : "", (int)t->lines[i].len, t->lines[i].text,
		    t->lines[i].commit);
	assert_string_equal(got, want);
}

static void
an_edit_in_the_middle_keeps_the_commits_of_the_lines_around_it(void **state)
{
	struct hl_linetrack t = { 0 };
	size_t added, removed;

	to(&t, "a\nb\nc\nd\ne\n", 0, &added, &removed);
	assert_int_equal(added, 5);
	to(&t, "a\nb\nX\nd\ne\nY\n", 1, &added, &removed);
	lines_are(&t, "a@0 b@0 X@1 d@0 e@0 Y@1");
	assert_int_equal(added, 2);
	assert_int_equal(removed, 1);			/* c */
	hl_linetrack_free(&t);
}

static void
a_line_moved_keeps_its_commit_and_a_repeated_line_takes_the_first(
    void **state)
{
	struct hl_linetrack t = { 0 };
	size_t added, removed;

	to(&t, "a\nb\nc\n", 0, NULL, NULL);
	to(&t, "a\nb\nc\nb\n", 1, NULL, NULL);
	lines_are(&t, "a@0 b@0 c@0 b@1");
	/* No common ends: each line takes the first unused equal one. */
	to(&t, "b\nc\nb\nc\n", 2, &added, &removed);
	lines_are(&t, "b@0 c@0 b@1 c@2");
	assert_int_equal(added, 1);
	assert_int_equal(removed, 1);			/* a */
	hl_linetrack_free(&t);
}

static void
a_last_line_without_a_newline_counts_and_an_empty_file_has_none(
    void **state)
{
	struct hl_linetrack t = { 0 };
	size_t added, removed;

	to(&t, "a\nb", 0, NULL, NULL);
	lines_are(&t, "a@0 b@0");
	/* "b" gains its newline: the same line. */
	to(&t, "a\nb\n", 1, &added, NULL);
	lines_are(&t, "a@0 b@0");
	assert_int_equal(added, 0);
	/* A line that grows at its end is a new line. */
	to(&t, "a\nbc\n", 2, &added, &removed);
	lines_are(&t, "a@0 bc@2");
	assert_int_equal(removed, 1);
	to(&t, "", 3, &added, &removed);
	assert_int_equal(t.nlines, 0);
	assert_int_equal(removed, 2);
	hl_linetrack_free(&t);
}

static void
an_append_to_a_large_file_keeps_every_line_it_shares(void **state)
{
	struct hl_linetrack t = { 0 };
	char *big, *more;
	size_t i, k = 0, added, removed, n = 40000;

	assert_non_null(big = malloc(n * 16));
	for (i = 0; i < n; i++)
		k += (size_t)sprintf(big + k, "pattern%zu\n", i);
	to(&t, big, 0, NULL, NULL);
	assert_non_null(more = malloc(k + 32));
	memcpy(more, big, k);
	strcpy(more + k, "new\n");
	to(&t, more, 1, &added, &removed);
	assert_int_equal(t.nlines, n + 1);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(t.lines[i].commit, 0);
	assert_int_equal(t.lines[n].commit, 1);
	/* Every line points into the current bytes. */
	assert_ptr_equal(t.lines[n].text, t.data + k);
	assert_memory_equal(t.lines[n - 1].text, "pattern39999", 12);
	free(big);
	free(more);
	hl_linetrack_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    an_edit_in_the_middle_keeps_the_commits_of_the_lines_around_it),
		cmocka_unit_test(
		    a_line_moved_keeps_its_commit_and_a_repeated_line_takes_the_first),
		cmocka_unit_test(
		    a_last_line_without_a_newline_counts_and_an_empty_file_has_none),
		cmocka_unit_test(
		    an_append_to_a_large_file_keeps_every_line_it_shares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
