/*
 * proposals: the document of proposals.json (see proposals_json.h).  Pending
 * proposals only: a decided one leaves the queue, and its outcome is in
 * the change files (the "proposals" events) and, for an approval, in the
 * item's "review" member.
 */
#include <string.h>

#include "proposals_json.h"

json_t *
hl_gen_proposals(json_t *items, int64_t version)
{
	json_t *doc, *p, *kept;
	size_t i;

	if (items == NULL || (kept = json_array()) == NULL) {
		json_decref(items);
		return NULL;
	}
	json_array_foreach(items, i, p) {
		const char *state = json_string_value(json_object_get(p,
		    "state"));

		if (state != NULL && strcmp(state, "pending") == 0 &&
		    json_array_size(kept) < HL_GEN_PROPOSALS_MAX)
			json_array_append(kept, p);
	}
	json_decref(items);
	doc = json_pack("{s:I, s:I, s:o}", "version", (json_int_t)version,
	    "numItems", (json_int_t)json_array_size(kept), "items", kept);
	return doc;
}
