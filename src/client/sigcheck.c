/*
 * sigcheck: the signatures of one manifest, fetched and checked (see
 * sigcheck.h).
 */
#include <stdio.h>

#include "blob.h"
#include "keyring.h"
#include "pull.h"
#include "sigcheck.h"

int
hl_sigcheck(int *sigfail, long *retry_after, struct hl_fetch *f,
    const char *ring, const void *m, size_t mlen, struct hl_err *err)
{
	struct hl_fetch_res sig = HL_FETCH_RES_INIT;
	char sha[65], path[80];
	int rc;

	*sigfail = 0;
	*retry_after = -1;
	hl_digest(sha, NULL, m != NULL ? m : "", mlen);
	snprintf(path, sizeof(path), "objects/%s.sigs", sha);
	rc = hl_fetch_get(&sig, f, path, NULL, HL_SIGCHECK_MAX_SIGS, 0, err);
	if (rc == 0) {
		*sigfail = 1;
		rc = hl_keyring_verify_sigs(ring, m, mlen, sig.body.data,
		    sig.body.len, err);
		goto out;
	}
	if (rc == HL_ETOOBIG) {
		*sigfail = 1;
		rc = hl_err_set(err, HL_EINVAL, "%s: over %zu bytes, not a"
		    " list of signatures", path, HL_SIGCHECK_MAX_SIGS);
		goto out;
	}
	if (rc != HL_ENOTFOUND)
		goto net;
	/* No signatures object: the single signature of older trees. */
	rc = hl_fetch_get(&sig, f, "manifest.json.sig", NULL, HL_PULL_MAX_SIG,
	    0, err);
	if (rc == HL_ENOTFOUND || rc == HL_ETOOBIG) {
		*sigfail = 1;
		rc = hl_err_set(err, HL_EINVAL, "manifest.json.sig: %s, and a"
		    " signature is required (--key)", rc == HL_ENOTFOUND ?
		    "missing" : "not a signature");
		goto out;
	}
	if (rc != 0)
		goto net;
	*sigfail = 1;
	rc = hl_keyring_verify(ring, m, mlen, sig.body.data, sig.body.len,
	    err);
	goto out;
net:
	*retry_after = sig.retry_after;
	if (rc == HL_EINVAL)
		rc = HL_EIO;
out:
	hl_buf_free(&sig.body);
	return rc;
}
