/*
 * textfmt: SmokeDetector's list files, read into items and written back
 * byte for byte.  The generator renders published lists with it; the
 * importer parses SmokeDetector's files with it.
 *
 * plain (bad_keywords.txt, blacklisted_websites.txt, ...): one regex a
 * line.  SmokeDetector skips a line that is empty after rstrip() or whose
 * first byte is '#'; such lines are kept as verbatim items:
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
 * Parsing uses libyaml's parser; rendering uses libyaml's emitter, which
 * is a port of PyYAML's and, set up as PyYAML's defaults (width 80,
 * indent 2, allow_unicode off: non-ASCII text is written as "\u00E9"
 * escapes, as yaml.dump does), writes the same bytes: indentless
 * sequences, the same choice between plain, single- and double-quoted
 * scalars, the same line folding.  The one thing the emitter does not do
 * is PyYAML's representer, which quotes a string whose plain form would
 * load as something else ('3223', 'true', '', '2019-01-01'); is_plain_str()
 * below runs PyYAML's implicit resolvers (yaml/resolver.py) for that.
 *
 * Keys come in the order yaml.dump(sort_keys=True) writes them (asn,
 * comment, disable, ip, ns, pass), unless the file had them in another
 * order (a hand edit) and the item records it (HL_ITEM_KEYS).  "disable:"
 * with no value (a hand edit too: PyYAML writes None as "null") is kept
 * as HL_DISABLE_EMPTY.
 *
 * What is normalised rather than kept: a last line without '\n' gets one;
 * yaml that PyYAML would not have written (flow style, comments, other
 * quoting, "disable: yes", "null") comes back in PyYAML's form.
 */
#include <stdint.h>
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

/* Skips Python white space from s; returns the offset of the first other. */
static size_t
skip_space(const char *s, size_t len)
{
	size_t i, adv;

	for (i = 0; i < len; i += adv)
		if (!py_space((const unsigned char *)s + i, len - i, &adv))
			break;
	return i < len ? i : len;
}

/* plain: SmokeDetector's BasicListParser skips "" after rstrip, and '#'. */
static int
plain_skipped(const char *s, size_t len)
{
	return (len > 0 && s[0] == '#') || skip_space(s, len) == len;
}

/* tsv: TSVDictParser skips lines matching ^\s*(?:#|$). */
static int
tsv_skipped(const char *s, size_t len)
{
	size_t i;

	i = skip_space(s, len);
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

static int
parse_lines(struct hl_item **out, size_t *n, int tsv, const char *data,
    size_t len, const char *filename, struct hl_err *err)
{
	struct hl_item *items = NULL, *it;
	const char *p, *end, *nl, *t1, *t2, *zero;
	size_t nlines = 0, i = 0, line;
	int rc = HL_ENOMEM;

	if (len == 0)
		return 0;
	if ((zero = memchr(data, '\0', len)) != NULL) {
		line = 1;
		for (p = data; (p = memchr(p, '\n', zero - p)) != NULL; p++)
			line++;
		return hl_err_set(err, HL_EINVAL, "%s:%zu: NUL byte",
		    filename, line);
	}
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
		if (tsv ? tsv_skipped(p, ll) : plain_skipped(p, ll)) {
			it->verbatim = 1;
			if ((it->value = memdup0(p, ll)) == NULL)
				goto fail;
			continue;
		}
		if (!tsv) {
			if ((it->value = memdup0(p, ll)) == NULL)
				goto fail;
			continue;
		}
		t1 = memchr(p, '\t', ll);
		t2 = t1 ? memchr(t1 + 1, '\t', nl - t1 - 1) : NULL;
		if (t2 == NULL || memchr(t2 + 1, '\t', nl - t2 - 1) != NULL) {
			size_t f = 1;
			const char *q;

			for (q = p; (q = memchr(q, '\t', nl - q)) != NULL; q++)
				f++;
			rc = hl_err_set(err, HL_EINVAL,
			    "%s:%zu: expected 3 tab-separated fields "
			    "(timestamp, user, pattern), found %zu",
			    filename, i + 1, f);
			goto fail;
		}
		if (parse_int64(&it->created_at, p, t1 - p) != 0) {
			rc = hl_err_set(err, HL_EINVAL,
			    "%s:%zu: the timestamp \"%.*s\" is not a decimal "
			    "integer", filename, i + 1,
			    (int)(t1 - p > 40 ? 40 : t1 - p), p);
			goto fail;
		}
		if ((it->created_by = memdup0(t1 + 1, t2 - t1 - 1)) == NULL ||
		    (it->value = memdup0(t2 + 1, nl - t2 - 1)) == NULL)
			goto fail;
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
struct yparse {
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 have;		/* ev holds an event to delete */
	const char	*filename;
	struct hl_err	*err;
};

static int
yp_next(struct yparse *y)
{
	const char *what;

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
		return hl_err_set(y->err, HL_EINVAL, "%s:%zu: ns must be a name "
		    "or a sequence of names", y->filename, yp_line(y));
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
		return hl_err_set(y->err, HL_EINVAL, "%s:%zu: an item without %s",
		    y->filename, line, key_names[vk]);
#ifdef HL_ITEM_KEYS
	return yp_keep_order(it, order, norder);
#else
	(void)order;
	return 0;
#endif
}

/* items: the current event is its value. */
static int
yp_items(struct yparse *y, struct hl_item **items, size_t *n, int fmt)
{
	struct hl_item *v;
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
		}
		v = &(*items)[*n];
		memset(v, 0, sizeof(*v));
		v->pos = (int64_t)*n;
		(*n)++;
		if ((rc = yp_item(y, v, fmt)) != 0)
			return rc;
	}
}

static int
parse_yaml(struct hl_item **out, size_t *n, int fmt, const char *data,
    size_t len, const char *filename, struct hl_err *err)
{
	struct yparse y;
	struct hl_item *items = NULL;
	size_t nitems = 0;
	size_t line;
	int seen[3] = { 0 }, rc, i;
	const char *const top[3] = { "Schema", "Schema_version", "items" };

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
			if ((rc = yp_next(&y)) != 0 ||
			    (rc = yp_items(&y, &items, &nitems, fmt)) != 0)
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
	*out = items;
	*n = nitems;
	items = NULL;
	nitems = 0;
out:
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
 * yaml rendering.
 *
 * PyYAML's implicit resolvers (yaml/resolver.py, YAML 1.1): bool, float,
 * int, merge, null, timestamp, value and the "yaml" documentation
 * resolver, as one pattern.  A plain scalar that matches loads as
 * something other than a string, so a string that matches is quoted.
 * PyYAML tries a resolver only if the value's first character is in its
 * list; with the lists joined, FIRST_CHARS, the one pattern decides the
 * same (every alternative can only start with its own resolver's
 * characters, except "" which stands for the empty value alone: a
 * "\n" starts with none of them).
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

struct yemit {
	yaml_emitter_t		 e;
	yaml_event_t		 ev;
	struct hl_buf		*out;
	pcre2_code		*re;
	pcre2_match_data	*md;
	int			 nomem;
};

static int
ye_write(void *data, unsigned char *buffer, size_t size)
{
	struct yemit *y = data;

	if (hl_buf_put(y->out, buffer, size) != 0) {
		y->nomem = 1;
		return 0;
	}
	return 1;
}

/* Would PyYAML write the string s[0..len) as a plain scalar? */
static int
is_plain_str(struct yemit *y, const char *s, size_t len)
{
	if (len > 0 && strchr(FIRST_CHARS, s[0]) == NULL)
		return 1;
	return pcre2_match(y->re, (PCRE2_SPTR)s, len, 0, 0, y->md,
	    NULL) < 0;
}

/* A scalar: a string (quoted as PyYAML would) or, with str 0, verbatim. */
static int
ye_scalar(struct yemit *y, const char *s, size_t len, int str)
{
	if (len > INT32_MAX)
		return 0;
	if (!yaml_scalar_event_initialize(&y->ev, NULL, NULL,
	    (yaml_char_t *)s, (int)len, str ? is_plain_str(y, s, len) : 1, 1,
	    str ? YAML_ANY_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE))
		return 0;
	return yaml_emitter_emit(&y->e, &y->ev);
}

static int
ye_key(struct yemit *y, int k)
{
	return ye_scalar(y, key_names[k], strlen(key_names[k]), 0);
}

static int
ye_mapping(struct yemit *y)
{
	return yaml_mapping_start_event_initialize(&y->ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE) && yaml_emitter_emit(&y->e, &y->ev);
}

static int
ye_sequence(struct yemit *y)
{
	return yaml_sequence_start_event_initialize(&y->ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE) && yaml_emitter_emit(&y->e, &y->ev);
}

static int
ye_end(struct yemit *y, int mapping)
{
	if (mapping)
		yaml_mapping_end_event_initialize(&y->ev);
	else
		yaml_sequence_end_event_initialize(&y->ev);
	return yaml_emitter_emit(&y->e, &y->ev);
}

/* The value of key k of item it; 0 on an emitter error. */
static int
ye_value(struct yemit *y, const struct hl_item *it, int k)
{
	const char *p, *sp;

	switch (k) {
	case K_COMMENT:
		return ye_scalar(y, it->comment, strlen(it->comment), 1);
	case K_DISABLE:
		if (it->disabled == HL_DISABLE_EMPTY)
			return ye_scalar(y, "", 0, 0);
		return ye_scalar(y, "true", 4, 0);
	case K_PASS:
		return ye_scalar(y, "true", 4, 0);
	case K_NS:
		if (!it->ns_seq)
			break;
		if (!ye_sequence(y))
			return 0;
		for (p = it->value; ; p = sp + 1) {
			if ((sp = strchr(p, ' ')) == NULL)
				sp = p + strlen(p);
			if (!ye_scalar(y, p, sp - p, 1))
				return 0;
			if (*sp == '\0')
				break;
		}
		return ye_end(y, 0);
	}
	return ye_scalar(y, it->value, strlen(it->value), 1);
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

	if (it->verbatim)
		return hl_err_set(err, HL_EINVAL, "item %zu: a yaml list "
		    "has no verbatim lines", i);
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

static int
render_yaml(struct hl_buf *out, int fmt, const struct hl_item *items,
    size_t n, struct hl_err *err)
{
	struct yemit y;
	const char *schema = schema_name(fmt), *ver = HL_TEXTFMT_SCHEMA_VERSION;
	size_t i, start = out->len;
	int order[K_N], norder, j, vk, ok, errcode, rc = HL_ENOMEM;

	for (i = 0; i < n; i++)
		if ((rc = check_item(&items[i], i, fmt, err)) != 0)
			return rc;
	memset(&y, 0, sizeof(y));
	y.out = out;
	y.re = pcre2_compile((PCRE2_SPTR)resolve_pattern,
	    PCRE2_ZERO_TERMINATED, 0, &errcode, &i, NULL);
	if (y.re == NULL ||
	    (y.md = pcre2_match_data_create_from_pattern(y.re, NULL)) == NULL)
		goto out;
	if (!yaml_emitter_initialize(&y.e))
		goto out;
	yaml_emitter_set_output(&y.e, ye_write, &y);
	yaml_emitter_set_width(&y.e, 80);
	yaml_emitter_set_indent(&y.e, 2);
	yaml_emitter_set_unicode(&y.e, 0);
	yaml_emitter_set_break(&y.e, YAML_LN_BREAK);

	vk = value_key(fmt);
	ok = yaml_stream_start_event_initialize(&y.ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&y.e, &y.ev) &&
	    yaml_document_start_event_initialize(&y.ev, NULL, NULL, NULL,
	    1) && yaml_emitter_emit(&y.e, &y.ev) &&
	    ye_mapping(&y) &&
	    ye_scalar(&y, "Schema", 6, 0) &&
	    ye_scalar(&y, schema, strlen(schema), 1) &&
	    ye_scalar(&y, "Schema_version", 14, 0) &&
	    ye_scalar(&y, ver, strlen(ver), 1) &&
	    ye_scalar(&y, "items", 5, 0) &&
	    ye_sequence(&y);
	for (i = 0; ok && i < n; i++) {
		norder = key_order(order, &items[i], vk);
		ok = ye_mapping(&y);
		for (j = 0; ok && j < norder; j++)
			ok = ye_key(&y, order[j]) &&
			    ye_value(&y, &items[i], order[j]);
		ok = ok && ye_end(&y, 1);
	}
	ok = ok && ye_end(&y, 0) && ye_end(&y, 1) &&
	    yaml_document_end_event_initialize(&y.ev, 1) &&
	    yaml_emitter_emit(&y.e, &y.ev) &&
	    yaml_stream_end_event_initialize(&y.ev) &&
	    yaml_emitter_emit(&y.e, &y.ev) &&
	    yaml_emitter_flush(&y.e);
	if (ok)
		rc = 0;
	else if (y.nomem || y.e.error == YAML_MEMORY_ERROR)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	else
		rc = hl_err_set(err, HL_EINVAL, "yaml emitter: %s",
		    y.e.problem ? y.e.problem : "failed");
	yaml_emitter_delete(&y.e);
out:
	if (rc == HL_ENOMEM)
		hl_err_set(err, HL_ENOMEM, "out of memory");
	pcre2_match_data_free(y.md);
	pcre2_code_free(y.re);
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
