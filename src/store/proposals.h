/*
 * proposals: writes that wait for review, kept in the store beside the
 * lists (table proposals, schema/0003-review.sql).
 *
 * A proposal is made by a write to a list under review by a token without
 * approve, or by any write of a propose token.  It is pending until one
 * decision ends it:
 *
 *   pending --approve--> approved   the item is added to (or, for a
 *                                   proposed removal, deleted from) its list
 *           --convert--> converted  the item is added to another list
 *           --reject---> rejected   nothing is published (reason required)
 *           --withdraw-> withdrawn  by its requester
 *
 * Each step is one transaction with its audit events: making a proposal
 * appends an event {op "add", list "proposals"} whose record is the
 * proposal's JSON; a decision appends {op "delete", list "proposals"}
 * with the decided proposal, after the list's own event when an item was
 * published.  So the log shows who proposed, who decided and why, and the
 * version moves so that proposals.json is published again.
 *
 * The item an approval publishes carries the review in its "review" member
 * (item.h): {"proposal", "requester", "requester_token", "reason",
 * "evidence", "approver", "comment", and "converted_from" for a
 * conversion}.
 */
#ifndef HL_PROPOSALS_H
#define HL_PROPOSALS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "item.h"

struct hl_store;

struct hl_proposal {
	int64_t	 id;
	char	*list;
	char	*op;		/* "add" or "delete" */
	char	*value;
	char	*comment;	/* yaml lists */
	int	 disabled;
	int	 pass;
	int	 ns_seq;
	char	*requester;	/* the person, as the client names them */
	int64_t	 token_id;	/* the token that sent it */
	char	*token_name;
	char	*reason;	/* NULL when none */
	char	*evidence;	/* JSON text or NULL */
	char	*checks;	/* JSON text */
	char	*state;		/* pending approved rejected converted
				   withdrawn */
	int64_t	 created_at;
	int64_t	 decided_at;
	char	*decided_by;
	int64_t	 decided_token_id;
	char	*decision;	/* the reviewer's comment or reason */
	char	*target;	/* list the item went to */
	int64_t	 item_id;
};

void	hl_proposal_clear(struct hl_proposal *p);
void	hl_proposals_free(struct hl_proposal *v, size_t n);
/* The proposal's JSON (a new reference), or NULL when out of memory. */
json_t	*hl_proposal_json(const struct hl_proposal *p);

/*
 * Records in (list, op, value, comment, disabled, pass, ns_seq, requester,
 * reason, evidence, checks; token from who) as pending.  *out is the
 * stored proposal and *version the version of its event.  HL_EEXISTS when
 * the same change of the same list is already pending (*out is that one),
 * HL_ENOTFOUND for an unknown list.
 */
int	hl_store_proposal_add(struct hl_proposal *out, int64_t *version,
	    struct hl_store *st, const struct hl_proposal *in,
	    const struct hl_actor *who, struct hl_err *err);

/* One proposal.  HL_ENOTFOUND for an unknown id. */
int	hl_store_proposal_get(struct hl_proposal *out, struct hl_store *st,
	    int64_t id, struct hl_err *err);

/*
 * Proposals in a state (NULL: all) of a list (NULL: all), oldest first,
 * at most limit of them.
 */
int	hl_store_proposals(struct hl_proposal **out, size_t *n,
	    struct hl_store *st, const char *state, const char *list,
	    size_t limit, struct hl_err *err);

/* Version of the last proposal event (0 if never). */
int64_t	hl_store_proposals_version(struct hl_store *st);

/*
 * Ends pending proposal id with state ("approved", "converted",
 * "rejected" or "withdrawn"), by decider (the person; NULL: who->name),
 * with note (the reviewer's comment or reason; may be NULL).  For
 * "approved" the change is made to the proposal's list; for "converted"
 * the value is added to target instead.  *out is the decided proposal,
 * *item the item added or removed (id 0 when none), *version the last
 * version written.  HL_ENOTFOUND for an unknown id or target list,
 * HL_ECONFLICT when it is not pending, HL_EEXISTS when the list already
 * holds the value (or, for a removal, HL_ENOTFOUND when it does not); on
 * error nothing changes.
 */
int	hl_store_proposal_decide(struct hl_proposal *out, struct hl_item *item,
	    int64_t *version, struct hl_store *st, int64_t id,
	    const char *state, const char *target, const char *decider,
	    const char *note, const struct hl_actor *who,
	    struct hl_err *err);

#endif
