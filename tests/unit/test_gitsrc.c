/*
 * test_gitsrc: the first-parent walk of a real git repository (made with
 * the git command in a temporary directory), the changes it reports and
 * the line provenance it keeps, compared with what `git blame
 * --first-parent` says.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitsrc.h"

static char repo[64];

static void
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* Commits the files as they are, by author at time t, with subject. */
static void
commit(const char *author, long t, const char *subject)
{
	sh("cd %s && git add -A && GIT_AUTHOR_NAME='%s' "
	    "GIT_AUTHOR_EMAIL=a@example.com GIT_AUTHOR_DATE='@%ld +0000' "
	    "GIT_COMMITTER_NAME=c GIT_COMMITTER_EMAIL=c@example.com "
	    "GIT_COMMITTER_DATE='@%ld +0000' git commit -q "
	    "--allow-empty -m '%s'", repo, author, t, t, subject);
}

static int
setup(void **state)
{
	strcpy(repo, "/tmp/helios-gitsrc.XXXXXX");
	assert_non_null(mkdtemp(repo));
	sh("cd %s && git init -q -b master . && "
	    "printf 'a\\nb\\nc\\n' > bad_keywords.txt", repo);
	commit("Alice", 1000, "first three");
	sh("cd %s && printf 'a\\nb\\nc\\nd\\n' > bad_keywords.txt", repo);
	commit("SmokeDetector", 2000, "Auto blacklist of d by Bob");
	sh("cd %s && echo unrelated > README", repo);
	commit("Carol", 3000, "docs only");
	/* A side branch edits a line; merged without fast-forward. */
	sh("cd %s && git checkout -q -b side && "
	    "printf 'a\\nB\\nc\\nd\\n' > bad_keywords.txt", repo);
	commit("Dave", 4000, "capital B");
	sh("cd %s && git checkout -q master && "
	    "printf 'x\\n' > watched.txt", repo);
	commit("Erin", 5000, "watch x");
	sh("cd %s && GIT_COMMITTER_DATE='@6000 +0000' "
	    "GIT_AUTHOR_DATE='@6000 +0000' GIT_AUTHOR_NAME=Frank "
	    "git merge -q --no-ff -m 'Merge side' side", repo);
	sh("cd %s && git rm -q watched.txt", repo);
	commit("Gina", 7000, "remove watched");
	*state = NULL;
	return 0;
}

static int
teardown(void **state)
{
	sh("rm -rf %s", repo);
	return 0;
}

struct seen {
	int	 commits;
	char	 subjects[8][64];
	int	 added[8];
	int	 removed[8];
};

static int
record(const struct hl_gitsrc_commit *c, size_t ci,
    const struct hl_gitsrc_change *ch, size_t nch, void *payload)
{
	struct seen *s = payload;
	size_t i, k;

	assert_true(s->commits < 8);
	snprintf(s->subjects[s->commits], 64, "%s", c->subject);
	for (i = 0; i < nch; i++) {
		for (k = 0; k < ch[i].nlines; k++)
			s->added[s->commits] += ch[i].added[k];
		s->removed[s->commits] += (int)ch[i].nremoved;
	}
	s->commits++;
	return 0;
}

static void
the_walk_reports_each_list_change_oldest_first(void **state)
{
	const char *paths[] = { "bad_keywords.txt", "watched.txt" };
	struct hl_gitsrc *g;
	struct hl_err e = HL_ERR_INIT;
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(hl_gitsrc_open(&g, repo, &e), 0);
	assert_int_equal(hl_gitsrc_walk(g, NULL, "master", paths, 2, record,
	    &s, &e), 0);
	/* "docs only" changed no list file; the merge counts once. */
	assert_int_equal(s.commits, 5);
	assert_string_equal(s.subjects[0], "first three");
	assert_int_equal(s.added[0], 3);
	assert_string_equal(s.subjects[1], "Auto blacklist of d by Bob");
	assert_int_equal(s.added[1], 1);
	assert_int_equal(s.removed[1], 0);
	assert_string_equal(s.subjects[2], "watch x");
	assert_string_equal(s.subjects[3], "Merge side");
	assert_int_equal(s.added[3], 1);	/* B */
	assert_int_equal(s.removed[3], 1);	/* b */
	assert_string_equal(s.subjects[4], "remove watched");
	assert_int_equal(s.removed[4], 1);
	hl_gitsrc_close(g);
}

/* Each line's commit equals git blame --first-parent's. */
static void
provenance_matches_git_blame(void **state)
{
	const char *paths[] = { "bad_keywords.txt" };
	const struct hl_linetrack_line *l;
	const struct hl_gitsrc_commit *c;
	struct hl_gitsrc *g;
	struct hl_err e = HL_ERR_INIT;
	struct seen s;
	char cmd[512], want[64];
	size_t n, i;
	FILE *p;

	memset(&s, 0, sizeof(s));
	assert_int_equal(hl_gitsrc_open(&g, repo, &e), 0);
	assert_int_equal(hl_gitsrc_walk(g, NULL, NULL, paths, 1, record, &s,
	    &e), 0);
	l = hl_gitsrc_lines(&n, g, "bad_keywords.txt");
	assert_int_equal(n, 4);
	snprintf(cmd, sizeof(cmd), "cd %s && git blame --root --first-parent -l -s "
	    "bad_keywords.txt | cut -c1-40", repo);
	assert_non_null(p = popen(cmd, "r"));
	for (i = 0; i < n; i++) {
		assert_non_null(fgets(want, sizeof(want), p));
		want[40] = '\0';
		c = hl_gitsrc_commit_at(g, l[i].commit);
		assert_non_null(c);
		assert_string_equal(c->id, want);
	}
	pclose(p);
	c = hl_gitsrc_commit_at(g, l[3].commit);
	assert_string_equal(c->author, "SmokeDetector");
	assert_int_equal(c->time, 2000);
	hl_gitsrc_close(g);
}

/* A walk after a commit reports only what came later. */
static void
a_walk_since_a_commit_starts_from_its_files(void **state)
{
	const char *paths[] = { "bad_keywords.txt", "watched.txt" };
	struct hl_gitsrc *g;
	struct hl_err e = HL_ERR_INIT;
	struct seen s;
	char since[41];

	memset(&s, 0, sizeof(s));
	assert_int_equal(hl_gitsrc_open(&g, repo, &e), 0);
	assert_int_equal(hl_gitsrc_resolve(since, g, "master~1", &e), 0);
	assert_int_equal(hl_gitsrc_walk(g, since, "master", paths, 2, record,
	    &s, &e), 0);
	assert_int_equal(s.commits, 1);
	assert_string_equal(s.subjects[0], "remove watched");
	assert_int_equal(s.added[0], 0);
	assert_int_equal(s.removed[0], 1);
	/* Nothing after the tip: nothing reported. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(hl_gitsrc_resolve(since, g, "master", &e), 0);
	assert_int_equal(hl_gitsrc_walk(g, since, "master", paths, 2, record,
	    &s, &e), 0);
	assert_int_equal(s.commits, 0);
	hl_gitsrc_close(g);
}

static void
a_missing_repository_or_revision_is_not_found(void **state)
{
	struct hl_gitsrc *g;
	struct hl_err e = HL_ERR_INIT;
	char id[41];

	assert_int_equal(hl_gitsrc_open(&g, "/nonexistent/helios", &e),
	    HL_ENOTFOUND);
	assert_int_equal(hl_gitsrc_open(&g, repo, &e), 0);
	assert_int_equal(hl_gitsrc_resolve(id, g, "no-such-branch", &e),
	    HL_ENOTFOUND);
	hl_gitsrc_close(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_walk_reports_each_list_change_oldest_first),
		cmocka_unit_test(provenance_matches_git_blame),
		cmocka_unit_test(a_walk_since_a_commit_starts_from_its_files),
		cmocka_unit_test(a_missing_repository_or_revision_is_not_found),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
