/*
 * sigcheck: fetches the signatures of a manifest and checks them against
 * a keyring, for helios pull and helios verify.
 *
 * First objects/<sha256 of the manifest's bytes>.sigs: every signature
 * with its key id (manifest.h), immutable, so it belongs to exactly the
 * manifest fetched even while a new one is being published.  A tree
 * without it (a publisher before key rotation) is checked by
 * manifest.json.sig and the key the manifest's key_id names.  Either way
 * the manifest is accepted when any signature by a key it names and the
 * keyring holds verifies (keyring.h).
 */
#ifndef HL_SIGCHECK_H
#define HL_SIGCHECK_H

#include <stddef.h>

#include "err.h"
#include "fetch.h"

#define HL_SIGCHECK_MAX_SIGS	((size_t)16 << 10)	/* the .sigs file */

/*
 * 0 when the manifest (m, mlen bytes) verifies with the keyring file
 * ring.  Otherwise *sigfail says whose fault it is: 1 the signature's
 * (missing, malformed, made by no key of the ring, wrong, or the ring
 * unreadable), 0 the mirror's or the network's (the code is hl_fetch_get's
 * and *retry_after what the server asked for).
 */
int	hl_sigcheck(int *sigfail, long *retry_after, struct hl_fetch *f,
	    const char *ring, const void *m, size_t mlen, struct hl_err *err);

#endif
