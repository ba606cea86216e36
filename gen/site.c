/*
 * site: the pages of the published site (see site.h): the index, one
 * page per list, "Is this caught?" and the review queue
 * (proposals.html, a shell that assets/proposals.js fills from
 * proposals.json) here; the changes and the feeds in
 * site_changes.c, the API page in site_api.c, the writer, templates and
 * layout in site_html.c.
 *
 * The list pages and "Is this caught?" are shells: their entries come
 * from the lists' JSON, which the browser fetches (assets/list.js,
 * assets/caught.js), so a page's size does not grow with its list.  What
 * the scripts need is in data- attributes the generator writes:
 *
 *   <div id="entries" data-list="watch-keyword" data-kind="regex"
 *        data-json="lists/watch-keyword.json"
 *        data-gz="lists/watch-keyword.json.gz" data-count="150">
 *
 * data-kind says how SmokeDetector matches the list's values: "regex"
 * (keywords, websites, user names), "number" (phone numbers, compared on
 * their digits), "cidr", "ns" (name servers) or "asn".
 *
 * A list's page is made again only when what it is made of changed: the
 * build's cache keeps each list page with the SHA-256 of its inputs (the
 * layout and template texts, the list's fields and files, its newest
 * events of the window, and the version when the layout shows it), so a
 * change to one list renders that list's page, not every list's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "par.h"
#include "site.h"
#include "site_int.h"

#define MAX_SITE_FILE	(4 * 1024 * 1024)
/* Changes shown on a list page. */
#define LIST_CHANGES	20

static const char fallback_index[] =
    "<h1>Helios lists</h1>\n<p>Version <strong id=\"version\">"
    "<!--helios:version--></strong></p>\n<div>Propagation: "
    "<!--helios:propagation--></div>\n<table>\n<thead><tr><th>List</th>"
    "<th>Items</th><th>Last change</th><th>Files</th></tr></thead>\n"
    "<tbody><!--helios:lists--></tbody></table>\n";

static const char fallback_list[] =
    "<h1><!--helios:id--></h1>\n<p><!--helios:count--> entries. "
    "<!--helios:files--></p>\n<!--helios:entries-->\n"
    "<h2>Recent changes</h2>\n<table><tbody><!--helios:changes-->"
    "</tbody></table>\n";

static const char fallback_proposals[] =
    "<h1>Review queue</h1>\n<p id=\"status\" role=\"status\">Loading the "
    "queue</p>\n<div id=\"queue\" data-json=\"proposals.json\"></div>\n"
    "<datalist id=\"lists\"><!--helios:lists--></datalist>\n";

static const char fallback_caught[] =
    "<h1>Is this caught?</h1>\n<!--helios:lists-->\n";

static const char *
kind(const struct hl_list *l)
{
	switch (l->fmt) {
	case HL_FMT_YAML_CIDR: return "cidr";
	case HL_FMT_YAML_NS: return "ns";
	case HL_FMT_YAML_ASN: return "asn";
	}
	return strstr(l->id, "number") != NULL ? "number" : "regex";
}

void
hl_site_key_fpr(char *out, const unsigned char *raw, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	memcpy(out, "SHA256:", 8);
	if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return;
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* One file of a list on the index: link, size, hash, copy buttons. */
static void
file_row(struct hl_sw *w, const char *label, const char *path,
    size_t bytes, const char *sha256)
{
	hl_sw_printf(w, "<tr><th scope=\"row\">%s</th><td><a href=\"", label);
	hl_sw_esc(w, path);
	hl_sw_puts(w, "\" class=\"url\">");
	hl_sw_esc(w, path);
	hl_sw_puts(w, "</a> <button type=\"button\" class=\"copy\" "
	    "data-copy=\"");
	hl_sw_esc(w, path);
	hl_sw_printf(w, "\" aria-label=\"Copy the URL of %s\">Copy URL"
	    "</button></td><td class=\"num\">", label);
	hl_sw_size(w, bytes);
	hl_sw_puts(w, "</td><td><code class=\"hash\">");
	hl_sw_esc(w, sha256);
	hl_sw_puts(w, "</code></td></tr>\n");
}

static void
list_files(struct hl_sw *w, const struct hl_site_list *l)
{
	const char *ext = strrchr(l->text.path ? l->text.path : "", '.');

	hl_sw_puts(w, "<table class=\"files\"><caption>Files of ");
	hl_sw_esc(w, l->info->id);
	hl_sw_puts(w, "</caption><thead><tr><th scope=\"col\">File</th>"
	    "<th scope=\"col\">URL</th><th scope=\"col\" class=\"num\">Size"
	    "</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>\n");
	file_row(w, ext && strcmp(ext, ".yml") == 0 ? "yml" : "txt",
	    l->text.path, l->text.bytes, l->text.sha256);
	if (l->text.gzpath)
		file_row(w, "txt.gz", l->text.gzpath, l->text.gzbytes,
		    l->text.gzsha256);
	file_row(w, "json", l->json.path, l->json.bytes, l->json.sha256);
	if (l->json.gzpath)
		file_row(w, "json.gz", l->json.gzpath, l->json.gzbytes,
		    l->json.gzsha256);
	hl_sw_puts(w, "</tbody></table>\n<p class=\"curl\">With curl: "
	    "<code data-curl=\"");
	hl_sw_esc(w, l->text.path);
	hl_sw_puts(w, "\">curl --compressed -O ");
	hl_sw_esc(w, l->text.path);
	hl_sw_puts(w, "</code></p>\n");
}

static void
last_change(struct hl_sw *w, const struct hl_site_ctx *c,
    const struct hl_site_list *l)
{
	const struct hl_site_event *e = hl_site__last(c, l->info->id);

	if (e == NULL) {
		hl_sw_printf(w, "version %lld", (long long)l->info->version);
		return;
	}
	hl_sw_time(w, e->at);
	hl_sw_printf(w, " <span class=\"v\">(v%lld)</span><br>",
	    (long long)e->version);
	hl_site__event_what(w, e);
}

static void
index_rows(struct hl_sw *w, const struct hl_site_ctx *c)
{
	const struct hl_site_list *l;
	size_t i;

	for (i = 0; i < c->in->nlists; i++) {
		l = &c->in->lists[i];
		hl_sw_puts(w, "<tr id=\"list-");
		hl_sw_slug(w, l->info->id);
		hl_sw_puts(w, "\"><td data-label=\"List\"><a href=\"");
		hl_sw_slug(w, l->info->id);
		hl_sw_puts(w, ".html\">");
		hl_sw_esc(w, l->info->id);
		hl_sw_puts(w, "</a><br><small>");
		hl_sw_esc(w, l->info->file);
		hl_sw_printf(w, "</small></td><td class=\"num\" "
		    "data-label=\"Items\">%lld</td><td data-label=\"Last "
		    "change\">", (long long)l->info->count);
		last_change(w, c, l);
		hl_sw_puts(w, "</td><td data-label=\"Download\"><a href=\"");
		hl_sw_esc(w, l->text.path);
		hl_sw_puts(w, "\">txt</a> <a href=\"");
		hl_sw_esc(w, l->json.path);
		hl_sw_puts(w, "\">json</a> <a href=\"");
		hl_sw_esc(w, l->text.gzpath);
		hl_sw_puts(w, "\">gz</a>\n<details><summary>Sizes, SHA-256, "
		    "URLs<span class=\"sr\"> of ");
		hl_sw_esc(w, l->info->id);
		hl_sw_puts(w, "</span></summary>\n");
		list_files(w, l);
		hl_sw_puts(w, "</details></td></tr>\n");
	}
}

/*
 * The last measured propagation to each public copy: "v12 at
 * https://lists.example.org/ 1.4 s after it was published (measured
 * <time>)", or that none was measured.
 */
static void
propagation(struct hl_sw *w, const struct hl_site_in *in)
{
	size_t i;

	if (in->nprops == 0) {
		hl_sw_puts(w, "<span id=\"propagation\">not measured</span>");
		return;
	}
	hl_sw_puts(w, "<ul id=\"propagation\" class=\"inline\">");
	for (i = 0; i < in->nprops; i++) {
		hl_sw_printf(w, "<li data-seconds=\"%.3f\">v%lld at <code>",
		    in->props[i].seconds, (long long)in->props[i].version);
		hl_sw_esc(w, in->props[i].url);
		hl_sw_printf(w, "</code> %.1f s after it was published "
		    "(measured ", in->props[i].seconds);
		hl_sw_time(w, in->props[i].measured_at);
		hl_sw_puts(w, ")</li>");
	}
	hl_sw_puts(w, "</ul>");
}

static int
index_marker(struct hl_sw *w, const char *name, void *payload)
{
	const struct hl_site_ctx *c = payload;

	if (strcmp(name, "lists") == 0)
		index_rows(w, c);
	else if (strcmp(name, "version") == 0)
		hl_sw_printf(w, "%lld", (long long)c->in->version);
	else if (strcmp(name, "notifications") == 0)
		hl_sw_printf(w, "%lld", (long long)c->in->notif_version);
	else if (strcmp(name, "ttl") == 0)
		hl_sw_printf(w, "%lld", (long long)(c->in->ttl / 86400 > 0 ?
		    c->in->ttl / 86400 : 1));
	else if (strcmp(name, "key") == 0) {
		if (c->in->key_fpr != NULL) {
			hl_sw_puts(w, "<code id=\"key-fpr\">");
			hl_sw_esc(w, c->in->key_fpr);
			hl_sw_puts(w, "</code> (<a href=\"manifest.json.sig\">"
			    "manifest.json.sig</a>)");
		} else
			hl_sw_puts(w, "<span id=\"key-fpr\">none: this tree "
			    "is not signed</span>");
	} else if (strcmp(name, "propagation") == 0) {
		propagation(w, c->in);
	} else if (strcmp(name, "last") == 0) {
		const struct hl_site_event *e = hl_site__last(c, NULL);

		if (e == NULL)
			hl_sw_puts(w, "none in the window");
		else {
			hl_sw_time(w, e->at);
			hl_sw_puts(w, ", ");
			hl_sw_esc(w, e->list);
			hl_sw_puts(w, ": ");
			hl_site__event_what(w, e);
		}
	} else
		return 1;
	return 0;
}

struct list_fill {
	const struct hl_site_ctx *c;
	const struct hl_site_list *l;
};

static int
list_marker(struct hl_sw *w, const char *name, void *payload)
{
	struct list_fill *f = payload;
	const struct hl_site_list *l = f->l;

	if (strcmp(name, "id") == 0)
		hl_sw_esc(w, l->info->id);
	else if (strcmp(name, "slug") == 0)
		hl_sw_slug(w, l->info->id);
	else if (strcmp(name, "file") == 0)
		hl_sw_esc(w, l->info->file);
	else if (strcmp(name, "count") == 0)
		hl_sw_printf(w, "%lld", (long long)l->info->count);
	else if (strcmp(name, "version") == 0)
		hl_sw_printf(w, "%lld", (long long)l->info->version);
	else if (strcmp(name, "kind") == 0)
		hl_sw_puts(w, kind(l->info));
	else if (strcmp(name, "format") == 0)
		hl_sw_esc(w, hl_fmt_name(l->info->fmt));
	else if (strcmp(name, "json") == 0)
		hl_sw_esc(w, l->json.path);
	else if (strcmp(name, "gz") == 0)
		hl_sw_esc(w, l->json.gzpath ? l->json.gzpath : l->json.path);
	else if (strcmp(name, "text") == 0)
		hl_sw_esc(w, l->text.path);
	else if (strcmp(name, "files") == 0)
		list_files(w, l);
	else if (strcmp(name, "last") == 0)
		last_change(w, f->c, l);
	else if (strcmp(name, "entries") == 0) {
		hl_sw_puts(w, "<div id=\"entries\" data-list=\"");
		hl_sw_esc(w, l->info->id);
		hl_sw_printf(w, "\" data-kind=\"%s\" data-json=\"",
		    kind(l->info));
		hl_sw_esc(w, l->json.path);
		hl_sw_puts(w, "\" data-gz=\"");
		hl_sw_esc(w, l->json.gzpath ? l->json.gzpath : l->json.path);
		hl_sw_printf(w, "\" data-count=\"%lld\"></div>",
		    (long long)l->info->count);
	} else if (strcmp(name, "changes") == 0) {
		if (hl_site__event_rows(w, f->c, l->info->id,
		    LIST_CHANGES) == 0)
			hl_sw_puts(w, "<tr><td colspan=\"5\">No changes in "
			    "the window.</td></tr>\n");
	} else
		return 1;
	return 0;
}

static int
caught_marker(struct hl_sw *w, const char *name, void *payload)
{
	const struct hl_site_ctx *c = payload;
	const struct hl_site_list *l;
	size_t i;

	if (strcmp(name, "lists") != 0)
		return 1;
	hl_sw_puts(w, "<ul id=\"caught-lists\" class=\"inline\">\n");
	for (i = 0; i < c->in->nlists; i++) {
		l = &c->in->lists[i];
		hl_sw_puts(w, "<li data-list=\"");
		hl_sw_esc(w, l->info->id);
		hl_sw_printf(w, "\" data-kind=\"%s\" data-json=\"",
		    kind(l->info));
		hl_sw_esc(w, l->json.path);
		hl_sw_puts(w, "\" data-gz=\"");
		hl_sw_esc(w, l->json.gzpath ? l->json.gzpath : l->json.path);
		hl_sw_puts(w, "\"><a href=\"");
		hl_sw_slug(w, l->info->id);
		hl_sw_puts(w, ".html\">");
		hl_sw_esc(w, l->info->id);
		hl_sw_printf(w, "</a> <small>(%s)</small></li>\n",
		    kind(l->info));
	}
	hl_sw_puts(w, "</ul>\n");
	return 0;
}

/* The review queue's list ids, the targets a proposal can convert to. */
static int
proposals_marker(struct hl_sw *w, const char *name, void *payload)
{
	const struct hl_site_ctx *c = payload;
	size_t i;

	if (strcmp(name, "lists") != 0)
		return 1;
	for (i = 0; i < c->in->nlists; i++) {
		hl_sw_puts(w, "<option value=\"");
		hl_sw_esc(w, c->in->lists[i].info->id);
		hl_sw_puts(w, "\"></option>");
	}
	return 0;
}

int
hl_site__key_begin(struct hl_site_key *k)
{
	k->n = 0;
	return (k->x = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(k->x, EVP_sha256(), NULL) == 1;
}

/* n bytes at p into k. */
static int
key_put(struct hl_site_key *k, const void *p, size_t n)
{
	if (k->n + n > sizeof(k->buf)) {
		if (EVP_DigestUpdate(k->x, k->buf, k->n) != 1)
			return 0;
		k->n = 0;
		if (n > sizeof(k->buf))
			return EVP_DigestUpdate(k->x, p, n) == 1;
	}
	memcpy(k->buf + k->n, p, n);
	k->n += n;
	return 1;
}

int
hl_site__key_end(struct hl_site_key *k, unsigned char key[32], int ok)
{
	unsigned int len = 0;

	ok = ok && k->x != NULL &&
	    (k->n == 0 || EVP_DigestUpdate(k->x, k->buf, k->n) == 1) &&
	    EVP_DigestFinal_ex(k->x, key, &len) == 1 && len == 32;
	EVP_MD_CTX_free(k->x);
	k->x = NULL;
	return ok ? 0 : -1;
}

int
hl_site__key_str(struct hl_site_key *k, const char *s)
{
	size_t n = s != NULL ? strlen(s) : (size_t)-1;

	return key_put(k, &n, sizeof(n)) && (s == NULL || key_put(k, s, n));
}

int
hl_site__key_int(struct hl_site_key *k, int64_t v)
{
	return key_put(k, &v, sizeof(v));
}

int
hl_site__key_event(struct hl_site_key *k, const struct hl_site_event *e)
{
	return hl_site__key_int(k, e->version) &&
	    hl_site__key_int(k, e->at) && hl_site__key_str(k, e->op) &&
	    hl_site__key_str(k, e->list) && hl_site__key_str(k, e->value) &&
	    hl_site__key_str(k, e->actor) && hl_site__key_int(k, e->item);
}

static int
key_ref(struct hl_site_key *k, const struct hl_site_ref *r)
{
	return hl_site__key_str(k, r->path) &&
	    hl_site__key_str(k, r->sha256) &&
	    hl_site__key_int(k, (int64_t)r->bytes) &&
	    hl_site__key_str(k, r->gzpath) &&
	    hl_site__key_str(k, r->gzsha256) &&
	    hl_site__key_int(k, (int64_t)r->gzbytes);
}

/*
 * The SHA-256 of all a list's page is made of (see the top of this
 * file): tpl is the list template's text (NULL: the built-in one).  0, or
 * -1 when it cannot be had (the page is then made).
 */
static int
list_key(unsigned char key[32], const struct hl_site_ctx *c, const char *tpl,
    const struct hl_site_list *l, const char *path, const char *title)
{
	const struct hl_site_event *e;
	struct hl_site_key k;
	size_t i, n = 0;
	int ok;

	ok = hl_site__key_begin(&k) &&
	    hl_site__key_str(&k, c->layout) && hl_site__key_str(&k, tpl) &&
	    hl_site__key_int(&k, c->layout != NULL &&
	    strstr(c->layout, "<!--helios:version-->") != NULL ?
	    c->in->version : -1) &&
	    hl_site__key_str(&k, path) && hl_site__key_str(&k, title) &&
	    hl_site__key_str(&k, l->info->id) &&
	    hl_site__key_str(&k, l->info->file) &&
	    hl_site__key_int(&k, l->info->count) &&
	    hl_site__key_int(&k, l->info->version) &&
	    hl_site__key_int(&k, (int64_t)l->info->fmt) &&
	    key_ref(&k, &l->json) && key_ref(&k, &l->text);
	/* The events the page shows: the newest LIST_CHANGES of the list. */
	for (i = c->nev; ok && i-- > 0 && n < LIST_CHANGES; ) {
		e = &c->ev[i];
		if (c->evl[i] != (size_t)(l - c->in->lists))
			continue;
		ok = hl_site__key_event(&k, e);
		n++;
	}
	return hl_site__key_end(&k, key, ok);
}

/* The cache's page for path, or NULL. */
static struct hl_site_memo *
memo_find(struct hl_site_cache *m, const char *path)
{
	size_t i;

	for (i = 0; m != NULL && i < m->nmemo; i++)
		if (strcmp(m->memo[i].path, path) == 0)
			return &m->memo[i];
	return NULL;
}

int
hl_site__memo_add(struct hl_site_ctx *c, const char *path,
    const unsigned char key[32], struct hl_err *err)
{
	struct hl_site_memo *e = memo_find(c->in->cache, path);
	struct hl_sw w = HL_SW_INIT;

	if (e == NULL || memcmp(e->key, key, sizeof(e->key)) != 0)
		return -1;
	hl_sw_put(&w, e->data, e->len);
	return hl_site__add(c, path, &w, err);
}

void
hl_site__memo_put(struct hl_site_cache *m, const struct hl_site_ctx *c,
    const char *path, const unsigned char key[32])
{
	const struct hl_site_file *f = &c->out[c->nout - 1];
	struct hl_site_memo *e, *v;
	char *data;

	if (m == NULL || (data = malloc(f->len + 1)) == NULL)
		return;
	memcpy(data, f->data, f->len);
	if ((e = memo_find(m, path)) == NULL) {
		if ((v = realloc(m->memo, (m->nmemo + 1) *
		    sizeof(*v))) == NULL || (v[m->nmemo].path =
		    strdup(path)) == NULL) {
			if (v != NULL)
				m->memo = v;
			free(data);
			return;
		}
		m->memo = v;
		e = &v[m->nmemo++];
		e->data = NULL;
	}
	free(e->data);
	memcpy(e->key, key, sizeof(e->key));
	e->data = data;
	e->len = f->len;
}

/*
 * Adds the page of list l as path: the cache's copy when it was made of
 * the same (list_key), else made anew and kept.
 */
static int
list_page(struct hl_site_ctx *c, const char *tpl, const struct hl_site_list *l,
    const char *path, const char *title, struct hl_err *err)
{
	struct hl_site_cache *m = c->in->cache;
	struct list_fill lf;
	unsigned char key[32];
	int rc, keyed = m != NULL &&
	    list_key(key, c, tpl, l, path, title) == 0;

	if (keyed && (rc = hl_site__memo_add(c, path, key, err)) >= 0)
		return rc;
	lf.c = c;
	lf.l = l;
	if ((rc = hl_site__page(c, path, title, "list.html", fallback_list,
	    "list.js", list_marker, &lf, err)) != 0)
		return rc;
	if (m != NULL)
		m->list_pages_made++;
	if (keyed)
		hl_site__memo_put(m, c, path, key);
	return 0;
}

static int
cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct hl_site_file *)a)->path,
	    ((const struct hl_site_file *)b)->path);
}

static void
ctx_free(struct hl_site_ctx *c)
{
	hl_site_cache_free(c->own_cache);
	free(c->ev);
	free(c->evl);
	free(c->last);
	free(c->layout);
	hl_site_files_free(c->out, c->nout);
}

/* The changes page, on a context of its own (hl_site_build). */
struct changes_job {
	struct hl_site_ctx	 c;
	struct hl_err		 err;
};

static int
changes_job(void *arg)
{
	struct changes_job *j = arg;

	return hl_site__changes(&j->c, &j->err);
}

/*
 * Moves the pages of from (the changes job's) to the end of to's.  On
 * error (HL_ENOMEM) from keeps them.
 */
static int
take_pages(struct hl_site_ctx *to, struct hl_site_ctx *from,
    struct hl_err *err)
{
	struct hl_site_file *v;

	if (from->nout == 0)
		return 0;
	if ((v = realloc(to->out, (to->nout + from->nout) * sizeof(*v))) ==
	    NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(v + to->nout, from->out, from->nout * sizeof(*v));
	to->out = v;
	to->nout += from->nout;
	to->capout = to->nout;
	free(from->out);
	from->out = NULL;
	from->nout = from->capout = 0;
	return 0;
}

int
hl_site_build(struct hl_site_file **out, size_t *n, const char *site_dir,
    const struct hl_site_in *in, struct hl_err *err)
{
	struct hl_site_ctx c;
	struct changes_job cj;
	struct hl_par_job par;
	char path[128], title[160], *ltpl = NULL;
	size_t i;
	int rc, started = 0;

	*out = NULL;
	*n = 0;
	memset(&c, 0, sizeof(c));
	memset(&cj, 0, sizeof(cj));
	c.in = in;
	c.site_dir = site_dir;
	if ((rc = hl_site__template(&c.layout, site_dir, "layout.html",
	    err)) != 0 || (rc = hl_site__events(&c, err)) != 0)
		goto out;
	/*
	 * The changes page (half of the work) is made on a second thread:
	 * it reads the events, the layout and in, which nothing changes from
	 * here, and writes a page of its own only.
	 */
	cj.c = c;
	cj.c.own_cache = NULL;
	hl_par_start(in->par, &par, changes_job, &cj);
	started = 1;
	if ((rc = hl_site__page(&c, "index.html",
	    "Helios: SmokeDetector pattern lists", "index.html",
	    fallback_index, NULL, index_marker, &c, err)) != 0 ||
	    (rc = hl_site__template(&ltpl, site_dir, "list.html", err)) != 0)
		goto out;
	for (i = 0; i < in->nlists; i++) {
		struct hl_sw p = HL_SW_INIT;

		hl_sw_slug(&p, in->lists[i].info->id);
		hl_sw_puts(&p, ".html");
		if (p.oom || p.b.len >= sizeof(path)) {
			hl_sw_free(&p);
			rc = hl_err_set(err, HL_EINVAL, "list id too long");
			goto out;
		}
		memcpy(path, p.b.data, p.b.len + 1);
		hl_sw_free(&p);
		snprintf(title, sizeof(title), "%s - Helios",
		    in->lists[i].info->id);
		if ((rc = list_page(&c, ltpl, &in->lists[i], path, title,
		    err)) != 0)
			goto out;
	}
	if ((rc = hl_site__page(&c, "caught.html", "Is this caught? - Helios",
	    "caught.html", fallback_caught, "pyregex.js caught.js", caught_marker, &c,
	    err)) != 0 ||
	    (rc = hl_site__feeds(&c, err)) != 0 ||
	    (rc = hl_site__api(&c, err)) != 0)
		goto out;
	/* The review queue: a shell filled from proposals.json. */
	if ((rc = hl_site__page(&c, "proposals.html",
	    "Review queue - Helios", "proposals.html", fallback_proposals,
	    "proposals.js", proposals_marker, &c, err)) != 0)
		goto out;
	started = 0;
	if (hl_par_join(in->par, &par) != 0) {
		rc = cj.err.code ? cj.err.code : HL_ENOMEM;
		if (err != NULL)
			*err = cj.err;
		goto out;
	}
	if ((rc = take_pages(&c, &cj.c, err)) != 0)
		goto out;
	qsort(c.out, c.nout, sizeof(*c.out), cmp_files);
	*out = c.out;
	*n = c.nout;
	c.out = NULL;
	c.nout = 0;
out:
	if (started)
		(void)hl_par_join(in->par, &par);
	hl_site_files_free(cj.c.out, cj.c.nout);
	free(ltpl);
	ctx_free(&c);
	return rc;
}

static int
read_file(char **data, size_t *len, const char *path, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	FILE *f;
	char chunk[8192];
	size_t n;

	*data = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? HL_ENOTFOUND :
		    hl_err_set(err, HL_EIO, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hl_buf_put(&b, chunk, n) != 0 || b.len > MAX_SITE_FILE) {
			fclose(f);
			hl_buf_free(&b);
			return hl_err_set(err, HL_ETOOBIG, "%s: too large",
			    path);
		}
	fclose(f);
	*data = hl_buf_detach(&b, len);
	return 0;
}

void
hl_site_files_free(struct hl_site_file *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].data);
	}
	free(v);
}

int
hl_site_files(struct hl_site_file **out, size_t *n, const char *site_dir,
    struct hl_err *err)
{
	static const char *const subdirs[] = { "assets", "docs" };
	struct hl_site_file *v = NULL, *nv;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	char dir[4096], path[4096];
	size_t cnt = 0, k;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (k = 0; site_dir && k < 2 && rc == 0; k++) {
		snprintf(dir, sizeof(dir), "%s/%s", site_dir, subdirs[k]);
		if ((d = opendir(dir)) == NULL)
			continue;
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) >= (int)sizeof(path))
				continue;
			if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
				rc = hl_err_set(err, HL_ENOMEM, "no memory");
				break;
			}
			v = nv;
			memset(&v[cnt], 0, sizeof(v[cnt]));
			if (asprintf(&v[cnt].path, "%s/%s", subdirs[k],
			    de->d_name) < 0) {
				v[cnt].path = NULL;
				rc = hl_err_set(err, HL_ENOMEM, "no memory");
				break;
			}
			cnt++;
			rc = read_file(&v[cnt - 1].data, &v[cnt - 1].len, path,
			    err);
		}
		closedir(d);
	}
	if (rc != 0) {
		hl_site_files_free(v, cnt);
		return rc;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_files);
	*out = v;
	*n = cnt;
	return 0;
}
