/*
 * test_keyring: key generation (mode, refusal to overwrite, the id), and
 * verification of a manifest against a ring of PEM public keys: the key
 * the manifest names verifies, a named key the ring lacks is refused even
 * when another key of the ring would verify, a manifest naming no key
 * verifies with any key of the ring, and a malformed key_id is refused.
 * With a signatures file (several signatures, each with its key id): any
 * signature by a key the manifest names and the ring holds is enough,
 * one by a key it does not name counts for nothing, and a malformed file
 * is refused.
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
#include "buf.h"
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

/* sigs receives the signatures file of doc by the keys in files keys. */
static void
sign_all(struct hl_buf *sigs, const char *const *keys, const char *const *ids,
    size_t n, const char *doc, int spoil)
{
	struct hl_blob sig[4];
	size_t i;

	for (i = 0; i < n; i++) {
		sign(&sig[i], keys[i], doc);
		if (spoil == (int)i)
			sig[i].data[0] ^= 1;
	}
	hl_buf_free(sigs);
	assert_int_equal(hl_manifest_sigs_render(sigs, ids, sig, n, NULL), 0);
	for (i = 0; i < n; i++)
		hl_blob_clear(&sig[i]);
}

static int
vsigs(const char *ring, const char *doc, const struct hl_buf *sigs,
    struct hl_err *e)
{
	return hl_keyring_verify_sigs(ring, doc, strlen(doc), sigs->data,
	    sigs->len, e);
}

static void
test_verify_any_of(void **state)
{
	char k[3][128], pub[3][128], ids[3][HL_KEYRING_ID_LEN + 1];
	const char *keys[3], *idp[3];
	char doc[256], bad[512];
	struct hl_buf sigs = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "k%d.key", i);
		path(k[i], sizeof(k[i]), name);
		snprintf(pub[i], sizeof(pub[i]), "%s.pub", k[i]);
		assert_int_equal(hl_keyring_generate(k[i], ids[i], NULL), 0);
		keys[i] = k[i];
		idp[i] = ids[i];
	}
	path(bad, sizeof(bad), "ab.pem");
	append(bad, pub[0]);
	append(bad, pub[1]);

	/* The overlap of a rotation: signed by A (key_id) and B. */
	snprintf(doc, sizeof(doc), "{\"key_id\":\"%s\",\"key_ids\":[\"%s\","
	    "\"%s\"],\"version\":7}\n", ids[0], ids[0], ids[1]);
	sign_all(&sigs, keys, idp, 2, doc, -1);
	assert_int_equal(vsigs(pub[0], doc, &sigs, &e), 0);
	assert_int_equal(vsigs(pub[1], doc, &sigs, &e), 0);
	assert_int_equal(vsigs(bad, doc, &sigs, &e), 0);
	assert_int_equal(vsigs(pub[2], doc, &sigs, &e), HL_EINVAL);
	assert_non_null(strstr(e.msg, ids[0]));
	assert_non_null(strstr(e.msg, ids[1]));
	assert_non_null(strstr(e.msg, "does not hold"));
	/* One wrong signature: the other is enough, if the ring has it. */
	sign_all(&sigs, keys, idp, 2, doc, 0);
	assert_int_equal(vsigs(pub[0], doc, &sigs, &e), HL_EINVAL);
	assert_non_null(strstr(e.msg, "is wrong"));
	assert_int_equal(vsigs(pub[1], doc, &sigs, &e), 0);
	assert_int_equal(vsigs(bad, doc, &sigs, &e), 0);
	/* The bytes changed: no signature holds. */
	sign_all(&sigs, keys, idp, 2, doc, -1);
	doc[strlen(doc) - 3] = '8';
	assert_int_equal(vsigs(bad, doc, &sigs, &e), HL_EINVAL);

	/* A valid signature by C, which the manifest does not name. */
	snprintf(doc, sizeof(doc), "{\"key_id\":\"%s\",\"key_ids\":[\"%s\"],"
	    "\"version\":7}\n", ids[0], ids[0]);
	sign_all(&sigs, keys + 2, idp + 2, 1, doc, -1);
	assert_int_equal(vsigs(pub[2], doc, &sigs, &e), HL_EINVAL);
	assert_non_null(strstr(e.msg, "no signature is by a key the manifest"
	    " names"));
	/* Naming no key: any key of the ring, by its id. */
	snprintf(doc, sizeof(doc), "{\"version\":7}\n");
	sign_all(&sigs, keys + 2, idp + 2, 1, doc, -1);
	assert_int_equal(vsigs(pub[2], doc, &sigs, &e), 0);
	assert_int_equal(vsigs(pub[0], doc, &sigs, &e), HL_EINVAL);

	/* Malformed signatures files and key_ids. */
	{
		static const char *const evil[] = { "", "{}", "[]", "[1]",
		    "[{\"key_id\":\"00\",\"sig\":\"00\"}]",
		    "[{\"key_id\":\"0123456789abcdef\",\"sig\":\"zz\"}]",
		    "[{},{},{},{},{},{},{},{},{}]" };
		struct hl_buf b = HL_BUF_INIT;
		size_t j;

		for (j = 0; j < sizeof(evil) / sizeof(evil[0]); j++) {
			hl_buf_free(&b);
			assert_int_equal(hl_buf_puts(&b, evil[j]), 0);
			assert_int_equal(vsigs(bad, doc, &b, &e), HL_EINVAL);
		}
		hl_buf_free(&b);
	}
	snprintf(doc, sizeof(doc), "{\"key_ids\":\"%s\",\"version\":7}\n",
	    ids[0]);
	sign_all(&sigs, keys, idp, 1, doc, -1);
	assert_int_equal(vsigs(bad, doc, &sigs, &e), HL_EINVAL);
	assert_int_equal(vsigs("/nonexistent/ring", "{}", &sigs, &e),
	    HL_EIO);
	hl_buf_free(&sigs);
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
		cmocka_unit_test_setup_teardown(test_verify_any_of,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
