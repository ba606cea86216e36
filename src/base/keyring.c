/*
 * keyring: key ids, new signing keys and verification of manifest.json
 * against a ring of public keys (see keyring.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "blob.h"
#include "keyring.h"

int
hl_keyring_id(char id[HL_KEYRING_ID_LEN + 1], EVP_PKEY *k,
    struct hl_err *err)
{
	unsigned char raw[32];
	size_t n = sizeof(raw);
	char sha[65];

	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != 32)
		return hl_err_set(err, HL_EINVAL, "not an Ed25519 key");
	hl_digest(sha, NULL, raw, n);
	memcpy(id, sha, HL_KEYRING_ID_LEN);
	id[HL_KEYRING_ID_LEN] = '\0';
	return 0;
}

/* Opens path for writing, a new file with mode. */
static int
create(FILE **out, const char *path, int mode, struct hl_err *err)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) < 0)
		return hl_err_set(err, errno == EEXIST ? HL_EEXISTS : HL_EIO,
		    "%s: %s", path, strerror(errno));
	if ((*out = fdopen(fd, "w")) == NULL) {
		close(fd);
		return hl_err_set(err, HL_EIO, "%s: %s", path,
		    strerror(errno));
	}
	return 0;
}

int
hl_keyring_generate(const char *path, char id[HL_KEYRING_ID_LEN + 1],
    struct hl_err *err)
{
	EVP_PKEY *k;
	FILE *f = NULL, *p = NULL;
	char pub[4096];
	int rc, ok;

	if ((size_t)snprintf(pub, sizeof(pub), "%s.pub", path) >= sizeof(pub))
		return hl_err_set(err, HL_EINVAL, "%s: name too long", path);
	if (access(pub, F_OK) == 0)
		return hl_err_set(err, HL_EEXISTS, "%s: exists", pub);
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return hl_err_set(err, HL_EIO, "Ed25519 key generation failed");
	if ((rc = hl_keyring_id(id, k, err)) != 0)
		goto out;
	if ((rc = create(&f, path, 0600, err)) != 0)
		goto out;
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		unlink(path);
		rc = hl_err_set(err, HL_EIO, "%s: cannot write", path);
		goto out;
	}
	if ((rc = create(&p, pub, 0644, err)) != 0) {
		unlink(path);
		goto out;
	}
	ok = PEM_write_PUBKEY(p, k) == 1;
	ok = fclose(p) == 0 && ok;
	if (!ok) {
		unlink(path);
		unlink(pub);
		rc = hl_err_set(err, HL_EIO, "%s: cannot write", pub);
	}
out:
	EVP_PKEY_free(k);
	return rc;
}

/* The key_id the manifest names: 1 and id filled, 0 none, <0 malformed. */
static int
named_id(char id[HL_KEYRING_ID_LEN + 1], const void *data, size_t len,
    struct hl_err *err)
{
	json_t *doc, *v;
	const char *s;
	size_t i;
	int rc = 0;

	if ((doc = json_loadb(data, len, 0, NULL)) == NULL)
		return hl_err_set(err, HL_EINVAL, "manifest.json is not JSON");
	if ((v = json_object_get(doc, "key_id")) != NULL) {
		s = json_string_value(v);
		for (i = 0; s != NULL && s[i] != '\0'; i++)
			if (!strchr("0123456789abcdef", s[i]))
				break;
		if (s == NULL || i != HL_KEYRING_ID_LEN || s[i] != '\0')
			rc = hl_err_set(err, HL_EINVAL, "manifest key_id is"
			    " not %d hex digits", HL_KEYRING_ID_LEN);
		else {
			memcpy(id, s, HL_KEYRING_ID_LEN + 1);
			rc = 1;
		}
	}
	json_decref(doc);
	return rc;
}

static int
check(EVP_PKEY *k, const void *data, size_t len, const void *sig,
    size_t siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Reads the keys of ring into keys (*n of them, at least one). */
static int
load_ring(EVP_PKEY *keys[HL_KEYRING_MAX], size_t *n, const char *ring,
    struct hl_err *err)
{
	EVP_PKEY *k;
	FILE *f;

	*n = 0;
	if ((f = fopen(ring, "r")) == NULL)
		return hl_err_set(err, HL_EIO, "keyring %s: %s", ring,
		    strerror(errno));
	while (*n < HL_KEYRING_MAX &&
	    (k = PEM_read_PUBKEY(f, NULL, NULL, NULL)) != NULL)
		keys[(*n)++] = k;
	fclose(f);
	if (*n == 0)
		return hl_err_set(err, HL_EINVAL, "keyring %s: no PEM public"
		    " key", ring);
	return 0;
}

int
hl_keyring_verify(const char *ring, const void *data, size_t len,
    const void *sig, size_t siglen, struct hl_err *err)
{
	EVP_PKEY *keys[HL_KEYRING_MAX];
	char want[HL_KEYRING_ID_LEN + 1], id[HL_KEYRING_ID_LEN + 1];
	size_t n = 0, i;
	int named, found = 0, ok = 0, rc;

	if ((named = named_id(want, data, len, err)) < 0)
		return named;
	if ((rc = load_ring(keys, &n, ring, err)) != 0)
		return rc;
	for (i = 0; i < n && !ok; i++) {
		if (hl_keyring_id(id, keys[i], NULL) != 0)
			continue;
		if (named && strcmp(id, want) != 0)
			continue;
		found = 1;
		ok = check(keys[i], data, len, sig, siglen);
	}
	for (i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
	if (ok)
		return 0;
	if (named && !found)
		rc = hl_err_set(err, HL_EINVAL, "manifest signature does not"
		    " verify: the manifest names key %s, which keyring %s"
		    " does not hold", want, ring);
	else
		rc = hl_err_set(err, HL_EINVAL, "manifest signature does not"
		    " verify with keyring %s", ring);
	return rc;
}

/* s is a key id: HL_KEYRING_ID_LEN lowercase hex digits. */
static int
is_id(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return s != NULL && i == HL_KEYRING_ID_LEN;
}

/*
 * The key ids the manifest names ("key_id" and "key_ids"), at most
 * HL_KEYRING_NAMED; *n is 0 when it names none.
 */
static int
named_ids(char ids[HL_KEYRING_NAMED][HL_KEYRING_ID_LEN + 1], size_t *n,
    const void *data, size_t len, struct hl_err *err)
{
	json_t *doc, *v, *arr;
	const char *s;
	size_t i, j;
	int rc = 0;

	*n = 0;
	if ((doc = json_loadb(data, len, 0, NULL)) == NULL)
		return hl_err_set(err, HL_EINVAL, "manifest.json is not JSON");
	arr = json_object_get(doc, "key_ids");
	if (arr != NULL && (!json_is_array(arr) ||
	    json_array_size(arr) > HL_KEYRING_NAMED - 1))
		rc = hl_err_set(err, HL_EINVAL, "manifest key_ids is not an"
		    " array of at most %d key ids", HL_KEYRING_NAMED - 1);
	for (i = 0; rc == 0 && i <= json_array_size(arr); i++) {
		v = i == 0 ? json_object_get(doc, "key_id") :
		    json_array_get(arr, i - 1);
		if (v == NULL)
			continue;
		if (!is_id(s = json_string_value(v))) {
			rc = hl_err_set(err, HL_EINVAL, "manifest key id is"
			    " not %d hex digits", HL_KEYRING_ID_LEN);
			break;
		}
		for (j = 0; j < *n && strcmp(ids[j], s) != 0; j++)
			;
		if (j == *n)
			memcpy(ids[(*n)++], s, HL_KEYRING_ID_LEN + 1);
	}
	json_decref(doc);
	return rc;
}

/* Decodes 2 * n hex digits of h into out; 0 when h is exactly that. */
static int
unhex(unsigned char *out, size_t n, const char *h)
{
	size_t i;
	int hi, lo;

	if (strlen(h) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = h[2 * i] >= 'a' ? h[2 * i] - 'a' + 10 : h[2 * i] - '0';
		lo = h[2 * i + 1] >= 'a' ? h[2 * i + 1] - 'a' + 10 :
		    h[2 * i + 1] - '0';
		if (!strchr("0123456789abcdef", h[2 * i]) ||
		    !strchr("0123456789abcdef", h[2 * i + 1]))
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Appends ", id" (or "id" first) to a list of ids in buf. */
static void
note(char *buf, size_t size, const char *id)
{
	size_t n = strlen(buf);

	if (strstr(buf, id) == NULL && n + HL_KEYRING_ID_LEN + 3 < size)
		snprintf(buf + n, size - n, "%s%s", n ? ", " : "", id);
}

int
hl_keyring_verify_sigs(const char *ring, const void *data, size_t len,
    const void *sigs, size_t siglen, struct hl_err *err)
{
	EVP_PKEY *keys[HL_KEYRING_MAX];
	char named[HL_KEYRING_NAMED][HL_KEYRING_ID_LEN + 1];
	char ids[HL_KEYRING_MAX][HL_KEYRING_ID_LEN + 1];
	char signers[128] = "", bad[128] = "";
	unsigned char raw[64];
	json_t *doc = NULL, *e;
	const char *kid, *hex;
	size_t nk = 0, nn, i, j, k;
	int ok = 0, rc;

	if ((rc = named_ids(named, &nn, data, len, err)) != 0)
		return rc;
	if ((doc = json_loadb(sigs, siglen, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_array(doc) ||
	    json_array_size(doc) == 0 ||
	    json_array_size(doc) > HL_KEYRING_NAMED) {
		json_decref(doc);
		return hl_err_set(err, HL_EINVAL, "manifest signatures: not a"
		    " JSON array of 1 to %d signatures", HL_KEYRING_NAMED);
	}
	for (i = 0; i < json_array_size(doc); i++) {
		e = json_array_get(doc, i);
		kid = json_string_value(json_object_get(e, "key_id"));
		hex = json_string_value(json_object_get(e, "sig"));
		if (!is_id(kid) || hex == NULL || unhex(raw, 64, hex) != 0) {
			json_decref(doc);
			return hl_err_set(err, HL_EINVAL, "manifest signatures:"
			    " signature %zu is not {\"key_id\": %d hex digits,"
			    " \"sig\": 128 hex digits}", i + 1,
			    HL_KEYRING_ID_LEN);
		}
	}
	if ((rc = load_ring(keys, &nk, ring, err)) != 0) {
		json_decref(doc);
		return rc;
	}
	for (k = 0; k < nk; k++)
		if (hl_keyring_id(ids[k], keys[k], NULL) != 0)
			ids[k][0] = '\0';
	for (i = 0; i < json_array_size(doc) && !ok; i++) {
		e = json_array_get(doc, i);
		kid = json_string_value(json_object_get(e, "key_id"));
		(void)unhex(raw, 64, json_string_value(json_object_get(e,
		    "sig")));
		/* Only a key the signed manifest says signed it counts. */
		for (j = 0; j < nn && strcmp(named[j], kid) != 0; j++)
			;
		if (nn > 0 && j == nn)
			continue;
		note(signers, sizeof(signers), kid);
		for (k = 0; k < nk && strcmp(ids[k], kid) != 0; k++)
			;
		if (k == nk)
			continue;
		if (check(keys[k], data, len, raw, sizeof(raw)))
			ok = 1;
		else
			note(bad, sizeof(bad), kid);
	}
	for (k = 0; k < nk; k++)
		EVP_PKEY_free(keys[k]);
	json_decref(doc);
	if (ok)
		return 0;
	if (bad[0] != '\0')
		return hl_err_set(err, HL_EINVAL, "manifest signature does not"
		    " verify: the signature by key %s is wrong", bad);
	if (signers[0] == '\0')
		return hl_err_set(err, HL_EINVAL, "manifest signature does not"
		    " verify: no signature is by a key the manifest names");
	return hl_err_set(err, HL_EINVAL, "manifest signature does not"
	    " verify: the manifest names key %s, which keyring %s does not"
	    " hold", signers, ring);
}
