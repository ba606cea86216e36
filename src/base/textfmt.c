/*
 * textfmt: SmokeDetector's list files, read into items and written back
 * byte for byte.  The generator renders published lists with it; the
 * importer parses SmokeDetector's files with it.
 *
 * plain (bad_keywords.txt, blacklisted_websites.txt, ...): one regex a
 * line, its value rstrip()ped as SmokeDetector reads it.  SmokeDetector
 * skips a line that is empty after rstrip() or whose first byte is '#';
 * such lines are kept as verbatim items:
 *
 *   # documentation: the (?!negative match) syntax ...   verbatim
 *   writing(?<!(?:code|script)\Wwriting) services?        value
 *
 * tsv (watched_keywords.txt, watched_numbers.txt): three fields separated
 * by tabs, the pattern last; a line of white space, or of white space then
 * '#', is skipped by SmokeDetector and kept as a verbatim item:
 *
 *   1494568775 TAB tripleee TAB essayssos\.com
 *   created_at     created_by   value
 *
 * yaml (blacklisted_cidrs.yml, *_nses.yml, watched_asns.yml): what
 * PyYAML's yaml.dump() writes for SmokeDetector's dict:
 *
 *   Schema: yaml_ns
 *   Schema_version: '2019120601'
 *   items:
 *   - comment: all FP 2022-11-03         comment
 *     disable: true                      disabled = HL_DISABLE_TRUE
 *     ns:                                ns_seq = 1
 *     - abby.ns.cloudflare.com.          value = "abby.ns.cloudflare.com.
 *     - ram.ns.cloudflare.com.                    ram.ns.cloudflare.com."
 *   - ns: namecheaphosting.com.          ns_seq = 0
 *     pass: true                         pass = 1
 *   - asn: '3223'                        (yaml_asn: value "3223")
 *
 * Parsing uses libyaml's parser.  Rendering writes what yaml.dump writes
 * (width 80, indent 2, allow_unicode off: non-ASCII text comes out as
 * "\xE9" escapes in double quotes): indentless sequences, PyYAML's choice
 * between plain, single- and double-quoted scalars, and its line folding.
 * It is a port of PyYAML's emitter rather than libyaml's, which folds long
 * double-quoted lines differently (see "yaml rendering" below).
 *
 * Keys come in the order yaml.dump(sort_keys=True) writes them (asn,
 * comment, disable, ip, ns, pass), unless the file had them in another
 * order (a hand edit) and the item records it (HL_ITEM_KEYS, item->keys:
 * "comment pass ns"; without it such an item comes back sorted).  "disable:"
 * with no value (a hand edit too: PyYAML writes None as "null") is kept
 * as HL_DISABLE_EMPTY.
 *
 * Nothing read is lost.  Each item keeps, in src, the exact text it was
 * read from whenever rendering it would not give that text back: a folded
 * block scalar ("comment: >" and indented lines), a comment longer than 80
 * columns on one line, "- ns: " with a trailing space, other quoting, a
 * tsv or plain line with trailing white space, a last line without '\n'.
 * An item with src is written back as src; one without (every item the
 * API made, and every item PyYAML would have written the same) is rendered
 * as described above.  So an untouched file renders to its own bytes, and
 * a change through the API rewrites only the lines of its item.
 *
 * In yaml files the lines between items (comments, blank lines) and after
 * the last one become verbatim items (HL_VERBATIM_LINE), one a line; a
 * header other than yaml.dump's (a comment before "Schema:", other
 * quoting) is one HL_VERBATIM_HEAD item, written instead of the usual
 * header ("items: []" and "items:" follow whether items remain).  An item
 * spans its lines from its "- " to the end of its last value, so a comment
 * inside an item, or after its value on the same line, is in its src (and
 * so is a "-" on a line of its own above its keys).  A file whose items do
 * not stand on lines of their own (flow style: "items: [{ip: ...}]") is
 * refused with HL_EINVAL, as is any file with a carriage return that is
 * not part of a "\r\n" (SmokeDetector, and YAML, read it as a line
 * break): neither could be written back as it is.  So every file that
 * parses renders to its own bytes; tests/fuzz/fuzz_textfmt.c checks it.
 * libyaml reads some files PyYAML (SmokeDetector's yaml.safe_load) cannot:
 * a tab between or inside plain values, a tag it has no constructor for.
 * Those are refused too (check_tabs, yp_tag_ok); t0232 compares.
 *
 * tsv lines that SmokeDetector's TSVDictParser logs and skips (not three
 * fields after rstrip) or skips silently (a pattern starting with '#') are
 * kept as HL_VERBATIM_SKIPPED items; the importer reports them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "textfmt.h"

/* yaml item keys, in sorted order. */
enum { K_ASN, K_COMMENT, K_DISABLE, K_IP, K_NS, K_PASS, K_N };
static const char *const key_names[K_N] = {
	"asn", "comment", "disable", "ip", "ns", "pass"
};

static const char *
schema_name(int fmt)
{
	switch (fmt) {
	case HL_FMT_YAML_CIDR:
		return "yaml_cidr";
	case HL_FMT_YAML_NS:
		return "yaml_ns";
	case HL_FMT_YAML_ASN:
		return "yaml_asn";
	}
	return NULL;
}

static int
value_key(int fmt)
{
	switch (fmt) {
	case HL_FMT_YAML_CIDR:
		return K_IP;
	case HL_FMT_YAML_NS:
		return K_NS;
	default:
		return K_ASN;
	}
}

/*
 * Python's str.isspace() for the code point starting at s (at most len
 * bytes); *adv is set to its length in bytes.  Used to find the lines
 * SmokeDetector skips, so the rare non-ASCII spaces count too.
 */
static int
py_space(const unsigned char *s, size_t len, size_t *adv)
{
	unsigned c;

	*adv = 1;
	if (s[0] < 0x80)
		return s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r') ||
		    (s[0] >= 0x1c && s[0] <= 0x1f);
	if (s[0] >= 0xc2 && s[0] <= 0xdf && len >= 2) {
		*adv = 2;
		c = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return c == 0x85 || c == 0xa0;
	}
	if (s[0] >= 0xe0 && s[0] <= 0xef && len >= 3) {
		*adv = 3;
		c = (unsigned)(s[0] & 0x0f) << 12 |
		    (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
		    c == 0x2028 || c == 0x2029 || c == 0x202f ||
		    c == 0x205f || c == 0x3000;
	}
	return 0;
}

/*
 * Skips white space from s; returns the offset of the first other.  With
 * re_s, the white space of \s in the regex module SmokeDetector matches
 * with (Unicode's White_Space: not U+001C..U+001F, which str.isspace()
 * counts), else str.isspace()'s.
 */
static size_t
skip_space(const char *s, size_t len, int re_s)
{
	size_t i, adv;

	for (i = 0; i < len; i += adv)
		if (!py_space((const unsigned char *)s + i, len - i, &adv) ||
		    (re_s && s[i] >= 0x1c && s[i] <= 0x1f))
			break;
	return i < len ? i : len;
}

/* plain: SmokeDetector's BasicListParser skips "" after rstrip, and '#'. */
static int
plain_skipped(const char *s, size_t len)
{
	return (len > 0 && s[0] == '#') || skip_space(s, len, 0) == len;
}

/* tsv: TSVDictParser skips lines matching ^\s*(?:#|$) (regex module). */
static int
tsv_skipped(const char *s, size_t len)
{
	size_t i;

	i = skip_space(s, len, 1);
	return i == len || s[i] == '#';
}

/* A canonical decimal integer (what "%lld" writes) into *v. */
static int
parse_int64(int64_t *v, const char *s, size_t len)
{
	uint64_t u = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || (s[i] == '0' && (len - i > 1 || neg)))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (u > (lim - (unsigned)(s[i] - '0')) / 10)
			return -1;
		u = u * 10 + (unsigned)(s[i] - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static char *
memdup0(const char *s, size_t len)
{
	char *p;

	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Python's str.rstrip(): the length of s[0..len) without the white space
 * py_space() knows at its end (a pattern copied with a no-break space
 * after it is read as SmokeDetector reads it; the line stays in src).
 */
static size_t
rstrip_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k, adv;

	while (len > 0) {
		/* The code point that ends at len: 1, 2 or 3 bytes. */
		for (k = 1; k <= 3 && k <= len; k++)
			if (py_space(u + len - k, k, &adv) && adv == k)
				break;
		if (k > 3 || k > len)
			break;
		len -= k;
	}
	return len;
}

/*
 * Keeps the exact text of a line (with its '\n' when it has one) in
 * it->src when rendering the item would not give it back: want is what
 * rendering gives, without the '\n'.
 */
static int
keep_src(struct hl_item *it, const char *line, size_t ll, int nl,
    const char *want, size_t wl)
{
	if (nl && wl == ll && memcmp(want, line, ll) == 0)
		return 0;
	return (it->src = memdup0(line, ll + (nl ? 1 : 0))) == NULL ?
	    HL_ENOMEM : 0;
}

/* One tsv line that is not a comment into it; 0, HL_EINVAL, HL_ENOMEM. */
static int
tsv_line(struct hl_item *it, const char *p, size_t ll, int nl,
    const char *filename, size_t lineno, struct hl_err *err)
{
	const char *t1, *t2, *e;
	char num[24], *want;
	size_t rl, wl;
	int rc;

	/* TSVDictParser: line.rstrip().split('\t') must give 3 fields. */
	rl = rstrip_len(p, ll);
	e = p + rl;
	t1 = memchr(p, '\t', rl);
	t2 = t1 ? memchr(t1 + 1, '\t', e - t1 - 1) : NULL;
	if (t2 == NULL || memchr(t2 + 1, '\t', e - t2 - 1) != NULL ||
	    t2 + 1 == e || t2[1] == '#') {
		it->verbatim = HL_VERBATIM_SKIPPED;
		if ((it->value = memdup0(p, ll)) == NULL)
			return HL_ENOMEM;
		return nl ? 0 : keep_src(it, p, ll, nl, "", 0);
	}
	if (parse_int64(&it->created_at, p, t1 - p) != 0)
		return hl_err_set(err, HL_EINVAL,
		    "%s:%zu: the timestamp \"%.*s\" is not a decimal "
		    "integer", filename, lineno,
		    (int)(t1 - p > 40 ? 40 : t1 - p), p);
	if ((it->created_by = memdup0(t1 + 1, t2 - t1 - 1)) == NULL ||
	    (it->value = memdup0(t2 + 1, e - t2 - 1)) == NULL)
		return HL_ENOMEM;
	snprintf(num, sizeof(num), "%lld", (long long)it->created_at);
	if (asprintf(&want, "%s\t%s\t%s", num, it->created_by,
	    it->value) < 0)
		return HL_ENOMEM;
	wl = strlen(want);
	rc = keep_src(it, p, ll, nl, want, wl);
	free(want);
	return rc;
}

/* The 1-based line of data that holds byte at. */
static size_t
line_of(const char *data, const char *at)
{
	const char *p;
	size_t line = 1;

	for (p = data; (p = memchr(p, '\n', at - p)) != NULL; p++)
		line++;
	return line;
}

/*
 * A carriage return that is neither followed by '\n' nor the file's last
 * byte ends a line for Python's universal newlines (SmokeDetector's text
 * files) and for YAML, but not for a line kept here: such a file is
 * refused, so that Helios and SmokeDetector never read the same bytes as
 * different lines.  HL_EINVAL.
 */
static int
check_cr(const char *data, size_t len, const char *filename,
    struct hl_err *err)
{
	const char *p, *end = data + len;

	for (p = data; (p = memchr(p, '\r', end - p)) != NULL; p++)
		if (p + 1 < end && p[1] != '\n')
			return hl_err_set(err, HL_EINVAL, "%s:%zu: a carriage "
			    "return inside a line, which SmokeDetector reads "
			    "as a line break: end lines with \\n or \\r\\n",
			    filename, line_of(data, p));
	return 0;
}

static int
parse_lines(struct hl_item **out, size_t *n, int tsv, const char *data,
    size_t len, const char *filename, struct hl_err *err)
{
	struct hl_item *items = NULL, *it;
	const char *p, *end, *nl, *zero;
	size_t nlines = 0, i = 0, vl;
	int rc = HL_ENOMEM;

	if (len == 0)
		return 0;
	if ((zero = memchr(data, '\0', len)) != NULL)
		return hl_err_set(err, HL_EINVAL, "%s:%zu: NUL byte",
		    filename, line_of(data, zero));
	if ((rc = check_cr(data, len, filename, err)) != 0)
		return rc;
	rc = HL_ENOMEM;
	for (p = data, end = data + len; (p = memchr(p, '\n', end - p)) != NULL;
	    p++)
		nlines++;
	if (data[len - 1] != '\n')
		nlines++;
	if ((items = calloc(nlines, sizeof(*items))) == NULL)
		goto fail;

	for (p = data; p < end; p = nl + 1, i++) {
		size_t ll;

		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		ll = nl - p;
		it = &items[i];
		it->pos = (int64_t)i;
		it->line = i + 1;
		if (tsv ? tsv_skipped(p, ll) : plain_skipped(p, ll)) {
			it->verbatim = HL_VERBATIM_LINE;
			if ((it->value = memdup0(p, ll)) == NULL ||
			    keep_src(it, p, ll, nl < end, p, ll) != 0)
				goto fail;
			continue;
		}
		if (!tsv) {
			/* BasicListParser: the line, rstripped. */
			vl = rstrip_len(p, ll);
			if ((it->value = memdup0(p, vl)) == NULL ||
			    keep_src(it, p, ll, nl < end, p, vl) != 0)
				goto fail;
			continue;
		}
		if ((rc = tsv_line(it, p, ll, nl < end, filename, i + 1,
		    err)) != 0)
			goto fail;
		rc = HL_ENOMEM;
	}
	*out = items;
	*n = nlines;
	return 0;
fail:
	if (rc == HL_ENOMEM)
		hl_err_set(err, HL_ENOMEM, "%s: out of memory", filename);
	hl_items_free(items, nlines);
	return rc;
}

/*
 * yaml parsing: a walk over libyaml's events.
 */

/* A scalar's text from (line, col) to before (eline, ecol), 0-based. */
struct yzone {
	size_t	line, col, eline, ecol;
};

struct yparse {
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 have;		/* ev holds an event to delete */
	const char	*filename;
	struct hl_err	*err;
	/* Where the last scalar read ends (0-based line and column). */
	size_t		 end_line;
	size_t		 end_col;
	/* Quoted and block scalars, where a tab is text (check_tabs). */
	struct yzone	*zones;
	size_t		 nzones;
	size_t		 capzones;
};

/* The lines of an item in the file, [first, last), 0-based. */
struct yspan {
	size_t	first;
	size_t	last;
};

/*
 * A tag other than the standard one of its node's kind (!!str, !!seq,
 * !!map) is one SmokeDetector's yaml.safe_load has no constructor for: it
 * could not read the file.  HL_EINVAL.
 */
static int
yp_tag_ok(struct yparse *y)
{
	const char *tag = NULL, *want = NULL;

	switch (y->ev.type) {
	case YAML_SCALAR_EVENT:
		tag = (const char *)y->ev.data.scalar.tag;
		want = YAML_STR_TAG;
		break;
	case YAML_SEQUENCE_START_EVENT:
		tag = (const char *)y->ev.data.sequence_start.tag;
		want = YAML_SEQ_TAG;
		break;
	case YAML_MAPPING_START_EVENT:
		tag = (const char *)y->ev.data.mapping_start.tag;
		want = YAML_MAP_TAG;
		break;
	default:
		break;
	}
	if (tag == NULL || strcmp(tag, want) == 0)
		return 0;
	return hl_err_set(y->err, HL_EINVAL, "%s:%zu: the tag %.40s, which "
	    "SmokeDetector's yaml.safe_load cannot read", y->filename,
	    y->ev.start_mark.line + 1, tag);
}

static int
yp_next(struct yparse *y)
{
	const char *what;
	int rc;

	if (y->have) {
		yaml_event_delete(&y->ev);
		y->have = 0;
	}
	if (!yaml_parser_parse(&y->p, &y->ev)) {
		if (y->p.error == YAML_MEMORY_ERROR)
			return hl_err_set(y->err, HL_ENOMEM,
			    "%s: out of memory", y->filename);
		what = y->p.problem ? y->p.problem : "malformed yaml";
		if (y->p.context)
			return hl_err_set(y->err, HL_EINVAL, "%s:%zu: %s %s",
			    y->filename, y->p.problem_mark.line + 1,
			    what, y->p.context);
		return hl_err_set(y->err, HL_EINVAL, "%s:%zu: %s",
		    y->filename, y->p.problem_mark.line + 1, what);
	}
	y->have = 1;
	if ((rc = yp_tag_ok(y)) != 0)
		return rc;
	if (y->ev.type == YAML_SCALAR_EVENT &&
	    y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		if (y->nzones == y->capzones) {
			struct yzone *z;

			y->capzones = y->capzones ? 2 * y->capzones : 64;
			if ((z = realloc(y->zones, y->capzones *
			    sizeof(*z))) == NULL)
				return hl_err_set(y->err, HL_ENOMEM,
				    "%s: out of memory", y->filename);
			y->zones = z;
		}
		y->zones[y->nzones++] = (struct yzone){
		    y->ev.start_mark.line, y->ev.start_mark.column,
		    y->ev.end_mark.line, y->ev.end_mark.column };
	}
	if (y->ev.type == YAML_SCALAR_EVENT &&
	    (y->ev.end_mark.line > y->end_line ||
	    (y->ev.end_mark.line == y->end_line &&
	    y->ev.end_mark.column > y->end_col))) {
		y->end_line = y->ev.end_mark.line;
		y->end_col = y->ev.end_mark.column;
	}
	if (y->ev.type == YAML_ALIAS_EVENT)
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: aliases are not supported", y->filename,
		    y->ev.start_mark.line + 1);
	return 0;
}

static size_t
yp_line(const struct yparse *y)
{
	return y->ev.start_mark.line + 1;
}

static const char *
yp_str(const struct yparse *y)
{
	return (const char *)y->ev.data.scalar.value;
}

/* The current event is a plain scalar equal to one of the words in v. */
static int
yp_plain_in(const struct yparse *y, const char *const *v)
{
	if (y->ev.type != YAML_SCALAR_EVENT ||
	    y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    y->ev.data.scalar.tag != NULL)
		return 0;
	for (; *v != NULL; v++)
		if (strcmp(yp_str(y), *v) == 0)
			return 1;
	return 0;
}

/* PyYAML's booleans and nulls, as yaml/resolver.py resolves them. */
static const char *const yes_words[] = {
	"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL
};
static const char *const no_words[] = {
	"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL
};
static const char *const null_words[] = {
	"", "~", "null", "Null", "NULL", NULL
};

static int
yp_expect_scalar(struct yparse *y, const char *key)
{
	int rc;

	if ((rc = yp_next(y)) != 0)
		return rc;
	if (y->ev.type != YAML_SCALAR_EVENT)
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: %s must be a single value", y->filename,
		    yp_line(y), key);
	return 0;
}

/* ns: a name, or a sequence of names joined by ' ' into it->value. */
static int
yp_ns(struct yparse *y, struct hl_item *it)
{
	struct hl_buf b = HL_BUF_INIT;
	size_t line;
	int rc;

	if ((rc = yp_next(y)) != 0)
		return rc;
	if (y->ev.type == YAML_SCALAR_EVENT) {
		if (yp_str(y)[0] == '\0')
			return hl_err_set(y->err, HL_EINVAL,
			    "%s:%zu: ns is empty", y->filename, yp_line(y));
		if ((it->value = strdup(yp_str(y))) == NULL)
			return HL_ENOMEM;
		return 0;
	}
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: ns must be a name or a sequence of names",
		    y->filename, yp_line(y));
	line = yp_line(y);
	it->ns_seq = 1;
	for (;;) {
		if ((rc = yp_next(y)) != 0)
			goto out;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (y->ev.type != YAML_SCALAR_EVENT || yp_str(y)[0] == '\0' ||
		    strchr(yp_str(y), ' ') != NULL) {
			rc = hl_err_set(y->err, HL_EINVAL,
			    "%s:%zu: an ns name must be one word",
			    y->filename, yp_line(y));
			goto out;
		}
		if ((b.len > 0 && hl_buf_putc(&b, ' ') != 0) ||
		    hl_buf_puts(&b, yp_str(y)) != 0) {
			rc = HL_ENOMEM;
			goto out;
		}
	}
	if (b.len == 0) {
		rc = hl_err_set(y->err, HL_EINVAL, "%s:%zu: ns has no names",
		    y->filename, line);
		goto out;
	}
	it->value = hl_buf_detach(&b, NULL);
	rc = 0;
out:
	hl_buf_free(&b);
	return rc;
}

#ifdef HL_ITEM_KEYS
/* Records the key order when it is not the sorted one. */
static int
yp_keep_order(struct hl_item *it, const int *order, int norder)
{
	char buf[64];
	size_t len = 0;
	int i, sorted = 1;

	for (i = 1; i < norder; i++)
		if (order[i] < order[i - 1])
			sorted = 0;
	if (sorted)
		return 0;
	for (i = 0; i < norder; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i ? " " : "", key_names[order[i]]);
	return (it->keys = strdup(buf)) == NULL ? HL_ENOMEM : 0;
}
#endif

/* One item: the current event is its first. */
static int
yp_item(struct yparse *y, struct hl_item *it, int fmt)
{
	int seen[K_N] = { 0 }, order[K_N], norder = 0, vk, k, rc;
	size_t line;

	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: an item must be a mapping", y->filename,
		    yp_line(y));
	line = yp_line(y);
	vk = value_key(fmt);
	for (;;) {
		if ((rc = yp_next(y)) != 0)
			return rc;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		for (k = 0; k < K_N; k++)
			if (y->ev.type == YAML_SCALAR_EVENT &&
			    strcmp(yp_str(y), key_names[k]) == 0)
				break;
		if (k == K_N || ((k == K_ASN || k == K_IP || k == K_NS) &&
		    k != vk))
			return hl_err_set(y->err, HL_EINVAL,
			    "%s:%zu: unknown key \"%s\" in a %s item",
			    y->filename, yp_line(y),
			    y->ev.type == YAML_SCALAR_EVENT ? yp_str(y) : "?",
			    schema_name(fmt));
		if (seen[k])
			return hl_err_set(y->err, HL_EINVAL,
			    "%s:%zu: duplicate key \"%s\"", y->filename,
			    yp_line(y), key_names[k]);
		seen[k] = 1;
		order[norder++] = k;
		if (k == K_NS) {
			if ((rc = yp_ns(y, it)) != 0)
				return rc;
			continue;
		}
		if ((rc = yp_expect_scalar(y, key_names[k])) != 0)
			return rc;
		switch (k) {
		case K_ASN:
		case K_IP:
			if (yp_str(y)[0] == '\0')
				return hl_err_set(y->err, HL_EINVAL,
				    "%s:%zu: %s is empty", y->filename,
				    yp_line(y), key_names[k]);
			if ((it->value = strdup(yp_str(y))) == NULL)
				return HL_ENOMEM;
			break;
		case K_COMMENT:
			if (yp_plain_in(y, null_words))
				break;
			if ((it->comment = strdup(yp_str(y))) == NULL)
				return HL_ENOMEM;
			break;
		case K_DISABLE:
		case K_PASS:
			if (yp_plain_in(y, yes_words) && k == K_PASS)
				it->pass = 1;
			else if (yp_plain_in(y, yes_words))
				it->disabled = HL_DISABLE_TRUE;
			else if (k == K_DISABLE && yp_plain_in(y, null_words))
				it->disabled = HL_DISABLE_EMPTY;
			else if (!yp_plain_in(y, no_words) &&
			    !yp_plain_in(y, null_words))
				return hl_err_set(y->err, HL_EINVAL,
				    "%s:%zu: %s must be true or empty",
				    y->filename, yp_line(y), key_names[k]);
			break;
		}
	}
	if (!seen[vk])
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: an item without %s", y->filename, line,
		    key_names[vk]);
#ifdef HL_ITEM_KEYS
	return yp_keep_order(it, order, norder);
#else
	(void)order;
	return 0;
#endif
}

/* items: the current event is its value.  spans[i] gets item i's lines. */
static int
yp_items(struct yparse *y, struct hl_item **items, size_t *n, int fmt,
    struct yspan **spans)
{
	struct hl_item *v;
	struct yspan *sp;
	size_t cap = 0;
	int rc;

	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return hl_err_set(y->err, HL_EINVAL,
		    "%s:%zu: items must be a sequence", y->filename,
		    yp_line(y));
	for (;;) {
		if ((rc = yp_next(y)) != 0)
			return rc;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((v = realloc(*items, cap * sizeof(*v))) == NULL)
				return HL_ENOMEM;
			*items = v;
			if ((sp = realloc(*spans, cap * sizeof(*sp))) == NULL)
				return HL_ENOMEM;
			*spans = sp;
		}
		v = &(*items)[*n];
		memset(v, 0, sizeof(*v));
		v->pos = (int64_t)*n;
		v->line = yp_line(y);
		sp = &(*spans)[*n];
		sp->first = y->ev.start_mark.line;
		y->end_line = y->ev.start_mark.line;
		y->end_col = y->ev.start_mark.column;
		(*n)++;
		if ((rc = yp_item(y, v, fmt)) != 0)
			return rc;
		/* A scalar ending at column 0 ends on the line before. */
		sp->last = y->end_col == 0 ? y->end_line : y->end_line + 1;
	}
}

/* Is (line, col) inside zone z? */
static int
in_zone(const struct yzone *z, size_t line, size_t col)
{
	if (line < z->line || (line == z->line && col < z->col))
		return 0;
	return line < z->eline || (line == z->eline && col < z->ecol);
}

/*
 * libyaml reads a tab between or inside plain values as white space;
 * PyYAML, which SmokeDetector loads its yaml files with, refuses the
 * file ("found character '\t' that cannot start any token").  A tab is
 * text only inside a quoted or block scalar (zones, in libyaml's lines
 * and columns of characters) or a comment.  HL_EINVAL naming the line
 * of the first other one.
 */
static int
check_tabs(const char *data, size_t len, const struct yzone *zones,
    size_t nz, const char *filename, struct hl_err *err)
{
	const char *ls = data, *end = data + len, *p, *q, *le;
	size_t line = 0, col, z = 0;
	int comment, in;

	while ((p = memchr(ls, '\t', (size_t)(end - ls))) != NULL) {
		/* The line of p; each line with a tab is walked once. */
		for (q = ls; (q = memchr(q, '\n', (size_t)(p - q))) != NULL;
		    ls = ++q)
			line++;
		if ((le = memchr(p, '\n', (size_t)(end - p))) == NULL)
			le = end;
		comment = 0;
		for (q = ls, col = 0; q < le; q++) {
			if (((unsigned char)*q & 0xc0) == 0x80)
				continue;	/* inside a character */
			/* Zones are in order: skip those that end before. */
			while (z < nz && (zones[z].eline < line ||
			    (zones[z].eline == line && zones[z].ecol <= col)))
				z++;
			in = z < nz && in_zone(&zones[z], line, col);
			if (!in && *q == '#' && (q == ls || q[-1] == ' ' ||
			    q[-1] == '\t'))
				comment = 1;
			if (*q == '\t' && !in && !comment)
				return hl_err_set(err, HL_EINVAL, "%s:%zu: a tab "
				    "outside quotes and comments, which "
				    "SmokeDetector's yaml.safe_load refuses",
				    filename, line + 1);
			col++;
		}
		if (le == end)
			break;
		ls = le + 1;
		line++;
	}
	return 0;
}

static int yaml_keep_text(struct hl_item **, size_t *, int, struct hl_item *,
    size_t, struct yspan *, size_t, const char *, size_t, const char *,
    struct hl_err *);

static int
parse_yaml(struct hl_item **out, size_t *n, int fmt, const char *data,
    size_t len, const char *filename, struct hl_err *err)
{
	struct yparse y;
	struct hl_item *items = NULL;
	struct yspan *spans = NULL;
	size_t nitems = 0;
	size_t line, items_line = 0;
	int seen[3] = { 0 }, rc, i;
	const char *const top[3] = { "Schema", "Schema_version", "items" };

	if ((rc = check_cr(data, len, filename, err)) != 0)
		return rc;
	memset(&y, 0, sizeof(y));
	y.filename = filename;
	y.err = err;
	if (!yaml_parser_initialize(&y.p))
		return hl_err_set(err, HL_ENOMEM, "%s: out of memory",
		    filename);
	yaml_parser_set_input_string(&y.p, (const unsigned char *)data, len);

	if ((rc = yp_next(&y)) != 0 || (rc = yp_next(&y)) != 0)
		goto out;
	if (y.ev.type != YAML_DOCUMENT_START_EVENT ||
	    (rc = yp_next(&y)) != 0 ||
	    y.ev.type != YAML_MAPPING_START_EVENT) {
		if (rc == 0)
			rc = hl_err_set(err, HL_EINVAL, "%s:%zu: not a mapping "
			    "of Schema, Schema_version and items", filename,
			    yp_line(&y));
		goto out;
	}
	line = yp_line(&y);
	for (;;) {
		if ((rc = yp_next(&y)) != 0)
			goto out;
		if (y.ev.type == YAML_MAPPING_END_EVENT)
			break;
		for (i = 0; i < 3; i++)
			if (y.ev.type == YAML_SCALAR_EVENT &&
			    strcmp(yp_str(&y), top[i]) == 0)
				break;
		if (i == 3 || seen[i]) {
			rc = hl_err_set(err, HL_EINVAL, "%s:%zu: %s key \"%s\"",
			    filename, yp_line(&y), i == 3 ? "unknown" :
			    "duplicate", y.ev.type == YAML_SCALAR_EVENT ?
			    yp_str(&y) : "?");
			goto out;
		}
		seen[i] = 1;
		if (i == 2) {
			items_line = y.ev.start_mark.line;
			if ((rc = yp_next(&y)) != 0 ||
			    (rc = yp_items(&y, &items, &nitems, fmt,
			    &spans)) != 0)
				goto out;
			continue;
		}
		if ((rc = yp_expect_scalar(&y, top[i])) != 0)
			goto out;
		if (i == 0 && strcmp(yp_str(&y), schema_name(fmt)) != 0) {
			rc = hl_err_set(err, HL_EINVAL,
			    "%s:%zu: Schema is \"%s\", expected \"%s\"",
			    filename, yp_line(&y), yp_str(&y),
			    schema_name(fmt));
			goto out;
		}
		if (i == 1 &&
		    strcmp(yp_str(&y), HL_TEXTFMT_SCHEMA_VERSION) != 0) {
			rc = hl_err_set(err, HL_EINVAL,
			    "%s:%zu: Schema_version is \"%s\", expected \"%s\"",
			    filename, yp_line(&y), yp_str(&y),
			    HL_TEXTFMT_SCHEMA_VERSION);
			goto out;
		}
	}
	for (i = 0; i < 3; i++)
		if (!seen[i]) {
			rc = hl_err_set(err, HL_EINVAL, "%s:%zu: no %s",
			    filename, line, top[i]);
			goto out;
		}
	if ((rc = yp_next(&y)) != 0 || (rc = yp_next(&y)) != 0)
		goto out;
	if (y.ev.type != YAML_STREAM_END_EVENT) {
		rc = hl_err_set(err, HL_EINVAL,
		    "%s:%zu: more than one document", filename, yp_line(&y));
		goto out;
	}
	if ((rc = check_tabs(data, len, y.zones, y.nzones, filename,
	    err)) != 0)
		goto out;
	rc = yaml_keep_text(out, n, fmt, items, nitems, spans, items_line,
	    data, len, filename, err);
	items = NULL;
	nitems = 0;
out:
	free(spans);
	free(y.zones);
	if (rc == HL_ENOMEM)
		hl_err_set(err, HL_ENOMEM, "%s: out of memory", filename);
	if (y.have)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.p);
	hl_items_free(items, nitems);
	return rc;
}

int
hl_textfmt_parse(struct hl_item **out, size_t *n, int fmt, const char *data,
    size_t len, const char *filename, struct hl_err *err)
{
	int rc;

	*out = NULL;
	*n = 0;
	if (filename == NULL)
		filename = "(input)";
	switch (fmt) {
	case HL_FMT_PLAIN:
	case HL_FMT_TSV:
		rc = parse_lines(out, n, fmt == HL_FMT_TSV, data, len,
		    filename, err);
		break;
	case HL_FMT_YAML_CIDR:
	case HL_FMT_YAML_NS:
	case HL_FMT_YAML_ASN:
		rc = parse_yaml(out, n, fmt, data, len, filename, err);
		break;
	default:
		return hl_err_set(err, HL_EINVAL, "unknown format %d", fmt);
	}
	if (rc != 0) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/*
 * plain and tsv rendering: one pass to check every item and add up the
 * bytes, one allocation, one pass of memcpy.
 */
static char *
put_int64(char *p, int64_t v)
{
	char tmp[24];
	uint64_t u;
	size_t i = sizeof(tmp);

	u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--i] = '-';
	memcpy(p, tmp + i, sizeof(tmp) - i);
	return p + (sizeof(tmp) - i);
}

static int
render_lines(struct hl_buf *out, int tsv, const struct hl_item *items,
    size_t n, struct hl_err *err)
{
	const struct hl_item *it;
	size_t i, total = 0, vl, bl;
	char *p, num[24];
	const char *by;

	for (i = 0; i < n; i++) {
		it = &items[i];
		if (it->value == NULL)
			return hl_err_set(err, HL_EINVAL,
			    "item %zu has no value", i);
		if (it->src != NULL) {
			total += strlen(it->src) + 1;
			continue;
		}
		vl = strcspn(it->value, tsv && !it->verbatim ? "\n\t" : "\n");
		if (it->value[vl] != '\0')
			return hl_err_set(err, HL_EINVAL, "item %zu: a %s in "
			    "\"%.40s\"", i, it->value[vl] == '\n' ?
			    "line break" : "tab", it->value);
		total += vl + 1;
		if (!tsv || it->verbatim)
			continue;
		by = it->created_by ? it->created_by : "";
		bl = strcspn(by, "\n\t");
		if (by[bl] != '\0')
			return hl_err_set(err, HL_EINVAL,
			    "item %zu: a tab or line break in the user name",
			    i);
		total += bl + 2 + (size_t)(put_int64(num, it->created_at) -
		    num);
	}
	if (hl_buf_grow(out, total) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	p = out->data + out->len;
	for (i = 0; i < n; i++) {
		it = &items[i];
		if (it->src != NULL) {
			/* The text read, as read; a line cut short at the
			   end of a file gets its '\n' once it is not last. */
			vl = strlen(it->src);
			memcpy(p, it->src, vl);
			p += vl;
			if ((vl == 0 || it->src[vl - 1] != '\n') && i + 1 < n)
				*p++ = '\n';
			continue;
		}
		if (tsv && !it->verbatim) {
			p = put_int64(p, it->created_at);
			*p++ = '\t';
			if (it->created_by != NULL) {
				bl = strlen(it->created_by);
				memcpy(p, it->created_by, bl);
				p += bl;
			}
			*p++ = '\t';
		}
		vl = strlen(it->value);
		memcpy(p, it->value, vl);
		p += vl;
		*p++ = '\n';
	}
	*p = '\0';
	out->len = p - out->data;
	return 0;
}

/*
 * yaml rendering: a port of the parts of PyYAML's Emitter (yaml/emitter.py)
 * that SmokeDetector's files use, not libyaml's emitter.  libyaml's is
 * close but folds double-quoted scalars differently: PyYAML may break a
 * long double-quoted line after any escape ("\xE9\" newline), libyaml
 * only at a space, so a long comment with non-ASCII text would differ.
 * The structure is fixed (a block mapping of three keys, an indentless
 * block sequence of block mappings, ns as an indentless sequence), so it
 * is written directly; scalars go through analyze(), choose the style as
 * Emitter.choose_scalar_style does and are written by write_plain(),
 * write_single() and write_double(), each following its PyYAML original
 * line for line.  Column counts are in characters; with allow_unicode off
 * every character written is ASCII, so they are bytes too.
 *
 * PyYAML's representer quotes a string whose plain form would load as
 * something else ('3223', 'true', '', '2019-01-01'): is_plain_str() runs
 * the implicit resolvers of yaml/resolver.py (YAML 1.1: bool, float, int,
 * merge, null, timestamp, value and the "yaml" documentation resolver) as
 * one pattern.  PyYAML tries a resolver only if the value's first
 * character is in its list; with the lists joined, FIRST_CHARS, the one
 * pattern decides the same (every alternative can only start with its own
 * resolver's characters, except "" which stands for the empty value
 * alone: a "\n" starts with none of them).
 */
#define FIRST_CHARS	"yYnNtTfFoO-+0123456789.<~=!&*"
static const char resolve_pattern[] =
	"^(?:yes|Yes|YES|no|No|NO"
	"|true|True|TRUE|false|False|FALSE"
	"|on|On|ON|off|Off|OFF"
	"|[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
	"|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
	"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
	"|[-+]?\\.(?:inf|Inf|INF)"
	"|\\.(?:nan|NaN|NAN)"
	"|[-+]?0b[0-1_]+"
	"|[-+]?0[0-7_]+"
	"|[-+]?(?:0|[1-9][0-9_]*)"
	"|[-+]?0x[0-9a-fA-F_]+"
	"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
	"|<<"
	"|~|null|Null|NULL|"
	"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
	"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
	"(?:[Tt]|[ \\t]+)[0-9][0-9]?"
	":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
	"(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"
	"|="
	"|!|&|\\*"
	")$";

#define BEST_WIDTH	80	/* PyYAML's default width */

struct yw {
	struct hl_buf		*out;
	int			 rc;		/* the first error */
	int			 column;
	int			 indent;	/* of the scalar written */
	int			 whitespace;
	int			 indention;
	uint32_t		*text;		/* the scalar, decoded */
	size_t			 len;
	size_t			 cap;
	pcre2_code		*re;
	pcre2_match_data	*md;
};

static void
yw_put(struct yw *w, const char *s, size_t n)
{
	if (w->rc == 0 && hl_buf_put(w->out, s, n) != 0)
		w->rc = HL_ENOMEM;
	w->column += (int)n;
}

/* text[start..end), all printable ASCII by then. */
static void
yw_run(struct yw *w, size_t start, size_t end)
{
	char tmp[256];
	size_t i, k = 0;

	for (i = start; i < end; i++) {
		tmp[k++] = (char)w->text[i];
		if (k == sizeof(tmp)) {
			yw_put(w, tmp, k);
			k = 0;
		}
	}
	yw_put(w, tmp, k);
}

static void
yw_indicator(struct yw *w, const char *ind, int need_ws, int ws, int indention)
{
	if (!w->whitespace && need_ws)
		yw_put(w, " ", 1);
	yw_put(w, ind, strlen(ind));
	w->whitespace = ws;
	w->indention = w->indention && indention;
}

static void
yw_line_break(struct yw *w)
{
	yw_put(w, "\n", 1);
	w->whitespace = 1;
	w->indention = 1;
	w->column = 0;
}

static void
yw_indent(struct yw *w)
{
	static const char spaces[] = "        ";

	if (!w->indention || w->column > w->indent ||
	    (w->column == w->indent && !w->whitespace))
		yw_line_break(w);
	if (w->column < w->indent) {
		w->whitespace = 1;
		while (w->column < w->indent)
			yw_put(w, spaces, (size_t)(w->indent - w->column) <
			    sizeof(spaces) - 1 ? (size_t)(w->indent -
			    w->column) : sizeof(spaces) - 1);
	}
}

/* Decodes s[0..len) into w->text; HL_EINVAL if it is not UTF-8. */
static int
yw_decode(struct yw *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0, k, need;
	uint32_t c, min;
	uint32_t *t;

	if (len + 1 > w->cap) {
		if ((t = realloc(w->text, (len + 1) * sizeof(*t))) == NULL)
			return HL_ENOMEM;
		w->text = t;
		w->cap = len + 1;
	}
	while (i < len) {
		c = p[i];
		if (c < 0x80) {
			w->text[n++] = c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return HL_EINVAL;
		if (len - i <= need)
			return HL_EINVAL;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return HL_EINVAL;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return HL_EINVAL;
		w->text[n++] = c;
		i += need + 1;
	}
	w->len = n;
	return 0;
}

static int
is_break(uint32_t c)
{
	return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static int
is_ws(uint32_t c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

/*
 * Emitter.analyze_scalar with allow_unicode off, reduced to what a block
 * mapping value or block sequence entry needs: may the text be written
 * plain, may it be single-quoted.
 */
static void
yw_analyze(const struct yw *w, int *plain, int *single)
{
	const uint32_t *t = w->text;
	size_t n = w->len, i;
	int block_ind = 0, line_breaks = 0, special = 0;
	int lead_space = 0, lead_break = 0, trail_space = 0, trail_break = 0;
	int break_space = 0, space_break = 0, prev_space = 0, prev_break = 0;
	int preceded_ws = 1, followed_ws;
	uint32_t ch;

	*plain = *single = 1;
	if (n == 0)
		return;
	if (n >= 3 && ((t[0] == '-' && t[1] == '-' && t[2] == '-') ||
	    (t[0] == '.' && t[1] == '.' && t[2] == '.')))
		block_ind = 1;
	followed_ws = n == 1 || is_ws(t[1]);
	for (i = 0; i < n; i++) {
		ch = t[i];
		if (i == 0) {
			if (ch < 0x80 && strchr("#,[]{}&*!|>'\"%@`", (int)ch))
				block_ind = 1;
			if ((ch == '?' || ch == ':') && followed_ws)
				block_ind = 1;
			if (ch == '-' && followed_ws)
				block_ind = 1;
		} else {
			if (ch == ':' && followed_ws)
				block_ind = 1;
			if (ch == '#' && preceded_ws)
				block_ind = 1;
		}
		if (is_break(ch))
			line_breaks = 1;
		if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7e)))
			special = 1;
		if (ch == ' ') {
			if (i == 0)
				lead_space = 1;
			if (i == n - 1)
				trail_space = 1;
			if (prev_break)
				break_space = 1;
			prev_space = 1;
			prev_break = 0;
		} else if (is_break(ch)) {
			if (i == 0)
				lead_break = 1;
			if (i == n - 1)
				trail_break = 1;
			if (prev_space)
				space_break = 1;
			prev_space = 0;
			prev_break = 1;
		} else
			prev_space = prev_break = 0;
		preceded_ws = is_ws(ch);
		followed_ws = i + 2 >= n || is_ws(t[i + 2]);
	}
	if (lead_space || lead_break || trail_space || trail_break)
		*plain = 0;
	if (break_space || space_break || special)
		*plain = *single = 0;
	if (line_breaks || block_ind)
		*plain = 0;
}

/* Emitter.write_plain; the text has no line breaks (analyze says so). */
static void
yw_plain(struct yw *w)
{
	const uint32_t *t = w->text;
	size_t n = w->len, start = 0, end;
	int spaces = 0;
	uint32_t ch;

	if (n == 0)
		return;
	if (!w->whitespace)
		yw_put(w, " ", 1);
	w->whitespace = w->indention = 0;
	for (end = 0; end <= n; end++) {
		ch = end < n ? t[end] : 0;
		if (spaces) {
			if (end == n || ch != ' ') {
				if (start + 1 == end &&
				    w->column > BEST_WIDTH) {
					yw_indent(w);
					w->whitespace = w->indention = 0;
				} else
					yw_run(w, start, end);
				start = end;
			}
		} else if (end == n || ch == ' ') {
			yw_run(w, start, end);
			start = end;
		}
		if (end < n)
			spaces = ch == ' ';
	}
}

/* Emitter.write_single_quoted. */
static void
yw_single(struct yw *w)
{
	const uint32_t *t = w->text;
	size_t n = w->len, start = 0, end, k;
	int spaces = 0, breaks = 0;
	uint32_t ch;

	yw_indicator(w, "'", 1, 0, 0);
	for (end = 0; end <= n; end++) {
		ch = end < n ? t[end] : 0;
		if (spaces) {
			if (end == n || ch != ' ') {
				if (start + 1 == end &&
				    w->column > BEST_WIDTH && start != 0 &&
				    end != n)
					yw_indent(w);
				else
					yw_run(w, start, end);
				start = end;
			}
		} else if (breaks) {
			if (end == n || !is_break(ch)) {
				/* Only '\n' gets here: others are special. */
				if (t[start] == '\n')
					yw_line_break(w);
				for (k = start; k < end; k++)
					yw_line_break(w);
				yw_indent(w);
				start = end;
			}
		} else if (end == n || ch == ' ' || is_break(ch) ||
		    ch == '\'') {
			if (start < end) {
				yw_run(w, start, end);
				start = end;
			}
		}
		if (end < n && ch == '\'') {
			yw_put(w, "''", 2);
			start = end + 1;
		}
		if (end < n) {
			spaces = ch == ' ';
			breaks = is_break(ch);
		}
	}
	yw_indicator(w, "'", 0, 0, 0);
}

/* Emitter.write_double_quoted with allow_unicode off. */
static void
yw_double(struct yw *w)
{
	const uint32_t *t = w->text;
	size_t n = w->len, start = 0, end;
	uint32_t ch;
	char esc[16];
	const char *rep;

	yw_indicator(w, "\"", 1, 0, 0);
	for (end = 0; end <= n; end++) {
		ch = end < n ? t[end] : 0;
		if (end == n || ch == '"' || ch == '\\' || ch < 0x20 ||
		    ch > 0x7e) {
			if (start < end) {
				yw_run(w, start, end);
				start = end;
			}
			if (end < n) {
				rep = NULL;
				switch (ch) {
				case 0x00: rep = "0"; break;
				case 0x07: rep = "a"; break;
				case 0x08: rep = "b"; break;
				case 0x09: rep = "t"; break;
				case 0x0a: rep = "n"; break;
				case 0x0b: rep = "v"; break;
				case 0x0c: rep = "f"; break;
				case 0x0d: rep = "r"; break;
				case 0x1b: rep = "e"; break;
				case '"': rep = "\""; break;
				case '\\': rep = "\\"; break;
				case 0x85: rep = "N"; break;
				case 0xa0: rep = "_"; break;
				case 0x2028: rep = "L"; break;
				case 0x2029: rep = "P"; break;
				}
				if (rep != NULL)
					snprintf(esc, sizeof(esc), "\\%s", rep);
				else if (ch <= 0xff)
					snprintf(esc, sizeof(esc), "\\x%02X",
					    (unsigned)ch);
				else if (ch <= 0xffff)
					snprintf(esc, sizeof(esc), "\\u%04X",
					    (unsigned)ch);
				else
					snprintf(esc, sizeof(esc), "\\U%08X",
					    (unsigned)ch);
				yw_put(w, esc, strlen(esc));
				start = end + 1;
			}
		}
		if (end > 0 && end + 1 < n && (ch == ' ' || start >= end) &&
		    w->column + (int)(end - start) > BEST_WIDTH) {
			if (start < end) {
				yw_run(w, start, end);
				start = end;
			}
			yw_put(w, "\\", 1);
			yw_indent(w);
			w->whitespace = w->indention = 0;
			if (t[start] == ' ')
				yw_put(w, "\\", 1);
		}
	}
	yw_indicator(w, "\"", 0, 0, 0);
}

/* Would PyYAML write the string s[0..len) plain, given the choice? */
static int
is_plain_str(struct yw *w, const char *s, size_t len)
{
	if (len > 0 && strchr(FIRST_CHARS, s[0]) == NULL)
		return 1;
	return pcre2_match(w->re, (PCRE2_SPTR)s, len, 0, 0, w->md,
	    NULL) < 0;
}

/*
 * A scalar as a mapping value or sequence entry whose continuation lines
 * are indented by indent: a string (str 1), or "true" / "" standing for a
 * boolean or a null, which PyYAML writes plain.
 */
static void
yw_scalar(struct yw *w, const char *s, size_t len, int str, int indent)
{
	int plain, single, rc;

	if (w->rc != 0)
		return;
	if ((rc = yw_decode(w, s, len)) != 0) {
		w->rc = rc;
		return;
	}
	w->indent = indent;
	yw_analyze(w, &plain, &single);
	/* Emitter.choose_scalar_style, in block context, not a key. */
	if ((!str || is_plain_str(w, s, len)) && plain)
		yw_plain(w);
	else if (single)
		yw_single(w);
	else
		yw_double(w);
}

/* "key:" at the start of a line (after "- " for an item's first key). */
static void
yw_key(struct yw *w, const char *prefix, const char *key)
{
	yw_put(w, prefix, strlen(prefix));
	yw_put(w, key, strlen(key));
	yw_put(w, ":", 1);
	w->whitespace = w->indention = 0;
}

static void
yw_eol(struct yw *w)
{
	yw_line_break(w);
}

/* Is key k written for item it? */
static int
has_key(const struct hl_item *it, int k, int vk)
{
	switch (k) {
	case K_COMMENT:
		return it->comment != NULL;
	case K_DISABLE:
		return it->disabled != HL_DISABLE_NO;
	case K_PASS:
		return it->pass != 0;
	}
	return k == vk;
}

/* The order of item it's keys into order[]; returns how many. */
static int
key_order(int *order, const struct hl_item *it, int vk)
{
	int k, n = 0, done[K_N] = { 0 };

#ifdef HL_ITEM_KEYS
	const char *p;
	size_t l;

	for (p = it->keys; p != NULL && *p != '\0'; p += l) {
		p += strspn(p, " ");
		l = strcspn(p, " ");
		for (k = 0; k < K_N; k++)
			if (strlen(key_names[k]) == l &&
			    memcmp(p, key_names[k], l) == 0 && !done[k] &&
			    has_key(it, k, vk)) {
				order[n++] = k;
				done[k] = 1;
			}
	}
#endif
	for (k = 0; k < K_N; k++)
		if (!done[k] && has_key(it, k, vk))
			order[n++] = k;
	return n;
}

/* Checks that an item can be written; 0 or HL_EINVAL. */
static int
check_item(const struct hl_item *it, size_t i, int fmt, struct hl_err *err)
{
	const char *p;

	if (it->verbatim || it->src != NULL)
		return it->value == NULL ? hl_err_set(err, HL_EINVAL,
		    "item %zu has no value", i) : 0;
	if (it->value == NULL || it->value[0] == '\0')
		return hl_err_set(err, HL_EINVAL, "item %zu has no value", i);
	if (fmt == HL_FMT_YAML_NS && it->ns_seq)
		for (p = it->value; *p != '\0'; p++)
			if (*p == ' ' && (p == it->value || p[1] == ' ' ||
			    p[1] == '\0'))
				return hl_err_set(err, HL_EINVAL, "item %zu: "
				    "ns names must be separated by one space",
				    i);
	return 0;
}

/* One item: "- key: value" lines in block style. */
static void
yw_item(struct yw *w, const struct hl_item *it, int vk)
{
	int order[K_N], n, j, k;
	const char *p, *sp;

	n = key_order(order, it, vk);
	for (j = 0; j < n; j++) {
		k = order[j];
		yw_key(w, j == 0 ? "- " : "  ", key_names[k]);
		switch (k) {
		case K_COMMENT:
			yw_scalar(w, it->comment, strlen(it->comment), 1, 4);
			break;
		case K_DISABLE:
			if (it->disabled == HL_DISABLE_EMPTY)
				break;
			/* FALLTHROUGH */
		case K_PASS:
			yw_scalar(w, "true", 4, 0, 4);
			break;
		default:
			if (k != K_NS || !it->ns_seq) {
				yw_scalar(w, it->value, strlen(it->value), 1,
				    4);
				break;
			}
			for (p = it->value; ; p = sp + 1) {
				if ((sp = strchr(p, ' ')) == NULL)
					sp = p + strlen(p);
				yw_eol(w);
				yw_put(w, "  -", 3);
				w->whitespace = 0;
				yw_scalar(w, p, sp - p, 1, 4);
				if (*sp == '\0')
					break;
			}
		}
		yw_eol(w);
	}
}

/* Sets w up to append to out; HL_ENOMEM. */
static int
yw_init(struct yw *w, struct hl_buf *out)
{
	PCRE2_SIZE off;
	int errcode;

	memset(w, 0, sizeof(*w));
	w->out = out;
	w->whitespace = w->indention = 1;
	w->re = pcre2_compile((PCRE2_SPTR)resolve_pattern,
	    PCRE2_ZERO_TERMINATED, 0, &errcode, &off, NULL);
	if (w->re == NULL ||
	    (w->md = pcre2_match_data_create_from_pattern(w->re, NULL)) == NULL)
		w->rc = HL_ENOMEM;
	return w->rc;
}

static void
yw_fini(struct yw *w)
{
	free(w->text);
	pcre2_match_data_free(w->md);
	pcre2_code_free(w->re);
}

/* Text written as is; the next item starts at the start of a line. */
static void
yw_text(struct yw *w, const char *s, size_t len)
{
	yw_put(w, s, len);
	w->column = 0;
	w->whitespace = w->indention = 1;
}

/* The header yaml.dump writes: "Schema: ...\n...items:\n" (or "items: []"). */
static int
std_header(char *buf, size_t len, int fmt, int empty)
{
	int k;

	k = snprintf(buf, len, "Schema: %s\nSchema_version: '%s'\nitems:%s\n",
	    schema_name(fmt), HL_TEXTFMT_SCHEMA_VERSION, empty ? " []" : "");
	return k < 0 || (size_t)k >= len ? -1 : k;
}

/*
 * The end of the key "items" and its ':' at the start of line l (len
 * bytes to the end of t), written plain or quoted, with blanks before the
 * ':' ("items :", "'items':"); 0 when the line does not start so.
 */
static size_t
items_key(const char *l, size_t len)
{
	char quote = len > 0 && (l[0] == '\'' || l[0] == '"') ? l[0] : 0;
	size_t i = quote ? 1 : 0;

	if (len - i < 5 || memcmp(l + i, "items", 5) != 0)
		return 0;
	i += 5;
	if (quote && (i == len || l[i++] != quote))
		return 0;
	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < len && l[i] == ':' ? i + 1 : 0;
}

/*
 * Where the items key's value starts in a kept header t (just past the
 * ':' of its last line that starts with the key: comments and blank lines
 * may follow), and whether that value is the empty sequence "[]" (*flow,
 * with *q just past it).  -1 when no line starts with the key.
 */
static long
head_items(const char *t, size_t len, int *flow, size_t *q)
{
	size_t p, at = len, k;
	long key = -1;

	for (p = 0; p < len; p = at + 1) {
		if ((k = items_key(t + p, len - p)) > 0)
			key = (long)(p + k);
		at = p;
		while (at < len && t[at] != '\n')
			at++;
	}
	*flow = 0;
	if (key < 0)
		return -1;
	for (p = (size_t)key; p < len && (t[p] == ' ' || t[p] == '\t'); p++)
		;
	if (p + 1 < len && t[p] == '[' && t[p + 1] == ']') {
		*flow = 1;
		*q = p + 2;
	}
	return key;
}

/*
 * A header kept from a file, written with its items key fitting the
 * items: "items: []" when the file had none and now has some is written
 * "items:", and "items:" as "items: []" when none are left; the rest of
 * the header (a comment after the key, lines after it) as it was.
 */
static void
yw_head(struct yw *w, const struct hl_item *it, int empty)
{
	const char *t = it->src ? it->src : it->value;
	size_t len = strlen(t), q = 0;
	long key;
	int flow;

	key = head_items(t, len, &flow, &q);
	if (key >= 0 && !empty && flow) {
		yw_text(w, t, (size_t)key);
		yw_text(w, t + q, len - q);
	} else if (key >= 0 && empty && !flow) {
		yw_text(w, t, (size_t)key);
		yw_text(w, " []", 3);
		yw_text(w, t + key, len - (size_t)key);
	} else
		yw_text(w, t, len);
	/* The value lost its last '\n' when it was read. */
	if (it->src == NULL)
		yw_text(w, "\n", 1);
}

/*
 * Item i of n: its kept text, its line if verbatim, or "- key: value"
 * lines.  A kept text without its last '\n' (the end of a file cut
 * short) gets one unless it is still the last item.
 */
static void
yw_any(struct yw *w, const struct hl_item *items, size_t i, size_t n,
    int vk, int empty)
{
	const struct hl_item *it = &items[i];
	size_t len;

	if (it->verbatim == HL_VERBATIM_HEAD)
		yw_head(w, it, empty);
	else if (it->src != NULL) {
		len = strlen(it->src);
		yw_text(w, it->src, len);
		if ((len == 0 || it->src[len - 1] != '\n') && i + 1 < n)
			yw_text(w, "\n", 1);
	} else if (it->verbatim) {
		yw_text(w, it->value, strlen(it->value));
		yw_text(w, "\n", 1);
	} else
		yw_item(w, it, vk);
}

static int
render_yaml(struct hl_buf *out, int fmt, const struct hl_item *items,
    size_t n, struct hl_err *err)
{
	struct yw w;
	char head[128];
	size_t i, start = out->len, nreal = 0, nhead = 0;
	int vk, rc, k;

	for (i = 0; i < n; i++) {
		if ((rc = check_item(&items[i], i, fmt, err)) != 0)
			return rc;
		nreal += !items[i].verbatim;
		nhead += items[i].verbatim == HL_VERBATIM_HEAD;
	}
	yw_init(&w, out);
	vk = value_key(fmt);
	if (nhead == 0) {
		if ((k = std_header(head, sizeof(head), fmt, nreal == 0)) < 0)
			w.rc = HL_ENOMEM;
		else
			yw_text(&w, head, (size_t)k);
	}
	for (i = 0; i < n && w.rc == 0; i++) {
		yw_any(&w, items, i, n, vk, nreal == 0);
		if (w.rc == HL_EINVAL)
			hl_err_set(err, HL_EINVAL, "item %zu: not UTF-8", i);
	}
	rc = w.rc;
	if (rc == HL_ENOMEM)
		hl_err_set(err, HL_ENOMEM, "out of memory");
	yw_fini(&w);
	if (rc != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}

int
hl_textfmt_render(struct hl_buf *out, int fmt, const struct hl_item *items,
    size_t n, struct hl_err *err)
{
	switch (fmt) {
	case HL_FMT_PLAIN:
	case HL_FMT_TSV:
		return render_lines(out, fmt == HL_FMT_TSV, items, n, err);
	case HL_FMT_YAML_CIDR:
	case HL_FMT_YAML_NS:
	case HL_FMT_YAML_ASN:
		return render_yaml(out, fmt, items, n, err);
	}
	return hl_err_set(err, HL_EINVAL, "unknown format %d", fmt);
}

/*
 * Is line l (ll bytes, with its '\n') blank or a comment (c 0), or an
 * entry's "-" alone before its mapping (c '-'), as "-\n" or "- # note\n"?
 */
static int
line_is(const char *l, size_t ll, int c)
{
	size_t i = 0;

	while (i < ll && l[i] == ' ')
		i++;
	if (c == '-') {
		if (i == ll || l[i] != '-')
			return 0;
		i++;
		if (i < ll && l[i] != ' ' && l[i] != '\t' && l[i] != '\r' &&
		    l[i] != '\n')
			return 0;
	}
	while (i < ll && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i == ll || l[i] == '\n' || l[i] == '\r' || l[i] == '#';
}

/*
 * An item whose mapping starts on a line after its "-" (a hand edit:
 * "-\n  ip: ..."): the line of that "-", found above first over blank
 * and comment lines but not before floor; first when there is none.
 */
static size_t
dash_above(const char *data, const size_t *ls, size_t first, size_t floor)
{
	size_t k;

	for (k = first; k > floor; k--) {
		if (line_is(data + ls[k - 1], ls[k] - ls[k - 1], '-'))
			return k - 1;
		if (!line_is(data + ls[k - 1], ls[k] - ls[k - 1], 0))
			break;
	}
	return first;
}

/*
 * After a yaml file is parsed: the items' own lines (spans) kept where
 * rendering would not give them back, the header kept when it is not the
 * one yaml.dump writes, and every line between items (comments, blank
 * lines) kept as a verbatim item.  When the items do not stand on lines of
 * their own (flow style), the file is refused: HL_EINVAL, naming the line.
 * Takes items (n of them); *out gets the result.  HL_ENOMEM, HL_EINVAL.
 */
static int
yaml_keep_text(struct hl_item **out, size_t *nout, int fmt,
    struct hl_item *items, size_t n, struct yspan *spans,
    size_t items_line, const char *data, size_t len, const char *filename,
    struct hl_err *err)
{
	struct hl_item *v = NULL, *it;
	struct hl_buf b = HL_BUF_INIT;
	struct yw w;
	size_t *ls = NULL, nl = 0, i, k, m = 0, from, to, p;
	char head[128];
	int ok, rc = HL_ENOMEM, hl;

	memset(&w, 0, sizeof(w));
	/* Line starts; ls[nl] is len. */
	for (p = 0; p < len; p++)
		nl += data[p] == '\n';
	if (len > 0 && data[len - 1] != '\n')
		nl++;
	if ((ls = malloc((nl + 1) * sizeof(*ls))) == NULL)
		goto out;
	for (p = 0, k = 0; k < nl; k++) {
		ls[k] = p;
		while (p < len && data[p] != '\n')
			p++;
		p++;
	}
	ls[nl] = len;

	ok = n == 0 || spans[0].first > items_line;
	for (i = 0; i < n && ok; i++) {
		from = spans[i].first;
		to = spans[i].last;
		p = ls[from < nl ? from : nl];
		while (p < len && data[p] == ' ')
			p++;
		if (from < nl && p < len && data[p] != '-') {
			from = spans[i].first = dash_above(data, ls, from,
			    i > 0 ? spans[i - 1].last : items_line + 1);
			for (p = ls[from]; p < len && data[p] == ' '; p++)
				;
		}
		ok = to > from && to <= nl && p < len && data[p] == '-' &&
		    (i == 0 || from >= spans[i - 1].last);
	}
	if (!ok) {
		rc = hl_err_set(err, HL_EINVAL, "%s:%zu: an item that does "
		    "not stand on lines of its own (flow style, as in "
		    "\"items: [...]\"), which could not be written back as it "
		    "is: write each item from its \"- \" line, as yaml.dump "
		    "does", filename, i > 0 ? items[i - 1].line : 1 +
		    items_line);
		goto out;
	}
	/* At most one item a line, plus the header. */
	if ((v = calloc(nl + 1, sizeof(*v))) == NULL ||
	    yw_init(&w, &b) != 0)
		goto out;

	from = n > 0 ? spans[0].first : nl;
	hl = std_header(head, sizeof(head), fmt, n == 0);
	if (hl < 0 || (size_t)hl != ls[from] ||
	    memcmp(head, data, (size_t)hl) != 0) {
		it = &v[m++];
		it->verbatim = HL_VERBATIM_HEAD;
		it->line = 1;
		to = ls[from];
		if (to > 0 && data[to - 1] == '\n')
			to--;
		if ((it->value = memdup0(data, to)) == NULL)
			goto out;
		if (ls[from] == to && (it->src = memdup0(data, to)) == NULL)
			goto out;
	}
	for (i = 0; i <= n; i++) {
		if (i < n) {
			it = &v[m++];
			*it = items[i];
			memset(&items[i], 0, sizeof(items[i]));
			from = spans[i].first;
			to = spans[i].last;
			hl_buf_reset(&b);
			yw_text(&w, "", 0);
			yw_item(&w, it, value_key(fmt));
			if (w.rc == HL_ENOMEM)
				goto out;
			w.rc = 0;
			if (b.len != ls[to] - ls[from] ||
			    memcmp(b.data, data + ls[from], b.len) != 0) {
				it->src = memdup0(data + ls[from],
				    ls[to] - ls[from]);
				if (it->src == NULL)
					goto out;
			}
		}
		/* The lines up to the next item, or to the end. */
		from = i < n ? spans[i].last : nl;
		to = i + 1 < n ? spans[i + 1].first : nl;
		if (i == n)
			break;
		for (k = from; k < to; k++) {
			size_t ll = ls[k + 1] - ls[k];
			int has_nl = ll > 0 && data[ls[k] + ll - 1] == '\n';

			it = &v[m++];
			it->verbatim = HL_VERBATIM_LINE;
			it->line = k + 1;
			if ((it->value = memdup0(data + ls[k],
			    ll - (has_nl ? 1 : 0))) == NULL)
				goto out;
			if (!has_nl && (it->src = memdup0(data + ls[k],
			    ll)) == NULL)
				goto out;
		}
	}
	for (i = 0; i < m; i++)
		v[i].pos = (int64_t)i;
	*out = v;
	*nout = m;
	v = NULL;
	m = 0;
	rc = 0;
out:
	yw_fini(&w);
	hl_buf_free(&b);
	free(ls);
	hl_items_free(v, m);
	hl_items_free(items, n);
	return rc;
}
