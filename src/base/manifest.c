/*
 * manifest: renders and signs manifest.json (see manifest.h for the
 * layout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "manifest.h"
#include "tree.h"

static json_t *
file_json(const char *path, const char *object, const struct hl_blob *b)
{
	char etag[40];

	snprintf(etag, sizeof(etag), "\"%s\"", b->md5);
	return json_pack("{s:s, s:s, s:s, s:I, s:s}", "path", path,
	    "object", object, "sha256", b->sha256, "bytes", (json_int_t)b->len,
	    "etag", etag);
}

/* Appends v as one compact line, keys sorted, and frees v. */
static int
put_line(struct hl_buf *out, json_t *v, struct hl_err *err)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	json_decref(v);
	if (s == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = hl_buf_puts(out, s) || hl_buf_putc(out, '\n');
	free(s);
	return rc ? hl_err_set(err, HL_ENOMEM, "out of memory") : 0;
}

/*
 * A file's entry as it was last rendered, found again by its path and the
 * hashes of both encodings, which fix every field of the entry.
 */
struct line {
	char		*path;
	char		 sha256[65];
	char		 gzsha256[65];
	char		*json;		/* json_dumps's, compact, keys sorted */
	int		 used;		/* by the render in progress */
};

struct hl_manifest_cache {
	struct line	*v;
	size_t		 n;
};

int
hl_manifest_cache_new(struct hl_manifest_cache **out, struct hl_err *err)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	return 0;
}

static void
lines_free(struct hl_manifest_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].json);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

void
hl_manifest_cache_free(struct hl_manifest_cache *c)
{
	if (c == NULL)
		return;
	lines_free(c);
	free(c);
}

/* f's entry of "files", serialised (malloc'd), or NULL. */
static char *
file_line(const struct hl_manifest_file *f)
{
	json_t *o = file_json(f->path, f->object, f->id);
	char *s;

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "content_type",
	    json_string(hl_tree_content_type(f->path))) != 0 ||
	    json_object_set_new(o, "gz", file_json(f->gzpath, f->gzobject,
	    f->gz)) != 0) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/*
 * f's entry, from c when it holds one for the same path and hashes (the
 * same place, i, in the common case: files come sorted), else made and
 * kept there.  NULL on out of memory.
 */
static const char *
cached_line(struct hl_manifest_cache *c, size_t i,
    const struct hl_manifest_file *f)
{
	struct line *l = NULL, *v;
	size_t k;

	if (i < c->n && strcmp(c->v[i].path, f->path) == 0)
		l = &c->v[i];
	for (k = 0; l == NULL && k < c->n; k++)
		if (strcmp(c->v[k].path, f->path) == 0)
			l = &c->v[k];
	if (l != NULL && strcmp(l->sha256, f->id->sha256) == 0 &&
	    strcmp(l->gzsha256, f->gz->sha256) == 0) {
		l->used = 1;
		return l->json;
	}
	if (l == NULL) {
		if ((v = realloc(c->v, (c->n + 1) * sizeof(*v))) == NULL)
			return NULL;
		c->v = v;
		l = &v[c->n];
		memset(l, 0, sizeof(*l));
		if ((l->path = strdup(f->path)) == NULL)
			return NULL;
		c->n++;
	}
	free(l->json);
	l->json = file_line(f);
	snprintf(l->sha256, sizeof(l->sha256), "%s", f->id->sha256);
	snprintf(l->gzsha256, sizeof(l->gzsha256), "%s", f->gz->sha256);
	l->used = 1;
	return l->json;
}

/* Drops the entries of c the last render did not use. */
static void
cache_trim(struct hl_manifest_cache *c)
{
	size_t i, keep = 0;

	for (i = 0; i < c->n; i++) {
		if (!c->v[i].used || c->v[i].json == NULL) {
			free(c->v[i].path);
			free(c->v[i].json);
			continue;
		}
		c->v[i].used = 0;
		c->v[keep++] = c->v[i];
	}
	c->n = keep;
}

int
hl_manifest_render(struct hl_buf *out, const struct hl_manifest_info *m,
    struct hl_err *err)
{
	static const char key[] = "\"files\":[";
	struct hl_manifest_cache own = { NULL, 0 };
	struct hl_manifest_cache *c = m->cache != NULL ? m->cache : &own;
	json_t *doc, *lists;
	const struct hl_list *l;
	const char *line;
	char *s, *at;
	size_t i;
	int rc = 0;

	lists = json_array();
	for (i = 0; lists && i < m->nlists; i++) {
		l = m->lists[i].info;
		json_array_append_new(lists, json_pack(
		    "{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "id", l->id,
		    "file", l->file, "format", hl_fmt_name(l->fmt),
		    "policy", l->policy == HL_POLICY_REVIEW ? "review" :
		    "direct",
		    "version", (json_int_t)l->version,
		    "count", (json_int_t)l->count,
		    "json", m->lists[i].json, "text", m->lists[i].text));
	}
	/* "files" is left empty here and filled below, entry by entry. */
	doc = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o*}",
	    "format", HL_MANIFEST_FORMAT, "version", (json_int_t)m->version,
	    "generated_at", (json_int_t)m->generated_at,
	    "expires_at", (json_int_t)m->expires_at,
	    "poll_interval", (json_int_t)m->poll_interval,
	    "notifications_version", (json_int_t)m->notifications_version,
	    "files", json_array(), "lists", lists);
	if (doc == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	json_object_set_new(doc, "previous",
	    m->previous ? json_string(m->previous) : json_null());
	if (m->key_id != NULL)
		json_object_set_new(doc, "key_id", json_string(m->key_id));
	if (m->nkey_ids > 0) {
		json_t *ids = json_array();

		for (i = 0; ids != NULL && i < m->nkey_ids; i++)
			json_array_append_new(ids, json_string(m->key_ids[i]));
		json_object_set_new(doc, "key_ids", ids);
	}
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	/*
	 * Each file's entry is jansson's too, kept from the last render
	 * while its file is the same (most are, from one change to the
	 * next), and goes into the array left empty: a key's quotes are
	 * only unescaped outside strings, so the key is found once.
	 */
	if (s == NULL || (at = strstr(s, key)) == NULL) {
		free(s);
		lines_free(&own);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	at += sizeof(key) - 1;
	if (hl_buf_put(out, s, (size_t)(at - s)) != 0)
		rc = HL_ENOMEM;
	for (i = 0; rc == 0 && i < m->nfiles; i++)
		if ((line = cached_line(c, i, &m->files[i])) == NULL ||
		    (i > 0 && hl_buf_putc(out, ',') != 0) ||
		    hl_buf_puts(out, line) != 0)
			rc = HL_ENOMEM;
	if (rc == 0 && (hl_buf_puts(out, at) != 0 ||
	    hl_buf_putc(out, '\n') != 0))
		rc = HL_ENOMEM;
	free(s);
	cache_trim(c);
	lines_free(&own);
	return rc ? hl_err_set(err, rc, "out of memory") : 0;
}

int
hl_manifest_sigs_render(struct hl_buf *out, const char *const *ids,
    const struct hl_blob *sigs, size_t n, struct hl_err *err)
{
	json_t *arr;
	char h[2 * 64 + 1];
	size_t i;

	if ((arr = json_array()) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (sigs[i].len != 64) {
			json_decref(arr);
			return hl_err_set(err, HL_EINVAL, "a signature of %zu"
			    " bytes", sigs[i].len);
		}
		hl_blob__hex(h, sigs[i].data, 64);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "key_id",
		    ids[i], "sig", h));
	}
	return put_line(out, arr, err);
}

int
hl_manifest_key_load(EVP_PKEY **out, const char *path, struct hl_err *err)
{
	FILE *f;
	EVP_PKEY *k;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return hl_err_set(err, HL_EIO, "signing key %s: %s", path,
		    strerror(errno));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return hl_err_set(err, HL_EINVAL, "signing key %s: not an"
		    " Ed25519 private key in PEM", path);
	}
	*out = k;
	return 0;
}

int
hl_manifest_sign(struct hl_blob *out, EVP_PKEY *key, const void *data,
    size_t len, struct hl_err *err)
{
	EVP_MD_CTX *ctx;
	unsigned char *sig;
	size_t siglen = 64;
	int ok;

	memset(out, 0, sizeof(*out));
	if ((sig = malloc(siglen)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		free(sig);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(sig);
		return hl_err_set(err, HL_EIO, "Ed25519 signing failed");
	}
	return hl_blob_take(out, sig, siglen, err);
}

int
hl_manifest_verify(const char *pubkey, const void *data, size_t len,
    const void *sig, size_t siglen, struct hl_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k;
	FILE *f;
	int ok;

	if ((f = fopen(pubkey, "r")) == NULL)
		return hl_err_set(err, HL_EIO, "public key %s: %s", pubkey,
		    strerror(errno));
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		return hl_err_set(err, HL_EINVAL, "public key %s: not a PEM"
		    " public key", pubkey);
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return ok ? 0 : hl_err_set(err, HL_EINVAL, "manifest signature does"
	    " not verify");
}
