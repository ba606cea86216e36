/*
 * test_textfmt: SmokeDetector's list files go through hl_textfmt_parse
 * and hl_textfmt_render and come back byte for byte.
 *
 * The fixtures are the sample files in HELIOS_SAMPLES (by default
 * ../shared/data/smokedetector-sample from the repository root, then
 * /work/shared/data/smokedetector-sample).  The expected yaml texts below
 * were worked out from PyYAML's emitter and resolver (and agree with what
 * yaml.dump writes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "textfmt.h"

static const char *
sample_dir(void)
{
	static const char *const dirs[] = {
		"../shared/data/smokedetector-sample",
		"/work/shared/data/smokedetector-sample",
	};
	const char *d;
	FILE *f;
	char path[4096];
	size_t i;

	if ((d = getenv("HELIOS_SAMPLES")) != NULL && *d != '\0')
		return d;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/README.md", dirs[i]);
		if ((f = fopen(path, "r")) != NULL) {
			fclose(f);
			return dirs[i];
		}
	}
	return dirs[1];
}

static char *
read_sample(const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	char *data;
	long sz;

	snprintf(path, sizeof(path), "%s/%s", sample_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	data = malloc((size_t)sz + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)sz, f), (size_t)sz);
	data[sz] = '\0';
	fclose(f);
	*len = (size_t)sz;
	return data;
}

/* Fails, naming the first differing byte, unless got equals want. */
static void
assert_same_bytes(const char *what, const char *got, size_t glen,
    const char *want, size_t wlen)
{
	size_t i, n = glen < wlen ? glen : wlen;

	if (glen == wlen && memcmp(got, want, n) == 0)
		return;
	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	fail_msg("%s: output differs at byte %zu (got %zu bytes, want %zu)"
	    "\n  got:  \"%.60s\"\n  want: \"%.60s\"", what, i, glen, wlen,
	    got + i, want + i);
}

static struct hl_item *
parse_ok(const char *text, size_t len, int fmt, size_t *n)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *items = NULL;
	int rc;

	rc = hl_textfmt_parse(&items, n, fmt, text, len, "t", &err);
	if (rc != 0)
		fail_msg("parse: %s", err.msg);
	return items;
}

/* Parses text, renders it, and checks the bytes come back. */
static void
round_trip(const char *what, const char *text, size_t len, int fmt,
    const char *want, size_t wlen)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_item *items;
	size_t n;

	items = parse_ok(text, len, fmt, &n);
	if (hl_textfmt_render(&b, fmt, items, n, &err) != 0)
		fail_msg("render %s: %s", what, err.msg);
	assert_same_bytes(what, b.data ? b.data : "", b.len, want, wlen);
	hl_buf_free(&b);
	hl_items_free(items, n);
}

struct sample {
	const char	*file;
	int		 fmt;
};

static void
sample_round_trips(void **state)
{
	const struct sample *s = *state;
	char *data;
	size_t len;

	data = read_sample(s->file, &len);
	assert_true(len > 0);
	round_trip(s->file, data, len, s->fmt, data, len);
	free(data);
}

/*
 * The last item of watched_nses.yml was edited by hand: its keys are
 * "comment, pass, ns", not sorted.  Keeping that order needs the item's
 * key order (HL_ITEM_KEYS in item.h); without it the item comes back with
 * its keys in yaml.dump's order and everything else byte for byte.
 */
static void
watched_nses_round_trips(void **state)
{
	static const char hand[] = "  pass: true\n  ns: multicshost.com.\n";
	static const char dump[] = "  ns: multicshost.com.\n  pass: true\n";
	char *data, *want, *p;
	size_t len;

	(void)state;
	data = read_sample("watched_nses.yml", &len);
	want = strdup(data);
	assert_non_null(want);
#ifndef HL_ITEM_KEYS
	p = strstr(want, hand);
	assert_non_null(p);
	memcpy(p, dump, strlen(dump));
#else
	(void)p;
	(void)dump;
	(void)hand;
#endif
	round_trip("watched_nses.yml", data, len, HL_FMT_YAML_NS, want, len);
	free(want);
	free(data);
}

static struct hl_item *
parse_sample(const char *file, int fmt, size_t *n)
{
	struct hl_item *items;
	char *data;
	size_t len;

	data = read_sample(file, &len);
	items = parse_ok(data, len, fmt, n);
	free(data);
	return items;
}

static void
plain_comment_lines_are_verbatim(void **state)
{
	struct hl_item *v;
	size_t n, i, nverb = 0;

	(void)state;
	v = parse_sample("bad_keywords.txt", HL_FMT_PLAIN, &n);
	assert_int_equal(n, 120);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].pos, (int64_t)i);
		nverb += v[i].verbatim;
	}
	assert_int_equal(nverb, 2);
	assert_true(v[4].verbatim);
	assert_string_equal(v[4].value, "# documentation: the (?!negative "
	    "match) syntax won't work in the metasmoke search site");
	assert_true(v[5].verbatim);
	assert_string_equal(v[5].value, "# but it works for smoke detector.");
	assert_false(v[6].verbatim);
	assert_string_equal(v[6].value,
	    "writing(?<!(?:code|script)\\Wwriting) services?");
	assert_string_equal(v[90].value,
	    "фальшивы(?:е|х) (?:деньги|денег|купюры?)");
	hl_items_free(v, n);

	v = parse_sample("blacklisted_websites.txt", HL_FMT_PLAIN, &n);
	assert_int_equal(n, 121);
	assert_true(v[n - 1].verbatim);
	assert_true(strncmp(v[n - 1].value, "#Bannon\\s*#DrLiMengYan1", 23)
	    == 0);
	for (i = 0; i + 1 < n; i++)
		assert_false(v[i].verbatim);
	hl_items_free(v, n);
}

static void
plain_blank_lines_are_verbatim(void **state)
{
	static const char text[] = "a\n\n  \t\nb \n#c\n \xc2\xa0\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_PLAIN, &n);
	assert_int_equal(n, 6);
	assert_false(v[0].verbatim);
	assert_true(v[1].verbatim);
	assert_string_equal(v[1].value, "");
	assert_true(v[2].verbatim);
	assert_false(v[3].verbatim);
	/* SmokeDetector rstrips the line; the text read is kept. */
	assert_string_equal(v[3].value, "b");
	assert_string_equal(v[3].src, "b \n");
	assert_null(v[0].src);
	assert_true(v[4].verbatim);
	assert_true(v[5].verbatim);	/* U+00A0 is white space to rstrip */
	hl_items_free(v, n);
	round_trip("blank lines", text, sizeof(text) - 1, HL_FMT_PLAIN,
	    text, sizeof(text) - 1);
}

static void
tsv_user_names_are_kept(void **state)
{
	struct hl_item *v;
	size_t n, i, nspace = 0;

	(void)state;
	v = parse_sample("watched_keywords.txt", HL_FMT_TSV, &n);
	assert_int_equal(n, 150);
	assert_int_equal(v[0].created_at, 1494568775);
	assert_string_equal(v[0].created_by, "tripleee");
	assert_string_equal(v[0].value, "essayssos\\.com");
	assert_string_equal(v[4].value, "[\\\\][$]pi[$]\\Wis\\Wrational");
	hl_items_free(v, n);

	v = parse_sample("watched_numbers.txt", HL_FMT_TSV, &n);
	assert_int_equal(n, 150);
	assert_int_equal(v[127].created_at, 1520119560);
	assert_string_equal(v[127].created_by, "K.Dᴀᴠɪs");
	assert_string_equal(v[127].value, "1-512-605-1256");
	for (i = 0; i < n; i++) {
		assert_false(v[i].verbatim);
		if (strchr(v[i].created_by, ' ') != NULL)
			nspace++;
	}
	assert_true(nspace > 0);
	hl_items_free(v, n);
}

static void
tsv_skipped_lines_are_verbatim(void **state)
{
	static const char text[] =
	    "# watched\n\n  # indented\n1\tJ F\tx y\n-5\t\tz\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_TSV, &n);
	assert_int_equal(n, 5);
	assert_true(v[0].verbatim && v[1].verbatim && v[2].verbatim);
	assert_null(v[0].created_by);
	assert_string_equal(v[2].value, "  # indented");
	assert_int_equal(v[3].created_at, 1);
	assert_string_equal(v[3].created_by, "J F");
	assert_string_equal(v[3].value, "x y");
	assert_int_equal(v[4].created_at, -5);
	assert_string_equal(v[4].created_by, "");
	hl_items_free(v, n);
	round_trip("tsv verbatim", text, sizeof(text) - 1, HL_FMT_TSV, text,
	    sizeof(text) - 1);
}

static void
yaml_items_carry_comment_disable_pass(void **state)
{
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_sample("watched_asns.yml", HL_FMT_YAML_ASN, &n);
	assert_int_equal(n, 35);
	assert_string_equal(v[0].value, "3223");
	assert_null(v[0].comment);
	assert_int_equal(v[0].disabled, HL_DISABLE_NO);
	assert_string_equal(v[1].value, "3842");
	assert_string_equal(v[1].comment, "122/284 over 1 year");
	assert_int_equal(v[1].disabled, HL_DISABLE_TRUE);
	assert_string_equal(v[13].value, "19318");
	assert_string_equal(v[13].comment, " 67/162 over a year");
	assert_string_equal(v[12].value, "18978");
	assert_null(v[12].comment);
	assert_int_equal(v[12].disabled, HL_DISABLE_TRUE);
	assert_int_equal(v[34].pos, 34);
	hl_items_free(v, n);

	v = parse_sample("watched_nses.yml", HL_FMT_YAML_NS, &n);
	assert_int_equal(n, 40);
	assert_false(v[0].ns_seq);
	assert_string_equal(v[0].value, "namecheaphosting.com.");
	assert_string_equal(v[0].comment, "has FPs, don't blacklist again");
	assert_true(v[1].ns_seq);
	assert_string_equal(v[1].value,
	    "aaden.ns.cloudflare.com. may.ns.cloudflare.com.");
	assert_int_equal(v[5].disabled, HL_DISABLE_TRUE);
	assert_string_equal(v[5].comment, "all FP 2022-11-03");
	assert_true(v[39].pass);
	assert_false(v[39].ns_seq);
	assert_string_equal(v[39].value, "multicshost.com.");
	assert_int_equal(v[39].disabled, HL_DISABLE_NO);
	hl_items_free(v, n);

	v = parse_sample("blacklisted_cidrs.yml", HL_FMT_YAML_CIDR, &n);
	assert_int_equal(n, 57);
	assert_string_equal(v[0].value, "101.53.132.172");
	hl_items_free(v, n);
}

static void
yaml_empty_disable_round_trips(void **state)
{
	static const char text[] =
	    "Schema: yaml_asn\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "- asn: '1'\n"
	    "  disable:\n"
	    "- asn: '2'\n"
	    "  comment: ''\n"
	    "  disable: true\n"
	    "  pass: true\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_ASN, &n);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].disabled, HL_DISABLE_EMPTY);
	assert_string_equal(v[1].comment, "");
	assert_int_equal(v[1].disabled, HL_DISABLE_TRUE);
	assert_true(v[1].pass);
	hl_items_free(v, n);
	round_trip("empty disable", text, sizeof(text) - 1, HL_FMT_YAML_ASN,
	    text, sizeof(text) - 1);
}

static void
empty_yaml_list_is_a_flow_sequence(void **state)
{
	static const char text[] =
	    "Schema: yaml_cidr\n"
	    "Schema_version: '2019120601'\n"
	    "items: []\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_CIDR, &n);
	assert_int_equal(n, 0);
	hl_items_free(v, n);
	round_trip("empty list", text, sizeof(text) - 1, HL_FMT_YAML_CIDR,
	    text, sizeof(text) - 1);
}

/* Parsing must fail with HL_EINVAL and a message starting with want. */
static void
assert_rejected_len(const char *text, size_t len, int fmt, const char *want)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *v = (struct hl_item *)1;
	size_t n = 7;
	int rc;

	rc = hl_textfmt_parse(&v, &n, fmt, text, len, "list.txt", &err);
	if (rc != HL_EINVAL)
		fail_msg("parse gave %d for \"%s\"", rc, text);
	assert_int_equal(err.code, HL_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err.msg,
		    want);
}

#define assert_rejected(text, fmt, want) \
	assert_rejected_len(text, sizeof(text) - 1, fmt, want)

static void
malformed_input_is_rejected_with_file_and_line(void **state)
{
	(void)state;
	assert_rejected("1\ta\tb\nsoon\ta\tb\n", HL_FMT_TSV,
	    "list.txt:2: the timestamp \"soon\"");
	assert_rejected("a\nb\0c\n", HL_FMT_PLAIN, "list.txt:2: NUL byte");
	assert_rejected("- ip: 1.2.3.4\n", HL_FMT_YAML_CIDR,
	    "list.txt:1: not a mapping");
	assert_rejected("", HL_FMT_YAML_CIDR, "list.txt:1: not a mapping");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- ip: 1.2.3.4\n", HL_FMT_YAML_CIDR,
	    "list.txt:1: Schema is \"yaml_ns\", expected \"yaml_cidr\"");
	assert_rejected("Schema: yaml_cidrs\nSchema_version: '2019120601'\n"
	    "items: []\n", HL_FMT_YAML_CIDR, "list.txt:1: Schema is");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2020010101'\n"
	    "items: []\n", HL_FMT_YAML_NS, "list.txt:2: Schema_version");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- ns: a.example.\n- comment: no name\n  pass: true\n",
	    HL_FMT_YAML_NS, "list.txt:5: an item without ns");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- ns: a.example.\n- just a string\n",
	    HL_FMT_YAML_NS, "list.txt:5: an item must be a mapping");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- ns: a.example.\n  ip: 1.2.3.4\n",
	    HL_FMT_YAML_NS, "list.txt:5: unknown key \"ip\"");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- ns: []\n", HL_FMT_YAML_NS, "list.txt:4: ns has no");
	assert_rejected("Schema: yaml_asn\nSchema_version: '2019120601'\n"
	    "items:\n- asn: '1'\n  disable: maybe\n", HL_FMT_YAML_ASN,
	    "list.txt:5: disable must be true or empty");
	assert_rejected("Schema: yaml_asn\nSchema_version: '2019120601'\n"
	    "items:\n- asn: '1'\n  comment: [a, b]\n", HL_FMT_YAML_ASN,
	    "list.txt:5: comment must be a single value");
	assert_rejected("Schema: yaml_asn\nSchema_version: '2019120601'\n"
	    "items:\n- asn: '1\n", HL_FMT_YAML_ASN, "list.txt:");
	assert_rejected("Schema: yaml_asn\nitems: []\n", HL_FMT_YAML_ASN,
	    "list.txt:1: no Schema_version");
	assert_rejected("Schema: yaml_asn\nSchema_version: '2019120601'\n"
	    "items: []\n---\nx: 1\n", HL_FMT_YAML_ASN,
	    "list.txt:4: more than one document");
}

static void
missing_final_newline_is_kept(void **state)
{
	(void)state;
	round_trip("no final newline", "a\n#b\nc", 6, HL_FMT_PLAIN,
	    "a\n#b\nc", 6);
	round_trip("tsv no final newline", "1\tu\tp", 5, HL_FMT_TSV,
	    "1\tu\tp", 5);
	round_trip("yaml no final newline", "Schema: yaml_asn\n"
	    "Schema_version: '2019120601'\nitems:\n- asn: '1'", 63,
	    HL_FMT_YAML_ASN, "Schema: yaml_asn\n"
	    "Schema_version: '2019120601'\nitems:\n- asn: '1'", 63);
	round_trip("empty", "", 0, HL_FMT_PLAIN, "", 0);
}

static void
unwritable_items_are_refused(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_item it[2];

	(void)state;
	memset(it, 0, sizeof(it));
	assert_int_equal(hl_buf_puts(&b, "kept"), 0);
	it[0].value = "fine";
	it[1].value = "two\nlines";
	assert_int_equal(hl_textfmt_render(&b, HL_FMT_PLAIN, it, 2, &err),
	    HL_EINVAL);
	assert_string_equal(err.msg, "item 1: a line break in \"two\nlines\"");
	it[1].value = "a\tb";
	assert_int_equal(hl_textfmt_render(&b, HL_FMT_TSV, it, 2, &err),
	    HL_EINVAL);
	it[1].value = NULL;
	assert_int_equal(hl_textfmt_render(&b, HL_FMT_YAML_ASN, it, 2, &err),
	    HL_EINVAL);
	it[1].value = "a.  b.";
	it[1].ns_seq = 1;
	assert_int_equal(hl_textfmt_render(&b, HL_FMT_YAML_NS, it, 2, &err),
	    HL_EINVAL);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	hl_buf_free(&b);
}

static void
render_yaml_items(struct hl_buf *b, int fmt, struct hl_item *it, size_t n)
{
	struct hl_err err = HL_ERR_INIT;

	if (hl_textfmt_render(b, fmt, it, n, &err) != 0)
		fail_msg("render: %s", err.msg);
}

#define ASN_HEAD "Schema: yaml_asn\nSchema_version: '2019120601'\nitems:\n"

/*
 * PyYAML folds a plain scalar at the first space after column 80 (the
 * line may run past 80), and indents the rest two more than the key.
 * "  comment: FPs ... watching" ends at column 82, so the next space
 * breaks; the 100-x word cannot break at all and the space after it does.
 * A double-quoted scalar may also break right after an escape: the line
 * is cut (with a '\\') once its column plus the pending text passes 80,
 * here after the 18th "\xE9" (libyaml's emitter would not break there).
 */
#define E9X7	"\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9"
#define E9X18	E9X7 E9X7 "\\xE9\\xE9\\xE9\\xE9"
static void
long_comment_is_folded_as_pyyaml_does(void **state)
{
	static const char want[] = ASN_HEAD
	    "- asn: '3223'\n"
	    "  comment: FPs on several sites; seen on 2021-03-22 and again "
	    "later; keep watching\n"
	    "    but do not blacklist this one ever again please\n"
	    "  disable: true\n"
	    "- asn: '1'\n"
	    "  comment: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	    "    tail\n"
	    "  pass: true\n"
	    "- asn: '2'\n"
	    "  comment: \"caf\\xE9 # x: y\"\n"
	    "- asn: '4'\n"
	    "  comment: \"" E9X18 "\\\n"
	    "    " E9X7 " ok\"\n";
	struct hl_buf b = HL_BUF_INIT;
	struct hl_item it[4], *v;
	char x[106], e9[64];
	size_t n;

	(void)state;
	memset(it, 0, sizeof(it));
	memset(x, 'x', 100);
	strcpy(x + 100, " tail");
	it[0].value = "3223";
	it[0].comment = "FPs on several sites; seen on 2021-03-22 and again "
	    "later; keep watching but do not blacklist this one ever again "
	    "please";
	it[0].disabled = HL_DISABLE_TRUE;
	it[1].value = "1";
	it[1].comment = x;
	it[1].pass = 1;
	it[2].value = "2";
	it[2].comment = "caf\xc3\xa9 # x: y";
	for (n = 0; n < 25; n++)
		memcpy(e9 + 2 * n, "\xc3\xa9", 2);
	strcpy(e9 + 50, " ok");
	it[3].value = "4";
	it[3].comment = e9;
	render_yaml_items(&b, HL_FMT_YAML_ASN, it, 4);
	assert_same_bytes("folded", b.data, b.len, want, sizeof(want) - 1);
	hl_buf_free(&b);

	v = parse_ok(want, sizeof(want) - 1, HL_FMT_YAML_ASN, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[3].comment, it[3].comment);
	assert_string_equal(v[0].comment, it[0].comment);
	assert_string_equal(v[1].comment, it[1].comment);
	assert_string_equal(v[2].comment, it[2].comment);
	hl_items_free(v, n);
	round_trip("folded", want, sizeof(want) - 1, HL_FMT_YAML_ASN, want,
	    sizeof(want) - 1);
}

/*
 * A string is written plain unless PyYAML's resolver would load the plain
 * form as something else, or the plain form is not valid yaml.  Each pair
 * is a comment and its line as yaml.dump writes it.
 */
static void
scalars_are_quoted_as_pyyaml_quotes_them(void **state)
{
	static const char *const cases[][2] = {
		{ "true", "'true'" }, { "", "''" }, { "1.5", "'1.5'" },
		{ "2019-01-01", "'2019-01-01'" }, { "null", "'null'" },
		{ "~", "'~'" }, { "0x1F", "'0x1F'" }, { "1_000", "'1_000'" },
		{ "12:30", "'12:30'" }, { "yes", "'yes'" }, { "Off", "'Off'" },
		{ ".inf", "'.inf'" }, { "<<", "'<<'" }, { "=", "'='" },
		{ "1.2.3.4", "1.2.3.4" }, { "abc", "abc" }, { "n", "n" },
		{ "-", "'-'" }, { "- x", "'- x'" }, { "a: b", "'a: b'" },
		{ "a:b", "a:b" }, { "#x", "'#x'" }, { "x #y", "'x #y'" },
		{ "'q'", "'''q'''" }, { "\"d\"", "'\"d\"'" },
		{ "tab\there", "\"tab\\there\"" },
		{ "line\nbreak", "'line\n\n    break'" },
		{ "trail ", "'trail '" }, { "3223", "'3223'" },
		{ "007", "'007'" }, { "0o7", "0o7" }, { "1e5", "1e5" },
		{ "1.0e+5", "'1.0e+5'" }, { "!x", "'!x'" }, { "*", "'*'" },
		{ "&a", "'&a'" }, { "@x", "'@x'" }, { "%x", "'%x'" },
		{ "`x", "'`x'" }, { "[x]", "'[x]'" }, { "{x}", "'{x}'" },
		{ "x,y", "x,y" }, { "? x", "'? x'" }, { "?x", "?x" },
		{ "---", "'---'" }, { "...x", "'...x'" },
		{ "--- x", "'--- x'" },
		{ "2001-12-14t21:59:43.10-05:00",
		    "'2001-12-14t21:59:43.10-05:00'" },
		{ "2001-12-14 21:59:43.10 -5", "'2001-12-14 21:59:43.10 -5'" },
		{ "|x", "'|x'" }, { ">x", "'>x'" },
		{ "\xc3\xa9t\xc3\xa9", "\"\\xE9t\\xE9\"" },
		{ "\xf0\x9f\x98\x80", "\"\\U0001F600\"" },
		{ "x\x7f", "\"x\\x7F\"" },
	};
	struct hl_buf b = HL_BUF_INIT, want = HL_BUF_INIT;
	struct hl_item it;
	struct hl_item *v;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&it, 0, sizeof(it));
		it.value = "7";
		it.comment = (char *)cases[i][0];
		hl_buf_reset(&b);
		hl_buf_reset(&want);
		render_yaml_items(&b, HL_FMT_YAML_ASN, &it, 1);
		assert_int_equal(hl_buf_printf(&want, ASN_HEAD
		    "- asn: '7'\n  comment: %s\n", cases[i][1]), 0);
		assert_same_bytes(cases[i][0], b.data, b.len, want.data,
		    want.len);
		v = parse_ok(b.data, b.len, HL_FMT_YAML_ASN, &n);
		assert_int_equal(n, 1);
		assert_string_equal(v[0].comment, cases[i][0]);
		hl_items_free(v, n);
	}
	hl_buf_free(&b);
	hl_buf_free(&want);
}

static void
ns_as_name_or_list_is_kept(void **state)
{
	static const char want[] =
	    "Schema: yaml_ns\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "- ns: one.example.\n"
	    "- ns:\n"
	    "  - only.example.\n"
	    "- comment: x\n"
	    "  disable: true\n"
	    "  ns:\n"
	    "  - a.example.\n"
	    "  - b.example.\n"
	    "  pass: true\n";
	struct hl_buf b = HL_BUF_INIT;
	struct hl_item it[3], *v;
	size_t n;

	(void)state;
	memset(it, 0, sizeof(it));
	it[0].value = "one.example.";
	it[1].value = "only.example.";
	it[1].ns_seq = 1;
	it[2].value = "a.example. b.example.";
	it[2].ns_seq = 1;
	it[2].comment = "x";
	it[2].disabled = HL_DISABLE_TRUE;
	it[2].pass = 1;
	render_yaml_items(&b, HL_FMT_YAML_NS, it, 3);
	assert_same_bytes("ns", b.data, b.len, want, sizeof(want) - 1);
	hl_buf_free(&b);
	v = parse_ok(want, sizeof(want) - 1, HL_FMT_YAML_NS, &n);
	assert_int_equal(n, 3);
	assert_false(v[0].ns_seq);
	assert_true(v[1].ns_seq);
	assert_string_equal(v[1].value, "only.example.");
	assert_string_equal(v[2].value, "a.example. b.example.");
	hl_items_free(v, n);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SANITIZED)
#define SANITIZED	1
#endif

#ifdef SANITIZED
#define NLONG	20000	/* the sanitizers make everything ten times slower */
#else
#define NLONG	100000
#endif

/* Renders NLONG generated items in fmt, parses them back, compares. */
static void
long_list(int fmt)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_item *it, *v;
	char (*val)[48];
	size_t i, n;
	double t0, t1, t2;

	it = calloc(NLONG, sizeof(*it));
	val = calloc(NLONG, sizeof(*val));
	assert_non_null(it);
	assert_non_null(val);
	for (i = 0; i < NLONG; i++) {
		switch (fmt) {
		case HL_FMT_YAML_CIDR:
			snprintf(val[i], sizeof(val[i]), "10.%zu.%zu.%zu",
			    i >> 16, (i >> 8) & 255, i & 255);
			break;
		case HL_FMT_YAML_NS:
			snprintf(val[i], sizeof(val[i]), "ns%zu.example. "
			    "ns%zu.example.", i, i + 1);
			it[i].ns_seq = 1;
			break;
		default:
			snprintf(val[i], sizeof(val[i]), "spam%zu\\.example",
			    i);
		}
		it[i].value = val[i];
		it[i].created_at = 1494568775 + (int64_t)i;
		it[i].created_by = "Tetsuya Yamamoto";
		if (i % 10 == 0)
			it[i].comment = "FPs; do not watch";
		if (i % 7 == 0)
			it[i].disabled = HL_DISABLE_TRUE;
	}
	t0 = now();
	if (hl_textfmt_render(&b, fmt, it, NLONG, &err) != 0)
		fail_msg("render: %s", err.msg);
	t1 = now();
	if (hl_textfmt_parse(&v, &n, fmt, b.data, b.len, "long", &err) != 0)
		fail_msg("parse: %s", err.msg);
	t2 = now();
	print_message("# %s: %d items, %zu bytes: render %.3f s, "
	    "parse %.3f s\n", hl_fmt_name(fmt) ? hl_fmt_name(fmt) : "?",
	    NLONG, b.len, t1 - t0, t2 - t1);
	assert_int_equal(n, NLONG);
#ifndef SANITIZED
	/* The generator renders lists this long on every publish. */
	if (t1 - t0 > 2.0)
		fail_msg("rendering %d items took %.3f s", NLONG, t1 - t0);
#endif
	for (i = 0; i < NLONG; i += 997) {
		assert_string_equal(v[i].value, it[i].value);
		assert_int_equal(v[i].pos, (int64_t)i);
		if (fmt == HL_FMT_TSV)
			assert_int_equal(v[i].created_at, it[i].created_at);
		if (hl_fmt_is_yaml(fmt)) {
			assert_int_equal(v[i].disabled, it[i].disabled);
			assert_int_equal(v[i].ns_seq, it[i].ns_seq);
		}
	}
	hl_items_free(v, n);
	hl_buf_free(&b);
	free(val);
	free(it);
}

static void
long_lists_render_and_parse_back(void **state)
{
	(void)state;
	long_list(HL_FMT_PLAIN);
	long_list(HL_FMT_TSV);
	long_list(HL_FMT_YAML_CIDR);
	long_list(HL_FMT_YAML_NS);
}

static const struct sample samples[] = {
	{ "bad_keywords.txt", HL_FMT_PLAIN },
	{ "blacklisted_websites.txt", HL_FMT_PLAIN },
	{ "blacklisted_usernames.txt", HL_FMT_PLAIN },
	{ "blacklisted_numbers.txt", HL_FMT_PLAIN },
	{ "watched_keywords.txt", HL_FMT_TSV },
	{ "watched_numbers.txt", HL_FMT_TSV },
	{ "blacklisted_cidrs.yml", HL_FMT_YAML_CIDR },
	{ "blacklisted_nses.yml", HL_FMT_YAML_NS },
	{ "watched_asns.yml", HL_FMT_YAML_ASN },
};

/* Files a person edited: what each kept construct looks like. */
static const char folded_yml[] =
    "Schema: yaml_ns\n"
    "Schema_version: '2019120601'\n"
    "items:\n"
    "- comment: >\n"
    "    watched since the spam wave,\n"
    "    many FPs\n"
    "  ns: ns1.folded.example.com.\n"
    "- ns: plain.example.com.\n";

/* Renders items into a string (NUL-terminated) or fails. */
static char *
render_ok(int fmt, const struct hl_item *items, size_t n, size_t *len)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf b = HL_BUF_INIT;

	if (hl_textfmt_render(&b, fmt, items, n, &err) != 0)
		fail_msg("render: %s", err.msg);
	if (b.data == NULL && hl_buf_puts(&b, "") != 0)
		fail_msg("out of memory");
	return hl_buf_detach(&b, len);
}

static void
a_folded_block_scalar_is_kept_as_written(void **state)
{
	struct hl_item *v, *w;
	size_t n, len;
	char *out;

	(void)state;
	v = parse_ok(folded_yml, sizeof(folded_yml) - 1, HL_FMT_YAML_NS, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].comment,
	    "watched since the spam wave, many FPs\n");
	assert_string_equal(v[0].src, "- comment: >\n"
	    "    watched since the spam wave,\n    many FPs\n"
	    "  ns: ns1.folded.example.com.\n");
	assert_int_equal(v[0].line, 4);
	/* PyYAML would write the second item so: nothing kept. */
	assert_null(v[1].src);
	assert_int_equal(v[1].line, 8);
	round_trip("folded", folded_yml, sizeof(folded_yml) - 1,
	    HL_FMT_YAML_NS, folded_yml, sizeof(folded_yml) - 1);

	/* A new item adds its own lines and changes nothing else. */
	assert_non_null(w = realloc(v, (n + 1) * sizeof(*v)));
	v = w;
	memset(&v[n], 0, sizeof(v[n]));
	assert_non_null(v[n].value = strdup("new.example.com."));
	assert_non_null(v[n].comment = strdup("a comment: quoted"));
	out = render_ok(HL_FMT_YAML_NS, v, n + 1, &len);
	assert_string_equal(out, "Schema: yaml_ns\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "- comment: >\n"
	    "    watched since the spam wave,\n"
	    "    many FPs\n"
	    "  ns: ns1.folded.example.com.\n"
	    "- ns: plain.example.com.\n"
	    "- comment: 'a comment: quoted'\n"
	    "  ns: new.example.com.\n");
	free(out);
	hl_items_free(v, n + 1);
}

static void
a_long_comment_and_an_ns_with_a_trailing_space_are_kept(void **state)
{
	static const char text[] =
	    "Schema: yaml_ns\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "- comment: this comment is far longer than eighty columns and "
	    "stands on one line, as a person typed it into the file\n"
	    "  ns: ns1.long.example.com.\n"
	    "- ns: \n"
	    "  - ns1.space.example.com.\n"
	    "  - ns2.space.example.com.\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_NS, &n);
	assert_int_equal(n, 2);
	assert_non_null(v[0].src);
	assert_non_null(v[1].src);
	assert_string_equal(v[1].value,
	    "ns1.space.example.com. ns2.space.example.com.");
	hl_items_free(v, n);
	round_trip("long comment, ns space", text, sizeof(text) - 1,
	    HL_FMT_YAML_NS, text, sizeof(text) - 1);
}

static void
yaml_comments_and_a_hand_written_header_are_kept(void **state)
{
	static const char text[] =
	    "# blacklisted IPs\n"
	    "Schema: \"yaml_cidr\"\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "# block of 2023\n"
	    "- ip: 198.51.100.1\n"
	    "\n"
	    "- ip: 198.51.100.2  # inline\n"
	    "  # inside the item\n"
	    "  comment: second\n"
	    "# end\n";
	struct hl_item *v;
	size_t n, len;
	char *out;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_CIDR, &n);
	/* The header is everything before the first item. */
	assert_int_equal(n, 5);
	assert_int_equal(v[0].verbatim, HL_VERBATIM_HEAD);
	assert_string_equal(v[0].value, "# blacklisted IPs\n"
	    "Schema: \"yaml_cidr\"\nSchema_version: '2019120601'\nitems:\n"
	    "# block of 2023");
	assert_int_equal(v[1].verbatim, 0);
	assert_null(v[1].src);
	assert_int_equal(v[2].verbatim, HL_VERBATIM_LINE);
	assert_string_equal(v[2].value, "");
	assert_int_equal(v[3].verbatim, 0);
	assert_string_equal(v[3].src, "- ip: 198.51.100.2  # inline\n"
	    "  # inside the item\n  comment: second\n");
	assert_int_equal(v[4].verbatim, HL_VERBATIM_LINE);
	assert_string_equal(v[4].value, "# end");
	assert_int_equal(v[4].line, 11);
	round_trip("yaml comments", text, sizeof(text) - 1, HL_FMT_YAML_CIDR,
	    text, sizeof(text) - 1);

	/* Deleting an item takes its lines and nothing else. */
	hl_item_clear(&v[1]);
	memmove(&v[1], &v[2], 3 * sizeof(*v));
	out = render_ok(HL_FMT_YAML_CIDR, v, n - 1, &len);
	assert_string_equal(out, "# blacklisted IPs\n"
	    "Schema: \"yaml_cidr\"\nSchema_version: '2019120601'\nitems:\n"
	    "# block of 2023\n\n- ip: 198.51.100.2  # inline\n"
	    "  # inside the item\n  comment: second\n# end\n");
	free(out);
	hl_items_free(v, n - 1);
}

static void
a_kept_header_says_items_are_there_or_not(void **state)
{
	static const char text[] =
	    "# watched ASNs\n"
	    "Schema: yaml_asn\n"
	    "Schema_version: '2019120601'\n"
	    "items: []\n";
	struct hl_item *v, *w;
	size_t n, len;
	char *out;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_ASN, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].verbatim, HL_VERBATIM_HEAD);
	round_trip("kept header", text, sizeof(text) - 1, HL_FMT_YAML_ASN,
	    text, sizeof(text) - 1);
	assert_non_null(w = realloc(v, 2 * sizeof(*v)));
	v = w;
	memset(&v[1], 0, sizeof(v[1]));
	assert_non_null(v[1].value = strdup("3223"));
	out = render_ok(HL_FMT_YAML_ASN, v, 2, &len);
	assert_string_equal(out, "# watched ASNs\nSchema: yaml_asn\n"
	    "Schema_version: '2019120601'\nitems:\n- asn: '3223'\n");
	free(out);
	hl_items_free(v, 2);
}

/* Removes v[i] from v[0..*n), freeing it. */
static void
drop_item(struct hl_item *v, size_t *n, size_t i)
{
	hl_item_clear(&v[i]);
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
}

static void
lines_after_a_kept_items_key_are_kept(void **state)
{
	/* A blank line, then a comment, between "items:" and the first. */
	static const char text[] =
	    "Schema: yaml_cidr\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "\n"
	    "# mail relays\n"
	    "- ip: 1.2.3.4\n";
	static const char none[] =
	    "Schema: yaml_cidr\n"
	    "Schema_version: '2019120601'\n"
	    "items: []\n"
	    "\n"
	    "# mail relays\n";
	struct hl_item *v, *w;
	size_t n, len, i;
	char *out;

	(void)state;
	round_trip("blank line after items:", text, sizeof(text) - 1,
	    HL_FMT_YAML_CIDR, text, sizeof(text) - 1);
	/* The last item deleted: "items: []" and the lines after it. */
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_CIDR, &n);
	for (i = 0; i < n && v[i].verbatim; i++)
		;
	assert_true(i < n);
	drop_item(v, &n, i);
	out = render_ok(HL_FMT_YAML_CIDR, v, n, &len);
	assert_string_equal(out, none);
	/* ... which is read as an empty list, and takes one again. */
	hl_items_free(v, n);
	v = parse_ok(out, len, HL_FMT_YAML_CIDR, &n);
	free(out);
	assert_non_null(w = realloc(v, (n + 1) * sizeof(*v)));
	v = w;
	memset(&v[n], 0, sizeof(v[n]));
	assert_non_null(v[n].value = strdup("1.2.3.4"));
	out = render_ok(HL_FMT_YAML_CIDR, v, n + 1, &len);
	assert_string_equal(out, text);
	free(out);
	hl_items_free(v, n + 1);
}

static void
a_dash_on_a_line_of_its_own_is_kept(void **state)
{
	static const char text[] =
	    "Schema: yaml_ns\n"
	    "Schema_version: '2019120601'\n"
	    "items:\n"
	    "-\n"
	    "  ns: a.example.com.\n"
	    "- # hand-written\n"
	    "\n"
	    "  ns: b.example.com.\n"
	    "  pass: true\n"
	    "- ns: c.example.com.\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_YAML_NS, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].src, "-\n  ns: a.example.com.\n");
	assert_string_equal(v[1].value, "b.example.com.");
	assert_true(v[1].pass);
	assert_null(v[2].src);
	hl_items_free(v, n);
	round_trip("dash alone", text, sizeof(text) - 1, HL_FMT_YAML_NS,
	    text, sizeof(text) - 1);
}

static void
white_space_python_strips_is_stripped(void **state)
{
	/* A no-break space, an em space, U+3000, U+0085 and a \x1f. */
	static const char plain[] =
	    "foo\xc2\xa0\n"
	    "bar\xe2\x80\x83 \xe3\x80\x80\n"
	    "baz\xc2\x85\x1f\n"
	    "\xc2\xa0\n";
	static const char tsv[] = "1\tu\tqux\xe2\x80\x83\n";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(plain, sizeof(plain) - 1, HL_FMT_PLAIN, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].value, "foo");
	assert_string_equal(v[0].src, "foo\xc2\xa0\n");
	assert_string_equal(v[1].value, "bar");
	assert_string_equal(v[2].value, "baz");
	assert_int_equal(v[3].verbatim, HL_VERBATIM_LINE);
	hl_items_free(v, n);
	v = parse_ok(tsv, sizeof(tsv) - 1, HL_FMT_TSV, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].value, "qux");
	hl_items_free(v, n);
	/*
	 * TSVDictParser's ^\s*(?:#|$) is the regex module's: its \s is not
	 * str.isspace(), and leaves out U+001C..U+001F.  Such a line is not
	 * skipped as a comment; it is logged and dropped (not three fields).
	 */
	v = parse_ok("\x1c# note\n\x1f\n \t# note\n", 19, HL_FMT_TSV, &n);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].verbatim, HL_VERBATIM_SKIPPED);
	assert_int_equal(v[1].verbatim, HL_VERBATIM_SKIPPED);
	assert_int_equal(v[2].verbatim, HL_VERBATIM_LINE);
	hl_items_free(v, n);
	/* BasicListParser's rstrip() does take them: a blank line. */
	v = parse_ok("\x1c\x1f\n", 3, HL_FMT_PLAIN, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].verbatim, HL_VERBATIM_LINE);
	hl_items_free(v, n);
	round_trip("unicode spaces", plain, sizeof(plain) - 1, HL_FMT_PLAIN,
	    plain, sizeof(plain) - 1);
	round_trip("unicode spaces, tsv", tsv, sizeof(tsv) - 1, HL_FMT_TSV,
	    tsv, sizeof(tsv) - 1);
}

static void
files_that_cannot_come_back_as_they_are_are_refused(void **state)
{
	static const char tabs[] =
	    "Schema: yaml_ns\nSchema_version: '2019120601'\nitems:\n"
	    "- comment: \"caf\xc3\xa9\ta\"  # x\tb\n  ns: 'a\tb.'\n"
	    "- comment: >\n    a\tb\n  ns: !!str c.d.\n# \tend\n";

	(void)state;
	/* Python's universal newlines read a lone CR as a line break. */
	assert_rejected("a\nb\rc\n", HL_FMT_PLAIN, "list.txt:2: a carriage "
	    "return inside a line");
	assert_rejected("1\tu\ta\r2\tu\tb\n", HL_FMT_TSV, "list.txt:1: a "
	    "carriage return");
	assert_rejected("Schema: yaml_cidr\rSchema_version: '2019120601'\n"
	    "items: []\n", HL_FMT_YAML_CIDR, "list.txt:1: a carriage return");
	assert_rejected("Schema: yaml_cidr\nSchema_version: '2019120601'\n"
	    "items: [{ip: 1.2.3.4}]\n", HL_FMT_YAML_CIDR, "list.txt:3: an "
	    "item that does not stand on lines of its own");
	assert_rejected("Schema: yaml_cidr\nSchema_version: '2019120601'\n"
	    "items:\n- ip: 1.2.3.4\n- {ip: 1.2.3.5}\n- [{ip: 1.2.3.6}]\n",
	    HL_FMT_YAML_CIDR, "list.txt:6: an item must be a mapping");
	/*
	 * libyaml reads these; SmokeDetector's yaml.safe_load cannot: a tab
	 * outside quotes and comments, a tag it has no constructor for.
	 */
	assert_rejected("Schema: yaml_cidr\nSchema_version: '2019120601'\n"
	    "items:\n- ip: 1.2.3.4\t\n", HL_FMT_YAML_CIDR,
	    "list.txt:4: a tab outside quotes and comments");
	assert_rejected("Schema: yaml_ns\nSchema_version: '2019120601'\n"
	    "items:\n- comment: caf\xc3\xa9 \"x\" a\tb\n  ns: a.b.\n",
	    HL_FMT_YAML_NS, "list.txt:4: a tab outside quotes");
	assert_rejected("Schema: yaml_asn\nSchema_version: '2019120601'\n"
	    "items:\n- asn: '1'\n  comment: !64/714 over a year\n",
	    HL_FMT_YAML_ASN, "list.txt:5: the tag !64/714");
	/* Tabs in quotes, block scalars and comments are text; !!str is. */
	round_trip("tabs where PyYAML takes them", tabs, sizeof(tabs) - 1,
	    HL_FMT_YAML_NS, tabs, sizeof(tabs) - 1);
	/* CRLF, and a CR that ends the file, are read as SmokeDetector does. */
	round_trip("crlf", "a\r\nb\r\n", 6, HL_FMT_PLAIN, "a\r\nb\r\n", 6);
	round_trip("cr last", "a\nb\r", 4, HL_FMT_PLAIN, "a\nb\r", 4);
}

static void
tsv_lines_smokedetector_rejects_are_kept_and_marked(void **state)
{
	static const char text[] =
	    "1\tu\tfirst\n"
	    "2\tonly two\n"
	    "3\tu\t#hash\n"
	    "4\tu\ta\tb\n"
	    "5\tu\ttrailing \n"
	    "6\tu\tcut";
	struct hl_item *v;
	size_t n;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, HL_FMT_TSV, &n);
	assert_int_equal(n, 6);
	assert_int_equal(v[0].verbatim, 0);
	assert_int_equal(v[1].verbatim, HL_VERBATIM_SKIPPED);
	assert_int_equal(v[1].line, 2);
	assert_int_equal(v[2].verbatim, HL_VERBATIM_SKIPPED);
	assert_int_equal(v[3].verbatim, HL_VERBATIM_SKIPPED);
	/* TSVDictParser rstrips the line before it splits it. */
	assert_int_equal(v[4].verbatim, 0);
	assert_string_equal(v[4].value, "trailing");
	assert_string_equal(v[4].src, "5\tu\ttrailing \n");
	assert_string_equal(v[5].value, "cut");
	assert_string_equal(v[5].src, "6\tu\tcut");
	hl_items_free(v, n);
	round_trip("tsv skipped lines", text, sizeof(text) - 1, HL_FMT_TSV,
	    text, sizeof(text) - 1);
}

static void
a_line_cut_short_gets_its_newline_when_an_item_follows(void **state)
{
	struct hl_item *v, *w;
	size_t n, len;
	char *out;

	(void)state;
	v = parse_ok("a\nb", 3, HL_FMT_PLAIN, &n);
	assert_int_equal(n, 2);
	assert_non_null(w = realloc(v, (n + 1) * sizeof(*v)));
	v = w;
	memset(&v[n], 0, sizeof(v[n]));
	assert_non_null(v[n].value = strdup("c"));
	out = render_ok(HL_FMT_PLAIN, v, n + 1, &len);
	assert_string_equal(out, "a\nb\nc\n");
	free(out);
	hl_items_free(v, n + 1);
}

static void
items_pyyaml_would_write_keep_no_text(void **state)
{
	char *data;
	struct hl_item *v;
	size_t len, n, i;

	(void)state;
	data = read_sample("watched_nses.yml", &len);
	v = parse_ok(data, len, HL_FMT_YAML_NS, &n);
	for (i = 0; i + 1 < n; i++)
		if (v[i].src != NULL || v[i].verbatim)
			fail_msg("item %zu keeps its text", i);
	hl_items_free(v, n);
	free(data);
}

#define SAMPLE(i, name) \
	{ name, sample_round_trips, NULL, NULL, (void *)&samples[i] }
#define TEST(name, fn)	{ name, fn, NULL, NULL, NULL }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		SAMPLE(0, "bad_keywords.txt renders back byte for byte"),
		SAMPLE(1, "blacklisted_websites.txt renders back byte for "
		    "byte"),
		SAMPLE(2, "blacklisted_usernames.txt renders back byte for "
		    "byte"),
		SAMPLE(3, "blacklisted_numbers.txt renders back byte for "
		    "byte"),
		SAMPLE(4, "watched_keywords.txt renders back byte for byte"),
		SAMPLE(5, "watched_numbers.txt renders back byte for byte"),
		SAMPLE(6, "blacklisted_cidrs.yml renders back byte for byte"),
		SAMPLE(7, "blacklisted_nses.yml renders back byte for byte"),
		SAMPLE(8, "watched_asns.yml renders back byte for byte"),
		TEST("watched_nses.yml renders back byte for byte",
		    watched_nses_round_trips),
		TEST("comment lines and a '#' entry are kept as verbatim items",
		    plain_comment_lines_are_verbatim),
		TEST("blank and white-space lines are kept as verbatim items",
		    plain_blank_lines_are_verbatim),
		TEST("tsv user names with spaces and non-ASCII letters are "
		    "kept", tsv_user_names_are_kept),
		TEST("tsv lines SmokeDetector skips are kept verbatim",
		    tsv_skipped_lines_are_verbatim),
		TEST("yaml items carry their comment, disable and pass",
		    yaml_items_carry_comment_disable_pass),
		TEST("an empty disable and an empty comment round-trip",
		    yaml_empty_disable_round_trips),
		TEST("an empty yaml list is written as items: []",
		    empty_yaml_list_is_a_flow_sequence),
		TEST("ns written as one name or as a list is kept as written",
		    ns_as_name_or_list_is_kept),
		TEST("malformed files are rejected with file and line",
		    malformed_input_is_rejected_with_file_and_line),
		TEST("a last line without a newline comes back without one",
		    missing_final_newline_is_kept),
		TEST("items that cannot be written are refused and the "
		    "buffer is left as it was", unwritable_items_are_refused),
		TEST("a comment longer than 80 columns is folded as PyYAML "
		    "folds it", long_comment_is_folded_as_pyyaml_does),
		TEST("strings are quoted exactly when PyYAML quotes them",
		    scalars_are_quoted_as_pyyaml_quotes_them),
		TEST("long lists render quickly and parse back in every format",
		    long_lists_render_and_parse_back),
		TEST("a folded block scalar is kept as written and a new item "
		    "adds only its lines", a_folded_block_scalar_is_kept_as_written),
		TEST("a comment over 80 columns on one line and \"- ns: \" "
		    "with its space are kept",
		    a_long_comment_and_an_ns_with_a_trailing_space_are_kept),
		TEST("yaml comments, blank lines and a hand-written header are "
		    "kept; a delete takes only its lines",
		    yaml_comments_and_a_hand_written_header_are_kept),
		TEST("a kept header says \"items: []\" or \"items:\" as the "
		    "items are", a_kept_header_says_items_are_there_or_not),
		TEST("tsv lines SmokeDetector's parser rejects are kept and "
		    "marked", tsv_lines_smokedetector_rejects_are_kept_and_marked),
		TEST("a line cut short gets its newline once an item follows",
		    a_line_cut_short_gets_its_newline_when_an_item_follows),
		TEST("items PyYAML would write the same keep no text",
		    items_pyyaml_would_write_keep_no_text),
		TEST("blank and comment lines after a kept \"items:\" stay, "
		    "as the items come and go",
		    lines_after_a_kept_items_key_are_kept),
		TEST("a \"-\" on a line of its own above its keys is kept",
		    a_dash_on_a_line_of_its_own_is_kept),
		TEST("a pattern is read without the white space Python's "
		    "rstrip() takes, non-ASCII too",
		    white_space_python_strips_is_stripped),
		TEST("a file that could not be written back as it is (a lone "
		    "CR, flow style), or that PyYAML cannot load (a tab outside "
		    "quotes and comments, a tag), is refused with its line",
		    files_that_cannot_come_back_as_they_are_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
