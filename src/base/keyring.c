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

int
hl_keyring_verify(const char *ring, const void *data, size_t len,
    const void *sig, size_t siglen, struct hl_err *err)
{
	EVP_PKEY *keys[HL_KEYRING_MAX], *k;
	char want[HL_KEYRING_ID_LEN + 1], id[HL_KEYRING_ID_LEN + 1];
	size_t n = 0, i;
	int named, found = 0, ok = 0, rc;
	FILE *f;

	if ((named = named_id(want, data, len, err)) < 0)
		return named;
	if ((f = fopen(ring, "r")) == NULL)
		return hl_err_set(err, HL_EIO, "keyring %s: %s", ring,
		    strerror(errno));
	while (n < HL_KEYRING_MAX &&
	    (k = PEM_read_PUBKEY(f, NULL, NULL, NULL)) != NULL)
		keys[n++] = k;
	fclose(f);
	if (n == 0)
		return hl_err_set(err, HL_EINVAL, "keyring %s: no PEM public"
		    " key", ring);
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
