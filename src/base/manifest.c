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

int
hl_manifest_render(struct hl_buf *out, const struct hl_manifest_info *m,
    struct hl_err *err)
{
	json_t *doc, *files, *lists, *f;
	const struct hl_list *l;
	size_t i;

	files = json_array();
	lists = json_array();
	for (i = 0; files && i < m->nfiles; i++) {
		f = file_json(m->files[i].path, m->files[i].object,
		    m->files[i].id);
		if (f == NULL)
			break;
		json_object_set_new(f, "content_type",
		    json_string(hl_tree_content_type(m->files[i].path)));
		json_object_set_new(f, "gz", file_json(m->files[i].gzpath,
		    m->files[i].gzobject, m->files[i].gz));
		json_array_append_new(files, f);
	}
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
	doc = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:o*, s:o*}",
	    "format", HL_MANIFEST_FORMAT, "version", (json_int_t)m->version,
	    "generated_at", (json_int_t)m->generated_at,
	    "expires_at", (json_int_t)m->expires_at,
	    "poll_interval", (json_int_t)m->poll_interval,
	    "notifications_version", (json_int_t)m->notifications_version,
	    "files", files, "lists", lists);
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
	return put_line(out, doc, err);
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
