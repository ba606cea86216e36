/*
 * proposals_json: proposals.json, the public review queue in the published
 * tree.  It lists the pending proposals, oldest first, each in the JSON
 * shape of GET /proposals/{id} (value, requester, reason, evidence and
 * the checks), under the version of the last proposal event:
 *
 *   {"version": 42, "numItems": 1, "items": [{"id": 7, "list":
 *    "blacklist-website", "op": "add", "value": "spam\\.example",
 *    "requester": "tripleee", "reason": "...", "evidence": {"links":
 *    [...], "tp": 3, "fp": 0, "naa": 0}, "checks": {...}, "state":
 *    "pending", ...}]}
 *
 * The rows are handed in (the publisher reads them from the store).
 */
#ifndef HL_PROPOSALS_JSON_H
#define HL_PROPOSALS_JSON_H

#include <stdint.h>

#include <jansson.h>

/* The path of the file in the tree. */
#define HL_GEN_PROPOSALS_PATH	"proposals.json"
/* The most proposals the file lists (the oldest first). */
#define HL_GEN_PROPOSALS_MAX	10000

/*
 * The document for items (an array of proposal objects, stolen) at
 * version.  Returns a new reference, or NULL when out of memory.
 */
json_t	*hl_gen_proposals(json_t *items, int64_t version);

#endif
