/*
 * site_api: api.html, the write API's reference, rendered from the OpenAPI
 * document (schema/openapi.json) when the site is built.  For every path
 * and method, in the document's order: summary, description, whether a
 * token is needed, parameters, request body fields, every response (the
 * errors are those of status 400 and up) and a curl example made from the
 * parameters' and fields' examples.  Each endpoint has an anchor named
 * after its method and path: "post-blacklists-id".
 *
 * The document is looked for beside the site's sources: site/../schema/
 * openapi.json in the source tree, site/../openapi.json when installed
 * (share/helios/site and share/helios/openapi.json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_int.h"

#define MAX_OPENAPI	(1024 * 1024)

static const char fallback_api[] =
    "<h1>The write API</h1>\n<!--helios:api-->\n";

static const char *const methods[] = {
	"get", "put", "post", "delete", "patch", "head",
};

/* Follows a local "$ref": "#/components/..." once or more. */
static json_t *
deref(json_t *doc, json_t *v)
{
	const char *ref, *p, *slash;
	char key[128];
	size_t n;
	int hops;

	for (hops = 0; hops < 8 && json_is_object(v); hops++) {
		if ((ref = json_string_value(json_object_get(v, "$ref"))) ==
		    NULL || strncmp(ref, "#/", 2) != 0)
			return v;
		v = doc;
		for (p = ref + 2; *p && v != NULL; p = *slash ? slash + 1 :
		    slash) {
			slash = strchr(p, '/');
			if (slash == NULL)
				slash = p + strlen(p);
			n = (size_t)(slash - p);
			if (n >= sizeof(key))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			v = json_object_get(v, key);
		}
	}
	return v;
}

static void
anchor(struct hl_sw *w, const char *method, const char *path)
{
	const char *p;
	int dash = 1;

	hl_sw_puts(w, method);
	for (p = path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
			if (dash)
				hl_sw_put(w, "-", 1);
			hl_sw_put(w, p, 1);
			dash = 0;
		} else
			dash = 1;
	}
}

static void
upper(struct hl_sw *w, const char *s)
{
	char c;

	for (; *s; s++) {
		c = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
		hl_sw_put(w, &c, 1);
	}
}

/* "string", "integer", "string | array", from a schema. */
static void
type_of(struct hl_sw *w, json_t *doc, json_t *schema)
{
	json_t *alts, *a;
	const char *t;
	size_t i;

	schema = deref(doc, schema);
	if ((t = json_string_value(json_object_get(schema, "type"))) != NULL) {
		hl_sw_esc(w, t);
		if (strcmp(t, "array") == 0 && json_is_object(json_object_get(
		    schema, "items"))) {
			hl_sw_puts(w, " of ");
			type_of(w, doc, json_object_get(schema, "items"));
		}
		return;
	}
	alts = json_object_get(schema, "oneOf");
	if (alts == NULL)
		alts = json_object_get(schema, "anyOf");
	json_array_foreach(alts, i, a) {
		if (i)
			hl_sw_puts(w, " | ");
		type_of(w, doc, a);
	}
	if (alts == NULL)
		hl_sw_puts(w, "any");
}

/* Text with `code` spans (as the descriptions write them), escaped. */
static void
code_spans(struct hl_sw *w, char *s)
{
	char *tick, *end;

	while ((tick = strchr(s, '`')) != NULL &&
	    (end = strchr(tick + 1, '`')) != NULL) {
		*tick = *end = '\0';
		hl_sw_esc(w, s);
		hl_sw_puts(w, "<code>");
		hl_sw_esc(w, tick + 1);
		hl_sw_puts(w, "</code>");
		s = end + 1;
	}
	hl_sw_esc(w, s);
}

static void
para(struct hl_sw *w, const char *text)
{
	const char *p, *e;

	if (text == NULL)
		return;
	for (p = text; *p; p = *e ? e + 2 : e) {
		char *chunk;

		if ((e = strstr(p, "\n\n")) == NULL)
			e = p + strlen(p);
		if ((chunk = strndup(p, (size_t)(e - p))) == NULL) {
			w->oom = 1;
			return;
		}
		hl_sw_puts(w, "<p>");
		code_spans(w, chunk);
		hl_sw_puts(w, "</p>\n");
		free(chunk);
	}
}

/* A parameter's example value for the curl line. */
static const char *
param_example(json_t *doc, json_t *p, const char *path, char *buf,
    size_t len)
{
	json_t *ex = json_object_get(p, "example"), *schema;
	const char *name = json_string_value(json_object_get(p, "name"));

	schema = deref(doc, json_object_get(p, "schema"));
	if (ex == NULL)
		ex = json_object_get(schema, "example");
	if (ex == NULL)
		ex = json_object_get(schema, "default");
	if (json_is_string(ex))
		return json_string_value(ex);
	if (json_is_integer(ex)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(ex));
		return buf;
	}
	if (name && strcmp(name, "id") == 0 && strncmp(path, "/blacklists",
	    11) == 0)
		return "watch-keyword";
	if (name && strcmp(name, "pattern") == 0)
		return "spam%5C.example";
	return "1";
}

/* Example JSON for a request body schema. */
static json_t *
body_example(json_t *doc, json_t *schema)
{
	json_t *props, *v, *ex, *obj;
	const char *k, *t;

	schema = deref(doc, schema);
	if ((ex = json_object_get(schema, "example")) != NULL)
		return json_incref(ex);
	if ((props = json_object_get(schema, "properties")) == NULL)
		return json_object();
	obj = json_object();
	json_object_foreach(props, k, v) {
		v = deref(doc, v);
		if ((ex = json_object_get(v, "example")) != NULL) {
			json_object_set(obj, k, ex);
			continue;
		}
		/* The first field stands for the item; the rest are extras. */
		if (json_object_size(obj) > 0)
			break;
		t = json_string_value(json_object_get(v, "type"));
		if (t && strcmp(t, "integer") == 0)
			json_object_set_new(obj, k, json_integer(1));
		else if (t && strcmp(t, "boolean") == 0)
			json_object_set_new(obj, k, json_true());
		else if (strcmp(k, "pattern") == 0)
			json_object_set_new(obj, k,
			    json_string("spam\\.example"));
		else
			json_object_set_new(obj, k, json_string("example"));
	}
	return obj;
}

static void
params_table(struct hl_sw *w, json_t *doc, json_t *lists[2])
{
	json_t *p;
	size_t i, k, n = 0;
	const char *s;

	for (k = 0; k < 2; k++)
		n += json_array_size(lists[k]);
	if (n == 0)
		return;
	hl_sw_puts(w, "<h4>Parameters</h4>\n<table class=\"params\"><thead>"
	    "<tr><th scope=\"col\">Name</th><th scope=\"col\">In</th>"
	    "<th scope=\"col\">Type</th><th scope=\"col\">Required</th>"
	    "<th scope=\"col\">Description</th></tr></thead><tbody>\n");
	for (k = 0; k < 2; k++)
		json_array_foreach(lists[k], i, p) {
			p = deref(doc, p);
			hl_sw_puts(w, "<tr><td><code>");
			hl_sw_esc(w, json_string_value(json_object_get(p,
			    "name")));
			hl_sw_puts(w, "</code></td><td>");
			hl_sw_esc(w, json_string_value(json_object_get(p,
			    "in")));
			hl_sw_puts(w, "</td><td>");
			type_of(w, doc, json_object_get(p, "schema"));
			hl_sw_printf(w, "</td><td>%s</td><td>",
			    json_is_true(json_object_get(p, "required")) ?
			    "yes" : "no");
			if ((s = json_string_value(json_object_get(p,
			    "description"))) != NULL)
				hl_sw_esc(w, s);
			hl_sw_puts(w, "</td></tr>\n");
		}
	hl_sw_puts(w, "</tbody></table>\n");
}

static void
body_table(struct hl_sw *w, json_t *doc, json_t *body)
{
	json_t *content, *schema, *props, *req, *v, *r;
	const char *ctype, *k, *s;
	size_t i;
	int required;

	if ((body = deref(doc, body)) == NULL)
		return;
	content = json_object_get(body, "content");
	json_object_foreach(content, ctype, v) {
		schema = deref(doc, json_object_get(v, "schema"));
		hl_sw_puts(w, "<h4>Request body <small>(");
		hl_sw_esc(w, ctype);
		hl_sw_printf(w, "%s)</small></h4>\n", json_is_true(
		    json_object_get(body, "required")) ? "" : ", optional");
		para(w, json_string_value(json_object_get(schema,
		    "description")));
		props = json_object_get(schema, "properties");
		req = json_object_get(schema, "required");
		if (json_object_size(props) == 0)
			break;
		hl_sw_puts(w, "<table class=\"params\"><thead><tr>"
		    "<th scope=\"col\">Field</th><th scope=\"col\">Type</th>"
		    "<th scope=\"col\">Required</th><th scope=\"col\">"
		    "Description</th></tr></thead><tbody>\n");
		json_object_foreach(props, k, v) {
			required = 0;
			json_array_foreach(req, i, r)
				if (json_is_string(r) &&
				    strcmp(json_string_value(r), k) == 0)
					required = 1;
			hl_sw_puts(w, "<tr><td><code>");
			hl_sw_esc(w, k);
			hl_sw_puts(w, "</code></td><td>");
			type_of(w, doc, v);
			hl_sw_printf(w, "</td><td>%s</td><td>", required ?
			    "yes" : "no");
			if ((s = json_string_value(json_object_get(deref(doc,
			    v), "description"))) != NULL)
				hl_sw_esc(w, s);
			hl_sw_puts(w, "</td></tr>\n");
		}
		hl_sw_puts(w, "</tbody></table>\n");
		break;
	}
}

static void
responses_table(struct hl_sw *w, json_t *doc, json_t *resp)
{
	const char *code, *s;
	json_t *v;

	hl_sw_puts(w, "<h4>Responses and errors</h4>\n<table class=\"params\">"
	    "<thead><tr><th scope=\"col\">Status</th><th scope=\"col\">"
	    "Meaning</th></tr></thead><tbody>\n");
	json_object_foreach(resp, code, v) {
		v = deref(doc, v);
		hl_sw_printf(w, "<tr class=\"%s\"><td><code>",
		    code[0] >= '4' ? "err" : "ok");
		hl_sw_esc(w, code);
		hl_sw_puts(w, "</code></td><td>");
		if ((s = json_string_value(json_object_get(v,
		    "description"))) != NULL)
			hl_sw_esc(w, s);
		hl_sw_puts(w, "</td></tr>\n");
	}
	hl_sw_puts(w, "</tbody></table>\n");
}

static void
example(struct hl_sw *w, json_t *doc, const char *method, const char *path,
    json_t *params[2], json_t *op, const char *server)
{
	json_t *p, *body, *ex;
	const char *s, *e, *in, *name, *val;
	char num[32], *text;
	size_t i, k, nq = 0;

	hl_sw_puts(w, "<h4>Example</h4>\n<pre><code>curl");
	if (strcmp(method, "get") != 0) {
		hl_sw_puts(w, " -X ");
		upper(w, method);
	}
	if (json_array_size(json_object_get(op, "security")) > 0)
		hl_sw_puts(w, " -H 'Authorization: Bearer $TOKEN'");
	body = deref(doc, json_object_get(op, "requestBody"));
	if (body != NULL && json_is_true(json_object_get(body, "required"))) {
		ex = body_example(doc, json_object_get(json_object_get(
		    json_object_get(body, "content"), "application/json"),
		    "schema"));
		text = ex ? json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS) :
		    NULL;
		hl_sw_puts(w, " \\\n  -H 'Content-Type: application/json'"
		    " -d '");
		hl_sw_esc(w, text ? text : "{}");
		hl_sw_puts(w, "'");
		free(text);
		json_decref(ex);
	}
	hl_sw_puts(w, " \\\n  '");
	hl_sw_esc(w, server);
	/* The path with its {parameters} filled in. */
	for (s = path; *s; s = e) {
		if (*s != '{' || (e = strchr(s, '}')) == NULL) {
			e = s + 1;
			hl_sw_put(w, s, 1);
			continue;
		}
		val = "1";
		for (k = 0; k < 2; k++)
			json_array_foreach(params[k], i, p) {
				p = deref(doc, p);
				name = json_string_value(json_object_get(p,
				    "name"));
				if (name && strlen(name) == (size_t)(e - s - 1)
				    && strncmp(name, s + 1, (size_t)(e - s -
				    1)) == 0)
					val = param_example(doc, p, path, num,
					    sizeof(num));
			}
		hl_sw_esc(w, val);
		e++;
	}
	for (k = 0; k < 2; k++)
		json_array_foreach(params[k], i, p) {
			p = deref(doc, p);
			in = json_string_value(json_object_get(p, "in"));
			name = json_string_value(json_object_get(p, "name"));
			if (in == NULL || name == NULL || strcmp(in,
			    "query") != 0 || (nq > 0 && !json_is_true(
			    json_object_get(p, "required"))))
				continue;
			hl_sw_puts(w, nq++ ? "&amp;" : "?");
			hl_sw_esc(w, name);
			hl_sw_puts(w, "=");
			hl_sw_esc(w, param_example(doc, p, path, num,
			    sizeof(num)));
		}
	hl_sw_puts(w, "'</code></pre>\n");
}

static void
endpoint(struct hl_sw *w, json_t *doc, const char *path, json_t *item,
    const char *method, json_t *op, const char *server)
{
	json_t *params[2];
	const char *s;

	params[0] = json_object_get(item, "parameters");
	params[1] = json_object_get(op, "parameters");
	hl_sw_puts(w, "<section class=\"endpoint\" id=\"");
	anchor(w, method, path);
	hl_sw_puts(w, "\" aria-labelledby=\"h-");
	anchor(w, method, path);
	hl_sw_puts(w, "\">\n<h3 id=\"h-");
	anchor(w, method, path);
	hl_sw_printf(w, "\"><span class=\"method m-%s\">", method);
	upper(w, method);
	hl_sw_puts(w, "</span> <code class=\"route\">");
	hl_sw_esc(w, path);
	hl_sw_puts(w, "</code></h3>\n");
	if ((s = json_string_value(json_object_get(op, "summary"))) != NULL) {
		hl_sw_puts(w, "<p class=\"summary\">");
		hl_sw_esc(w, s);
		hl_sw_puts(w, "</p>\n");
	}
	para(w, json_string_value(json_object_get(op, "description")));
	hl_sw_printf(w, "<p class=\"auth\">%s</p>\n",
	    json_array_size(json_object_get(op, "security")) > 0 ?
	    "Needs a token: <code>Authorization: Bearer &lt;token&gt;</code>"
	    " (or the bare token)." : "Public: no token needed.");
	params_table(w, doc, params);
	body_table(w, doc, json_object_get(op, "requestBody"));
	responses_table(w, doc, json_object_get(op, "responses"));
	example(w, doc, method, path, params, op, server);
	hl_sw_puts(w, "</section>\n");
}

struct api_fill {
	json_t		*doc;
	const char	*source;
	/* The "api" marker's expansion, made once (or the cache's). */
	struct hl_sw	 out;
	int		 made;
};

/* The reference of the endpoints of doc (openapi.json) into w. */
static void
api_render(struct hl_sw *w, json_t *doc)
{
	json_t *paths, *item, *op, *servers;
	const char *path, *server = "http://127.0.0.1:8080";
	size_t k;

	servers = json_object_get(doc, "servers");
	if (json_string_value(json_object_get(json_array_get(servers, 0),
	    "url")) != NULL)
		server = json_string_value(json_object_get(json_array_get(
		    servers, 0), "url"));
	para(w, json_string_value(json_object_get(json_object_get(doc,
	    "info"), "description")));
	paths = json_object_get(doc, "paths");
	hl_sw_puts(w, "<nav aria-label=\"Endpoints\" class=\"toc\"><h2>"
	    "Endpoints</h2><ul>\n");
	json_object_foreach(paths, path, item)
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			if ((op = json_object_get(item, methods[k])) == NULL)
				continue;
			hl_sw_puts(w, "<li><a href=\"#");
			anchor(w, methods[k], path);
			hl_sw_puts(w, "\"><span class=\"method\">");
			upper(w, methods[k]);
			hl_sw_puts(w, "</span> <code>");
			hl_sw_esc(w, path);
			hl_sw_puts(w, "</code></a> ");
			hl_sw_esc(w, json_string_value(json_object_get(op,
			    "summary")));
			hl_sw_puts(w, "</li>\n");
		}
	hl_sw_puts(w, "</ul></nav>\n<h2>Reference</h2>\n");
	json_object_foreach(paths, path, item)
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
			if ((op = json_object_get(item, methods[k])) != NULL)
				endpoint(w, doc, path, item, methods[k],
				    op, server);
}

static int
api_marker(struct hl_sw *w, const char *name, void *payload)
{
	struct api_fill *f = payload;

	if (strcmp(name, "api") != 0)
		return 1;
	if (f->doc == NULL && !f->made) {
		hl_sw_puts(w, "<p>The API description (openapi.json) was not "
		    "found when this site was built; the daemon serves it at "
		    "<code>/openapi.json</code>.</p>\n");
		return 0;
	}
	if (!f->made) {
		api_render(&f->out, f->doc);
		f->made = 1;
	}
	if (f->out.oom)
		w->oom = 1;
	else
		hl_sw_put(w, f->out.b.data ? f->out.b.data : "",
		    f->out.b.len);
	return 0;
}

int
hl_site__api(struct hl_site_ctx *c, struct hl_err *err)
{
	static const char *const where[] = {
		"../schema/openapi.json", "../openapi.json",
	};
	struct hl_site_cache *cache = c->in->cache;
	struct api_fill f;
	json_error_t je;
	char *text = NULL;
	size_t i, len = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		if ((rc = hl_site__template(&text, c->site_dir, where[i],
		    err)) != 0)
			return rc;
		if (text == NULL)
			continue;
		len = strlen(text);
		/* The same text as the last build's: its reference again. */
		if (cache != NULL && cache->api_src != NULL &&
		    cache->api_srclen == len &&
		    memcmp(cache->api_src, text, len) == 0) {
			free(text);
			text = NULL;
			f.made = 1;
			hl_sw_put(&f.out, cache->api_html, cache->api_len);
			break;
		}
		if ((f.doc = json_loads(text, 0, &je)) == NULL) {
			free(text);
			return hl_err_set(err, HL_EINVAL, "%s: line %d: %s",
			    where[i], je.line, je.text);
		}
		break;
	}
	rc = hl_site__page(c, "api.html", "Write API - Helios", "api.html",
	    fallback_api, NULL, api_marker, &f, err);
	/* Kept for the next build, as made from this text. */
	if (rc == 0 && cache != NULL && text != NULL && f.made &&
	    !f.out.oom) {
		free(cache->api_src);
		free(cache->api_html);
		cache->api_src = text;
		cache->api_srclen = len;
		cache->api_len = f.out.b.len;
		cache->api_html = hl_buf_detach(&f.out.b, NULL);
		text = NULL;
	}
	free(text);
	hl_sw_free(&f.out);
	json_decref(f.doc);
	return rc;
}
