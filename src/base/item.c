/*
 * item: record structs, their cleanup and their JSON shapes (see item.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "item.h"
#include "pystr.h"

static const struct {
	const char	*name;
	const char	*key;
} fmts[] = {
	[HL_FMT_PLAIN] = { "plain", "pattern" },
	[HL_FMT_TSV] = { "tsv", "pattern" },
	[HL_FMT_YAML_CIDR] = { "yaml_cidr", "ip" },
	[HL_FMT_YAML_NS] = { "yaml_ns", "ns" },
	[HL_FMT_YAML_ASN] = { "yaml_asn", "asn" },
};
#define NFMTS (int)(sizeof(fmts) / sizeof(fmts[0]))

int
hl_fmt_parse(const char *name)
{
	int i;

	for (i = 0; i < NFMTS; i++)
		if (strcmp(fmts[i].name, name) == 0)
			return i;
	return -1;
}

const char *
hl_fmt_name(int fmt)
{
	return fmt >= 0 && fmt < NFMTS ? fmts[fmt].name : "unknown";
}

const char *
hl_fmt_key(int fmt)
{
	return fmt >= 0 && fmt < NFMTS ? fmts[fmt].key : "pattern";
}

int
hl_fmt_is_yaml(int fmt)
{
	return fmt == HL_FMT_YAML_CIDR || fmt == HL_FMT_YAML_NS ||
	    fmt == HL_FMT_YAML_ASN;
}

static const char *scope_names[] = { "write", "approve", "admin",
    "propose" };
#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int
hl_scopes_parse(unsigned *out, const char *s)
{
	const char *p = s, *e;
	size_t i, n;
	unsigned bits = 0;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ", ");
		n = (size_t)(e - p);
		for (i = 0; i < NSCOPES; i++)
			if (strlen(scope_names[i]) == n &&
			    strncmp(scope_names[i], p, n) == 0)
				break;
		if (i == NSCOPES)
			return HL_EINVAL;
		bits |= 1u << i;
		p = e;
	}
	*out = bits;
	return 0;
}

void
hl_scopes_format(char *buf, size_t len, unsigned scopes)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	/* Most powerful first: "admin,write". */
	for (i = NSCOPES; i-- > 0;) {
		if (!(scopes & (1u << i)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    scope_names[i]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

void
hl_item_clear(struct hl_item *it)
{
	if (it == NULL)
		return;
	free(it->value);
	free(it->comment);
	free(it->created_by);
	free(it->modified_by);
	free(it->keys);
	free(it->src);
	free(it->origin);
	free(it->review);
	memset(it, 0, sizeof(*it));
}

void
hl_items_free(struct hl_item *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_item_clear(&v[i]);
	free(v);
}

static int
dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	return (*dst = strdup(src)) == NULL ? HL_ENOMEM : 0;
}

int
hl_item_copy(struct hl_item *dst, const struct hl_item *src)
{
	*dst = *src;
	dst->value = dst->comment = dst->created_by = dst->modified_by = NULL;
	dst->keys = dst->src = dst->origin = dst->review = NULL;
	if (dup_str(&dst->value, src->value) != 0 ||
	    dup_str(&dst->origin, src->origin) != 0 ||
	    dup_str(&dst->src, src->src) != 0 ||
	    dup_str(&dst->review, src->review) != 0 ||
	    dup_str(&dst->keys, src->keys) != 0 ||
	    dup_str(&dst->comment, src->comment) != 0 ||
	    dup_str(&dst->created_by, src->created_by) != 0 ||
	    dup_str(&dst->modified_by, src->modified_by) != 0) {
		hl_item_clear(dst);
		return HL_ENOMEM;
	}
	return 0;
}

void
hl_list_clear(struct hl_list *l)
{
	if (l == NULL)
		return;
	free(l->id);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

void
hl_lists_free(struct hl_list *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_list_clear(&v[i]);
	free(v);
}

void
hl_notif_clear(struct hl_notif *n)
{
	if (n == NULL)
		return;
	free(n->server);
	free(n->site);
	free(n->created_by);
	memset(n, 0, sizeof(*n));
}

void
hl_notifs_free(struct hl_notif *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_notif_clear(&v[i]);
	free(v);
}

void
hl_token_clear(struct hl_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->created_by);
	free(t->lists);
	memset(t, 0, sizeof(*t));
}

void
hl_tokens_free(struct hl_token *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_token_clear(&v[i]);
	free(v);
}

void
hl_event_clear(struct hl_event *e)
{
	if (e == NULL)
		return;
	free(e->op);
	free(e->list);
	free(e->value);
	free(e->record);
	free(e->actor);
	memset(e, 0, sizeof(*e));
}

void
hl_events_free(struct hl_event *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hl_event_clear(&v[i]);
	free(v);
}

/* The ns value "a. b." as a JSON array of names. */
static json_t *
ns_array(const char *value)
{
	json_t *a;
	const char *p = value, *e;

	if ((a = json_array()) == NULL)
		return NULL;
	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p)
			json_array_append_new(a,
			    json_stringn(p, (size_t)(e - p)));
		p = *e ? e + 1 : e;
	}
	return a;
}

json_t *
hl_item_json(const struct hl_item *it, const char *list, int fmt)
{
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:I, s:s?, s:I, s:s?}",
	    "id", (json_int_t)it->id, "type", list,
	    "text_pattern", it->value,
	    "created_at", (json_int_t)it->created_at,
	    "created_by", it->created_by,
	    "modified_at", (json_int_t)it->modified_at,
	    "modified_by", it->modified_by);
	if (o == NULL)
		return NULL;
	if (it->token_id > 0)
		json_object_set_new(o, "token_id",
		    json_integer((json_int_t)it->token_id));
	if (fmt == HL_FMT_YAML_NS)
		json_object_set_new(o, "ns", ns_array(it->value));
	else if (hl_fmt_is_yaml(fmt))
		json_object_set_new(o, hl_fmt_key(fmt),
		    json_string(it->value));
	if (it->comment != NULL)
		json_object_set_new(o, "comment", json_string(it->comment));
	/* "disable:" with no value is None to PyYAML: not disabled. */
	if (it->disabled == HL_DISABLE_TRUE)
		json_object_set_new(o, "disable", json_true());
	else if (it->disabled == HL_DISABLE_EMPTY)
		json_object_set_new(o, "disable", json_null());
	if (it->pass)
		json_object_set_new(o, "pass", json_true());
	if (it->verbatim)
		json_object_set_new(o, "verbatim", json_true());
	if (it->origin != NULL)
		json_object_set_new(o, "origin", json_loads(it->origin, 0,
		    NULL));
	if (it->verbatim == HL_VERBATIM_HEAD)
		json_object_set_new(o, "head", json_true());
	if (it->verbatim == HL_VERBATIM_SKIPPED)
		json_object_set_new(o, "skipped", json_true());
	if (it->src != NULL)
		json_object_set_new(o, "src", json_string(it->src));
	if (it->dup_of > 0)
		json_object_set_new(o, "dup_of",
		    json_integer((json_int_t)it->dup_of));
	if (it->review != NULL)
		json_object_set_new(o, "review", json_loads(it->review, 0,
		    NULL));
	return o;
}

json_t *
hl_notif_json(const struct hl_notif *n)
{
	json_t *o;

	o = json_pack("{s:I, s:I, s:s, s:I, s:s, s:b, s:I, s:s?}",
	    "id", (json_int_t)n->id, "user_id", (json_int_t)n->user_id,
	    "server", n->server, "room_id", (json_int_t)n->room_id,
	    "site", n->site, "always_ping", n->always_ping,
	    "created_at", (json_int_t)n->created_at,
	    "created_by", n->created_by);
	if (o != NULL && n->token_id > 0)
		json_object_set_new(o, "token_id",
		    json_integer((json_int_t)n->token_id));
	return o;
}

json_t *
hl_token_json(const struct hl_token *t)
{
	char scopes[64];
	json_t *o;

	hl_scopes_format(scopes, sizeof(scopes), t->scopes);
	o = json_pack("{s:I, s:s, s:s, s:I, s:s?}",
	    "id", (json_int_t)t->id, "name", t->name, "scopes", scopes,
	    "created_at", (json_int_t)t->created_at,
	    "created_by", t->created_by);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "revoked_at", t->revoked_at ?
	    json_integer((json_int_t)t->revoked_at) : json_null());
	json_object_set_new(o, "last_used_at", t->last_used_at ?
	    json_integer((json_int_t)t->last_used_at) : json_null());
	if (t->lists != NULL)
		json_object_set_new(o, "lists", json_string(t->lists));
	if (t->expires_at != 0)
		json_object_set_new(o, "expires_at",
		    json_integer((json_int_t)t->expires_at));
	return o;
}

json_t *
hl_event_json(const struct hl_event *e)
{
	json_t *o, *rec;

	rec = json_loads(e->record, 0, NULL);
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}",
	    "version", (json_int_t)e->version, "at", (json_int_t)e->at,
	    "op", e->op, "list", e->list, "value", e->value,
	    "actor", e->actor);
	if (o == NULL) {
		json_decref(rec);
		return NULL;
	}
	if (e->token_id > 0)
		json_object_set_new(o, "token_id",
		    json_integer((json_int_t)e->token_id));
	json_object_set_new(o, "record", rec ? rec : json_null());
	return o;
}

/*
 * hl_item_json_write's writer: each put_* appends at the cursor w, into
 * room reserved up front for the worst case, and returns the new cursor;
 * no append checks for room or writes a NUL, the cost of a million items.
 */
static char *
put_mem(char *w, const char *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

/*
 * A JSON string as jansson writes it without JSON_ENSURE_ASCII: UTF-8 as
 * is; '"' and '\\' escaped; \b \f \n \r \t by name; other control
 * characters as \u00XX with upper-case hex.
 */
static char *
put_jstrn(char *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s, *end = s + n;
	unsigned char c;

	*w++ = '"';
	for (; s < end; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		w = put_mem(w, run, (size_t)(s - run));
		run = s + 1;
		*w++ = '\\';
		switch (c) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '\b': *w++ = 'b'; break;
		case '\f': *w++ = 'f'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			w = put_mem(w, "u00", 3);
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	w = put_mem(w, run, (size_t)(s - run));
	*w++ = '"';
	return w;
}

static char *
put_jstr(char *w, const char *s)
{
	return put_jstrn(w, s, strlen(s));
}

static size_t
slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/*
 * One "key": value member, with the comma before all but the first.  The
 * keys are this file's own constants, which need no escaping.
 */
static char *
put_key(char *w, int *first, const char *key)
{
	if (!*first)
		*w++ = ',';
	*first = 0;
	*w++ = '"';
	w = put_mem(w, key, strlen(key));
	*w++ = '"';
	*w++ = ':';
	return w;
}

static char *
put_int(char *w, int *first, const char *key, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	w = put_key(w, first, key);
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return put_mem(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static char *
put_str(char *w, int *first, const char *key, const char *v)
{
	return put_jstr(put_key(w, first, key), v);
}

/* A string member, or null (as json_pack's "s?" writes a NULL). */
static char *
put_nstr(char *w, int *first, const char *key, const char *v)
{
	if (v != NULL)
		return put_str(w, first, key, v);
	return put_mem(put_key(w, first, key), "null", 4);
}

/* A member whose value is a constant (true) or stored JSON, as is. */
static char *
put_raw(char *w, int *first, const char *key, const char *v)
{
	return put_mem(put_key(w, first, key), v, strlen(v));
}

/*
 * Room for the members' names, punctuation and numbers, beyond the
 * strings' own bytes: 21 keys of at most 16 bytes with their quotes,
 * colon and comma, 5 numbers of at most 20 digits, 7 "true"s, braces.
 */
#define JSON_ROOM	1024

int
hl_item_json_write(struct hl_buf *b, const struct hl_item *it,
    const char *list, int fmt)
{
	const char *p, *e;
	char *w;
	size_t bound;
	int first = 1, firstns = 1;

	/*
	 * Room for the worst case (every byte escaped as \u00XX, and the
	 * ns list's separators) up front: no append below can fail or
	 * overrun.
	 */
	bound = JSON_ROOM + 6 * (2 * slen(it->value) + slen(it->comment) +
	    slen(it->created_by) + slen(it->modified_by) + slen(list) +
	    slen(it->src)) + slen(it->origin) + slen(it->review);
	if (hl_buf_grow(b, bound) != 0)
		return HL_ENOMEM;
	w = b->data + b->len;
	*w++ = '{';
	/* The members in sorted order, as hl_item_json has them. */
	if (fmt == HL_FMT_YAML_ASN)
		w = put_str(w, &first, "asn", it->value);
	if (it->comment != NULL)
		w = put_str(w, &first, "comment", it->comment);
	w = put_int(w, &first, "created_at", it->created_at);
	w = put_nstr(w, &first, "created_by", it->created_by);
	if (it->disabled == HL_DISABLE_TRUE)
		w = put_raw(w, &first, "disable", "true");
	else if (it->disabled == HL_DISABLE_EMPTY)
		w = put_raw(w, &first, "disable", "null");
	if (it->dup_of > 0)
		w = put_int(w, &first, "dup_of", it->dup_of);
	if (it->verbatim == HL_VERBATIM_HEAD)
		w = put_raw(w, &first, "head", "true");
	w = put_int(w, &first, "id", it->id);
	if (fmt == HL_FMT_YAML_CIDR)
		w = put_str(w, &first, "ip", it->value);
	w = put_int(w, &first, "modified_at", it->modified_at);
	w = put_nstr(w, &first, "modified_by", it->modified_by);
	if (fmt == HL_FMT_YAML_NS) {
		w = put_key(w, &first, "ns");
		*w++ = '[';
		for (p = it->value; *p != '\0'; p = *e ? e + 1 : e) {
			if ((e = strchr(p, ' ')) == NULL)
				e = p + strlen(p);
			if (e == p)
				continue;
			if (!firstns)
				*w++ = ',';
			firstns = 0;
			w = put_jstrn(w, p, (size_t)(e - p));
		}
		*w++ = ']';
	}
	/* Stored as compact JSON with sorted keys: copied as is. */
	if (it->origin != NULL)
		w = put_raw(w, &first, "origin", it->origin);
	if (it->pass)
		w = put_raw(w, &first, "pass", "true");
	if (it->review != NULL)
		w = put_raw(w, &first, "review", it->review);
	if (it->verbatim == HL_VERBATIM_SKIPPED)
		w = put_raw(w, &first, "skipped", "true");
	if (it->src != NULL)
		w = put_str(w, &first, "src", it->src);
	w = put_str(w, &first, "text_pattern", it->value);
	if (it->token_id > 0)
		w = put_int(w, &first, "token_id", it->token_id);
	w = put_str(w, &first, "type", list);
	if (it->verbatim)
		w = put_raw(w, &first, "verbatim", "true");
	*w++ = '}';
	b->len = (size_t)(w - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static int
dup_member(char **dst, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	*dst = NULL;
	if (!json_is_string(v))
		return 0;
	return (*dst = strdup(json_string_value(v))) == NULL ? HL_ENOMEM : 0;
}

int
hl_item_from_json(struct hl_item *out, json_t *rec)
{
	json_t *dis;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(rec) ||
	    !json_is_string(json_object_get(rec, "text_pattern")))
		return HL_EINVAL;
	out->id = json_integer_value(json_object_get(rec, "id"));
	out->created_at = json_integer_value(json_object_get(rec,
	    "created_at"));
	out->modified_at = json_integer_value(json_object_get(rec,
	    "modified_at"));
	out->token_id = json_integer_value(json_object_get(rec, "token_id"));
	dis = json_object_get(rec, "disable");
	out->disabled = json_is_true(dis) ? HL_DISABLE_TRUE :
	    json_is_null(dis) ? HL_DISABLE_EMPTY : HL_DISABLE_NO;
	out->pass = json_is_true(json_object_get(rec, "pass"));
	out->verbatim = json_is_true(json_object_get(rec, "verbatim"));
	if (out->verbatim && json_is_true(json_object_get(rec, "head")))
		out->verbatim = HL_VERBATIM_HEAD;
	if (out->verbatim && json_is_true(json_object_get(rec, "skipped")))
		out->verbatim = HL_VERBATIM_SKIPPED;
	out->dup_of = json_integer_value(json_object_get(rec, "dup_of"));
	if (dup_member(&out->value, rec, "text_pattern") != 0 ||
	    dup_member(&out->src, rec, "src") != 0 ||
	    dup_member(&out->comment, rec, "comment") != 0 ||
	    dup_member(&out->created_by, rec, "created_by") != 0 ||
	    dup_member(&out->modified_by, rec, "modified_by") != 0) {
		hl_item_clear(out);
		return HL_ENOMEM;
	}
	if (json_is_object(json_object_get(rec, "origin")) &&
	    (out->origin = json_dumps(json_object_get(rec, "origin"),
	    JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		hl_item_clear(out);
		return HL_ENOMEM;
	}
	if (json_is_object(json_object_get(rec, "review")) &&
	    (out->review = json_dumps(json_object_get(rec, "review"),
	    JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		hl_item_clear(out);
		return HL_ENOMEM;
	}
	return 0;
}

char *
hl_item_key(int fmt, const char *value)
{
	return fmt == HL_FMT_PLAIN ? hl_pystr_lower(value) : strdup(value);
}

struct keyed {
	char	*key;
	size_t	 i;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

int
hl_items_dups(size_t *first, const struct hl_item *v, size_t n, int fmt)
{
	struct keyed *k;
	size_t i, m = 0, j;
	int rc = 0;

	for (i = 0; i < n; i++)
		first[i] = i;
	if (n == 0)
		return 0;
	if ((k = calloc(n, sizeof(*k))) == NULL)
		return HL_ENOMEM;
	for (i = 0; i < n; i++) {
		if (v[i].verbatim || v[i].value == NULL)
			continue;
		if ((k[m].key = hl_item_key(fmt, v[i].value)) == NULL) {
			rc = HL_ENOMEM;
			goto out;
		}
		k[m++].i = i;
	}
	qsort(k, m, sizeof(*k), keyed_cmp);
	for (i = 1, j = 0; i < m; i++) {
		if (strcmp(k[i].key, k[j].key) == 0)
			first[k[i].i] = k[j].i;
		else
			j = i;
	}
out:
	for (i = 0; i < m; i++)
		free(k[i].key);
	free(k);
	return rc;
}
