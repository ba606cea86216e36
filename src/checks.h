/*
 * checks: the automatic checks run on every proposed and every direct
 * write to a list, before anything is stored, on PCRE2.
 *
 * For a pattern list (plain and tsv, but the phone number lists):
 *
 *   compile       compiles under PCRE2 with SmokeDetector's options, and
 *                 which regex-module-only constructs it uses (validate.h)
 *   covered       an existing entry of the list already covers it: the
 *                 same value (the list's duplicate key), or an existing
 *                 pattern that matches the new value's text
 *   broad         matches the empty string, or most of a fixed set of
 *                 unrelated probe texts (it would catch almost anything)
 *   ham           how many lines of the known-good corpus (config
 *                 ham_corpus: legitimate text, one document a line) match
 *   backtracking  matched against a fixed set of adversarial inputs (runs
 *                 of one character, and of each character of the pattern,
 *                 ended by one that fails the match) under PCRE2 match and
 *                 depth limits; reports the work (PCRE2 callout steps,
 *                 without start-up optimizations, which Python's engine
 *                 lacks) of the worst input; over the limit either way
 *                 is a gate
 *
 * For a CIDR list, broad is a prefix shorter than /8 (IPv4) or /16
 * (IPv6), and covered an existing network that holds the new one.  Other
 * lists are checked for duplicates only.
 *
 * broad and backtracking are publish gates: a write that fails one is
 * refused (422) unless an admin forces it with a reason.
 *
 * Two levels: HL_CHECKS_GATES runs compile, broad and backtracking (the
 * candidate alone: microseconds, no lock, so they run on every write);
 * HL_CHECKS_FULL adds covered and ham, which read the whole list and the
 * corpus (tens of milliseconds at SmokeDetector's real size, one at a
 * time).  Proposals get the full checks; a direct write gets them when it
 * asks ("checks": "full") or the config says write_checks = full.
 *
 * The result is one JSON object, stored with a proposal and sent with
 * every answer to a write:
 *
 *   {"compile": {"ok": true, "regex_only": null},
 *    "covered": {"ok": false, "by": [{"id": 7, "value": "spam", "how":
 *                "matches"}], "checked": 40000, "skipped": 0},
 *    "broad": {"ok": true, "matches_empty": false, "probes": 16,
 *              "probes_matched": 0},
 *    "ham": {"ok": true, "lines": 120000, "matched": 3, "examples": [...]},
 *    "backtracking": {"ok": true, "work": 812, "limit": 200000,
 *                     "worst_input": "aaaa...!"},
 *    "gates": [], "level": "full", "ms": 41.2}
 *
 * A struct hl_checks keeps the corpus and, per list, the compiled patterns
 * of its items, compiled again only when the list's version moves.  It is
 * safe to share between threads (one covered check runs at a time; the
 * others run in parallel).
 */
#ifndef HL_CHECKS_H
#define HL_CHECKS_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "item.h"

struct hl_store;
struct hl_checks;

enum hl_checks_level {
	HL_CHECKS_GATES,	/* compile, broad, backtracking */
	HL_CHECKS_FULL		/* and covered, ham */
};

/* Backtracking gate: PCRE2 match and depth limits per adversarial input. */
#define HL_CHECKS_MATCH_LIMIT	200000
#define HL_CHECKS_DEPTH_LIMIT	5000
/* broad: share of the probe texts (percent) that makes a pattern broad. */
#define HL_CHECKS_BROAD_SHARE	75
/* The largest ham corpus read, in bytes. */
#define HL_CHECKS_HAM_MAX	(256 * 1024 * 1024)

/*
 * ham_corpus may be NULL (no corpus).  HL_EIO when it can't be read,
 * HL_ETOOBIG over HL_CHECKS_HAM_MAX.  On success *out is owned by the
 * caller; free with hl_checks_free().
 */
int	hl_checks_new(struct hl_checks **out, const char *ham_corpus,
	    struct hl_err *err);
void	hl_checks_free(struct hl_checks *ck);

/*
 * Checks value (already validated for list l) at level, the full level
 * against l's current items in st.  *out is the result object above (a
 * new reference); *gate is NULL, or the name of the first publish gate
 * the value fails ("broad", "backtracking").  Returns 0, or HL_ENOMEM /
 * HL_EIO (from the store).
 */
int	hl_checks_run(json_t **out, const char **gate, struct hl_checks *ck,
	    struct hl_store *st, const struct hl_list *l, const char *value,
	    enum hl_checks_level level, struct hl_err *err);

/* Lines in the ham corpus (0 without one). */
size_t	hl_checks_ham_lines(const struct hl_checks *ck);

#endif
