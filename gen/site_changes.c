/*
 * site_changes: the recent changes as the site shows them -- read from
 * the change window (the changes/<a>-<b>.json segments the build made) --
 * as changes.html and as Atom feeds (RFC 4287): feed.xml for every list,
 * feed-<id>.xml for one.
 *
 * A feed holds the newest FEED_MAX changes, one entry each:
 *
 *   <entry>
 *     <id>tag:helios,2024:v942</id>
 *     <title>watch-number: added 08151729325</title>
 *     <updated>2026-12-01T22:47:40Z</updated>
 *     <author><name>import</name></author>
 *     <link href="watch-number.html#793"/>
 *     <content type="text">...</content>
 *   </entry>
 *
 * Links are relative to the feed, which sits beside the pages, so a feed
 * works on every mirror and under any sub-path.  The feed's <updated> is
 * the newest change's time, so that the same tree gives the same bytes.
 * A feed is made again only when the events it shows changed: the build's
 * cache keeps each with the SHA-256 of those events (feed_key), as it
 * keeps the list pages (site.c).
 */
#include <stdlib.h>
#include <string.h>

#include "site_int.h"

#define FEED_MAX	50
#define PAGE_MAX	200

/*
 * A parsed segment and its events, kept while it is in the window: a
 * build reads each segment once, however many builds show it.  The
 * events' strings point into root.
 */
struct cached_seg {
	int64_t			 from;
	int64_t			 to;
	json_t			*root;
	struct hl_site_event	*ev;
	size_t			 nev;
	/*
	 * Each event's index in the lists whose ids, each ended by a NUL,
	 * are lkey (lkeylen bytes): the nlists of then for none.  Made
	 * again when the lists are not those.
	 */
	size_t			*li;
	char			*lkey;
	size_t			 lkeylen;
};

int
hl_site_cache_new(struct hl_site_cache **out, struct hl_err *err)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	return 0;
}

static void
seg_clear(struct cached_seg *g)
{
	json_decref(g->root);
	free(g->ev);
	free(g->li);
	free(g->lkey);
}

void
hl_site_cache_free(struct hl_site_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		seg_clear(&c->v[i]);
	free(c->v);
	free(c->api_src);
	free(c->api_html);
	for (i = 0; i < c->nmemo; i++) {
		free(c->memo[i].path);
		free(c->memo[i].data);
	}
	free(c->memo);
	free(c);
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The events of a parsed segment with an op and a list, into g. */
static int
seg_events(struct cached_seg *g, struct hl_err *err)
{
	json_t *evs = json_object_get(g->root, "events"), *e;
	struct hl_site_event *v;
	size_t k;

	if (json_array_size(evs) == 0)
		return 0;
	if ((g->ev = calloc(json_array_size(evs), sizeof(*g->ev))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	json_array_foreach(evs, k, e) {
		if (!json_is_object(e))
			continue;
		v = &g->ev[g->nev];
		v->version = json_integer_value(json_object_get(e,
		    "version"));
		v->at = json_integer_value(json_object_get(e, "at"));
		v->op = str(e, "op");
		v->list = str(e, "list");
		v->value = str(e, "value");
		v->actor = str(e, "actor");
		v->item = json_integer_value(json_object_get(
		    json_object_get(e, "record"), "id"));
		if (v->op != NULL && v->list != NULL)
			g->nev++;
	}
	return 0;
}

/*
 * The segment g, parsed with its events: from the cache, or parsed and
 * added to it.  HL_EINVAL when it is not JSON, HL_ENOMEM.
 */
static int
segment(struct cached_seg **out, struct hl_site_cache *cache,
    const struct hl_site_seg *g, struct hl_err *err)
{
	struct cached_seg *nv, one = { .from = g->from, .to = g->to };
	json_error_t je;
	size_t i;
	int rc;

	for (i = 0; i < cache->n; i++)
		if (cache->v[i].from == g->from && cache->v[i].to == g->to) {
			*out = &cache->v[i];
			return 0;
		}
	if ((nv = realloc(cache->v, (cache->n + 1) * sizeof(*nv))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	cache->v = nv;
	if ((one.root = json_loadb(g->data, g->len, 0, &je)) == NULL)
		return hl_err_set(err, HL_EINVAL, "change segment: %s",
		    je.text);
	if ((rc = seg_events(&one, err)) != 0) {
		seg_clear(&one);
		return rc;
	}
	nv[cache->n] = one;
	*out = &nv[cache->n++];
	return 0;
}

/* Drops the cached segments that left the window. */
static void
cache_trim(struct hl_site_cache *cache, const struct hl_site_in *in)
{
	size_t i, k, keep = 0;

	for (i = 0; i < cache->n; i++) {
		for (k = 0; k < in->nsegs; k++)
			if (in->segs[k].from == cache->v[i].from &&
			    in->segs[k].to == cache->v[i].to)
				break;
		if (k < in->nsegs)
			cache->v[keep++] = cache->v[i];
		else
			seg_clear(&cache->v[i]);
	}
	cache->n = keep;
}

static const char fallback_changes[] =
    "<h1>Recent changes</h1>\n<table><tbody><!--helios:changes-->"
    "</tbody></table>\n";

/*
 * The ids of in's lists, each ended by a NUL, into key: what a segment's
 * list indexes are good for.
 */
static int
lists_key(struct hl_buf *key, const struct hl_site_in *in)
{
	size_t i;

	for (i = 0; i < in->nlists; i++)
		if (hl_buf_put(key, in->lists[i].info->id,
		    strlen(in->lists[i].info->id) + 1) != 0)
			return -1;
	return 0;
}

/* g's events' list indexes (li) for the lists of key, made when stale. */
static int
seg_lists(struct cached_seg *g, const struct hl_site_in *in,
    const struct hl_buf *key, struct hl_err *err)
{
	size_t k, l = 0;

	if (g->lkey != NULL && g->lkeylen == key->len &&
	    memcmp(g->lkey, key->data, key->len) == 0)
		return 0;
	free(g->li);
	free(g->lkey);
	g->lkey = NULL;
	if ((g->li = calloc(g->nev + 1, sizeof(*g->li))) == NULL ||
	    (g->lkey = malloc(key->len + 1)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(g->lkey, key->data, key->len);
	g->lkeylen = key->len;
	for (k = 0; k < g->nev; k++) {
		if (l >= in->nlists ||
		    strcmp(in->lists[l].info->id, g->ev[k].list) != 0)
			for (l = 0; l < in->nlists; l++)
				if (strcmp(in->lists[l].info->id,
				    g->ev[k].list) == 0)
					break;
		g->li[k] = l;
	}
	return 0;
}

size_t
hl_site__list_index(const struct hl_site_ctx *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->in->nlists; i++)
		if (strcmp(c->in->lists[i].info->id, id) == 0)
			break;
	return i;
}

/*
 * The window's list events, oldest first, into c->ev with their list's
 * index into c->evl (so that a page of one list picks its events without
 * a string compare each), and the newest of each list into c->last
 * (hl_site__last).  The segments, and their events' list indexes, come
 * from in->cache, or from a cache of this build's own when there is none.
 */
int
hl_site__events(struct hl_site_ctx *c, struct hl_err *err)
{
	const struct hl_site_in *in = c->in;
	struct cached_seg *g;
	struct hl_site_cache *cache = in->cache;
	struct hl_buf key = HL_BUF_INIT;
	size_t i, k, l, total = 0;
	int rc;

	if (cache == NULL) {
		if ((rc = hl_site_cache_new(&c->own_cache, err)) != 0)
			return rc;
		cache = c->own_cache;
	}
	cache_trim(cache, in);
	if (in->nlists > 0 &&
	    (c->last = calloc(in->nlists, sizeof(*c->last))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < in->nsegs; i++) {
		if ((rc = segment(&g, cache, &in->segs[i], err)) != 0)
			return rc;
		total += g->nev;
	}
	if (total == 0)
		return 0;
	if ((c->ev = calloc(total, sizeof(*c->ev))) == NULL ||
	    (c->evl = calloc(total, sizeof(*c->evl))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if (lists_key(&key, in) != 0) {
		hl_buf_free(&key);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	/* The same calls again find every segment in the cache. */
	for (i = 0, rc = 0; i < in->nsegs && rc == 0; i++) {
		if ((rc = segment(&g, cache, &in->segs[i], err)) != 0 ||
		    (rc = seg_lists(g, in, &key, err)) != 0)
			break;
		for (k = 0; k < g->nev; k++) {
			/* Lists only: notifications name chat users. */
			if ((l = g->li[k]) >= in->nlists)
				continue;
			c->last[l] = c->ev + c->nev;
			c->evl[c->nev] = l;
			c->ev[c->nev++] = g->ev[k];
		}
	}
	hl_buf_free(&key);
	return rc;
}

const struct hl_site_event *
hl_site__last(const struct hl_site_ctx *c, const char *list)
{
	size_t l;

	if (list == NULL)
		return c->nev > 0 ? &c->ev[c->nev - 1] : NULL;
	l = hl_site__list_index(c, list);
	return c->last != NULL && l < c->in->nlists ? c->last[l] : NULL;
}

static const char *
verb(const char *op)
{
	if (strcmp(op, "add") == 0)
		return "added";
	if (strcmp(op, "delete") == 0)
		return "removed";
	return op;
}

void
hl_site__event_what(struct hl_sw *w, const struct hl_site_event *e)
{
	hl_sw_esc(w, verb(e->op));
	if (e->value != NULL) {
		hl_sw_puts(w, " <code>");
		hl_sw_esc(w, e->value);
		hl_sw_puts(w, "</code>");
	}
	if (e->actor != NULL) {
		hl_sw_puts(w, " by ");
		hl_sw_esc(w, e->actor);
	}
}

/* A link to the entry an event names, when it is on a list page. */
static void
entry_href(struct hl_sw *w, const struct hl_site_ctx *c,
    const struct hl_site_event *e)
{
	hl_sw_slug(w, e->list);
	hl_sw_puts(w, ".html");
	if (e->item > 0 && strcmp(e->op, "add") == 0)
		hl_sw_printf(w, "#%lld", (long long)e->item);
	(void)c;
}

size_t
hl_site__event_rows(struct hl_sw *w, const struct hl_site_ctx *c,
    const char *list, size_t max)
{
	const struct hl_site_event *e;
	size_t i, n = 0, li = list != NULL ? hl_site__list_index(c, list) : 0;

	/* Every event of c->ev is a list's, whose page it links to. */
	for (i = c->nev; i-- > 0 && n < max; ) {
		e = &c->ev[i];
		if (list != NULL && c->evl[i] != li)
			continue;
		hl_sw_puts(w, "<tr data-list=\"");
		hl_sw_esc(w, e->list);
		hl_sw_printf(w, "\"><td class=\"num\" data-label=\"Version\">"
		    "%lld</td><td data-label=\"When\">", (long long)e->version);
		hl_sw_time(w, e->at);
		hl_sw_puts(w, "</td>");
		if (list == NULL) {
			hl_sw_puts(w, "<td data-label=\"List\"><a href=\"");
			hl_sw_slug(w, e->list);
			hl_sw_puts(w, ".html\">");
			hl_sw_esc(w, e->list);
			hl_sw_puts(w, "</a></td>");
		}
		hl_sw_printf(w, "<td class=\"op op-%s\" data-label=\"What\">%s"
		    "</td><td class=\"v\" data-label=\"Value\">",
		    strcmp(e->op, "add") == 0 ? "add" : "del", verb(e->op));
		if (e->value != NULL) {
			hl_sw_puts(w, "<a href=\"");
			entry_href(w, c, e);
			hl_sw_puts(w, "\"><code>");
			hl_sw_esc(w, e->value);
			hl_sw_puts(w, "</code></a>");
		}
		hl_sw_puts(w, "</td><td data-label=\"By\">");
		hl_sw_esc(w, e->actor);
		hl_sw_puts(w, "</td></tr>\n");
		n++;
	}
	return n;
}

struct page_fill {
	struct hl_site_ctx *c;
};

static int
changes_marker(struct hl_sw *w, const char *name, void *payload)
{
	struct page_fill *f = payload;
	const struct hl_site_ctx *c = f->c;
	size_t i;

	if (strcmp(name, "changes") == 0) {
		if (hl_site__event_rows(w, c, NULL, PAGE_MAX) == 0)
			hl_sw_puts(w, "<tr><td colspan=\"6\">No changes in "
			    "the window.</td></tr>\n");
	} else if (strcmp(name, "list-options") == 0) {
		for (i = 0; i < c->in->nlists; i++) {
			hl_sw_puts(w, "<option value=\"");
			hl_sw_esc(w, c->in->lists[i].info->id);
			hl_sw_puts(w, "\">");
			hl_sw_esc(w, c->in->lists[i].info->id);
			hl_sw_puts(w, "</option>");
		}
	} else if (strcmp(name, "feeds") == 0) {
		for (i = 0; i < c->in->nlists; i++) {
			hl_sw_puts(w, "<li><a href=\"feed-");
			hl_sw_slug(w, c->in->lists[i].info->id);
			hl_sw_puts(w, ".xml\">");
			hl_sw_esc(w, c->in->lists[i].info->id);
			hl_sw_puts(w, "</a></li>");
		}
	} else if (strcmp(name, "version") == 0)
		hl_sw_printf(w, "%lld", (long long)c->in->version);
	else if (strcmp(name, "shown") == 0)
		hl_sw_printf(w, "%zu", c->nev < PAGE_MAX ? c->nev : PAGE_MAX);
	else if (strcmp(name, "oldest") == 0)
		hl_sw_printf(w, "%lld", (long long)(c->nev ?
		    c->ev[0].version : c->in->version));
	else
		return 1;
	return 0;
}

static void
feed(struct hl_sw *w, const struct hl_site_ctx *c, const char *list)
{
	const struct hl_site_event *e, *last = hl_site__last(c, list);
	size_t i, n = 0, li = list != NULL ? hl_site__list_index(c, list) : 0;

	hl_sw_puts(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<id>tag:helios,"
	    "2024:changes");
	if (list != NULL) {
		hl_sw_puts(w, ":");
		hl_sw_slug(w, list);
	}
	hl_sw_puts(w, "</id>\n<title>Helios: changes");
	if (list != NULL) {
		hl_sw_puts(w, " to ");
		hl_sw_esc(w, list);
	}
	hl_sw_puts(w, "</title>\n<updated>");
	hl_sw_rfc3339(w, last ? last->at : 0);
	hl_sw_puts(w, "</updated>\n<author><name>Helios</name></author>\n"
	    "<link rel=\"self\" href=\"");
	if (list != NULL) {
		hl_sw_puts(w, "feed-");
		hl_sw_slug(w, list);
		hl_sw_puts(w, ".xml\"/>\n<link rel=\"alternate\" "
		    "type=\"text/html\" href=\"");
		hl_sw_slug(w, list);
		hl_sw_puts(w, ".html\"/>\n");
	} else
		hl_sw_puts(w, "feed.xml\"/>\n<link rel=\"alternate\" "
		    "type=\"text/html\" href=\"changes.html\"/>\n");
	for (i = c->nev; i-- > 0 && n < FEED_MAX; ) {
		e = &c->ev[i];
		if (list != NULL && c->evl[i] != li)
			continue;
		n++;
		hl_sw_printf(w, "<entry>\n<id>tag:helios,2024:v%lld</id>\n"
		    "<title>", (long long)e->version);
		hl_sw_esc(w, e->list);
		hl_sw_printf(w, ": %s ", verb(e->op));
		hl_sw_esc(w, e->value);
		hl_sw_puts(w, "</title>\n<updated>");
		hl_sw_rfc3339(w, e->at);
		hl_sw_puts(w, "</updated>\n<author><name>");
		hl_sw_esc(w, e->actor ? e->actor : "unknown");
		hl_sw_puts(w, "</name></author>\n");
		hl_sw_puts(w, "<link href=\"");	/* a list's: linked */
		entry_href(w, c, e);
		hl_sw_puts(w, "\"/>\n");
		hl_sw_printf(w, "<content type=\"text\">Version %lld: ",
		    (long long)e->version);
		hl_sw_esc(w, e->actor ? e->actor : "someone");
		hl_sw_printf(w, " %s ", verb(e->op));
		hl_sw_esc(w, e->value);
		hl_sw_puts(w, " (");
		hl_sw_esc(w, e->list);
		hl_sw_puts(w, ")</content>\n</entry>\n");
	}
	hl_sw_puts(w, "</feed>\n");
}

int
hl_site__changes(struct hl_site_ctx *c, struct hl_err *err)
{
	struct page_fill f = { c };

	return hl_site__page(c, "changes.html", "Recent changes - Helios",
	    "changes.html", fallback_changes, "changes.js", changes_marker,
	    &f, err);
}

/*
 * The SHA-256 of what the feed of list (NULL: every list) at path is made
 * of: the events it shows.  0, or -1 when it cannot be had (the feed is
 * then made).
 */
static int
feed_key(unsigned char key[32], const struct hl_site_ctx *c,
    const char *path, const char *list)
{
	struct hl_site_key k;
	size_t i, n = 0, li = list != NULL ? hl_site__list_index(c, list) : 0;
	int ok;

	ok = hl_site__key_begin(&k) && hl_site__key_str(&k, path) &&
	    hl_site__key_str(&k, list);
	for (i = c->nev; ok && i-- > 0 && n < FEED_MAX; ) {
		if (list != NULL && c->evl[i] != li)
			continue;
		ok = hl_site__key_event(&k, &c->ev[i]);
		n++;
	}
	return hl_site__key_end(&k, key, ok);
}

/*
 * Adds the feed of list (NULL: every list) as path: the cache's copy when
 * it was made of the same events (feed_key), else made anew and kept.
 */
static int
add_feed(struct hl_site_ctx *c, const char *path, const char *list,
    struct hl_err *err)
{
	struct hl_site_cache *m = c->in->cache;
	struct hl_sw w = HL_SW_INIT;
	unsigned char key[32];
	int rc, keyed = m != NULL && feed_key(key, c, path, list) == 0;

	if (keyed && (rc = hl_site__memo_add(c, path, key, err)) >= 0)
		return rc;
	feed(&w, c, list);
	if ((rc = hl_site__add(c, path, &w, err)) != 0)
		return rc;
	if (m != NULL)
		m->feeds_made++;
	if (keyed)
		hl_site__memo_put(m, c, path, key);
	return 0;
}

int
hl_site__feeds(struct hl_site_ctx *c, struct hl_err *err)
{
	char path[128];
	size_t i;
	int rc;

	if ((rc = add_feed(c, "feed.xml", NULL, err)) != 0)
		return rc;
	for (i = 0; i < c->in->nlists; i++) {
		struct hl_sw name = HL_SW_INIT;

		hl_sw_puts(&name, "feed-");
		hl_sw_slug(&name, c->in->lists[i].info->id);
		hl_sw_puts(&name, ".xml");
		if (name.oom || name.b.len >= sizeof(path)) {
			hl_sw_free(&name);
			return hl_err_set(err, HL_ENOMEM, "list id too long");
		}
		memcpy(path, name.b.data, name.b.len + 1);
		hl_sw_free(&name);
		if ((rc = add_feed(c, path, c->in->lists[i].info->id,
		    err)) != 0)
			return rc;
	}
	return 0;
}
