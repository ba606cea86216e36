/*
 * validate: what a list value, a pattern or a comment must look like
 * before Helios stores it.
 *
 * Every value that reaches the store passes through here, whether it comes
 * from the HTTP API or from an import of SmokeDetector's files, so that
 * the published files stay byte-compatible with what SmokeDetector reads:
 * one item a line, UTF-8, no control characters, and a pattern that
 * SmokeDetector's regular-expression engine (the Python `regex' module)
 * can compile.
 *
 * Patterns are compiled with PCRE2, which is close to, but not the same
 * as, the Python regex module.  Where a pattern fails under PCRE2 only
 * because it uses something the regex module has and PCRE2 lacks
 * (variable-length lookbehind, the (?w) (?V1) (?a) ... flags, \p{InBlock}
 * and other property names, \N{NAME}, \uXXXX, \m and \M, the named lists
 * \L<name> that SmokeDetector fills with city=), the construct
 * is replaced with a PCRE2 equivalent of the same shape and the rest of
 * the pattern is compiled again; the value is accepted with a note that
 * says what could not be checked.
 *
 * Every function is thread-safe.  The one state kept between calls is
 * per thread: the code of the last pattern hl_validate_value() accepted,
 * which the next hl_validate_compile() of the same value on that thread
 * takes instead of compiling it again (a write validates, then checks,
 * the same pattern).
 */
#ifndef HL_VALIDATE_H
#define HL_VALIDATE_H

#include <stddef.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "err.h"

/*
 * The largest value, in bytes.  SmokeDetector's longest real patterns are
 * a few hundred bytes (the longest line of the sampled files is 273); 4096
 * leaves an order of magnitude of room while bounding the cost of a PCRE2
 * compile, the size of a request body and the length of a line in the
 * published text files, which SmokeDetector reads into memory whole.
 */
#define HL_VALIDATE_MAX_VALUE	4096
/* The largest comment of a yaml item, in bytes. */
#define HL_VALIDATE_MAX_COMMENT	1024

/*
 * Checks that s (len bytes, need not be NUL-terminated) is non-empty, at
 * most max bytes, valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) and free of control characters: all of C0 (so no TAB,
 * CR or LF), DEL, and C1 (U+0080 to U+009F).
 * Returns 0, or HL_EINVAL (empty, bad UTF-8, control character) or
 * HL_ETOOBIG (over max) with a message in err naming the problem and its
 * byte offset.
 */
int	hl_validate_text(const char *s, size_t len, size_t max,
	    struct hl_err *err);

/*
 * Checks value (a C string) for a list of format fmt (enum hl_fmt in
 * item.h).  All formats first pass hl_validate_text with
 * HL_VALIDATE_MAX_VALUE.  Then:
 *
 *  HL_FMT_PLAIN, HL_FMT_TSV: a regular expression in Python regex module
 *	syntax.  It is compiled with PCRE2 (UTF, caseless as SmokeDetector
 *	matches, UCP, duplicate group names allowed as the regex module
 *	allows them, \C forbidden as the regex module forbids it); \Q and
 *	\E, PCRE quoting that the regex module calls bad escapes, are
 *	rejected before PCRE2 sees them.  It must not end with whitespace
 *	(SmokeDetector rstrips lines as it reads them), start with '#' (its
 *	plain parser skips such a line, its tsv parser such a pattern) or
 *	be only whitespace.  (TAB and newlines, which would
 *	break a line or a tsv field, are control characters.)
 * The yaml values follow SmokeDetector's own _validate() (blacklists.py):
 *  HL_FMT_YAML_CIDR: a dotted IPv4 address, four octets 0-255 without
 *	leading zeros, the first not 0, no prefix length.
 *  HL_FMT_YAML_NS: one or more host names separated by single spaces, each
 *	matching ^([a-z0-9][-a-z0-9]*\.){2,}$ (lower case, two labels or
 *	more, ending with a dot: "ns1.example.com."), labels at most 63
 *	bytes, at most 253 bytes without the final dot.
 *  HL_FMT_YAML_ASN: a public AS number: decimal, 1..4199999999, not 23456
 *	nor 64496..131071; no sign, no leading zeros, no "AS" prefix.
 *
 * note may be NULL.  Otherwise *note is set to NULL, or, when a pattern
 * is accepted although PCRE2 could not check all of it (see the top of
 * this file), to a malloc'd message saying which constructs were taken on
 * trust; the caller frees it.
 * Returns 0 when the value is acceptable.  On failure *note is NULL and
 * the return is HL_EINVAL (with PCRE2's message and the byte offset for a
 * pattern that does not compile), HL_ETOOBIG, or HL_ENOMEM.
 */
int	hl_validate_value(char **note, int fmt, const char *value,
	    struct hl_err *err);

/*
 * As hl_validate_value(), but knows that some lists of the pattern formats
 * hold literal text rather than regular expressions: the phone number
 * lists ("blacklist-number", "watch-number"), whose entries, such as
 * "(+27)83 880 8170", SmokeDetector normalises and compares as numbers.
 * Their values must pass the same line rules as a pattern of their format
 * and hold at least one digit, but are not compiled.  Any other list id
 * is checked by hl_validate_value(note, fmt, value, err).  Same returns.
 */
int	hl_validate_list_value(char **note, const char *list, int fmt,
	    const char *value, struct hl_err *err);

/*
 * Compiles value, a pattern, as hl_validate_value does (same options,
 * same stand-ins for the regex module's own constructs; *note says which,
 * as there), without the line rules; or, when this thread's last
 * hl_validate_value() accepted the same value, hands over the code it
 * compiled.  On success *out is the PCRE2 code,
 * owned by the caller (pcre2_code_free).  Returns 0, HL_EINVAL (with
 * PCRE2's message) or HL_ENOMEM; *out and *note are then NULL.
 */
int	hl_validate_compile(pcre2_code **out, char **note, const char *value,
	    struct hl_err *err);

/*
 * Checks the comment of a yaml item: at most HL_VALIDATE_MAX_COMMENT
 * bytes, and each of its lines passes hl_validate_text: line breaks ('\n')
 * are allowed, as a yaml block scalar gives them (a folded comment ends
 * in one), other control characters are not.  NULL means "no comment" and
 * is accepted.  Returns 0, HL_EINVAL or HL_ETOOBIG, with a
 * message starting "comment: ".
 */
int	hl_validate_comment(const char *s, struct hl_err *err);

#endif
