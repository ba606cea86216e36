/*
 * review: proposals and their decisions over HTTP (see review.h for who
 * may do what; proposals.h for the states).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "checks.h"
#include "config.h"
#include "proposals.h"
#include "review.h"
#include "store.h"
#include "validate.h"

static void
answer(struct hl_review_reply *out, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
answer(struct hl_review_reply *out, unsigned status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	out->code = code;
	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
}

/* A store error, in the API's terms (the table of api.c). */
static void
store_fail(struct hl_review_reply *out, const struct hl_err *err, int rc)
{
	switch (rc) {
	case HL_ENOTFOUND:
		answer(out, 404, "not_found", "%s", err->msg);
		break;
	case HL_EEXISTS:
		answer(out, 409, "duplicate", "%s", err->msg);
		break;
	case HL_ECONFLICT:
		answer(out, 409, "conflict", "%s", err->msg);
		break;
	case HL_EINVAL:
		answer(out, 400, "invalid", "%s", err->msg);
		break;
	case HL_EBUSY:
		answer(out, 503, "busy", "the store is busy; try again");
		break;
	default:
		answer(out, 500, "internal", "internal error");
	}
}

void
hl_review_reply_clear(struct hl_review_reply *out)
{
	json_decref(out->items);
	json_decref(out->extra);
	memset(out, 0, sizeof(*out));
}

static json_t *
one(json_t *o)
{
	json_t *a = json_array();

	if (a != NULL && o != NULL)
		json_array_append_new(a, o);
	else
		json_decref(o);
	return a;
}

int
hl_review_token_allows(const struct hl_token *tok, const char *list)
{
	return tok->lists == NULL || hl_config_list_match(tok->lists, list);
}

static int
grants(const struct hl_token *tok, unsigned need)
{
	return (tok->scopes & HL_SCOPE_ADMIN) || (tok->scopes & need) == need;
}

int
hl_review_route_write(struct hl_review_reply *out,
    const struct hl_token *tok, const struct hl_list *l)
{
	if (!grants(tok, HL_SCOPE_WRITE) && !grants(tok, HL_SCOPE_PROPOSE)) {
		answer(out, 403, "forbidden", "this token has neither the"
		    " write nor the propose scope");
		return -1;
	}
	if (!hl_review_token_allows(tok, l->id)) {
		answer(out, 403, "forbidden", "this token is limited to"
		    " lists %s", tok->lists);
		return -1;
	}
	if (!grants(tok, HL_SCOPE_WRITE))
		return 1;
	return l->policy == HL_POLICY_REVIEW &&
	    !grants(tok, HL_SCOPE_APPROVE);
}

/*
 * An optional text member: 0 with *out (borrowed; NULL when absent), or
 * -1 with out filled in.
 */
static int
text(struct hl_review_reply *out, json_t *body, const char *key,
    size_t max, int required, const char **v)
{
	struct hl_err err = HL_ERR_INIT;
	json_t *j = json_object_get(body, key);
	int rc;

	*v = NULL;
	if (j == NULL || json_is_null(j)) {
		if (!required)
			return 0;
		answer(out, 400, "missing_field", "'%s' is required", key);
		return -1;
	}
	if (!json_is_string(j)) {
		answer(out, 400, "wrong_type", "'%s' must be a string", key);
		return -1;
	}
	*v = json_string_value(j);
	if ((rc = hl_validate_text(*v, strlen(*v), max, &err)) != 0) {
		answer(out, rc == HL_ETOOBIG ? 413 : 400, rc == HL_ETOOBIG ?
		    "too_large" : "invalid", "%s: %s", key, err.msg);
		return -1;
	}
	return 0;
}

/*
 * The evidence member, checked and rebuilt with only its known keys:
 * {"links": [http(s) URLs], "tp", "fp", "naa": counts}.  *out NULL when
 * absent.  -1 with out filled in.
 */
static int
evidence(struct hl_review_reply *out, json_t *body, char **ev)
{
	static const char *const counts[] = { "tp", "fp", "naa" };
	struct hl_err err = HL_ERR_INIT;
	json_t *j = json_object_get(body, "evidence"), *o, *links, *v, *e;
	const char *s;
	size_t i;

	*ev = NULL;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_object(j)) {
		answer(out, 400, "wrong_type", "'evidence' must be an object"
		    " {links, tp, fp, naa}");
		return -1;
	}
	if ((o = json_object()) == NULL || (links = json_array()) == NULL) {
		json_decref(o);
		answer(out, 500, "internal", "out of memory");
		return -1;
	}
	json_object_set_new(o, "links", links);
	v = json_object_get(j, "links");
	if (v != NULL && (!json_is_array(v) ||
	    json_array_size(v) > HL_REVIEW_MAX_LINKS)) {
		answer(out, 400, "invalid", "evidence.links must be an array"
		    " of at most %d URLs", HL_REVIEW_MAX_LINKS);
		goto fail;
	}
	json_array_foreach(v, i, e) {
		s = json_string_value(e);
		if (s == NULL || (strncmp(s, "https://", 8) != 0 &&
		    strncmp(s, "http://", 7) != 0) ||
		    hl_validate_text(s, strlen(s), HL_REVIEW_MAX_LINK,
		    &err) != 0) {
			answer(out, 400, "invalid", "evidence.links[%zu] must"
			    " be an http(s) URL of at most %d bytes", i,
			    HL_REVIEW_MAX_LINK);
			goto fail;
		}
		json_array_append(links, e);
	}
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		v = json_object_get(j, counts[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			answer(out, 400, "invalid", "evidence.%s must be a"
			    " count (an integer >= 0)", counts[i]);
			goto fail;
		}
		json_object_set(o, counts[i], v);
	}
	*ev = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (*ev == NULL) {
		answer(out, 500, "internal", "out of memory");
		return -1;
	}
	return 0;
fail:
	json_decref(o);
	return -1;
}

int
hl_review_check(struct hl_review_reply *out, json_t **checks,
    const char **forced, const struct hl_review_req *r,
    const struct hl_list *l, const char *value, int propose)
{
	struct hl_err err = HL_ERR_INIT;
	const char *gate = NULL, *force = NULL, *want = NULL;
	enum hl_checks_level level = HL_CHECKS_GATES;
	int rc;

	*checks = NULL;
	*forced = NULL;
	if (r->o == NULL || r->o->checks == NULL)
		return 0;
	if (text(out, r->body, "force", HL_REVIEW_MAX_REASON, 0, &force) != 0)
		return -1;
	if (force != NULL && !(r->tok->scopes & HL_SCOPE_ADMIN)) {
		answer(out, 403, "forbidden", "only an admin token may force"
		    " a write past the checks");
		return -1;
	}
	if (text(out, r->body, "checks", 10, 0, &want) != 0)
		return -1;
	if (want != NULL && strcmp(want, "full") != 0 &&
	    strcmp(want, "gates") != 0) {
		answer(out, 400, "invalid", "checks: want \"full\" or"
		    " \"gates\"");
		return -1;
	}
	if (propose || r->o->full_on_write || (want != NULL &&
	    strcmp(want, "full") == 0))
		level = HL_CHECKS_FULL;
	if ((rc = hl_checks_run(checks, &gate, r->o->checks, r->st, l, value,
	    level, &err)) != 0) {
		store_fail(out, &err, rc);
		return -1;
	}
	if (gate == NULL)
		return 0;
	if (force != NULL) {
		*forced = force;
		return 0;
	}
	answer(out, 422, "failed_check", "refused by the %s check; an admin"
	    " may force it with \"force\": \"<reason>\"", gate);
	out->extra = json_pack("{s:O}", "checks", *checks);
	json_decref(*checks);
	*checks = NULL;
	return -1;
}

void
hl_review_propose(struct hl_review_reply *out, const struct hl_review_req *r,
    const struct hl_list *l, const char *op, const struct hl_item *in,
    json_t *checks)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal p = { 0 }, got = { 0 };
	struct hl_actor who = { .token_id = r->tok->id, .name = r->tok->name };
	const char *requester, *reason;
	char *ev = NULL, *ck = NULL;
	int64_t version = 0;
	int rc;

	if (text(out, r->body, "requester", HL_REVIEW_MAX_NAME, 0,
	    &requester) != 0 || text(out, r->body, "reason",
	    HL_REVIEW_MAX_REASON, 0, &reason) != 0 ||
	    evidence(out, r->body, &ev) != 0)
		goto done;
	if (checks != NULL && (ck = json_dumps(checks, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		answer(out, 500, "internal", "out of memory");
		goto done;
	}
	p.list = l->id;
	p.op = (char *)op;
	p.value = in->value;
	p.comment = in->comment;
	p.disabled = in->disabled;
	p.pass = in->pass;
	p.ns_seq = in->ns_seq;
	p.requester = (char *)(requester ? requester : r->tok->name);
	p.reason = (char *)reason;
	p.evidence = ev;
	p.checks = ck;
	rc = hl_store_proposal_add(&got, &version, r->st, &p, &who, &err);
	if (rc == HL_EEXISTS) {
		answer(out, 409, "duplicate", "%s", err.msg);
		out->items = one(hl_proposal_json(&got));
		goto done;
	}
	if (rc != 0) {
		store_fail(out, &err, rc);
		goto done;
	}
	out->version = version;
	answer(out, 202, NULL, "proposal %lld: %s of %s waits for review",
	    (long long)got.id, strcmp(op, "add") == 0 ? "addition" :
	    "removal", l->id);
	out->items = one(hl_proposal_json(&got));
	out->extra = json_pack("{s:I, s:I}", "version", (json_int_t)version,
	    "proposal", (json_int_t)got.id);
done:
	hl_proposal_clear(&got);
	free(ev);
	free(ck);
}

static int
parse_id(int64_t *id, const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v <= 0)
		return -1;
	*id = v;
	return 0;
}

static void
list_proposals(struct hl_review_reply *out, const struct hl_review_req *r)
{
	static const char *const states[] = { "pending", "approved",
	    "rejected", "converted", "withdrawn", "all" };
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal *v = NULL;
	char *state = NULL, *list = NULL, *lim = NULL, *end;
	const char *st = "pending";
	long long limit = HL_REVIEW_LIMIT;
	size_t i, n = 0;
	int rc;

	if ((rc = hl_api_query_get(&state, r->query, "state")) == HL_EINVAL ||
	    rc == HL_ENOMEM ||
	    (rc = hl_api_query_get(&list, r->query, "list")) == HL_EINVAL ||
	    rc == HL_ENOMEM ||
	    (rc = hl_api_query_get(&lim, r->query, "limit")) == HL_EINVAL ||
	    rc == HL_ENOMEM) {
		if (rc == HL_ENOMEM)
			answer(out, 500, "internal", "out of memory");
		else
			answer(out, 400, "invalid", "bad %%-escape or NUL in"
			    " the query");
		goto out;
	}
	if (state != NULL) {
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (strcmp(state, states[i]) == 0)
				break;
		if (i < sizeof(states) / sizeof(states[0]))
			st = states[i];
		else {
			answer(out, 400, "invalid", "state: want pending,"
			    " approved, rejected, converted, withdrawn or"
			    " all");
			goto out;
		}
	}
	if (lim != NULL) {
		errno = 0;
		limit = strtoll(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || errno != 0 ||
		    limit < 1 || limit > HL_REVIEW_LIMIT_MAX) {
			answer(out, 400, "invalid", "limit: want 1 to %d",
			    HL_REVIEW_LIMIT_MAX);
			goto out;
		}
	}
	rc = hl_store_proposals(&v, &n, r->st, strcmp(st, "all") == 0 ?
	    NULL : st, list, (size_t)limit, &err);
	if (rc != 0) {
		store_fail(out, &err, rc);
		goto out;
	}
	if ((out->items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(out->items,
			    hl_proposal_json(&v[i]));
	hl_proposals_free(v, n);
	answer(out, 200, NULL, "%zu %s proposal(s)", n, st);
	out->extra = json_pack("{s:I}", "version",
	    (json_int_t)hl_store_proposals_version(r->st));
out:
	free(state);
	free(list);
	free(lim);
}

/* The decisions. */
static void
decide(struct hl_review_reply *out, const struct hl_review_req *r,
    int64_t id)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal p = { 0 }, done = { 0 };
	struct hl_item item = { 0 };
	struct hl_list tl = { 0 };
	struct hl_actor who;
	const char *a = r->action, *by = NULL, *note = NULL, *target = NULL;
	const char *state;
	int64_t version = 0;
	int rc, self;

	if (r->tok == NULL) {
		answer(out, 401, "unauthorized", "a token is required");
		return;
	}
	if (strcmp(a, "approve") == 0)
		state = "approved";
	else if (strcmp(a, "reject") == 0)
		state = "rejected";
	else if (strcmp(a, "convert") == 0)
		state = "converted";
	else if (strcmp(a, "withdraw") == 0)
		state = "withdrawn";
	else {
		answer(out, 404, "not_found", "no such action; want approve,"
		    " reject, convert or withdraw");
		return;
	}
	if (text(out, r->body, "by", HL_REVIEW_MAX_NAME, 0, &by) != 0 ||
	    text(out, r->body, strcmp(a, "reject") == 0 ? "reason" :
	    "comment", HL_REVIEW_MAX_REASON, strcmp(a, "reject") == 0,
	    &note) != 0)
		return;
	if (strcmp(a, "withdraw") == 0 && note == NULL &&
	    text(out, r->body, "reason", HL_REVIEW_MAX_REASON, 0, &note) != 0)
		return;
	if (strcmp(a, "convert") == 0 &&
	    text(out, r->body, "list", 64, 1, &target) != 0)
		return;
	if ((rc = hl_store_proposal_get(&p, r->st, id, &err)) != 0) {
		store_fail(out, &err, rc);
		return;
	}
	if (strcmp(a, "withdraw") == 0) {
		if (r->tok->id != p.token_id &&
		    !(r->tok->scopes & HL_SCOPE_ADMIN)) {
			answer(out, 403, "forbidden", "only the requester's"
			    " token (or an admin) may withdraw a proposal");
			goto out;
		}
		if (by != NULL && strcasecmp(by, p.requester) != 0 &&
		    !(r->tok->scopes & HL_SCOPE_ADMIN)) {
			answer(out, 403, "forbidden", "only %s may withdraw"
			    " this proposal", p.requester);
			goto out;
		}
	} else {
		if (!grants(r->tok, HL_SCOPE_APPROVE)) {
			answer(out, 403, "forbidden", "deciding on a proposal"
			    " needs the approve scope");
			goto out;
		}
		if (!hl_review_token_allows(r->tok, p.list) ||
		    (target != NULL &&
		    !hl_review_token_allows(r->tok, target))) {
			answer(out, 403, "forbidden", "this token is limited"
			    " to lists %s", r->tok->lists);
			goto out;
		}
		self = r->tok->id == p.token_id ||
		    strcasecmp(by ? by : r->tok->name, p.requester) == 0;
		if (self && strcmp(a, "reject") != 0 &&
		    !(r->o != NULL && r->o->self_approve)) {
			answer(out, 403, "self_approval", "%s proposed this;"
			    " someone else must %s it", p.requester, a);
			goto out;
		}
	}
	if ((rc = hl_store_list(&tl, r->st, target ? target : p.list,
	    &err)) != 0) {
		store_fail(out, &err, rc);
		goto out;
	}
	if (target != NULL) {
		char *tnote = NULL;

		if (strcmp(p.op, "add") != 0) {
			answer(out, 400, "invalid", "only a proposed addition"
			    " can be converted");
			goto out;
		}
		if (strcmp(target, p.list) == 0) {
			answer(out, 400, "invalid", "converting to its own"
			    " list is approving it");
			goto out;
		}
		rc = hl_validate_list_value(&tnote, tl.id, tl.fmt, p.value,
		    &err);
		free(tnote);
		if (rc != 0) {
			answer(out, 400, "invalid", "not a value for %s: %s",
			    tl.id, err.msg);
			goto out;
		}
	}
	who.token_id = r->tok->id;
	who.name = r->tok->name;
	rc = hl_store_proposal_decide(&done, &item, &version, r->st, id,
	    state, target, by, note, &who, &err);
	if (rc == HL_ECONFLICT) {
		answer(out, 409, "conflict", "%s", err.msg);
		out->items = one(hl_proposal_json(&done));
		goto out;
	}
	if (rc != 0) {
		store_fail(out, &err, rc);
		goto out;
	}
	out->version = version;
	answer(out, 200, NULL, "proposal %lld %s", (long long)id, state);
	out->items = one(hl_proposal_json(&done));
	out->extra = json_pack("{s:I}", "version", (json_int_t)version);
	if (item.id != 0 && out->extra != NULL)
		json_object_set_new(out->extra, "item", hl_item_json(&item,
		    tl.id, tl.fmt));
out:
	hl_proposal_clear(&p);
	hl_proposal_clear(&done);
	hl_item_clear(&item);
	hl_list_clear(&tl);
}

void
hl_review_handle(struct hl_review_reply *out, const struct hl_review_req *r)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_proposal p = { 0 };
	int64_t id = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (r->id == NULL) {
		list_proposals(out, r);
		return;
	}
	if (parse_id(&id, r->id) != 0) {
		answer(out, 400, "invalid", "a proposal id is a positive"
		    " integer");
		return;
	}
	if (r->post) {
		decide(out, r, id);
		return;
	}
	if ((rc = hl_store_proposal_get(&p, r->st, id, &err)) != 0) {
		store_fail(out, &err, rc);
		return;
	}
	answer(out, 200, NULL, "proposal %lld", (long long)id);
	out->items = one(hl_proposal_json(&p));
	hl_proposal_clear(&p);
}

int
hl_review_duration(int64_t *out, const char *s)
{
	static const struct {
		char	 unit;
		int64_t	 secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
	    { 'd', 86400 }, { 'w', 7 * 86400 } };
	char *end;
	long long n;
	size_t i;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || n <= 0 ||
	    n > 100LL * 366 * 86400)
		return HL_EINVAL;
	if (*end == '\0') {
		*out = n;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit && end[1] == '\0') {
			*out = n * units[i].secs;
			return *out <= 100LL * 366 * 86400 ? 0 : HL_EINVAL;
		}
	return HL_EINVAL;
}

int
hl_review_mass_held(int64_t before, int64_t removed, int64_t share,
    int64_t max)
{
	if (removed <= 1)
		return 0;
	return removed >= before || removed > max ||
	    removed * 100 > share * before;
}
