/*
 * signer: the keys that sign manifest.json, and their rotation.
 *
 * The config's signing_key names a file K.  A rotation keeps its files
 * beside it, in the same directory:
 *
 *   K                 the current private key (PEM, mode 0600)
 *   K.pub             its public key (what clients put in their keyring)
 *   K.previous        the key K held before the rotation (0600)
 *   K.previous.pub    its public key
 *   K.rotation        when the rotation began and its overlap ends:
 *                     {"current": "9f86d081884c7d65",
 *                      "previous": "1f2e3d4c5b6a7988",
 *                      "started_at": 1796000000,
 *                      "overlap_until": 1796604800}
 *
 * During the overlap (until overlap_until) every manifest is signed by
 * both keys, the previous one first: it makes manifest.json.sig, which
 * clients of the single-signature protocol check, and the manifest's
 * key_id names it.  After the overlap the previous key signs nothing,
 * whether or not its files are still there; `helios key retire` removes
 * them.
 *
 * A rotation (hl_signer_rotate) never writes over a file and never leaves
 * the daemon without a key: the new key is written under a temporary
 * name, the old one is linked to K.previous, K.rotation is written, and
 * only then is the new key renamed over K.  The daemon looks at the files
 * (stat: inode, size, modification time) before each build and loads
 * them again when one changed, so a rotation needs no restart.
 */
#ifndef HL_SIGNER_H
#define HL_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "blob.h"
#include "err.h"
#include "keyring.h"

#define HL_SIGNER_MAX	2	/* keys that sign one manifest */

struct hl_signer;

/* What K.rotation says; all zero / "" when there is none. */
struct hl_signer_rotation {
	char	current[HL_KEYRING_ID_LEN + 1];
	char	previous[HL_KEYRING_ID_LEN + 1];
	int64_t	started_at;
	int64_t	overlap_until;
};

/*
 * Loads the key at path and, when K.rotation names one, the previous
 * key.  On success *out is owned by the caller; free with
 * hl_signer_free().  HL_EIO when a file cannot be read, HL_EINVAL when
 * one is not what it should be (a previous key that K.rotation does not
 * name, or the reverse).
 */
int	hl_signer_open(struct hl_signer **out, const char *path,
	    struct hl_err *err);
void	hl_signer_free(struct hl_signer *s);

/*
 * Loads the files again if one of them changed since they were loaded.
 * On error s keeps the keys it had.
 */
int	hl_signer_refresh(struct hl_signer *s, struct hl_err *err);

/*
 * 1 when the files changed since they were loaded (a refresh would load
 * them), or when the keys that sign at now are not those of the last
 * hl_signer_sign: a manifest should be signed again.  Cheap: a few
 * stat(2) calls.
 */
int	hl_signer_stale(const struct hl_signer *s, int64_t now);

/*
 * The keys that sign at time now, the one that makes manifest.json.sig
 * first; ids receives their key ids.  Returns how many (1 or 2).
 */
size_t	hl_signer_ids(char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1],
	    const struct hl_signer *s, int64_t now);

/*
 * sigs[i] receives the 64-byte signature of data by the i-th key that
 * signs at now (as hl_signer_ids orders them); returns how many through
 * *n.  On error every sigs[i] is empty.
 */
int	hl_signer_sign(struct hl_blob sigs[HL_SIGNER_MAX], size_t *n,
	    struct hl_signer *s, int64_t now, const void *data, size_t len,
	    struct hl_err *err);

/* The current key (borrowed), for the site's fingerprint. */
EVP_PKEY *hl_signer_current(const struct hl_signer *s);
/* The previous key while one is kept (borrowed), or NULL. */
EVP_PKEY *hl_signer_previous(const struct hl_signer *s);

/*
 * Starts a rotation of the key at path: makes a new key, keeps the
 * current one as K.previous, and records that both sign until
 * now + overlap seconds.  out receives the rotation.  HL_ENOTFOUND when
 * there is no key at path; HL_EEXISTS when a rotation's files are there
 * already (retire the previous key first), or a temporary file is;
 * HL_EIO.  On error no key file has changed.
 */
int	hl_signer_rotate(struct hl_signer_rotation *out, const char *path,
	    int64_t now, int64_t overlap, struct hl_err *err);

/*
 * Reads K.rotation into out.  HL_ENOTFOUND when there is none, HL_EIO,
 * HL_EINVAL when it is malformed.
 */
int	hl_signer_rotation(struct hl_signer_rotation *out, const char *path,
	    struct hl_err *err);

/*
 * Removes the previous key's files and K.rotation once the overlap has
 * ended (before, HL_EBUSY unless force).  out receives the rotation that
 * ended.  HL_ENOTFOUND when there is no rotation to retire.
 */
int	hl_signer_retire(struct hl_signer_rotation *out, const char *path,
	    int64_t now, int force, struct hl_err *err);

#endif
