/*
 * test_keyring: key generation (mode, refusal to overwrite, the id), and
 * verification of a manifest against a ring of PEM public keys: the key
 * the manifest names verifies, a named key the ring lacks is refused even
 * when another key of the ring would verify, a manifest naming no key
 * verifies with any key of the ring, and a malformed key_id is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob.h"
#include "keyring.h"
#include "manifest.h"

static char dir[64];

static void
path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* Appends the file src to dst. */
static void
append(const char *dst, const char *src)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(src, "r"), *out = fopen(dst, "a");

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* sig receives the signature of s with the private key in file key. */
static void
sign(struct hl_blob *sig, const char *key, const char *s)
{
	EVP_PKEY *k;

	assert_int_equal(hl_manifest_key_load(&k, key, NULL), 0);
	assert_int_equal(hl_manifest_sign(sig, k, s, strlen(s), NULL), 0);
	EVP_PKEY_free(k);
}

static int
verify(const char *ring, const char *s, const struct hl_blob *sig,
    struct hl_err *e)
{
	return hl_keyring_verify(ring, s, strlen(s), sig->data, sig->len, e);
}

static void
test_generate_and_verify(void **state)
{
	char a[128], b[128], apub[128], bpub[128], ring[128], onlyb[128];
	char ida[HL_KEYRING_ID_LEN + 1], idb[HL_KEYRING_ID_LEN + 1];
	char doc[256];
	struct hl_blob sig;
	struct hl_err e = HL_ERR_INIT;
	struct stat sb;

	(void)state;
	path(a, sizeof(a), "a.key");
	path(b, sizeof(b), "b.key");
	path(apub, sizeof(apub), "a.key.pub");
	path(bpub, sizeof(bpub), "b.key.pub");
	path(ring, sizeof(ring), "ring.pem");
	path(onlyb, sizeof(onlyb), "onlyb.pem");
	assert_int_equal(hl_keyring_generate(a, ida, NULL), 0);
	assert_int_equal(hl_keyring_generate(b, idb, NULL), 0);
	assert_int_equal(strlen(ida), HL_KEYRING_ID_LEN);
	assert_string_not_equal(ida, idb);
	assert_int_equal(stat(a, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(hl_keyring_generate(a, ida, &e), HL_EEXISTS);
	append(ring, apub);
	append(ring, bpub);
	append(onlyb, bpub);

	/* Signed with A and naming A: the ring verifies, B alone does not. */
	snprintf(doc, sizeof(doc), "{\"key_id\":\"%s\",\"version\":1}\n", ida);
	sign(&sig, a, doc);
	assert_int_equal(verify(ring, doc, &sig, &e), 0);
	assert_int_equal(verify(apub, doc, &sig, &e), 0);
	assert_int_equal(verify(onlyb, doc, &sig, &e), HL_EINVAL);
	assert_non_null(strstr(e.msg, ida));
	hl_blob_clear(&sig);

	/* Signed with A but naming B: refused though A is in the ring. */
	snprintf(doc, sizeof(doc), "{\"key_id\":\"%s\",\"version\":1}\n", idb);
	sign(&sig, a, doc);
	assert_int_equal(verify(ring, doc, &sig, &e), HL_EINVAL);
	assert_int_equal(verify(apub, doc, &sig, &e), HL_EINVAL);
	assert_non_null(strstr(e.msg, idb));
	hl_blob_clear(&sig);

	/* Naming no key: any key of the ring. */
	snprintf(doc, sizeof(doc), "{\"version\":1}\n");
	sign(&sig, b, doc);
	assert_int_equal(verify(ring, doc, &sig, &e), 0);
	assert_int_equal(verify(apub, doc, &sig, &e), HL_EINVAL);
	hl_blob_clear(&sig);

	/* A malformed key_id, a missing ring, a ring with no key. */
	snprintf(doc, sizeof(doc), "{\"key_id\":\"../x\",\"version\":1}\n");
	sign(&sig, a, doc);
	assert_int_equal(verify(ring, doc, &sig, &e), HL_EINVAL);
	path(onlyb, sizeof(onlyb), "missing.pem");
	snprintf(doc, sizeof(doc), "{\"version\":1}\n");
	assert_int_equal(verify(onlyb, doc, &sig, &e), HL_EIO);
	assert_int_equal(verify(a, doc, &sig, &e), HL_EINVAL);
	hl_blob_clear(&sig);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/helios-keyring.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_and_verify,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
