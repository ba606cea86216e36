/*
 * review: the routes of the review queue (/proposals...) and the rules
 * that turn a list write into a proposal, over the store's proposals
 * (src/store/proposals.h) and the checks (checks.h).  api.c routes to it
 * and sends what it answers; the envelope and the status table stay
 * there.
 *
 * Who may do what:
 *
 *   POST/DELETE /blacklists/{id}  write: publishes on a direct list; on a
 *                                 review list only with approve as well,
 *                                 else 202 with a proposal.  propose (and
 *                                 not write): always 202 with a proposal.
 *   GET /proposals[/{id}]         anyone (the queue is public)
 *   POST /proposals/{id}/approve  approve; not the requester (same token,
 *        /convert                 or "by" naming the requester) unless the
 *                                 config's self_approve is yes
 *   POST /proposals/{id}/reject   approve; "reason" required
 *   POST /proposals/{id}/withdraw the token that proposed it, or admin
 *
 * admin holds every scope.  A token limited to some lists (tokens.lists)
 * gets 403 on any other list, for a write, a proposal or a decision (a
 * conversion needs both lists).  Proposing to a direct list is refused
 * (409) for a token that could write it directly: only a propose-only
 * token proposes there.
 *
 * The client names the person behind a request ("requester" when
 * proposing, "by" when deciding: the chat user a bot acts for); without
 * one, the token's name stands in.  A proposal's body may also carry
 * "reason" and "evidence": {"links": [URL, ...], "tp": N, "fp": N,
 * "naa": N}.  A write that fails a publish gate of the checks is 422
 * unless an admin token sends "force": "<reason>".
 */
#ifndef HL_REVIEW_H
#define HL_REVIEW_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "item.h"

struct hl_store;
struct hl_checks;

struct hl_review_opts {
	struct hl_checks *checks;	/* NULL: no checks, no gates */
	int		  self_approve;
	int		  full_on_write;	/* write_checks = full */
};

/* Longest requester, reason and evidence link, in bytes. */
#define HL_REVIEW_MAX_NAME	100
#define HL_REVIEW_MAX_REASON	2000
#define HL_REVIEW_MAX_LINK	1000
#define HL_REVIEW_MAX_LINKS	20
/* GET /proposals: default and largest page. */
#define HL_REVIEW_LIMIT		100
#define HL_REVIEW_LIMIT_MAX	1000

/* What a review call answers: api.c sends it in its envelope. */
struct hl_review_reply {
	unsigned	 status;
	const char	*code;		/* error code, NULL on success */
	char		 msg[512];
	json_t		*items;		/* owned; NULL for none */
	json_t		*extra;		/* owned; extra top-level members */
	int64_t		 version;	/* > 0 after a committed change */
};

/* A request to the review routes, as api.c decoded it. */
struct hl_review_req {
	struct hl_store			*st;
	const struct hl_review_opts	*o;
	const struct hl_token		*tok;	/* NULL: no token sent */
	int				 post;	/* else GET or HEAD */
	const char			*id;	/* segment after proposals/ */
	const char			*action; /* approve, reject, ... */
	const char			*query;
	json_t				*body;	/* NULL when none */
};

/* Answers GET /proposals, GET /proposals/{id}, POST .../{action}. */
void	hl_review_handle(struct hl_review_reply *out,
	    const struct hl_review_req *r);

/* 1 when tok may act on list (its lists limit, if any, names it). */
int	hl_review_token_allows(const struct hl_token *tok, const char *list);

/*
 * Decides what a list write by tok becomes: 0 direct, 1 a proposal, or
 * -1 refused (out filled in: 403).
 */
int	hl_review_route_write(struct hl_review_reply *out,
	    const struct hl_token *tok, const struct hl_list *l);

/*
 * Runs the checks of value for l (no-op without checks: *checks NULL):
 * the full checks for a proposal (propose 1), for a direct write that asks
 * ("checks": "full" in body) or when the options say so; else the gates.
 * Refuses (returns -1, out filled in: 422 with the checks) a value that
 * fails a publish gate, unless body holds "force": "<reason>" and tok is
 * admin; then *forced is the reason (borrowed from body).  -1 with out
 * filled in on other errors too.
 */
int	hl_review_check(struct hl_review_reply *out, json_t **checks,
	    const char **forced, const struct hl_review_req *r,
	    const struct hl_list *l, const char *value, int propose);

/*
 * Makes a proposal of op ("add" or "delete") with in's value and yaml
 * fields, the requester, reason and evidence from r->body, and checks
 * (may be NULL).  Fills out: 202 with the proposal, or the refusal.
 */
void	hl_review_propose(struct hl_review_reply *out,
	    const struct hl_review_req *r, const struct hl_list *l,
	    const char *op, const struct hl_item *in, json_t *checks);

void	hl_review_reply_clear(struct hl_review_reply *out);

/*
 * The mass-change gate: 1 when removing removed items from a list of
 * before items must wait for an admin's confirmation.  That is a bulk
 * removal (more than one item) that takes more than share percent of the
 * list, or more than max items, or all of it.  Removing a single item is
 * never held, so that an ordinary DELETE from a small list (one of 19 is
 * over 5%) goes through.
 */
int	hl_review_mass_held(int64_t before, int64_t removed, int64_t share,
	    int64_t max);

/*
 * A token's lifetime: "90d", "12h", "30m", "2w", "3600s" or "3600"
 * (seconds), at most 100 years.  0 with *out in seconds, or HL_EINVAL.
 */
int	hl_review_duration(int64_t *out, const char *s);

#endif
