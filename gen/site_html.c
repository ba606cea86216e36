/*
 * site_html: writing the site's pages safely -- the sticky-OOM writer,
 * escaping, dates and sizes, the <!--helios:NAME--> template filler and
 * the layout every page is wrapped in (site/layout.html).
 *
 * The layout's markers:
 *
 *   <!--helios:title-->    the page's title
 *   <!--helios:nav-->      the site's navigation, the current page marked
 *                          with aria-current="page"
 *   <!--helios:scripts-->  the page's own script, if any
 *   <!--helios:main-->     the page's body
 *   <!--helios:version-->  the tree's version
 *
 * Scripts are files under assets/ loaded with <script src defer>: the
 * Content-Security-Policy of the layout allows no inline script.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "site_int.h"

#define MAX_TEMPLATE	(1024 * 1024)

/*
 * The navigation, in order.  A page added to the site gets a line here
 * and a renderer called from hl_site_build.
 */
static const struct {
	const char	*path;
	const char	*label;
} nav[] = {
	{ "index.html",		"Lists" },
	{ "caught.html",	"Is this caught?" },
	{ "changes.html",	"Changes" },
	{ "proposals.html",	"Review" },
	{ "api.html",		"API" },
	{ "docs/protocol.html",	"Protocol" },
};

static const char fallback_layout[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'\">\n"
    "<title><!--helios:title--></title>\n"
    "<link rel=\"stylesheet\" href=\"assets/style.css\">\n"
    "<link rel=\"icon\" href=\"assets/icon.svg\" type=\"image/svg+xml\">\n"
    "<!--helios:scripts--></head>\n<body>\n"
    "<nav aria-label=\"Site\"><ul><!--helios:nav--></ul></nav>\n"
    "<main id=\"main\">\n<!--helios:main--></main>\n</body>\n</html>\n";

void
hl_sw_put(struct hl_sw *w, const char *s, size_t n)
{
	if (!w->oom && hl_buf_put(&w->b, s, n) != 0)
		w->oom = 1;
}

void
hl_sw_puts(struct hl_sw *w, const char *s)
{
	hl_sw_put(w, s, strlen(s));
}

void
hl_sw_printf(struct hl_sw *w, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		hl_sw_put(w, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&big, fmt, ap) < 0)
		w->oom = 1;
	else
		hl_sw_put(w, big, (size_t)n);
	va_end(ap);
	free(big);
}

void
hl_sw_esc(struct hl_sw *w, const char *s)
{
	const char *run;

	if (s == NULL)
		return;
	for (run = s; *s; s++) {
		const char *rep = NULL;

		switch (*s) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		}
		if (rep == NULL)
			continue;
		hl_sw_put(w, run, (size_t)(s - run));
		hl_sw_puts(w, rep);
		run = s + 1;
	}
	hl_sw_put(w, run, (size_t)(s - run));
}

void
hl_sw_slug(struct hl_sw *w, const char *s)
{
	for (; s && *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')
			hl_sw_put(w, s, 1);
		else
			hl_sw_put(w, "_", 1);
}

static int
utc(struct tm *tm, int64_t t)
{
	time_t tt = (time_t)t;

	return gmtime_r(&tt, tm) != NULL;
}

void
hl_sw_rfc3339(struct hl_sw *w, int64_t t)
{
	struct tm tm;
	char s[32];

	if (!utc(&tm, t) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(s, sizeof(s), "1970-01-01T00:00:00Z");
	hl_sw_puts(w, s);
}

void
hl_sw_time(struct hl_sw *w, int64_t t)
{
	struct tm tm;
	char s[32];

	hl_sw_puts(w, "<time datetime=\"");
	hl_sw_rfc3339(w, t);
	hl_sw_puts(w, "\">");
	if (!utc(&tm, t) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC",
	    &tm) == 0)
		snprintf(s, sizeof(s), "?");
	hl_sw_puts(w, s);
	hl_sw_puts(w, "</time>");
}

void
hl_sw_size(struct hl_sw *w, size_t bytes)
{
	if (bytes < 1024)
		hl_sw_printf(w, "%zu B", bytes);
	else if (bytes < 1024 * 1024)
		hl_sw_printf(w, "%.1f KiB", (double)bytes / 1024);
	else
		hl_sw_printf(w, "%.1f MiB", (double)bytes / (1024 * 1024));
}

void
hl_sw_free(struct hl_sw *w)
{
	hl_buf_free(&w->b);
	w->oom = 0;
}

void
hl_site__fill(struct hl_sw *w, const char *tpl, hl_site_fill_fn fn,
    void *payload)
{
	const char *p = tpl, *m, *end;
	char name[64];
	size_t n;

	while ((m = strstr(p, "<!--helios:")) != NULL) {
		hl_sw_put(w, p, (size_t)(m - p));
		end = strstr(m + 11, "-->");
		n = end ? (size_t)(end - (m + 11)) : 0;
		if (end == NULL || n == 0 || n >= sizeof(name)) {
			hl_sw_put(w, m, 11);
			p = m + 11;
			continue;
		}
		memcpy(name, m + 11, n);
		name[n] = '\0';
		if (fn(w, name, payload) != 0)
			hl_sw_put(w, m, (size_t)(end + 3 - m));
		p = end + 3;
	}
	hl_sw_puts(w, p);
}

int
hl_site__template(char **out, const char *site_dir, const char *name,
    struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	char path[4096], chunk[8192];
	FILE *f;
	size_t n;

	*out = NULL;
	if (site_dir == NULL)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", site_dir, name) >=
	    (int)sizeof(path))
		return hl_err_set(err, HL_EINVAL, "site path too long");
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? 0 :
		    hl_err_set(err, HL_EIO, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (b.len + n > MAX_TEMPLATE || hl_buf_put(&b, chunk, n) != 0) {
			fclose(f);
			hl_buf_free(&b);
			return hl_err_set(err, HL_ETOOBIG, "%s: too large",
			    path);
		}
	fclose(f);
	if (hl_buf_putc(&b, '\0') != 0) {
		hl_buf_free(&b);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	*out = hl_buf_detach(&b, NULL);
	return 0;
}

int
hl_site__add(struct hl_site_ctx *c, const char *path, struct hl_sw *w,
    struct hl_err *err)
{
	struct hl_site_file *f;

	if (w->oom) {
		hl_sw_free(w);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if (c->nout == c->capout) {
		size_t cap = c->capout ? c->capout * 2 : 32;

		if ((f = realloc(c->out, cap * sizeof(*f))) == NULL) {
			hl_sw_free(w);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		c->out = f;
		c->capout = cap;
	}
	f = &c->out[c->nout];
	if ((f->path = strdup(path)) == NULL) {
		hl_sw_free(w);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if ((w->b.data == NULL && hl_buf_grow(&w->b, 1) != 0) ||
	    (f->data = hl_buf_detach(&w->b, &f->len)) == NULL) {
		free(f->path);
		hl_sw_free(w);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	c->nout++;
	return 0;
}

struct layout_fill {
	const struct hl_site_ctx *c;
	const char	*path;
	const char	*title;
	const char	*script;
	const struct hl_sw *main;
};

static int
layout_marker(struct hl_sw *w, const char *name, void *payload)
{
	struct layout_fill *f = payload;
	const char *p, *e;
	size_t i;

	if (strcmp(name, "title") == 0)
		hl_sw_esc(w, f->title);
	else if (strcmp(name, "main") == 0)
		hl_sw_put(w, f->main->b.data ? f->main->b.data : "",
		    f->main->b.len);
	else if (strcmp(name, "version") == 0)
		hl_sw_printf(w, "%lld", (long long)f->c->in->version);
	else if (strcmp(name, "scripts") == 0) {
		/* Space-separated names, run in this order. */
		for (p = f->script; p != NULL && *p; p = e) {
			e = strchr(p, ' ');
			if (e == NULL)
				e = p + strlen(p);
			hl_sw_puts(w, "<script src=\"assets/");
			hl_sw_put(w, p, (size_t)(e - p));
			hl_sw_puts(w, "\" defer></script>\n");
			if (*e == ' ')
				e++;
		}
	} else if (strcmp(name, "nav") == 0) {
		for (i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			hl_sw_printf(w, "<li><a href=\"%s\"%s>%s</a></li>",
			    nav[i].path, strcmp(nav[i].path, f->path) == 0 ?
			    " aria-current=\"page\"" : "", nav[i].label);
		}
		hl_sw_puts(w, "<li><a href=\"feed.xml\">Feed</a></li>");
	} else
		return 1;
	return 0;
}

int
hl_site__page(struct hl_site_ctx *c, const char *path, const char *title,
    const char *tpl, const char *fallback, const char *script,
    hl_site_fill_fn fn, void *payload, struct hl_err *err)
{
	struct hl_sw body = HL_SW_INIT, page = HL_SW_INIT;
	struct layout_fill lf;
	char *t = NULL;
	int rc;

	if ((rc = hl_site__template(&t, c->site_dir, tpl, err)) != 0)
		return rc;
	hl_site__fill(&body, t ? t : fallback, fn, payload);
	free(t);
	lf.c = c;
	lf.path = path;
	lf.title = title;
	lf.script = script;
	lf.main = &body;
	hl_site__fill(&page, c->layout ? c->layout : fallback_layout,
	    layout_marker, &lf);
	if (body.oom)
		page.oom = 1;
	hl_sw_free(&body);
	return hl_site__add(c, path, &page, err);
}
