/*
 * item: the records Helios keeps (list items, notifications, tokens, audit
 * events) as plain C structs, and their one JSON shape.
 *
 * The same JSON object describes an item in an API response, in a
 * published lists/<id>.json and in a change file, so a client parses one
 * shape everywhere.  Worked example (a pattern list):
 *
 *   {"id": 17, "type": "watch-keyword", "text_pattern": "spam\\.example",
 *    "created_at": 1494568775, "created_by": "tripleee",
 *    "modified_at": 1494568775, "modified_by": "tripleee", "token_id": 3}
 *
 * The yaml lists add their own key beside text_pattern ("ip", "asn", or
 * "ns" as an array of names) and, when set, "comment", "disable", "pass".
 *
 * Verbatim items are lines SmokeDetector skips (comments and blank lines in
 * the plain files, comments between yaml items, tsv lines its parser logs
 * and skips); they are kept, in order, only so that an exported file
 * is byte-identical to the imported one.  They are not in lists/<id>.json;
 * the change event that adds one (an import) carries "verbatim": true in
 * its record (and "skipped": true for a line SmokeDetector's parser
 * rejects, "head": true for a yaml file's own header), and a client that
 * applies changes appends its line as is.
 *
 * An item read from a file whose text is not what Helios would render for
 * it (a folded yaml block scalar, a hand-wrapped comment, trailing
 * spaces) keeps that text in src and is written back as it was read, in
 * the JSON as "src".  A duplicate (a value an earlier item of the list
 * already holds, as the format's own rule compares them) stays where it
 * stands, with "dup_of": the id of the first; it is not counted.
 */
#ifndef HL_ITEM_H
#define HL_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

/* Text formats of SmokeDetector's files. */
enum hl_fmt {
	HL_FMT_PLAIN,		/* one pattern a line */
	HL_FMT_TSV,		/* timestamp TAB user TAB pattern */
	HL_FMT_YAML_CIDR,	/* items: - ip: ... */
	HL_FMT_YAML_NS,		/* items: - ns: name. | [names.] */
	HL_FMT_YAML_ASN,	/* items: - asn: 'N' */
};

int		 hl_fmt_parse(const char *name);	/* -1 if unknown */
const char	*hl_fmt_name(int fmt);
/* The JSON key of the value: "pattern", "ip", "ns" or "asn". */
const char	*hl_fmt_key(int fmt);
int		 hl_fmt_is_yaml(int fmt);

/* struct hl_item has keys (textfmt.c keeps hand-edited key order). */
#define HL_ITEM_KEYS 1

/* struct hl_item has src, dup_of and line. */
#define HL_ITEM_SRC 1

/* Kinds of verbatim items. */
enum {
	HL_VERBATIM_NO = 0,
	HL_VERBATIM_LINE = 1,	/* a line SmokeDetector skips by design */
	HL_VERBATIM_HEAD = 2,	/* a yaml file's header (Schema ... items:),
				   when it is not the one Helios writes */
	HL_VERBATIM_SKIPPED = 3,/* a line SmokeDetector's parser logs and
				   skips (a tsv line without three fields) or
				   skips silently (a tsv pattern starting with
				   '#'): kept, and reported by the import */
};

/* yaml "disable:" as written: absent, "true", or present and empty. */
enum { HL_DISABLE_NO = 0, HL_DISABLE_TRUE = 1, HL_DISABLE_EMPTY = 2 };

struct hl_item {
	int64_t	 id;
	int64_t	 pos;		/* order in the list's file */
	char	*value;		/* pattern, ip, asn; ns: names joined by ' ' */
	char	*comment;	/* NULL when none */
	int	 disabled;	/* HL_DISABLE_* */
	int	 pass;
	int	 ns_seq;	/* ns written as a YAML sequence */
	int	 verbatim;	/* HL_VERBATIM_*: kept for round trips */
	char	*src;		/* the exact text read (lines without their
				   last '\n'), when rendering would not give
				   it back; else NULL */
	int64_t	 dup_of;	/* id of the item this one repeats, or 0 */
	size_t	 line;		/* 1-based line in the file read; 0 if not
				   read from a file (not stored) */
	char	*origin;	/* JSON of the git commit that added it
				   (helios import --git): compact, sorted
				   keys; else NULL */
	char	*keys;		/* yaml keys in file order when they are not
				   sorted ("comment pass ns"), else NULL */
	int64_t	 created_at;
	char	*created_by;
	int64_t	 modified_at;
	char	*modified_by;
	int64_t	 token_id;	/* 0 when not made through the API */
	char	*review;	/* JSON of the review that published it
				   (compact, sorted keys), or NULL */
};

/* A list's policy: a write publishes at once, or is proposed. */
enum { HL_POLICY_DIRECT = 0, HL_POLICY_REVIEW = 1 };

struct hl_list {
	char	*id;		/* "watch-keyword" */
	char	*file;		/* "watched_keywords.txt" */
	int	 fmt;		/* enum hl_fmt */
	int64_t	 version;	/* version of its last change; 0 if never */
	int64_t	 count;		/* items, verbatim lines excluded */
	int	 policy;	/* HL_POLICY_* */
};

struct hl_notif {
	int64_t	 id;
	int64_t	 user_id;
	char	*server;
	int64_t	 room_id;
	char	*site;
	int	 always_ping;
	int64_t	 created_at;
	char	*created_by;
	int64_t	 token_id;
};

/* Token scopes, a bit set. */
enum {
	HL_SCOPE_WRITE = 1 << 0,
	HL_SCOPE_APPROVE = 1 << 1,
	HL_SCOPE_ADMIN = 1 << 2,
	HL_SCOPE_PROPOSE = 1 << 3,
};
/* "admin,write" <-> bits; 0 on success, HL_EINVAL on an unknown name. */
int	hl_scopes_parse(unsigned *out, const char *s);
/* Writes e.g. "admin,write" into buf (at least 32 bytes). */
void	hl_scopes_format(char *buf, size_t len, unsigned scopes);

struct hl_token {
	int64_t	 id;
	char	*name;
	unsigned scopes;
	int64_t	 created_at;
	char	*created_by;
	int64_t	 revoked_at;	/* 0 while valid */
	int64_t	 last_used_at;
	char	*lists;		/* "watch-*,blacklist-website": the lists it
				   may act on (fnmatch patterns); NULL: all */
	int64_t	 expires_at;	/* 0: never */
	unsigned char hash[32];	/* SHA-256 of the secret, as stored */
};

/*
 * An audit event.  version is its id and the version it created.  record
 * is the JSON of the item or notification after an add or before a delete.
 */
struct hl_event {
	int64_t	 version;
	int64_t	 at;
	char	*op;		/* "add", "delete" */
	char	*list;		/* list id, or "notifications" */
	char	*value;
	char	*record;	/* JSON text */
	char	*actor;
	int64_t	 token_id;
};

/* Who makes a change: a token (id > 0) or a local command (id 0). */
struct hl_actor {
	int64_t		 token_id;
	const char	*name;
	int64_t		 at;		/* when the change was made; 0: now
					   (a replayed git commit's time) */
};

void	hl_item_clear(struct hl_item *it);
void	hl_items_free(struct hl_item *v, size_t n);
int	hl_item_copy(struct hl_item *dst, const struct hl_item *src);
void	hl_list_clear(struct hl_list *l);
void	hl_lists_free(struct hl_list *v, size_t n);
void	hl_notif_clear(struct hl_notif *n);
void	hl_notifs_free(struct hl_notif *v, size_t n);
void	hl_token_clear(struct hl_token *t);
void	hl_tokens_free(struct hl_token *v, size_t n);
void	hl_event_clear(struct hl_event *e);
void	hl_events_free(struct hl_event *v, size_t n);

/*
 * The JSON shapes described above.  Each returns a new reference, or NULL
 * when out of memory.
 */
json_t	*hl_item_json(const struct hl_item *it, const char *list, int fmt);
json_t	*hl_notif_json(const struct hl_notif *n);
json_t	*hl_token_json(const struct hl_token *t);
json_t	*hl_event_json(const struct hl_event *e);

/*
 * The inverse of hl_item_json: fills *out from an item's JSON object
 * (a published list's item, a change event's record).  The value comes
 * from "text_pattern"; ns_seq and the yaml key order are not in the JSON
 * and stay 0/NULL.  HL_EINVAL when rec is not an item (no text_pattern),
 * HL_ENOMEM; on error *out is empty.
 */
int	hl_item_from_json(struct hl_item *out, json_t *rec);

/*
 * Appends exactly the bytes of json_dumps(hl_item_json(it, list, fmt),
 * JSON_COMPACT | JSON_SORT_KEYS) to b, without building the JSON tree: the
 * generator writes lists of a million items with it.  Strings must be
 * valid UTF-8 (the store only holds validated text).  HL_ENOMEM on
 * allocation failure.
 */
int	hl_item_json_write(struct hl_buf *b, const struct hl_item *it,
	    const char *list, int fmt);

/*
 * The duplicate key of a value in a list of format fmt: what two items
 * must not share, as SmokeDetector's own duplicate checks compare them
 * (blacklists.py): plain patterns case-insensitively, in Unicode (its
 * BasicListParser.exists() lowers both sides with Python's str.lower(),
 * which hl_pystr_lower is), tsv patterns exactly (TSVDictParser.exists()),
 * yaml keys (ip, ns, asn) exactly (YAMLParserCIDR.add()).  Returns a malloc'd string or NULL when
 * out of memory.
 */
char	*hl_item_key(int fmt, const char *value);

/*
 * The duplicates among v[0..n) (a file as read, in order): first[i] is
 * the index of the first item holding the same key as v[i] (by
 * hl_item_key), i itself when v[i] is the first or verbatim.  O(n log n).
 * HL_ENOMEM.
 */
int	hl_items_dups(size_t *first, const struct hl_item *v, size_t n,
	    int fmt);

#endif
