/*
 * site_int: what the files of the site renderer share (site.c, site_html.c,
 * site_changes.c, site_api.c).  Not for use outside gen/site*.c.
 *
 * Pages are written through a struct hl_sw, a buffer whose out-of-memory
 * state sticks, so that a page is written without checking every call
 * and checked once at the end.
 */
#ifndef HL_SITE_INT_H
#define HL_SITE_INT_H

#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "site.h"

struct hl_sw {
	struct hl_buf	 b;
	int		 oom;
};

#define HL_SW_INIT { HL_BUF_INIT, 0 }

void	hl_sw_put(struct hl_sw *w, const char *s, size_t n);
void	hl_sw_puts(struct hl_sw *w, const char *s);
void	hl_sw_printf(struct hl_sw *w, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* s escaped for HTML text and attribute values (and XML); NULL: nothing. */
void	hl_sw_esc(struct hl_sw *w, const char *s);
/* s made safe as a fragment id or file name part: [A-Za-z0-9_-] kept. */
void	hl_sw_slug(struct hl_sw *w, const char *s);
/* <time datetime="2026-12-01T22:47:40Z">2026-12-01 22:47 UTC</time> */
void	hl_sw_time(struct hl_sw *w, int64_t t);
/* RFC 3339 for Atom: 2026-12-01T22:47:40Z */
void	hl_sw_rfc3339(struct hl_sw *w, int64_t t);
/* 1536 -> "1.5 KiB" */
void	hl_sw_size(struct hl_sw *w, size_t bytes);
void	hl_sw_free(struct hl_sw *w);

/*
 * Replaces every <!--helios:NAME--> marker of tpl by what fn writes for
 * NAME.  fn returns 0 when it wrote the marker, 1 when it does not know
 * it (the marker is kept as is).
 */
typedef int (*hl_site_fill_fn)(struct hl_sw *w, const char *name,
    void *payload);
void	hl_site__fill(struct hl_sw *w, const char *tpl, hl_site_fill_fn fn,
	    void *payload);

/* One change of the window, borrowed from the parsed segments. */
struct hl_site_event {
	int64_t		 version;
	int64_t		 at;
	const char	*op;		/* "add", "delete", ... */
	const char	*list;		/* list id or "notifications" */
	const char	*value;
	const char	*actor;
	int64_t		 item;		/* the record's id; 0 when none */
};

/*
 * What a build keeps for the next (site.h): the change segments' events
 * (site_changes.c), and the API reference (site_api.c) as rendered from
 * the text of openapi.json, which a build reads again and compares.
 */
struct cached_seg;
/* A list's page as last made, with the digest of what it was made of. */
struct hl_site_memo {
	char		*path;
	unsigned char	 key[32];
	char		*data;
	size_t		 len;
};
struct hl_site_cache {
	struct cached_seg *v;
	size_t		 n;
	char		*api_src;	/* openapi.json's text, or NULL */
	size_t		 api_srclen;
	char		*api_html;	/* the "api" marker's expansion */
	size_t		 api_len;
	struct hl_site_memo *memo;	/* the lists' pages (site.c) */
	size_t		 nmemo;
	unsigned long	 list_pages_made;	/* not taken from memo */
	unsigned long	 feeds_made;		/* the same, for feeds */
};

struct hl_site_ctx {
	const struct hl_site_in	*in;
	const char		*site_dir;
	char			*layout;	/* site/layout.html or NULL */
	struct hl_site_cache	*own_cache;	/* when in->cache is NULL */
	struct hl_site_event	*ev;		/* oldest first, lists' only */
	size_t			*evl;		/* each one's index in in->lists */
	size_t			 nev;
	/* The newest event of each of in->lists, or NULL. */
	const struct hl_site_event **last;
	struct hl_site_file	*out;
	size_t			 nout;
	size_t			 capout;
};

/*
 * Reads site_dir/name (a template) into *out.  No site_dir or no such
 * file: *out is NULL and 0 is returned.  HL_EIO, HL_ETOOBIG.
 */
int	hl_site__template(char **out, const char *site_dir, const char *name,
	    struct hl_err *err);

/*
 * Wraps the page body (made from template tpl, or fallback when site/ has
 * none, filled by fn) in the layout and adds it to the output as path.
 * script: the page's own script under assets/ or NULL.
 */
int	hl_site__page(struct hl_site_ctx *c, const char *path,
	    const char *title, const char *tpl, const char *fallback,
	    const char *script, hl_site_fill_fn fn, void *payload,
	    struct hl_err *err);
/* Adds data (taken) as path to the output. */
int	hl_site__add(struct hl_site_ctx *c, const char *path, struct hl_sw *w,
	    struct hl_err *err);

/* site_changes.c: the events of the window, changes.html, the feeds. */
int	hl_site__events(struct hl_site_ctx *c, struct hl_err *err);
/* The index of list id in c->in->lists, or c->in->nlists when none. */
size_t	hl_site__list_index(const struct hl_site_ctx *c, const char *id);
int	hl_site__changes(struct hl_site_ctx *c, struct hl_err *err);
/* feed.xml and each list's feed-<list>.xml. */
int	hl_site__feeds(struct hl_site_ctx *c, struct hl_err *err);
/* The newest event of list (NULL: any), or NULL. */
const struct hl_site_event *hl_site__last(const struct hl_site_ctx *c,
	    const char *list);
/* "added <code>v</code> by actor", for one event. */
void	hl_site__event_what(struct hl_sw *w, const struct hl_site_event *e);
/* Table rows for the newest max events of list (NULL: all). */
size_t	hl_site__event_rows(struct hl_sw *w, const struct hl_site_ctx *c,
	    const char *list, size_t max);

/*
 * The cache's memo of pages made only when what they are made of changed
 * (site.c: the list pages; site_changes.c: the feeds).  A page's key is
 * the SHA-256 of its inputs, put in a digest with hl_site__key_*.
 */
/*
 * Adds the memo's page for path when it was made of key: 0 (or HL_ENOMEM)
 * when added, -1 when there is none of that key (make the page).
 */
int	hl_site__memo_add(struct hl_site_ctx *c, const char *path,
	    const unsigned char key[32], struct hl_err *err);
/* Keeps the page just added to c's output as path's, made of key. */
void	hl_site__memo_put(struct hl_site_cache *m, const struct hl_site_ctx *c,
	    const char *path, const unsigned char key[32]);
/*
 * A key being made: the inputs are gathered in buf and go to the digest
 * a buffer at a time (a feed's key is a few thousand small fields; one
 * EVP_DigestUpdate each cost more than the hashing).  The digest is of
 * the same bytes either way.
 */
struct hl_site_key {
	EVP_MD_CTX	*x;
	size_t		 n;
	unsigned char	 buf[4096];
};

/* 1, or 0 when no digest can be had (hl_site__key_end then fails). */
int	hl_site__key_begin(struct hl_site_key *k);
/* s with its length (NULL: a length no string has) into the key. */
int	hl_site__key_str(struct hl_site_key *k, const char *s);
int	hl_site__key_int(struct hl_site_key *k, int64_t v);
/* Every field of e a page shows. */
int	hl_site__key_event(struct hl_site_key *k,
	    const struct hl_site_event *e);
/* The key into key and k freed: 0, or -1 when !ok or the digest failed. */
int	hl_site__key_end(struct hl_site_key *k, unsigned char key[32],
	    int ok);

/* site_api.c: api.html from openapi.json. */
int	hl_site__api(struct hl_site_ctx *c, struct hl_err *err);

#endif
