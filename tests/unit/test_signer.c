/*
 * test_signer: a key rotation's files and clock.  Rotating keeps the old
 * key as K.previous (mode 0600, the same bytes) and a new one at K; both
 * sign, the previous first, until the overlap ends, then the new one
 * alone; a signer already open sees the rotation by its files, and says a
 * manifest should be signed again when the files change or the overlap
 * ends.  Rotating refuses without a key, during a rotation and over a
 * stray file, changing nothing; retiring refuses during the overlap.
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
#include "signer.h"

static char dir[64];

static void
path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int
mode(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

/* The signatures of doc at now verify with ring (a public key file). */
static int
signed_by(struct hl_signer *s, int64_t now, const char *doc,
    const char *ring)
{
	struct hl_blob sigs[HL_SIGNER_MAX];
	char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1];
	const char *idp[HL_SIGNER_MAX];
	struct hl_buf b = HL_BUF_INIT;
	size_t n, i;
	int rc;

	n = hl_signer_ids(ids, s, now);
	for (i = 0; i < n; i++)
		idp[i] = ids[i];
	assert_int_equal(hl_signer_sign(sigs, &i, s, now, doc, strlen(doc),
	    NULL), 0);
	assert_int_equal(i, n);
	assert_int_equal(hl_manifest_sigs_render(&b, idp, sigs, n, NULL), 0);
	rc = hl_keyring_verify_sigs(ring, doc, strlen(doc), b.data, b.len,
	    NULL);
	for (i = 0; i < n; i++)
		hl_blob_clear(&sigs[i]);
	hl_buf_free(&b);
	return rc;
}

static void
test_rotation(void **state)
{
	char k[128], prev[128], prevpub[160], rot[128], pub[160], apub[128];
	char bpub[128], a[HL_KEYRING_ID_LEN + 1];
	char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1];
	struct hl_signer_rotation r, r2;
	struct hl_signer *s = NULL;
	struct hl_err e = HL_ERR_INIT;
	const char *doc = "{\"version\":1}\n";
	char cmd[1024];
	FILE *f;

	(void)state;
	path(k, sizeof(k), "manifest.key");
	path(prev, sizeof(prev), "manifest.key.previous");
	path(rot, sizeof(rot), "manifest.key.rotation");
	path(apub, sizeof(apub), "a.pub");
	path(bpub, sizeof(bpub), "b.pub");
	snprintf(prevpub, sizeof(prevpub), "%s.pub", prev);
	snprintf(pub, sizeof(pub), "%s.pub", k);

	/* No key: nothing to rotate, nothing made. */
	assert_int_equal(hl_signer_rotate(&r, k, 1000, 100, &e),
	    HL_ENOTFOUND);
	assert_int_equal(access(prev, F_OK), -1);

	assert_int_equal(hl_keyring_generate(k, a, NULL), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", pub, apub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hl_signer_open(&s, k, &e), 0);
	assert_int_equal(hl_signer_ids(ids, s, 1000), 1);
	assert_string_equal(ids[0], a);
	assert_int_equal(signed_by(s, 1000, doc, apub), 0);
	assert_int_equal(hl_signer_stale(s, 1000), 0);

	assert_int_equal(hl_signer_rotate(&r, k, 1000, 100, &e), 0);
	assert_string_equal(r.previous, a);
	assert_string_not_equal(r.current, a);
	assert_int_equal(r.started_at, 1000);
	assert_int_equal(r.overlap_until, 1100);
	assert_int_equal(mode(k), 0600);
	assert_int_equal(mode(prev), 0600);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s' && cp '%s' '%s'", apub,
	    prevpub, pub, bpub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hl_signer_rotation(&r2, k, &e), 0);
	assert_memory_equal(&r, &r2, sizeof(r));

	/* The open signer sees the files change, then both keys sign. */
	assert_int_equal(hl_signer_stale(s, 1000), 1);
	assert_int_equal(hl_signer_refresh(s, &e), 0);
	assert_int_equal(hl_signer_ids(ids, s, 1050), 2);
	assert_string_equal(ids[0], a);
	assert_string_equal(ids[1], r.current);
	assert_int_equal(signed_by(s, 1050, doc, apub), 0);
	assert_int_equal(signed_by(s, 1050, doc, bpub), 0);
	assert_int_equal(hl_signer_stale(s, 1099), 0);
	/* The overlap ends at 1100: the new key alone, and sign again. */
	assert_int_equal(hl_signer_stale(s, 1100), 1);
	assert_int_equal(hl_signer_ids(ids, s, 1100), 1);
	assert_string_equal(ids[0], r.current);
	assert_int_equal(signed_by(s, 1100, doc, apub), HL_EINVAL);
	assert_int_equal(signed_by(s, 1100, doc, bpub), 0);

	/* No second rotation, no early retirement; nothing changes. */
	assert_int_equal(hl_signer_rotate(&r2, k, 1050, 100, &e), HL_EEXISTS);
	assert_int_equal(hl_signer_retire(&r2, k, 1050, 0, &e), HL_EBUSY);
	assert_int_equal(access(prev, F_OK), 0);
	assert_int_equal(access(rot, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s' && cmp -s '%s' '%s'",
	    pub, bpub, prevpub, apub);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(hl_signer_retire(&r2, k, 1100, 0, &e), 0);
	assert_string_equal(r2.previous, a);
	assert_int_equal(access(prev, F_OK), -1);
	assert_int_equal(access(prevpub, F_OK), -1);
	assert_int_equal(access(rot, F_OK), -1);
	assert_int_equal(hl_signer_retire(&r2, k, 1100, 0, &e), HL_ENOTFOUND);
	assert_int_equal(hl_signer_refresh(s, &e), 0);
	assert_int_equal(hl_signer_ids(ids, s, 1050), 1);
	assert_string_equal(ids[0], r.current);

	/* A stray K.previous: refused, and kept as it was. */
	assert_non_null(f = fopen(prev, "w"));
	fputs("stray\n", f);
	fclose(f);
	assert_int_equal(hl_signer_rotate(&r2, k, 2000, 100, &e), HL_EEXISTS);
	snprintf(cmd, sizeof(cmd), "grep -qx stray '%s' && cmp -s '%s' '%s'",
	    prev, pub, bpub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(access(rot, F_OK), -1);
	hl_signer_free(s);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/helios-signer.XXXXXX");
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
		cmocka_unit_test_setup_teardown(test_rotation, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
