/*
 * testroute: POST /test, "Is this caught?" answered with PCRE2.  Public and
 * rate-limited per client address, in memory.
 *
 *   POST /test  {"text": "call +1 540 227 7725 at essayssos.com"}
 *   200 {"items": [{"list": "watch-keyword", "id": 1,
 *                   "pattern": "essayssos\\.com", "match": "essayssos.com"}],
 *        "numItems": 1, "unchecked": [{"list", "id", "pattern", "reason"}],
 *        "lists": ["blacklist-keyword", ...], "message": "..."}
 *
 * Every pattern of every regex list (keywords, websites, user names; not
 * numbers, CIDRs, name servers or ASNs) is compiled with the options
 * src/validate.c checks patterns with (UTF, caseless, UCP) and searched
 * anywhere in the text.  A pattern PCRE2 cannot compile (it uses a
 * construct of Python's regex module that PCRE2 lacks) is listed in
 * "unchecked" with PCRE2's message.  Compiled patterns are cached per
 * list and made again when the list's version moves.
 *
 * Errors: 400 (not JSON, no "text", not UTF-8 or a control character),
 * 413 (text over HL_TEST_MAX_TEXT bytes), 415, 429 with Retry-After
 * seconds in the message (over HL_TEST_BURST requests at once, refilled
 * one every HL_TEST_REFILL seconds, per address).
 */
#ifndef HL_TESTROUTE_H
#define HL_TESTROUTE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct hl_store;
struct hl_testroute;

#define HL_TEST_MAX_TEXT	8192
#define HL_TEST_BURST		20
#define HL_TEST_REFILL		3	/* seconds per request regained */
#define HL_TEST_CLIENTS		4096	/* addresses remembered */

int	hl_testroute_new(struct hl_testroute **out, struct hl_err *err);
void	hl_testroute_free(struct hl_testroute *t);

/*
 * Answers one POST /test: sets *status and writes the JSON envelope into
 * body.  remote is the client's address ("" or NULL: one shared bucket).
 * Returns 0, or HL_ENOMEM (the caller sends a bare 500).  Thread-safe.
 */
int	hl_testroute_answer(unsigned *status, struct hl_buf *body,
	    struct hl_testroute *t, struct hl_store *st, const char *remote,
	    const char *content_type, const char *req, size_t len);

#endif
