/*
 * item: record structs, their cleanup and their JSON shapes (see item.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "item.h"

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

static const char *scope_names[] = { "write", "approve", "admin" };
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
	dst->keys = NULL;
	if (dup_str(&dst->value, src->value) != 0 ||
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
	if (it->disabled)
		json_object_set_new(o, "disable", json_true());
	if (it->pass)
		json_object_set_new(o, "pass", json_true());
	if (it->verbatim)
		json_object_set_new(o, "verbatim", json_true());
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

char *
hl_item_key(int fmt, const char *value)
{
	char *k, *p;

	if ((k = strdup(value)) == NULL)
		return NULL;
	switch (fmt) {
	case HL_FMT_PLAIN:
	case HL_FMT_TSV:
	case HL_FMT_YAML_NS:
		for (p = k; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		break;
	default:
		break;
	}
	return k;
}
