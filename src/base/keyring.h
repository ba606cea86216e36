/*
 * keyring: the Ed25519 keys of manifest.json's signature, by key id.
 *
 * A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte
 * public key; the daemon writes the id of its signing key into the
 * manifest ("key_id").  A keyring is a file of PEM public keys one after
 * the other (what `cat a.pub b.pub` makes), so a client can trust the
 * current key and the next one across a rotation.
 */
#ifndef HL_KEYRING_H
#define HL_KEYRING_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"

#define HL_KEYRING_ID_LEN 16
#define HL_KEYRING_MAX 64	/* keys in one ring */
#define HL_KEYRING_NAMED 8	/* signatures of one manifest */

/* id receives the key id of k (public or private). */
int	hl_keyring_id(char id[HL_KEYRING_ID_LEN + 1], EVP_PKEY *k,
	    struct hl_err *err);

/*
 * Writes a new Ed25519 private key to path (PEM, mode 0600, never over an
 * existing file) and its public key to path.pub (0644); id receives its
 * key id.  HL_EEXISTS when either file exists, HL_EIO.
 */
int	hl_keyring_generate(const char *path, char id[HL_KEYRING_ID_LEN + 1],
	    struct hl_err *err);

/*
 * Checks sig over the manifest bytes data with the keyring file ring.
 * When the manifest names a key_id, only that key of the ring may verify
 * it (HL_EINVAL when the ring lacks it); otherwise any key of the ring.
 * 0 when valid; HL_EINVAL when not; HL_EIO when ring cannot be read.
 */
int	hl_keyring_verify(const char *ring, const void *data, size_t len,
	    const void *sig, size_t siglen, struct hl_err *err);

/*
 * Checks the signatures file of the manifest bytes data (manifest.h:
 * [{"key_id", "sig"}], sigs) with the keyring file ring.  A signature
 * counts when its key is one the manifest names ("key_id", "key_ids";
 * any, when it names none) and ring holds it; the manifest is accepted
 * when any signature that counts verifies.  0 then; HL_EINVAL when none
 * does (the message says which keys signed and which ring lacks) or a
 * file is malformed; HL_EIO when ring cannot be read.
 */
int	hl_keyring_verify_sigs(const char *ring, const void *data, size_t len,
	    const void *sigs, size_t siglen, struct hl_err *err);

#endif
