/*
 * test_validate: the checks of src/validate.c, against SmokeDetector's
 * real list files (found through HELIOS_SAMPLES, else
 * ../shared/data/smokedetector-sample from the repository root, else
 * /work/shared/data/smokedetector-sample) and against hand-made good and
 * bad values of every format.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "item.h"
#include "validate.h"

static const char *
sample_dir(void)
{
	const char *d = getenv("HELIOS_SAMPLES");

	if (d != NULL && *d != '\0')
		return d;
	if (access("../shared/data/smokedetector-sample/bad_keywords.txt",
	    R_OK) == 0)
		return "../shared/data/smokedetector-sample";
	return "/work/shared/data/smokedetector-sample";
}

/* Lines SmokeDetector skips: empty after rstrip, or starting with '#'. */
static int
skipped_plain(const char *line)
{
	const char *p;

	if (line[0] == '#')
		return 1;
	for (p = line; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\f' &&
		    *p != '\v')
			return 0;
	return 1;
}

/*
 * Checks every value of one sample file; returns how many were checked
 * and adds to *noted how many were accepted with a note.
 */
static int
check_file(const char *file, const char *list, int fmt, int *noted)
{
	char path[1024], *line = NULL, *v, *tab, *note;
	struct hl_err err = HL_ERR_INIT;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int lineno = 0, checked = 0, bad = 0, rc;

	(void)snprintf(path, sizeof(path), "%s/%s", sample_dir(), file);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (set HELIOS_SAMPLES)", path);
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		v = line;
		if (fmt == HL_FMT_TSV) {
			if (skipped_plain(line + strspn(line, " \t")))
				continue;
			if ((tab = strchr(line, '\t')) == NULL ||
			    (tab = strchr(tab + 1, '\t')) == NULL) {
				print_error("%s:%d: not three fields\n", file,
				    lineno);
				bad++;
				continue;
			}
			v = tab + 1;
		} else if (skipped_plain(line))
			continue;
		note = NULL;
		rc = hl_validate_list_value(&note, list, fmt, v, &err);
		if (rc != 0) {
			print_error("%s:%d: %s: %s\n", file, lineno, v,
			    err.msg);
			bad++;
		}
		if (note != NULL)
			(*noted)++;
		free(note);
		checked++;
	}
	free(line);
	fclose(f);
	assert_int_equal(bad, 0);
	return checked;
}

static void
every_pattern_in_the_sample_files_is_accepted(void **state)
{
	int noted = 0;

	assert_true(check_file("bad_keywords.txt", "blacklist-keyword",
	    HL_FMT_PLAIN, &noted) > 100);
	assert_true(check_file("blacklisted_websites.txt", "blacklist-website",
	    HL_FMT_PLAIN, &noted) > 100);
	assert_true(check_file("blacklisted_usernames.txt",
	    "blacklist-username", HL_FMT_PLAIN, &noted) > 100);
	assert_true(check_file("blacklisted_numbers.txt", "blacklist-number",
	    HL_FMT_PLAIN, &noted) > 100);
	assert_true(check_file("watched_keywords.txt", "watch-keyword",
	    HL_FMT_TSV, &noted) > 100);
	assert_true(check_file("watched_numbers.txt", "watch-number",
	    HL_FMT_TSV, &noted) > 100);
	/* The keyword files use variable-length lookbehinds. */
	assert_true(noted > 0);
}

static void
accept(int fmt, const char *v)
{
	struct hl_err err = HL_ERR_INIT;
	char *note = NULL;
	int rc;

	rc = hl_validate_value(&note, fmt, v, &err);
	if (rc != 0)
		fail_msg("\"%s\" rejected: %s", v, err.msg);
	free(note);
}

/* Expects rejection with code and a message containing want. */
static void
reject(int fmt, const char *v, int code, const char *want)
{
	struct hl_err err = HL_ERR_INIT;
	char *note = (char *)"unset";
	int rc;

	rc = hl_validate_value(&note, fmt, v, &err);
	if (rc == 0) {
		free(note);
		fail_msg("\"%s\" accepted", v);
	}
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_null(note);
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", v, err.msg,
		    want);
}

/* Expects acceptance with a note containing want. */
static void
accept_noted(const char *v, const char *want)
{
	struct hl_err err = HL_ERR_INIT;
	char *note = NULL;
	int rc;

	rc = hl_validate_value(&note, HL_FMT_PLAIN, v, &err);
	if (rc != 0)
		fail_msg("\"%s\" rejected: %s", v, err.msg);
	if (note == NULL)
		fail_msg("\"%s\" accepted without a note", v);
	if (strstr(note, want) == NULL || strstr(note, "PCRE2 lacks") == NULL)
		fail_msg("\"%s\": note \"%s\" lacks \"%s\"", v, note, want);
	free(note);
}

static void
a_handful_of_sample_yaml_values_are_accepted(void **state)
{
	/* blacklisted_cidrs.yml */
	accept(HL_FMT_YAML_CIDR, "101.53.132.172");
	accept(HL_FMT_YAML_CIDR, "104.21.12.56");
	/* blacklisted_nses.yml and watched_nses.yml */
	accept(HL_FMT_YAML_NS,
	    "ns1.cp-48.bigrockservers.com. ns2.cp-48.bigrockservers.com.");
	accept(HL_FMT_YAML_NS, "adam.ns.cloudflare.com. "
	    "rosalyn.ns.cloudflare.com.");
	accept(HL_FMT_YAML_NS, "namecheaphosting.com.");
	/* watched_asns.yml */
	accept(HL_FMT_YAML_ASN, "3223");
	accept(HL_FMT_YAML_ASN, "16509");
}

static void
invalid_regexes_are_rejected_with_pcre2s_message(void **state)
{
	reject(HL_FMT_PLAIN, "(abc", HL_EINVAL,
	    "missing closing parenthesis at byte offset 4");
	reject(HL_FMT_TSV, "a{2,1}", HL_EINVAL, "numbers out of order");
	reject(HL_FMT_PLAIN, "[z-a]", HL_EINVAL, "range out of order");
	reject(HL_FMT_PLAIN, "*a", HL_EINVAL,
	    "quantifier does not follow a repeatable item at byte offset 0");
	reject(HL_FMT_PLAIN, "a)", HL_EINVAL, "unmatched closing parenthesis");
	reject(HL_FMT_PLAIN, "\\", HL_EINVAL, "\\ at end of pattern");
	reject(HL_FMT_PLAIN, "(?q)a", HL_EINVAL,
	    "unrecognized character after (?");
	reject(HL_FMT_PLAIN, "\\p{Latni}", HL_EINVAL, "unknown property");
	reject(HL_FMT_PLAIN, "x\\C", HL_EINVAL, "\\C");
	reject(HL_FMT_PLAIN, "\\L<1words>", HL_EINVAL, "does not support");
	reject(HL_FMT_PLAIN, "\\L<words", HL_EINVAL, "does not support");
	reject(HL_FMT_PLAIN, "\\k", HL_EINVAL, "byte offset");
	/* PCRE2 would take these; the regex module calls them bad escapes. */
	reject(HL_FMT_PLAIN, "a\\Q(x", HL_EINVAL,
	    "\\Q at byte offset 1 is PCRE quoting");
	reject(HL_FMT_PLAIN, "a\\E", HL_EINVAL, "\\E at byte offset 1");
	accept(HL_FMT_PLAIN, "a\\\\Q");
	/* The phone number lists hold text, but a pattern list does not. */
	reject(HL_FMT_PLAIN, "(+27)83 880 8170", HL_EINVAL,
	    "quantifier does not follow a repeatable item at byte offset 1");
}

static void
a_regex_module_construct_does_not_hide_an_error_elsewhere(void **state)
{
	/* The offsets are those of the pattern as written. */
	reject(HL_FMT_PLAIN, "(?w:a)(b", HL_EINVAL,
	    "missing closing parenthesis at byte offset 8");
	reject(HL_FMT_PLAIN, "(?<=a\\W*)b[", HL_EINVAL,
	    "missing terminating ] for character class at byte offset 11");
	reject(HL_FMT_PLAIN, "\\N{EM DASH}a{3,2}", HL_EINVAL,
	    "numbers out of order in {} quantifier at byte offset 16");
	reject(HL_FMT_PLAIN, "\\p{InBasicLatin}(?q)", HL_EINVAL,
	    "unrecognized character after (? or (?- at byte offset 18");
}

static void
regex_module_only_constructs_are_accepted_with_a_note(void **state)
{
	accept_noted("writing(?<!(?:code|script)\\Wwriting) services?",
	    "variable-length lookbehind at byte offset 7");
	accept_noted("^.*+$(?<=\\w{1,3}h[ou]++sken$)", "lookbehind");
	accept_noted("(?w:foo)bar", "the flags (?w: at byte offset 0");
	accept_noted("x(?V1)y", "the flags (?V1) at byte offset 1");
	accept_noted("(?iu)caf\xc3\xa9", "(?iu)");
	accept_noted("(?-w:a)", "(?-w:");
	accept_noted("\\p{InBasicLatin}+", "the property \\p{InBasicLatin}");
	accept_noted("[\\p{IsLatin}\\d]", "\\p{IsLatin}");
	accept_noted("\\p{Block=Cyrillic}", "\\p{Block=Cyrillic}");
	accept_noted("\\P{Punct}", "\\P{Punct}");
	accept_noted("\\p{Uppercase_Letter}", "\\p{Uppercase_Letter}");
	accept_noted("\\p{^posix_alnum}", "\\p{^posix_alnum}");
	accept_noted("a\\N{EM DASH}b", "the escape \\N{EM DASH} at byte "
	    "offset 1");
	accept_noted("\\u00e9t\\u00e9", "the escape \\u00e9");
	accept_noted("\\U0001F600", "\\U0001F600");
	accept_noted("\\mfoo\\M", "the escape \\m");
	/* The regex module's named lists (SmokeDetector passes city=). */
	accept_noted("in \\L<city>\\W+escorts?",
	    "the escape \\L<city> at byte offset 3");
	/* Several kinds at once are all named. */
	accept_noted("(?w)a(?<=b+)\\p{InArrows}",
	    "a variable-length lookbehind at byte offset 5, the flags (?w) "
	    "at byte offset 0, the property \\p{InArrows} at byte offset 12");
	/* A comment holding brackets does not confuse the rewriting. */
	accept_noted("(?#[x)(?<=a\\W*)b", "lookbehind at byte offset 6");
	/* A (?<= inside a character class is no lookbehind. */
	accept_noted("[(?<=]x(?<=a+)", "lookbehind at byte offset 7");
}

static void
constructs_pcre2_has_are_accepted_without_a_note(void **state)
{
	static const char *const v[] = {
		"a(?#a comment)b",
		"(?P<n>a|b)(?P>n)",
		"(?(DEFINE)(?<d>\\d+))(?&d)-(?&d)",
		"neuro\\W*+(?:3X|flexyn)",
		"(?>atomic)+",
		"(?-i: Prime(?<=^Alpha Prime))",
		"(?<=ab|c)d",
		"\\p{Latin}\\p{Script=Cyrillic}\\p{L&}\\pL\\P{Lu}",
		"[[:alpha:]][[:^digit:]]",
		"(?P<a>x)|(?P<a>y)",
		"(?|(a)|(b))\\1",
		"x{,3}",
		"(?:foo){e<=1}",
		NULL
	};
	struct hl_err err = HL_ERR_INIT;
	char *note;
	int i;

	for (i = 0; v[i] != NULL; i++) {
		note = (char *)"unset";
		if (hl_validate_value(&note, HL_FMT_PLAIN, v[i], &err) != 0)
			fail_msg("\"%s\" rejected: %s", v[i], err.msg);
		if (note != NULL)
			fail_msg("\"%s\" has a note: %s", v[i], note);
	}
	/* A caller that wants no note gets none and leaks nothing. */
	assert_int_equal(hl_validate_value(NULL, HL_FMT_PLAIN, "(?w)a", &err),
	    0);
	assert_int_equal(hl_validate_value(NULL, HL_FMT_PLAIN, "(", NULL),
	    HL_EINVAL);
}

static void
invalid_utf8_is_rejected_with_its_offset(void **state)
{
	reject(HL_FMT_PLAIN, "ab\xc0\xaf", HL_EINVAL,
	    "invalid UTF-8 at byte offset 2: an overlong encoding");
	reject(HL_FMT_PLAIN, "\xe0\x80\xaf", HL_EINVAL, "overlong");
	reject(HL_FMT_PLAIN, "\xf0\x82\x82\xac", HL_EINVAL, "overlong");
	reject(HL_FMT_PLAIN, "a\x80", HL_EINVAL,
	    "byte offset 1: a continuation byte without a lead byte");
	reject(HL_FMT_PLAIN, "x\xed\xa0\x80y", HL_EINVAL,
	    "byte offset 1: an encoded surrogate");
	reject(HL_FMT_PLAIN, "\xf4\x90\x80\x80", HL_EINVAL,
	    "above U+10FFFF");
	reject(HL_FMT_PLAIN, "abc\xe2\x82", HL_EINVAL,
	    "byte offset 3: a sequence cut short");
	reject(HL_FMT_PLAIN, "\xe2\x82z", HL_EINVAL, "cut short");
	reject(HL_FMT_PLAIN, "\xff", HL_EINVAL, "never appears in UTF-8");
	reject(HL_FMT_YAML_NS, "a\xc1\x81.", HL_EINVAL, "overlong");
	/* The longest and highest characters are fine. */
	accept(HL_FMT_PLAIN, "\xf4\x8f\xbf\xbf\xe2\x82\xac\xc2\xa9");
}

static void
control_characters_are_rejected(void **state)
{
	struct hl_err err = HL_ERR_INIT;

	reject(HL_FMT_TSV, "a\tb", HL_EINVAL,
	    "control character U+0009 (TAB) at byte offset 1");
	reject(HL_FMT_PLAIN, "ab\nc", HL_EINVAL, "U+000A (LF, a newline)");
	reject(HL_FMT_TSV, "a\r", HL_EINVAL, "U+000D");
	reject(HL_FMT_PLAIN, "\x1b[0m", HL_EINVAL, "U+001B at byte offset 0");
	reject(HL_FMT_PLAIN, "a\x7f", HL_EINVAL, "U+007F (DEL)");
	reject(HL_FMT_PLAIN, "a\xc2\x85", HL_EINVAL, "U+0085 (NEL");
	reject(HL_FMT_PLAIN, "a\xc2\x9f", HL_EINVAL, "U+009F at byte offset 1");
	reject(HL_FMT_YAML_ASN, "1\n", HL_EINVAL, "U+000A");
	assert_int_equal(hl_validate_text("a\0b", 3, 10, &err), HL_EINVAL);
	assert_non_null(strstr(err.msg, "U+0000 (NUL) at byte offset 1"));
	/* A no-break space is not a control character. */
	accept(HL_FMT_PLAIN, "a\xc2\xa0" "b");
}

static void
empty_and_over_long_values_are_rejected(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	char *big;

	reject(HL_FMT_PLAIN, "", HL_EINVAL, "empty");
	reject(HL_FMT_YAML_ASN, "", HL_EINVAL, "empty");
	assert_int_equal(hl_validate_value(NULL, HL_FMT_TSV, NULL, &err),
	    HL_EINVAL);
	big = malloc(HL_VALIDATE_MAX_VALUE + 2);
	assert_non_null(big);
	memset(big, 'a', HL_VALIDATE_MAX_VALUE + 1);
	big[HL_VALIDATE_MAX_VALUE + 1] = '\0';
	reject(HL_FMT_PLAIN, big, HL_ETOOBIG, "4097 bytes, over the limit "
	    "of 4096");
	big[HL_VALIDATE_MAX_VALUE] = '\0';
	accept(HL_FMT_PLAIN, big);
	free(big);
	/* Only the len given is looked at. */
	assert_int_equal(hl_validate_text("abc\n", 3, 3, &err), 0);
	assert_int_equal(hl_validate_text("abc", 3, 2, &err), HL_ETOOBIG);
	assert_int_equal(hl_validate_text("abc", 0, 2, &err), HL_EINVAL);
}

static void
lines_smokedetector_would_skip_or_strip_are_rejected(void **state)
{
	reject(HL_FMT_PLAIN, "#foo", HL_EINVAL, "starts with '#'");
	/* TSVDictParser skips a pattern whose first character is '#'. */
	reject(HL_FMT_TSV, "#foo", HL_EINVAL, "tsv parser skips");
	accept(HL_FMT_TSV, "a#foo");
	accept(HL_FMT_PLAIN, "a#foo");
	reject(HL_FMT_PLAIN, "   ", HL_EINVAL, "only white space");
	reject(HL_FMT_PLAIN, "\xe3\x80\x80", HL_EINVAL, "only white space");
	reject(HL_FMT_TSV, " ", HL_EINVAL, "only white space");
	reject(HL_FMT_PLAIN, "foo ", HL_EINVAL,
	    "ends with white space (U+0020 at byte offset 3)");
	reject(HL_FMT_TSV, "foo\xe3\x80\x80", HL_EINVAL, "U+3000");
	accept(HL_FMT_PLAIN, " foo");
}

static void
phone_number_lists_hold_text_not_patterns(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	char *note = (char *)"unset";

	assert_int_equal(hl_validate_list_value(&note, "blacklist-number",
	    HL_FMT_PLAIN, "(+27)83 880 8170", &err), 0);
	assert_null(note);
	assert_int_equal(hl_validate_list_value(&note, "watch-number",
	    HL_FMT_TSV, "+1 (508) 819 2672", &err), 0);
	assert_int_equal(hl_validate_list_value(&note, "watch-number",
	    HL_FMT_TSV, "call now", &err), HL_EINVAL);
	assert_non_null(strstr(err.msg, "at least one digit"));
	assert_int_equal(hl_validate_list_value(&note, "blacklist-number",
	    HL_FMT_PLAIN, "#123", &err), HL_EINVAL);
	assert_int_equal(hl_validate_list_value(&note, "blacklist-number",
	    HL_FMT_PLAIN, "123\t4", &err), HL_EINVAL);
	assert_int_equal(hl_validate_list_value(&note, "blacklist-number",
	    HL_FMT_PLAIN, "123 ", &err), HL_EINVAL);
	/* Other lists are patterns. */
	assert_int_equal(hl_validate_list_value(&note, "blacklist-keyword",
	    HL_FMT_PLAIN, "(+27)83", &err), HL_EINVAL);
	assert_null(note);
	assert_int_equal(hl_validate_list_value(&note, "watch-keyword",
	    HL_FMT_TSV, "(?w)x", &err), 0);
	assert_non_null(note);
	free(note);
}

static void
ips_are_checked_with_smokedetector_s_rule(void **state)
{
	/* YAMLParserCIDR._validate(): ^(?!0)(?&octet)(?:\.(?&octet)){3}$ */
	static const char *const good[] = { "1.2.3.4", "10.0.0.0",
	    "255.255.255.255", "192.0.2.10", "100.0.0.1", "9.99.199.250",
	    NULL };
	static const char *const bad[] = { "1.2.3", "1.2.3.256", "1.2.3.4.5",
	    "01.2.3.4", "0.1.2.3", "1.02.3.4", "example.com", "1.2.3.4 ",
	    " 1.2.3.4", "10.0.0.0/8", "::1", "2001:db8::1", "1.2.3.4/32",
	    "1..2.3", "1.2.3.", "1.2.3.1000", NULL };
	int i;

	for (i = 0; good[i] != NULL; i++)
		accept(HL_FMT_YAML_CIDR, good[i]);
	for (i = 0; bad[i] != NULL; i++)
		reject(HL_FMT_YAML_CIDR, bad[i], HL_EINVAL, "");
	reject(HL_FMT_YAML_CIDR, "1.2.3.999", HL_EINVAL,
	    "not an IP address as SmokeDetector takes one");
	reject(HL_FMT_YAML_CIDR, "10.0.0.0/8", HL_EINVAL, "prefix length");
	reject(HL_FMT_YAML_CIDR, "0.1.2.3", HL_EINVAL, "starts with 0");
}

static void
name_servers_are_dns_names_ending_with_a_dot(void **state)
{
	/* SmokeDetector's host rule: ^([a-z0-9][-a-z0-9]*\.){2,}$ */
	static const char *const good[] = { "ns1.example.com.", "a.com.",
	    "a.ns.cloudflare.com. b.ns.cloudflare.com. c.example.",
	    "xn--bcher-kva.example.", "a-b.c--d.example.",
	    "ns-.example.com.", NULL };
	static const char *const bad[] = { ".", "ns1..example.com.",
	    ".example.com.", "-ns.example.com.", "com.",
	    "a.com.  b.com.", " a.com.", "a.com. ", "ns1.exa*mple.com.",
	    "ns1.ex\xc3\xa4mple.com.", "a.com.b.com", "NS1.EXAMPLE.COM.",
	    "NS3.Example.com.", "_dmarc.example.com.", NULL };
	char name[300];
	int i;

	for (i = 0; good[i] != NULL; i++)
		accept(HL_FMT_YAML_NS, good[i]);
	for (i = 0; bad[i] != NULL; i++)
		reject(HL_FMT_YAML_NS, bad[i], HL_EINVAL, "");
	reject(HL_FMT_YAML_NS, "ns1.example.com", HL_EINVAL,
	    "does not end with a dot");
	reject(HL_FMT_YAML_NS, "a.example. ns2.example.com", HL_EINVAL,
	    "\"ns2.example.com\" at byte offset 11 does not end with a dot");
	reject(HL_FMT_YAML_NS, "a.com.  b.com.", HL_EINVAL,
	    "empty name at byte offset 7");
	reject(HL_FMT_YAML_NS, "a..b.", HL_EINVAL, "empty label at byte "
	    "offset 2");
	reject(HL_FMT_YAML_NS, "ns1.exa*mple.com.", HL_EINVAL,
	    "'*' at byte offset 7");
	reject(HL_FMT_YAML_NS, "ns1.ex\xc3\xa4mple.com.", HL_EINVAL,
	    "punycode");
	reject(HL_FMT_YAML_NS, "NS3.Example.com.", HL_EINVAL, "lower case");
	reject(HL_FMT_YAML_NS, "com.", HL_EINVAL, "two or more");

	/* 63-byte labels are fine, 64 are not. */
	memset(name, 'a', 63);
	(void)snprintf(name + 63, sizeof(name) - 63, ".example.");
	accept(HL_FMT_YAML_NS, name);
	memset(name, 'a', 64);
	(void)snprintf(name + 64, sizeof(name) - 64, ".example.");
	reject(HL_FMT_YAML_NS, name, HL_EINVAL, "64 bytes long, over 63");

	/* 253 bytes without the final dot are fine, 254 are not. */
	for (i = 0; i < 4; i++) {
		memset(name + i * 64, 'b', 63);
		name[i * 64 + 63] = '.';
	}
	name[253] = '.';
	name[254] = '\0';
	accept(HL_FMT_YAML_NS, name);
	name[253] = 'b';
	name[254] = '.';
	name[255] = '\0';
	reject(HL_FMT_YAML_NS, name, HL_EINVAL, "254 bytes long, over 253");
}

static void
asns_are_public_as_numbers_as_smokedetector_takes_them(void **state)
{
	/* YAMLParserASN._validate() */
	static const char *const good[] = { "1", "3223", "16509", "23455",
	    "23457", "64495", "131072", "4199999999", NULL };
	static const char *const bad[] = { "0", "00", "4294967296",
	    "4294967295", "4200000000", "23456", "64496", "65535", "131071",
	    "03223", "+3223", "-1", "AS3223", "as3223", "32 23",
	    "12345678901", "99999999999999999999999", "3223.5", "0x10",
	    NULL };
	int i;

	for (i = 0; good[i] != NULL; i++)
		accept(HL_FMT_YAML_ASN, good[i]);
	for (i = 0; bad[i] != NULL; i++)
		reject(HL_FMT_YAML_ASN, bad[i], HL_EINVAL, "");
	reject(HL_FMT_YAML_ASN, "AS3223", HL_EINVAL, "without \"AS\"");
	reject(HL_FMT_YAML_ASN, "03223", HL_EINVAL, "leading zero");
	reject(HL_FMT_YAML_ASN, "4294967296", HL_EINVAL, "out of range");
	reject(HL_FMT_YAML_ASN, "65000", HL_EINVAL, "not a public AS");
	reject(HL_FMT_YAML_ASN, "0", HL_EINVAL, "out of range");
	reject(HL_FMT_YAML_ASN, "12a", HL_EINVAL, "'a' at byte offset 2");
}

static void
comments_are_text_of_at_most_1024_bytes(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	char c[HL_VALIDATE_MAX_COMMENT + 2];

	assert_int_equal(hl_validate_comment(NULL, &err), 0);
	assert_int_equal(hl_validate_comment("FPs; do not watch", &err), 0);
	assert_int_equal(hl_validate_comment("122/284 over 1 year \xe2\x9c\x93",
	    &err), 0);
	/* A yaml block scalar gives line breaks, a folded one a last '\n'. */
	assert_int_equal(hl_validate_comment("two\nlines", &err), 0);
	assert_int_equal(hl_validate_comment("folded text\n", &err), 0);
	assert_int_equal(hl_validate_comment("a\r\nb", &err), HL_EINVAL);
	assert_non_null(strstr(err.msg, "U+000D"));
	assert_int_equal(hl_validate_comment("a\tb", &err), HL_EINVAL);
	assert_int_equal(hl_validate_comment("", &err), HL_EINVAL);
	assert_int_equal(hl_validate_comment("\xc0\x80", &err), HL_EINVAL);
	memset(c, 'x', sizeof(c) - 1);
	c[sizeof(c) - 1] = '\0';
	assert_int_equal(hl_validate_comment(c, &err), HL_ETOOBIG);
	assert_non_null(strstr(err.msg, "comment: 1025 bytes"));
	c[sizeof(c) - 2] = '\0';
	assert_int_equal(hl_validate_comment(c, &err), 0);
}

static void
an_unknown_format_is_rejected(void **state)
{
	reject(42, "x", HL_EINVAL, "unknown list format 42");
}

static void *
validate_many(void *arg)
{
	struct hl_err err = HL_ERR_INIT;
	char *note;
	int i, bad = 0;

	(void)arg;
	for (i = 0; i < 200; i++) {
		note = NULL;
		if (hl_validate_value(&note, HL_FMT_PLAIN,
		    "(?w)a(?<=b+)\\p{InArrows}", &err) != 0 || note == NULL)
			bad++;
		free(note);
		if (hl_validate_value(NULL, HL_FMT_PLAIN, "(x", &err) !=
		    HL_EINVAL)
			bad++;
	}
	return (void *)(intptr_t)bad;
}

static void
patterns_are_validated_from_several_threads_at_once(void **state)
{
	pthread_t t[4];
	void *bad;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, validate_many,
		    NULL), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((intptr_t)bad, 0);
	}
}

/* 1 when code matches s. */
static int
matches(pcre2_code *code, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc;

	assert_non_null(md);
	rc = pcre2_match(code, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md,
	    NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/*
 * hl_validate_compile() after hl_validate_value() of the same value hands
 * over that code and note, once; of another value, it compiles that one.
 */
static void
validated_code_serves_the_next_compile(void **state)
{
	static const char lb[] = "writing(?<!(?:code|script)\\Wwriting)"
	    " services?";
	struct hl_err err = HL_ERR_INIT;
	pcre2_code *code;
	char *n1 = NULL, *n2 = NULL;
	int round;

	assert_int_equal(hl_validate_value(&n1, HL_FMT_PLAIN, lb, &err), 0);
	assert_non_null(n1);
	for (round = 0; round < 2; round++) {
		assert_int_equal(hl_validate_compile(&code, &n2, lb, &err), 0);
		assert_true(matches(code, "Writing Services"));
		assert_false(matches(code, "reading"));
		assert_non_null(n2);
		assert_string_equal(n1, n2);
		free(n2);
		pcre2_code_free(code);
	}
	free(n1);

	assert_int_equal(hl_validate_value(NULL, HL_FMT_PLAIN, "alpha\\d+",
	    &err), 0);
	reject(HL_FMT_PLAIN, "(x", HL_EINVAL, "missing closing parenthesis");
	assert_int_equal(hl_validate_compile(&code, &n2, "beta\\d+", &err),
	    0);
	assert_null(n2);
	assert_true(matches(code, "beta7"));
	assert_false(matches(code, "alpha7"));
	pcre2_code_free(code);
	assert_int_equal(hl_validate_compile(&code, NULL, "alpha\\d+", &err),
	    0);
	assert_true(matches(code, "alpha7"));
	pcre2_code_free(code);
	assert_int_equal(hl_validate_compile(&code, &n2, "(x", &err),
	    HL_EINVAL);
	assert_null(code);
	assert_non_null(strstr(err.msg, "missing closing parenthesis"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_pattern_in_the_sample_files_is_accepted),
		cmocka_unit_test(a_handful_of_sample_yaml_values_are_accepted),
		cmocka_unit_test(
		    invalid_regexes_are_rejected_with_pcre2s_message),
		cmocka_unit_test(
		    a_regex_module_construct_does_not_hide_an_error_elsewhere),
		cmocka_unit_test(
		    regex_module_only_constructs_are_accepted_with_a_note),
		cmocka_unit_test(
		    constructs_pcre2_has_are_accepted_without_a_note),
		cmocka_unit_test(invalid_utf8_is_rejected_with_its_offset),
		cmocka_unit_test(control_characters_are_rejected),
		cmocka_unit_test(empty_and_over_long_values_are_rejected),
		cmocka_unit_test(
		    lines_smokedetector_would_skip_or_strip_are_rejected),
		cmocka_unit_test(phone_number_lists_hold_text_not_patterns),
		cmocka_unit_test(ips_are_checked_with_smokedetector_s_rule),
		cmocka_unit_test(name_servers_are_dns_names_ending_with_a_dot),
		cmocka_unit_test(
		    asns_are_public_as_numbers_as_smokedetector_takes_them),
		cmocka_unit_test(comments_are_text_of_at_most_1024_bytes),
		cmocka_unit_test(an_unknown_format_is_rejected),
		cmocka_unit_test(
		    patterns_are_validated_from_several_threads_at_once),
		cmocka_unit_test(validated_code_serves_the_next_compile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
