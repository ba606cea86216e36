/*
 * validate: the checks a list value, a pattern or a comment passes before
 * Helios stores it (see validate.h for the rules of each format).
 *
 * Text.  Everything is UTF-8 without control characters, decoded here by
 * hand so that the error can name the byte offset and the reason.
 *
 * Patterns.  SmokeDetector compiles its patterns with the Python regex
 * module; Helios has PCRE2.  A pattern is compiled with PCRE2 and, when
 * that fails, the error code says which kind of construct PCRE2 choked
 * on.  If the kind is one the regex module supports and PCRE2 lacks, every
 * construct of that kind is replaced by a PCRE2 stand-in of the same
 * shape, and the pattern is compiled again:
 *
 *   kind         regex module           stand-in
 *   lookbehind   (?<=a\W*)  (?<!...)     (?=a\W*)  (?!...)   (any length)
 *   flags        (?w:...)  (?V1)  (?iu)  (?:...)   (?:)     (?i)
 *   property     \p{InBasicLatin}       \p{L}
 *   escape       \N{DASH}  \u00e9  \m    \x{FFFD}  \x{00e9}  \b
 *
 * Each kind is tried at most once, so a pattern is compiled at most five
 * times.  A byte map from the rewritten pattern back to the original
 * keeps PCRE2's error offsets true to what the user wrote.  A pattern
 * that then compiles is accepted with a note naming what was taken on
 * trust; one that still fails is rejected with PCRE2's message.
 *
 * Worked example: "writing(?<!(?:code|script)\Wwriting) services?" fails
 * with PCRE2 error 125 (lookbehind assertion is not fixed length) at
 * offset 7; it becomes "writing(?!(?:code|script)\Wwriting) services?",
 * which compiles, and the note reads "accepted without a full PCRE2
 * check: uses a variable-length lookbehind at byte offset 7, which PCRE2
 * lacks".
 *
 * A write compiles its pattern once: hl_validate_value() keeps, per
 * thread, the code of the last pattern it accepted, and the
 * hl_validate_compile() of the same value that follows on that thread
 * (the checks, src/checks.c) takes it instead of compiling again.  The
 * same value under the same options compiles to the same code, so
 * nothing else changes.  Everything else is made and freed by each call:
 * the module is thread-safe.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buf.h"
#include "err.h"
#include "item.h"
#include "validate.h"

/*
 * PCRE2 options: UTF and caseless as SmokeDetector matches; UCP because
 * the regex module's \w, \d, \b are Unicode-aware for text; DUPNAMES
 * because the regex module allows a group name twice; NEVER_BACKSLASH_C
 * because the regex module has no \C.
 */
#define PAT_OPTIONS	(PCRE2_UTF | PCRE2_CASELESS | PCRE2_UCP | \
			    PCRE2_DUPNAMES | PCRE2_NEVER_BACKSLASH_C)
/* PCRE2's own default; Python's limit is higher but this is plenty. */
#define PAT_NEST_LIMIT	250
/* Longest construct quoted in a note. */
#define NOTE_QUOTE	40

enum { RW_LOOKBEHIND, RW_FLAGS, RW_PROPERTY, RW_ESCAPE, RW_NKINDS };

/* A pattern and, for each of its bytes, the offset in the original. */
struct pat {
	char	*s;
	size_t	 len;
	size_t	*map;		/* len + 1 entries; NULL: identity */
};

static size_t
pat_orig(const struct pat *p, size_t off)
{
	if (off > p->len)
		off = p->len;
	return p->map == NULL ? off : p->map[off];
}

static void
pat_free(struct pat *p)
{
	free(p->s);
	free(p->map);
	p->s = NULL;
	p->map = NULL;
	p->len = 0;
}

/*
 * The last pattern this thread's hl_validate_value() accepted, its code
 * and its note (NULL: none); freed when the thread ends.
 */
struct kept {
	char		*value;
	pcre2_code	*code;
	char		*note;
};

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static int kept_ok;

static void
kept_clear(struct kept *k)
{
	free(k->value);
	pcre2_code_free(k->code);
	free(k->note);
	k->value = NULL;
	k->code = NULL;
	k->note = NULL;
}

static void
kept_free(void *p)
{
	if (p != NULL)
		kept_clear(p);
	free(p);
}

static void
kept_init(void)
{
	kept_ok = pthread_key_create(&kept_key, kept_free) == 0;
}

/* This thread's slot, or NULL (out of memory). */
static struct kept *
kept_get(void)
{
	struct kept *k;

	(void)pthread_once(&kept_once, kept_init);
	if (!kept_ok)
		return NULL;
	if ((k = pthread_getspecific(kept_key)) != NULL)
		return k;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if (pthread_setspecific(kept_key, k) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

/*
 * Keeps code and note (both taken: freed here if they cannot be kept) as
 * this thread's last accepted pattern v.
 */
static void
kept_put(const char *v, pcre2_code *code, char *note)
{
	struct kept *k = kept_get();

	if (k != NULL) {
		kept_clear(k);
		k->value = strdup(v);
	}
	if (k == NULL || k->value == NULL) {
		pcre2_code_free(code);
		free(note);
		return;
	}
	k->code = code;
	k->note = note;
}

/*
 * Takes this thread's kept code of v and, when note is not NULL, its note
 * (the caller owns both).  1 when there was one, 0 otherwise.
 */
static int
kept_take(pcre2_code **code, char **note, const char *v)
{
	struct kept *k = kept_get();

	if (k == NULL || k->code == NULL || strcmp(k->value, v) != 0)
		return 0;
	*code = k->code;
	k->code = NULL;
	if (note != NULL) {
		*note = k->note;
		k->note = NULL;
	}
	kept_clear(k);
	return 1;
}

/*
 * Decodes the character at p (avail bytes left).  On success sets *cp and
 * *n; on failure returns -1 and sets *why.
 */
static int
utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp, size_t *n,
    const char **why)
{
	uint32_t c, min;
	size_t k, need;

	c = p[0];
	if (c < 0x80) {
		*cp = c;
		*n = 1;
		return 0;
	}
	if (c < 0xc0) {
		*why = "a continuation byte without a lead byte";
		return -1;
	}
	if (c < 0xe0) {
		need = 2;
		min = 0x80;
		c &= 0x1f;
	} else if (c < 0xf0) {
		need = 3;
		min = 0x800;
		c &= 0x0f;
	} else if (c < 0xf8) {
		need = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		*why = "a byte that never appears in UTF-8";
		return -1;
	}
	for (k = 1; k < need; k++) {
		if (k >= avail || (p[k] & 0xc0) != 0x80) {
			*why = "a sequence cut short";
			return -1;
		}
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < min) {
		*why = "an overlong encoding";
		return -1;
	}
	if (c >= 0xd800 && c <= 0xdfff) {
		*why = "an encoded surrogate";
		return -1;
	}
	if (c > 0x10ffff) {
		*why = "a code point above U+10FFFF";
		return -1;
	}
	*cp = c;
	*n = need;
	return 0;
}

static const char *
ctl_name(uint32_t cp)
{
	switch (cp) {
	case 0x00:	return " (NUL)";
	case 0x09:	return " (TAB)";
	case 0x0a:	return " (LF, a newline)";
	case 0x0d:	return " (CR, a newline)";
	case 0x7f:	return " (DEL)";
	case 0x85:	return " (NEL, a newline)";
	default:	return "";
	}
}

int
hl_validate_text(const char *s, size_t len, size_t max, struct hl_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *why = "";
	uint32_t cp;
	size_t i, n;

	if (s == NULL || len == 0)
		return hl_err_set(err, HL_EINVAL, "empty");
	if (len > max)
		return hl_err_set(err, HL_ETOOBIG,
		    "%zu bytes, over the limit of %zu", len, max);
	for (i = 0; i < len; i += n) {
		if (utf8_decode(p + i, len - i, &cp, &n, &why) == -1)
			return hl_err_set(err, HL_EINVAL,
			    "invalid UTF-8 at byte offset %zu: %s", i, why);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return hl_err_set(err, HL_EINVAL,
			    "control character U+%04X%s at byte offset %zu",
			    (unsigned)cp, ctl_name(cp), i);
	}
	return 0;
}

/* White space as Python's str.isspace() and str.rstrip() see it. */
static int
py_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
	    c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/* The rules every line of a plain or tsv file obeys; s is valid text. */
static int
check_line(int fmt, const char *s, size_t len, struct hl_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *why;
	uint32_t cp = 0;
	size_t i, n, last = 0;
	int blank = 1;

	if (fmt == HL_FMT_PLAIN && s[0] == '#')
		return hl_err_set(err, HL_EINVAL, "starts with '#': "
		    "SmokeDetector would skip the line as a comment");
	if (fmt == HL_FMT_TSV && s[0] == '#')
		return hl_err_set(err, HL_EINVAL, "starts with '#': "
		    "SmokeDetector's tsv parser skips such a pattern");
	for (i = 0; i < len; i += n) {
		if (utf8_decode(p + i, len - i, &cp, &n, &why) == -1)
			return hl_err_set(err, HL_EINVAL,
			    "invalid UTF-8 at byte offset %zu: %s", i, why);
		if (!py_space(cp))
			blank = 0;
		last = i;
	}
	if (blank)
		return hl_err_set(err, HL_EINVAL, "only white space: "
		    "SmokeDetector would skip the line");
	if (py_space(cp))
		return hl_err_set(err, HL_EINVAL, "ends with white space "
		    "(U+%04X at byte offset %zu), which SmokeDetector strips "
		    "when it reads the file", (unsigned)cp, last);
	return 0;
}

/*
 * Rewriting.  emit() appends n bytes to the output and their origins: from
 * map (one per byte) when given, else orig for all of them.
 */
struct out {
	struct hl_buf	s;
	struct hl_buf	m;
	int		rc;
};

static void
emit(struct out *o, const char *b, size_t n, const struct pat *in,
    size_t from, int replaced)
{
	size_t k, orig;

	for (k = 0; k < n && o->rc == 0; k++) {
		orig = pat_orig(in, replaced ? from : from + k);
		o->rc = hl_buf_putc(&o->s, (unsigned char)b[k]);
		if (o->rc == 0)
			o->rc = hl_buf_put(&o->m, &orig, sizeof(orig));
	}
}

static int
ascii_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Does PCRE2 know \p{name}? */
static int
pcre2_has_property(const char *name, size_t n, pcre2_compile_context *cc)
{
	char buf[128];
	pcre2_code *code;
	PCRE2_SIZE eoff;
	int ec, len;

	len = snprintf(buf, sizeof(buf), "\\p{%.*s}", (int)n, name);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return 0;
	code = pcre2_compile((PCRE2_SPTR)buf, (PCRE2_SIZE)len, PAT_OPTIONS,
	    &ec, &eoff, cc);
	if (code == NULL)
		return 0;
	pcre2_code_free(code);
	return 1;
}

static int
in_set(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/*
 * Does the Python regex module know \p{name} (one PCRE2 rejected)?  Names
 * are compared as the regex module compares them: case, spaces, hyphens
 * and underscores ignored.  Block names cannot be checked here and are
 * taken on trust.
 */
static int
regex_has_property(const char *name, size_t n, pcre2_compile_context *cc)
{
	static const char *const posix[] = { "alnum", "alpha", "assigned",
	    "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
	    "space", "upper", "word", "xdigit", NULL };
	static const char *const gc[] = { "letter", "casedletter",
	    "uppercaseletter", "lowercaseletter", "titlecaseletter",
	    "modifierletter", "otherletter", "mark", "combiningmark",
	    "nonspacingmark", "spacingmark", "enclosingmark", "number",
	    "decimalnumber", "letternumber", "othernumber", "punctuation",
	    "connectorpunctuation", "dashpunctuation", "openpunctuation",
	    "closepunctuation", "initialpunctuation", "finalpunctuation",
	    "otherpunctuation", "symbol", "mathsymbol", "currencysymbol",
	    "modifiersymbol", "othersymbol", "separator", "spaceseparator",
	    "lineseparator", "paragraphseparator", "other", "control",
	    "format", "surrogate", "privateuse", "unassigned", NULL };
	char k[64], *v;
	size_t i, j;

	for (i = j = 0; i < n; i++) {
		if (name[i] == ' ' || name[i] == '_' || name[i] == '-')
			continue;
		if (j + 1 >= sizeof(k) || (unsigned char)name[i] >= 0x80)
			return 0;
		k[j++] = (char)ascii_lower((unsigned char)name[i]);
	}
	k[j] = '\0';
	if (j == 0)
		return 0;
	if ((v = strpbrk(k, "=:")) != NULL) {
		*v++ = '\0';
		if (*v == '\0')
			return 0;
		if (strcmp(k, "block") == 0 || strcmp(k, "blk") == 0)
			return 1;
		if (strcmp(k, "generalcategory") == 0 || strcmp(k, "gc") == 0)
			return in_set(v, gc) ||
			    pcre2_has_property(v, strlen(v), cc);
		return 0;
	}
	if (in_set(k, posix) || in_set(k, gc))
		return 1;
	if (strncmp(k, "posix", 5) == 0)
		return in_set(k + 5, posix);
	if (strncmp(k, "in", 2) == 0 && k[2] != '\0')
		return 1;		/* a block */
	if (strncmp(k, "is", 2) == 0 && k[2] != '\0')
		return in_set(k + 2, posix) || in_set(k + 2, gc) ||
		    pcre2_has_property(k + 2, strlen(k + 2), cc);
	return 0;
}

/*
 * At a backslash at p[i]: when kind applies, writes a stand-in to rep and
 * returns how many input bytes it replaces; returns 0 to copy as is.
 */
static size_t
escape_standin(int kind, const char *p, size_t n, size_t i, int inclass,
    char *rep, size_t replen, pcre2_compile_context *cc)
{
	const char *close;
	size_t j, name, nlen;
	int c, neg;

	if (i + 1 >= n)
		return 0;
	c = p[i + 1];
	if (kind == RW_PROPERTY && (c == 'p' || c == 'P') && i + 2 < n &&
	    p[i + 2] == '{') {
		close = memchr(p + i + 3, '}', n - i - 3);
		if (close == NULL)
			return 0;
		name = i + 3;
		neg = p[name] == '^';
		if (neg)
			name++;
		nlen = (size_t)(close - p) - name;
		if (nlen == 0 || pcre2_has_property(p + name, nlen, cc) ||
		    !regex_has_property(p + name, nlen, cc))
			return 0;
		(void)snprintf(rep, replen, "\\%c{%sL}", c, neg ? "^" : "");
		return (size_t)(close - p) + 1 - i;
	}
	if (kind != RW_ESCAPE)
		return 0;
	if (c == 'N' && i + 2 < n && p[i + 2] == '{') {
		for (j = i + 3; j < n && p[j] != '}'; j++)
			if (!((p[j] >= 'A' && p[j] <= 'Z') ||
			    (p[j] >= 'a' && p[j] <= 'z') ||
			    (p[j] >= '0' && p[j] <= '9') ||
			    p[j] == ' ' || p[j] == '-'))
				return 0;
		if (j >= n || j == i + 3)
			return 0;
		(void)snprintf(rep, replen, "\\x{FFFD}");
		return j + 1 - i;
	}
	if (c == 'u' || c == 'U') {
		nlen = c == 'u' ? 4 : 8;
		if (i + 2 + nlen > n)
			return 0;
		for (j = 0; j < nlen; j++)
			if (!ascii_hex((unsigned char)p[i + 2 + j]))
				return 0;
		(void)snprintf(rep, replen, "\\x{%.*s}", (int)nlen,
		    p + i + 2);
		return 2 + nlen;
	}
	if ((c == 'm' || c == 'M') && !inclass) {
		(void)snprintf(rep, replen, "\\b");
		return 2;
	}
	/*
	 * \L<name>: one of the strings of the named list passed to
	 * regex.compile() (SmokeDetector passes city=...); an atom.
	 */
	if (c == 'L' && !inclass && i + 3 < n && p[i + 2] == '<' &&
	    ((p[i + 3] >= 'A' && p[i + 3] <= 'Z') ||
	    (p[i + 3] >= 'a' && p[i + 3] <= 'z') || p[i + 3] == '_')) {
		for (j = i + 3; j < n && p[j] != '>'; j++)
			if (!((p[j] >= 'A' && p[j] <= 'Z') ||
			    (p[j] >= 'a' && p[j] <= 'z') ||
			    (p[j] >= '0' && p[j] <= '9') || p[j] == '_'))
				return 0;
		if (j >= n)
			return 0;
		(void)snprintf(rep, replen, "(?:\\x{FFFD})");
		return j + 1 - i;
	}
	return 0;
}

/*
 * At "(?" at p[i]: if this is an inline flag group using flags only the
 * regex module has (a b e f L p r u w V0 V1), writes the group without
 * them to rep and returns the length of the group's opening; else 0.
 */
static size_t
flags_standin(const char *p, size_t n, size_t i, char *rep, size_t replen)
{
	char on[16], off[16];
	size_t j, non = 0, noff = 0;
	int c, neg = 0, regexonly = 0;

	for (j = i + 2; j < n; j++) {
		c = (unsigned char)p[j];
		if (c == '-' && !neg) {
			neg = 1;
			continue;
		}
		if (c == 'V' && j + 1 < n && (p[j + 1] == '0' ||
		    p[j + 1] == '1')) {
			regexonly = 1;
			j++;
			continue;
		}
		if (c != '\0' && strchr("abefLpruw", c) != NULL) {
			regexonly = 1;
			continue;
		}
		if (c != '\0' && strchr("imnsxJU^", c) != NULL) {
			if (neg ? noff >= sizeof(off) : non >= sizeof(on))
				return 0;
			if (neg)
				off[noff++] = (char)c;
			else
				on[non++] = (char)c;
			continue;
		}
		break;
	}
	if (!regexonly || j >= n || (p[j] != ')' && p[j] != ':'))
		return 0;
	if (non == 0 && noff == 0)
		(void)snprintf(rep, replen, p[j] == ':' ? "(?:" : "(?:)");
	else
		(void)snprintf(rep, replen, "(?%.*s%s%.*s%c", (int)non, on,
		    noff ? "-" : "", (int)noff, off, p[j]);
	return j + 1 - i;
}

/* Length of a POSIX class "[:alpha:]" or "[:^alpha:]" at p[i], else 1. */
static size_t
posix_class(const char *p, size_t n, size_t i)
{
	size_t j = i + 2;

	if (j < n && p[j] == '^')
		j++;
	while (j < n && p[j] >= 'a' && p[j] <= 'z')
		j++;
	if (j + 1 < n && p[j] == ':' && p[j + 1] == ']')
		return j + 2 - i;
	return 1;
}

/*
 * Writes to *res the pattern in with every construct of kind replaced by
 * its stand-in.  Returns 1 when something was replaced (and sets *first
 * and *flen to the first one's place in the original), 0 when nothing
 * was (*res untouched), or HL_ENOMEM.
 */
static int
rewrite(struct pat *res, const struct pat *in, int kind,
    pcre2_compile_context *cc, size_t *first, size_t *flen)
{
	struct out o = { HL_BUF_INIT, HL_BUF_INIT, 0 };
	const char *p = in->s, *e;
	char rep[64];
	size_t n = in->len, i = 0, adv, take, orig;
	int inclass = 0, changed = 0;

	while (i < n && o.rc == 0) {
		adv = 1;
		take = 0;
		rep[0] = '\0';
		if (p[i] == '\\') {
			take = escape_standin(kind, p, n, i, inclass, rep,
			    sizeof(rep), cc);
			if (take == 0 && i + 1 < n)
				adv = 2;
		} else if (inclass) {
			if (p[i] == '[' && i + 1 < n && p[i + 1] == ':')
				adv = posix_class(p, n, i);
			else if (p[i] == ']')
				inclass = 0;
		} else if (p[i] == '[') {
			inclass = 1;
			if (i + adv < n && p[i + adv] == '^')
				adv++;
			if (i + adv < n && p[i + adv] == ']')
				adv++;
		} else if (p[i] == '(' && i + 2 < n && p[i + 1] == '?') {
			if (p[i + 2] == '#') {
				/* A comment: up to the first ')'. */
				e = memchr(p + i, ')', n - i);
				adv = e == NULL ? n - i :
				    (size_t)(e - p) + 1 - i;
			} else if (kind == RW_LOOKBEHIND && p[i + 2] == '<' &&
			    i + 3 < n && (p[i + 3] == '=' || p[i + 3] == '!')) {
				(void)snprintf(rep, sizeof(rep), "(?%c",
				    p[i + 3]);
				take = 4;
			} else if (kind == RW_FLAGS)
				take = flags_standin(p, n, i, rep, sizeof(rep));
		}
		if (take > 0) {
			if (!changed) {
				*first = pat_orig(in, i);
				*flen = pat_orig(in, i + take) - *first;
			}
			changed = 1;
			emit(&o, rep, strlen(rep), in, i, 1);
			i += take;
		} else {
			if (adv > n - i)
				adv = n - i;
			emit(&o, p + i, adv, in, i, 0);
			i += adv;
		}
	}
	orig = pat_orig(in, n);
	if (o.rc == 0)
		o.rc = hl_buf_put(&o.m, &orig, sizeof(orig));
	if (o.rc != 0 || !changed) {
		hl_buf_free(&o.s);
		hl_buf_free(&o.m);
		return o.rc != 0 ? HL_ENOMEM : 0;
	}
	res->s = hl_buf_detach(&o.s, &res->len);
	res->map = (size_t *)(void *)hl_buf_detach(&o.m, NULL);
	return 1;
}

/* The kind of construct a PCRE2 compile error points at, or -1. */
static int
error_kind(int ec)
{
	switch (ec) {
	case PCRE2_ERROR_LOOKBEHIND_NOT_FIXED_LENGTH:
	case PCRE2_ERROR_LOOKBEHIND_TOO_COMPLICATED:
#ifdef PCRE2_ERROR_LOOKBEHIND_TOO_LONG
	case PCRE2_ERROR_LOOKBEHIND_TOO_LONG:
#endif
		return RW_LOOKBEHIND;
	case PCRE2_ERROR_INVALID_AFTER_PARENS_QUERY:
		return RW_FLAGS;
	case PCRE2_ERROR_MALFORMED_UNICODE_PROPERTY:
	case PCRE2_ERROR_UNKNOWN_UNICODE_PROPERTY:
		return RW_PROPERTY;
	case PCRE2_ERROR_UNKNOWN_ESCAPE:
	case PCRE2_ERROR_UNSUPPORTED_ESCAPE_SEQUENCE:
		return RW_ESCAPE;
	default:
		return -1;
	}
}

/* Quotes at most NOTE_QUOTE bytes of s, cut at a character boundary. */
static int
quote_len(const char *s, size_t n)
{
	if (n <= NOTE_QUOTE)
		return (int)n;
	n = NOTE_QUOTE;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

static int
make_note(char **note, const char *v, const size_t *first,
    const size_t *flen, unsigned applied)
{
	struct hl_buf b = HL_BUF_INIT;
	int k, rc, sep = 0;

	rc = hl_buf_puts(&b, "accepted without a full PCRE2 check: uses ");
	for (k = 0; k < RW_NKINDS && rc == 0; k++) {
		if (!(applied & (1u << k)))
			continue;
		if (sep)
			rc = hl_buf_puts(&b, ", ");
		sep = 1;
		if (rc != 0)
			break;
		if (k == RW_LOOKBEHIND)
			rc = hl_buf_printf(&b, "a variable-length lookbehind "
			    "at byte offset %zu", first[k]);
		else
			rc = hl_buf_printf(&b, "%s%.*s at byte offset %zu",
			    k == RW_FLAGS ? "the flags " :
			    k == RW_PROPERTY ? "the property " :
			    "the escape ", quote_len(v + first[k], flen[k]),
			    v + first[k], first[k]);
	}
	if (rc == 0)
		rc = hl_buf_puts(&b, ", which PCRE2 lacks");
	if (rc != 0) {
		hl_buf_free(&b);
		return HL_ENOMEM;
	}
	*note = hl_buf_detach(&b, NULL);
	return 0;
}

/*
 * PCRE2 takes \Q...\E as quoting (and everything after a lone \Q as
 * literal text, which would hide errors); the regex module has no such
 * escape and rejects the pattern ("bad escape \Q").
 */
static int
check_quoting(const char *v, size_t len, struct hl_err *err)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (v[i] != '\\')
			continue;
		if (v[i + 1] == 'Q' || v[i + 1] == 'E')
			return hl_err_set(err, HL_EINVAL, "not a valid regular "
			    "expression: \\%c at byte offset %zu is PCRE "
			    "quoting, which the Python regex module rejects as "
			    "a bad escape", v[i + 1], i);
		i++;
	}
	return 0;
}

/* On success, *keep (when not NULL) receives the compiled code. */
static int
check_pattern(char **note, const char *v, size_t len, pcre2_code **keep,
    struct hl_err *err)
{
	pcre2_compile_context *cc = NULL;
	pcre2_code *code = NULL;
	struct pat cur = { (char *)(uintptr_t)v, len, NULL }, next;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE eoff;
	size_t first[RW_NKINDS], flen[RW_NKINDS];
	unsigned applied = 0;
	int ec, kind, rc;

	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	/* Bounds the compile: rewriting at most doubles a pattern. */
	pcre2_set_max_pattern_length(cc, 2 * HL_VALIDATE_MAX_VALUE);
	pcre2_set_parens_nest_limit(cc, PAT_NEST_LIMIT);
	for (;;) {
		code = pcre2_compile((PCRE2_SPTR)cur.s, cur.len, PAT_OPTIONS,
		    &ec, &eoff, cc);
		if (code != NULL)
			break;
		kind = error_kind(ec);
		rc = 0;
		if (kind >= 0 && !(applied & (1u << kind)))
			rc = rewrite(&next, &cur, kind, cc, &first[kind],
			    &flen[kind]);
		if (rc == HL_ENOMEM) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
		if (rc == 0) {
			if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
				(void)snprintf((char *)msg, sizeof(msg),
				    "PCRE2 error %d", ec);
			rc = hl_err_set(err, HL_EINVAL, "not a valid regular "
			    "expression: %s at byte offset %zu", (char *)msg,
			    pat_orig(&cur, eoff));
			goto out;
		}
		applied |= 1u << kind;
		if (cur.s != v)
			pat_free(&cur);
		cur = next;
	}
	rc = 0;
	if (applied != 0 && note != NULL &&
	    make_note(note, v, first, flen, applied) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	if (rc == 0 && keep != NULL) {
		*keep = code;
		code = NULL;
	}
out:
	pcre2_code_free(code);
	pcre2_compile_context_free(cc);
	if (cur.s != v)
		pat_free(&cur);
	return rc;
}

/*
 * SmokeDetector's YAMLParserCIDR._validate(): a dotted IPv4 address,
 * octets 0-255 without leading zeros, the first not 0:
 *   ^(?!0)(?&octet)(?:\.(?&octet)){3}$
 */
static int
check_cidr(const char *v, struct hl_err *err)
{
	const char *p = v;
	unsigned long octet;
	size_t k, d;

	if (v[0] == '0')
		return hl_err_set(err, HL_EINVAL, "not an IP address as "
		    "SmokeDetector takes one: it starts with 0");
	for (k = 0; k < 4; k++) {
		for (d = 0, octet = 0; p[d] >= '0' && p[d] <= '9' && d < 4; d++)
			octet = octet * 10 + (unsigned long)(p[d] - '0');
		if (d == 0 || d > 3 || octet > 255 || (d > 1 && p[0] == '0'))
			return hl_err_set(err, HL_EINVAL, "not an IP address "
			    "as SmokeDetector takes one (four decimal octets "
			    "0-255 without leading zeros, no prefix length): "
			    "octet %zu at byte offset %zu", k + 1,
			    (size_t)(p - v));
		p += d;
		if (k < 3 && *p != '.')
			return hl_err_set(err, HL_EINVAL, "not an IP address "
			    "as SmokeDetector takes one: expected '.' at byte "
			    "offset %zu", (size_t)(p - v));
		if (k < 3)
			p++;
	}
	if (*p != '\0')
		return hl_err_set(err, HL_EINVAL, "not an IP address as "
		    "SmokeDetector takes one: '%c' at byte offset %zu (a "
		    "prefix length or anything after the address is "
		    "refused)", *p, (size_t)(p - v));
	return 0;
}

/* SmokeDetector's host rule: ^([a-z0-9][-a-z0-9]*\.){2,}$ */
static int
host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* One name of an ns value: p[0..len), at byte offset off of the value. */
static int
check_host(const char *p, size_t len, size_t off, struct hl_err *err)
{
	size_t i, start, labels = 0;
	int c;

	if (p[len - 1] != '.')
		return hl_err_set(err, HL_EINVAL, "name server \"%.*s\" at "
		    "byte offset %zu does not end with a dot; SmokeDetector's "
		    "files write it \"%.*s.\"", (int)len, p, off, (int)len, p);
	if (len == 1)
		return hl_err_set(err, HL_EINVAL, "a bare '.' at byte offset "
		    "%zu is not a name server", off);
	if (len - 1 > 253)
		return hl_err_set(err, HL_EINVAL, "name server at byte offset "
		    "%zu is %zu bytes long, over 253", off, len - 1);
	for (start = 0, i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '.') {
			if (i == start)
				return hl_err_set(err, HL_EINVAL, "empty label "
				    "at byte offset %zu", off + i);
			if (i - start > 63)
				return hl_err_set(err, HL_EINVAL, "label at "
				    "byte offset %zu is %zu bytes long, over "
				    "63", off + start, i - start);
			if (p[start] == '-')
				return hl_err_set(err, HL_EINVAL, "label at "
				    "byte offset %zu starts with a hyphen",
				    off + start);
			labels++;
			start = i + 1;
		} else if (!host_char(c)) {
			if (c >= 'A' && c <= 'Z')
				return hl_err_set(err, HL_EINVAL, "'%c' at "
				    "byte offset %zu: SmokeDetector takes host "
				    "names in lower case", c, off + i);
			if (c >= 0x80)
				return hl_err_set(err, HL_EINVAL, "non-ASCII "
				    "byte 0x%02x at byte offset %zu: write "
				    "international names in punycode (xn--)",
				    (unsigned)c, off + i);
			return hl_err_set(err, HL_EINVAL, "'%c' at byte "
			    "offset %zu is not allowed in a host name", c,
			    off + i);
		}
	}
	if (labels < 2)
		return hl_err_set(err, HL_EINVAL, "name server \"%.*s\" at "
		    "byte offset %zu has one label; SmokeDetector takes two "
		    "or more (\"example.com.\")", (int)len, p, off);
	return 0;
}

static int
check_ns(const char *v, struct hl_err *err)
{
	const char *p = v, *sp;
	size_t len;
	int rc;

	for (;;) {
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (len == 0)
			return hl_err_set(err, HL_EINVAL, "empty name at byte "
			    "offset %zu: names are separated by single "
			    "spaces", (size_t)(p - v));
		if ((rc = check_host(p, len, (size_t)(p - v), err)) != 0)
			return rc;
		if (sp == NULL)
			return 0;
		p = sp + 1;
	}
}

static int
check_asn(const char *v, struct hl_err *err)
{
	uint64_t n = 0;
	size_t i;

	if ((v[0] == 'A' || v[0] == 'a') && (v[1] == 'S' || v[1] == 's'))
		return hl_err_set(err, HL_EINVAL, "write the AS number "
		    "without \"%.2s\", as in \"%s\"", v, v + 2);
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return hl_err_set(err, HL_EINVAL, "not a decimal AS "
			    "number: '%c' at byte offset %zu", v[i], i);
		if (i < 11)
			n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (v[0] == '0' && i > 1)
		return hl_err_set(err, HL_EINVAL, "AS number %s has a "
		    "leading zero", v);
	/* SmokeDetector's YAMLParserASN._validate(). */
	if (n == 0 || i > 10 || n >= 4200000000u)
		return hl_err_set(err, HL_EINVAL, "AS number %s is out of "
		    "range 1-4199999999", v);
	if (n == 23456 || (n >= 64496 && n <= 131071))
		return hl_err_set(err, HL_EINVAL, "AS number %s is not a "
		    "public AS number (23456 and 64496-131071 are reserved)",
		    v);
	return 0;
}

int
hl_validate_value(char **note, int fmt, const char *value,
    struct hl_err *err)
{
	pcre2_code *code = NULL;
	char *kn = NULL;
	size_t len;
	int rc;

	if (note != NULL)
		*note = NULL;
	if (value == NULL)
		return hl_err_set(err, HL_EINVAL, "empty");
	len = strlen(value);
	if ((rc = hl_validate_text(value, len, HL_VALIDATE_MAX_VALUE,
	    err)) != 0)
		return rc;
	switch (fmt) {
	case HL_FMT_PLAIN:
	case HL_FMT_TSV:
		if ((rc = check_line(fmt, value, len, err)) != 0 ||
		    (rc = check_quoting(value, len, err)) != 0 ||
		    (rc = check_pattern(&kn, value, len, &code, err)) != 0)
			return rc;
		if (note != NULL && kn != NULL && (*note = strdup(kn)) ==
		    NULL) {
			pcre2_code_free(code);
			free(kn);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		kept_put(value, code, kn);
		return 0;
	case HL_FMT_YAML_CIDR:
		return check_cidr(value, err);
	case HL_FMT_YAML_NS:
		return check_ns(value, err);
	case HL_FMT_YAML_ASN:
		return check_asn(value, err);
	default:
		return hl_err_set(err, HL_EINVAL, "unknown list format %d",
		    fmt);
	}
}

int
hl_validate_compile(pcre2_code **out, char **note, const char *value,
    struct hl_err *err)
{
	*out = NULL;
	if (note != NULL)
		*note = NULL;
	if (kept_take(out, note, value))
		return 0;
	return check_pattern(note, value, strlen(value), out, err);
}

int
hl_validate_list_value(char **note, const char *list, int fmt,
    const char *value, struct hl_err *err)
{
	size_t len;
	int rc;

	if (list == NULL || (strcmp(list, "blacklist-number") != 0 &&
	    strcmp(list, "watch-number") != 0) ||
	    (fmt != HL_FMT_PLAIN && fmt != HL_FMT_TSV))
		return hl_validate_value(note, fmt, value, err);
	if (note != NULL)
		*note = NULL;
	if (value == NULL)
		return hl_err_set(err, HL_EINVAL, "empty");
	len = strlen(value);
	if ((rc = hl_validate_text(value, len, HL_VALIDATE_MAX_VALUE,
	    err)) != 0)
		return rc;
	if ((rc = check_line(fmt, value, len, err)) != 0)
		return rc;
	if (strpbrk(value, "0123456789") == NULL)
		return hl_err_set(err, HL_EINVAL,
		    "a phone number needs at least one digit");
	return 0;
}

int
hl_validate_comment(const char *s, struct hl_err *err)
{
	struct hl_err e = HL_ERR_INIT;
	const char *p, *nl;
	size_t len;
	int rc = 0;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len == 0)
		rc = hl_err_set(&e, HL_EINVAL, "empty");
	else if (len > HL_VALIDATE_MAX_COMMENT)
		rc = hl_err_set(&e, HL_ETOOBIG, "%zu bytes, over %d", len,
		    HL_VALIDATE_MAX_COMMENT);
	/* Line breaks are text in a yaml comment (a block scalar). */
	for (p = s; rc == 0 && *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p && (rc = hl_validate_text(p, (size_t)(nl - p),
		    HL_VALIDATE_MAX_COMMENT, &e)) != 0)
			break;
	}
	if (rc == 0)
		return 0;
	return hl_err_set(err, rc, "comment: %s", e.msg);
}
