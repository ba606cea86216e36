/*
 * proposals: the review queue in SQLite (see proposals.h for the states
 * and the events they leave; store_int.h for the transaction they run in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "proposals.h"
#include "store.h"
#include "store_int.h"

#define COLS "SELECT id, list_id, op, value, comment, disabled, pass," \
	" ns_seq, requester, token_id, token_name, reason, evidence, checks," \
	" state, created_at, decided_at, decided_by, decided_token_id," \
	" decision, target, item_id FROM proposals"

void
hl_proposal_clear(struct hl_proposal *p)
{
	if (p == NULL)
		return;
	free(p->list);
	free(p->op);
	free(p->value);
	free(p->comment);
	free(p->requester);
	free(p->token_name);
	free(p->reason);
	free(p->evidence);
	free(p->checks);
	free(p->state);
	free(p->decided_by);
	free(p->decision);
	free(p->target);
	memset(p, 0, sizeof(*p));
}

void
hl_proposals_free(struct hl_proposal *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_proposal_clear(&v[i]);
	free(v);
}

/* A member holding JSON text, or null. */
static json_t *
raw(const char *text)
{
	json_t *j;

	if (text == NULL || (j = json_loads(text, 0, NULL)) == NULL)
		return json_null();
	return j;
}

json_t *
hl_proposal_json(const struct hl_proposal *p)
{
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o,"
	    " s:s, s:I}",
	    "id", (json_int_t)p->id, "list", p->list, "op", p->op,
	    "value", p->value, "requester", p->requester,
	    "token_id", (json_int_t)p->token_id, "token", p->token_name,
	    "reason", p->reason ? json_string(p->reason) : json_null(),
	    "evidence", raw(p->evidence), "checks", raw(p->checks),
	    "state", p->state, "created_at", (json_int_t)p->created_at);
	if (o == NULL)
		return NULL;
	if (p->comment != NULL)
		json_object_set_new(o, "comment", json_string(p->comment));
	if (p->disabled == HL_DISABLE_TRUE)
		json_object_set_new(o, "disable", json_true());
	if (p->pass)
		json_object_set_new(o, "pass", json_true());
	if (p->decided_at != 0) {
		json_object_set_new(o, "decided_at",
		    json_integer((json_int_t)p->decided_at));
		json_object_set_new(o, "decided_by", json_string(
		    p->decided_by ? p->decided_by : ""));
		json_object_set_new(o, "decision", p->decision ?
		    json_string(p->decision) : json_null());
	}
	if (p->target != NULL)
		json_object_set_new(o, "target", json_string(p->target));
	if (p->item_id != 0)
		json_object_set_new(o, "item_id",
		    json_integer((json_int_t)p->item_id));
	return o;
}

static int
read_proposal(struct hl_proposal *p, sqlite3_stmt *s)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	p->list = hl_store__col_str(s, 1);
	p->op = hl_store__col_str(s, 2);
	p->value = hl_store__col_str(s, 3);
	p->comment = hl_store__col_str(s, 4);
	p->disabled = sqlite3_column_int(s, 5);
	p->pass = sqlite3_column_int(s, 6);
	p->ns_seq = sqlite3_column_int(s, 7);
	p->requester = hl_store__col_str(s, 8);
	p->token_id = sqlite3_column_int64(s, 9);
	p->token_name = hl_store__col_str(s, 10);
	p->reason = hl_store__col_str(s, 11);
	p->evidence = hl_store__col_str(s, 12);
	p->checks = hl_store__col_str(s, 13);
	p->state = hl_store__col_str(s, 14);
	p->created_at = sqlite3_column_int64(s, 15);
	p->decided_at = sqlite3_column_int64(s, 16);
	p->decided_by = hl_store__col_str(s, 17);
	p->decided_token_id = sqlite3_column_int64(s, 18);
	p->decision = hl_store__col_str(s, 19);
	p->target = hl_store__col_str(s, 20);
	p->item_id = sqlite3_column_int64(s, 21);
	if (p->list && p->op && p->value && p->requester && p->token_name &&
	    p->checks && p->state)
		return 0;
	hl_proposal_clear(p);
	return HL_ENOMEM;
}

/* Runs s (bound) for one row: 0, HL_ENOTFOUND, HL_ENOMEM or HL_EIO. */
static int
one_row(struct hl_proposal *out, sqlite3_stmt *s, struct hl_store *st,
    struct hl_err *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return read_proposal(out, s) == 0 ? 0 :
		    hl_err_set(err, HL_ENOMEM, "out of memory");
	if (rc == SQLITE_DONE)
		return HL_ENOTFOUND;
	return hl_store__dberr(err, st, "read proposal");
}

/* With the mutex held (in a transaction or not). */
static int
get(struct hl_proposal *out, struct hl_store *st, int64_t id,
    struct hl_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(hl_store__db(st), COLS " WHERE id = ?1", -1,
	    &s, NULL) != SQLITE_OK)
		return hl_store__dberr(err, st, "prepare");
	sqlite3_bind_int64(s, 1, id);
	rc = one_row(out, s, st, err);
	sqlite3_finalize(s);
	if (rc == HL_ENOTFOUND)
		rc = hl_err_set(err, HL_ENOTFOUND, "no proposal %lld",
		    (long long)id);
	return rc;
}

int
hl_store_proposal_get(struct hl_proposal *out, struct hl_store *st,
    int64_t id, struct hl_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	hl_store__lock(st);
	rc = get(out, st, id, err);
	hl_store__unlock(st);
	return rc;
}

int
hl_store_proposals(struct hl_proposal **out, size_t *n, struct hl_store *st,
    const char *state, const char *list, size_t limit, struct hl_err *err)
{
	struct hl_proposal *v = NULL, *p;
	sqlite3_stmt *s = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	hl_store__lock(st);
	if (sqlite3_prepare_v2(hl_store__db(st), COLS " WHERE (?1 IS NULL OR"
	    " state = ?1) AND (?2 IS NULL OR list_id = ?2) ORDER BY id"
	    " LIMIT ?3", -1, &s, NULL) != SQLITE_OK) {
		rc = hl_store__dberr(err, st, "prepare");
		goto out;
	}
	hl_store__bind_str(s, 1, state);
	hl_store__bind_str(s, 2, list);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = hl_err_set(err, HL_ENOMEM,
				    "out of memory");
				goto out;
			}
			v = p;
		}
		rc = one_row(&v[len], s, st, err);
		if (rc == HL_ENOTFOUND)
			break;
		if (rc != 0)
			goto out;
		len++;
	}
	rc = 0;
	*out = v;
	*n = len;
	v = NULL;
	len = 0;
out:
	sqlite3_finalize(s);
	hl_store__unlock(st);
	hl_proposals_free(v, len);
	return rc;
}

int64_t
hl_store_proposals_version(struct hl_store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t v = 0;

	hl_store__lock(st);
	if (sqlite3_prepare_v2(hl_store__db(st), "SELECT CAST(value AS"
	    " INTEGER) FROM meta WHERE key = '" HL_STORE_PROPOSALS
	    "_version'", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	hl_store__unlock(st);
	return v;
}

/* The proposal's audit event, op "add" (made) or "delete" (decided). */
static int
event(int64_t *version, struct hl_store *st, const char *op,
    const struct hl_proposal *p, const struct hl_actor *who,
    struct hl_err *err)
{
	json_t *rec = hl_proposal_json(p);
	int rc;

	if (rec == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = hl_store__event(version, st, op, HL_STORE_PROPOSALS, p->value,
	    rec, who, err);
	json_decref(rec);
	return rc;
}

struct add_arg {
	const struct hl_proposal *in;
	const struct hl_actor	 *who;
	struct hl_proposal	 *out;
	int64_t			  version;
};

static int
op_add(struct hl_store *st, void *arg, struct hl_err *err)
{
	struct add_arg *a = arg;
	const struct hl_proposal *in = a->in;
	sqlite3 *db = hl_store__db(st);
	sqlite3_stmt *s = NULL;
	int64_t id;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM lists WHERE id = ?1", -1,
	    &s, NULL) != SQLITE_OK)
		return hl_store__dberr(err, st, "prepare");
	hl_store__bind_str(s, 1, in->list);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? hl_err_set(err, HL_ENOTFOUND,
		    "no list %s", in->list) : hl_store__dberr(err, st, "read list");

	if (sqlite3_prepare_v2(db, COLS " WHERE state = 'pending' AND"
	    " list_id = ?1 AND op = ?2 AND value = ?3", -1, &s,
	    NULL) != SQLITE_OK)
		return hl_store__dberr(err, st, "prepare");
	hl_store__bind_str(s, 1, in->list);
	hl_store__bind_str(s, 2, in->op);
	hl_store__bind_str(s, 3, in->value);
	rc = one_row(a->out, s, st, err);
	sqlite3_finalize(s);
	if (rc == 0)
		return hl_err_set(err, HL_EEXISTS, "proposal %lld already"
		    " proposes this", (long long)a->out->id);
	if (rc != HL_ENOTFOUND)
		return rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO proposals (list_id, op,"
	    " value, comment, disabled, pass, ns_seq, requester, token_id,"
	    " token_name, reason, evidence, checks, created_at) VALUES (?1,"
	    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", -1,
	    &s, NULL) != SQLITE_OK)
		return hl_store__dberr(err, st, "prepare");
	hl_store__bind_str(s, 1, in->list);
	hl_store__bind_str(s, 2, in->op);
	hl_store__bind_str(s, 3, in->value);
	hl_store__bind_str(s, 4, in->comment);
	sqlite3_bind_int(s, 5, in->disabled);
	sqlite3_bind_int(s, 6, in->pass);
	sqlite3_bind_int(s, 7, in->ns_seq);
	hl_store__bind_str(s, 8, in->requester ? in->requester : a->who->name);
	if (a->who->token_id > 0)
		sqlite3_bind_int64(s, 9, a->who->token_id);
	hl_store__bind_str(s, 10, a->who->name);
	hl_store__bind_str(s, 11, in->reason);
	hl_store__bind_str(s, 12, in->evidence);
	hl_store__bind_str(s, 13, in->checks ? in->checks : "{}");
	sqlite3_bind_int64(s, 14, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return hl_store__dberr(err, st, "write proposal");
	id = sqlite3_last_insert_rowid(db);
	if ((rc = get(a->out, st, id, err)) != 0)
		return rc;
	return event(&a->version, st, "add", a->out, a->who, err);
}

int
hl_store_proposal_add(struct hl_proposal *out, int64_t *version,
    struct hl_store *st, const struct hl_proposal *in,
    const struct hl_actor *who, struct hl_err *err)
{
	struct add_arg a = { in, who, out, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = hl_store__run(st, op_add, &a, err);
	*version = rc == 0 ? a.version : 0;
	if (rc != 0 && rc != HL_EEXISTS)
		hl_proposal_clear(out);
	return rc;
}

struct decide_arg {
	int64_t			 id;
	const char		*state;
	const char		*target;
	const char		*decider;
	const char		*note;
	const struct hl_actor	*who;
	struct hl_proposal	*out;
	struct hl_item		*item;
	int64_t			 version;
};

/* The review record of an item published from p (compact, sorted). */
static char *
review_record(const struct hl_proposal *p, const struct decide_arg *a)
{
	json_t *o;
	char *s;

	o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:o}",
	    "proposal", (json_int_t)p->id, "requester", p->requester,
	    "requester_token", p->token_name,
	    "reason", p->reason ? json_string(p->reason) : json_null(),
	    "evidence", raw(p->evidence), "approver", a->decider,
	    "comment", a->note ? json_string(a->note) : json_null());
	if (o == NULL)
		return NULL;
	if (strcmp(a->state, "converted") == 0)
		json_object_set_new(o, "converted_from", json_string(p->list));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Publishes p's change for an approval or a conversion. */
static int
publish(struct decide_arg *a, struct hl_store *st, const char *list,
    struct hl_err *err)
{
	const struct hl_proposal *p = a->out;
	struct hl_item in = { 0 };
	struct hl_actor who = *a->who;
	int rc;

	who.name = a->decider;
	if (strcmp(p->op, "delete") == 0)
		return hl_store__item_del(a->item, &a->version, st, list,
		    p->value, &who, err);
	in.value = p->value;
	in.comment = p->comment;
	in.disabled = p->disabled;
	in.pass = p->pass;
	in.ns_seq = p->ns_seq;
	in.created_by = p->requester;
	if ((in.review = review_record(p, a)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = hl_store__item_add(a->item, &a->version, st, list, &in, &who,
	    err);
	free(in.review);
	if (rc == HL_EEXISTS)
		hl_item_clear(a->item);
	return rc;
}

static int
op_decide(struct hl_store *st, void *arg, struct hl_err *err)
{
	struct decide_arg *a = arg;
	struct hl_proposal *p = a->out;
	sqlite3_stmt *s = NULL;
	const char *list = NULL;
	int rc;

	if ((rc = get(p, st, a->id, err)) != 0)
		return rc;
	if (strcmp(p->state, "pending") != 0)
		return hl_err_set(err, HL_ECONFLICT, "proposal %lld is"
		    " already %s", (long long)p->id, p->state);
	if (strcmp(a->state, "approved") == 0)
		list = p->list;
	else if (strcmp(a->state, "converted") == 0)
		list = a->target;
	if (list != NULL && (rc = publish(a, st, list, err)) != 0)
		return rc;
	if (sqlite3_prepare_v2(hl_store__db(st), "UPDATE proposals SET"
	    " state = ?2, decided_at = ?3, decided_by = ?4,"
	    " decided_token_id = ?5, decision = ?6, target = ?7,"
	    " item_id = ?8 WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		return hl_store__dberr(err, st, "prepare");
	sqlite3_bind_int64(s, 1, p->id);
	hl_store__bind_str(s, 2, a->state);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	hl_store__bind_str(s, 4, a->decider);
	if (a->who->token_id > 0)
		sqlite3_bind_int64(s, 5, a->who->token_id);
	hl_store__bind_str(s, 6, a->note);
	hl_store__bind_str(s, 7, list);
	if (list != NULL && a->item->id > 0)
		sqlite3_bind_int64(s, 8, a->item->id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return hl_store__dberr(err, st, "write proposal");
	hl_proposal_clear(p);
	if ((rc = get(p, st, a->id, err)) != 0)
		return rc;
	return event(&a->version, st, "delete", p, a->who, err);
}

int
hl_store_proposal_decide(struct hl_proposal *out, struct hl_item *item,
    int64_t *version, struct hl_store *st, int64_t id, const char *state,
    const char *target, const char *decider, const char *note,
    const struct hl_actor *who, struct hl_err *err)
{
	struct decide_arg a = { id, state, target, decider ? decider :
	    who->name, note, who, out, item, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	memset(item, 0, sizeof(*item));
	rc = hl_store__run(st, op_decide, &a, err);
	*version = rc == 0 ? a.version : 0;
	if (rc != 0) {
		/* Keep the proposal for a conflict: the caller shows it. */
		if (rc != HL_ECONFLICT)
			hl_proposal_clear(out);
		hl_item_clear(item);
	}
	return rc;
}
