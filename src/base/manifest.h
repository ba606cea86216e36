/*
 * manifest: manifest.json, the one file a client polls, and its Ed25519
 * signature.
 *
 * The manifest names the version, when it was made, when it stops being
 * trustworthy (a mirror that stopped updating shows as expired), the hash
 * of the manifest before it, each list, and every mutable file with its
 * size, hashes, the ETag servers send for it (S3's: the quoted MD5 hex of
 * the bytes; the daemon sends the same) and its immutable object copy.
 * Keys are sorted and the JSON is compact; files are sorted by path.
 * Worked example (hashes shortened):
 *
 *   {"expires_at": 1796604800,
 *    "files": [{"bytes": 5120, "content_type": "text/plain; charset=utf-8",
 *               "etag": "\"9e10...\"", "object": "objects/3f2a...",
 *               "path": "lists/blacklist-keyword.txt", "sha256": "3f2a...",
 *               "gz": {"bytes": 2048, "etag": "\"77ab...\"",
 *                      "object": "objects/3f2a....gz",
 *                      "path": "lists/blacklist-keyword.txt.gz",
 *                      "sha256": "c0de..."}}, ...],
 *    "format": 1, "generated_at": 1796000000, "key_id": "1f2e3d4c5b6a7988",
 *    "lists": [{"count": 120, "file": "bad_keywords.txt", "format": "plain",
 *               "id": "blacklist-keyword", "json": "lists/blacklist-keyword.json",
 *               "policy": "direct" | "review",
 *               "text": "lists/blacklist-keyword.txt", "version": 40}, ...],
 *    "notifications_version": 12, "poll_interval": 60,
 *    "previous": "aa11..." | null, "version": 42}
 *
 * The object of a .gz is named by the identity file's hash plus ".gz", so
 * objects/<sha256> and objects/<sha256>.gz are the two encodings of one
 * content.  schema/manifest.schema.json is the JSON Schema.
 *
 * manifest.json.sig is the raw 64-byte Ed25519 signature of manifest.json's
 * exact bytes (check with `openssl pkeyutl -verify -rawin -pubin`);
 * "key_id", present when the tree is signed, names the key that made it
 * (keyring.h), so a client holding several keys knows which one to use.
 *
 * A manifest may be signed by several keys (during a key rotation's
 * overlap: the previous key and the new one, signer.h).  "key_ids" names
 * them all, key_id first, and objects/<sha256 of manifest.json>.sigs
 * carries every signature with its key id, hex-encoded:
 *
 *   [{"key_id": "1f2e3d4c5b6a7988", "sig": "9a0b...(128 hex)"},
 *    {"key_id": "9f86d081884c7d65", "sig": "77c1..."}]
 *
 * Named by the manifest's hash and published with the other objects,
 * before the manifest, it is immutable: a client reads the signatures of
 * exactly the manifest it holds, even while a new one is being published.
 * A client accepts the manifest when any signature by a key the manifest
 * names and its keyring holds verifies (keyring.h).
 */
#ifndef HL_MANIFEST_H
#define HL_MANIFEST_H

#include <stdint.h>

#include <openssl/evp.h>

#include "blob.h"
#include "buf.h"
#include "err.h"
#include "item.h"

#define HL_MANIFEST_FORMAT 1

struct hl_manifest_cache;

struct hl_manifest_file {
	const char		*path;
	const char		*object;
	const struct hl_blob	*id;
	const char		*gzpath;
	const char		*gzobject;
	const struct hl_blob	*gz;
};

struct hl_manifest_list {
	const struct hl_list	*info;
	const char		*json;	/* path of lists/<id>.json */
	const char		*text;	/* path of lists/<id>.<txt|yml> */
};

struct hl_manifest_info {
	int64_t				 version;
	int64_t				 generated_at;
	int64_t				 expires_at;
	int64_t				 poll_interval;
	int64_t				 notifications_version;
	const char			*previous;	/* sha256 or NULL */
	const char			*key_id;	/* keyring.h, or NULL */
	/* Every key that signs it (key_id first), for "key_ids". */
	const char *const		*key_ids;
	size_t				 nkey_ids;
	const struct hl_manifest_file	*files;
	size_t				 nfiles;
	const struct hl_manifest_list	*lists;
	size_t				 nlists;
	/* The entries of the last render, kept for the next; or NULL. */
	struct hl_manifest_cache	*cache;
};

/*
 * Appends the manifest's bytes to out.  With m->cache, a file whose path
 * and hashes are those of the last render's takes its entry from there:
 * the bytes are the same either way.  HL_ENOMEM.
 */
int	hl_manifest_render(struct hl_buf *out,
	    const struct hl_manifest_info *m, struct hl_err *err);
/* An empty cache of entries.  HL_ENOMEM. */
int	hl_manifest_cache_new(struct hl_manifest_cache **out,
	    struct hl_err *err);
/* Accepts NULL. */
void	hl_manifest_cache_free(struct hl_manifest_cache *c);

/*
 * Appends the signatures file (above) to out: sigs[i] (64 bytes) made by
 * key ids[i], for i < n.
 */
int	hl_manifest_sigs_render(struct hl_buf *out, const char *const *ids,
	    const struct hl_blob *sigs, size_t n, struct hl_err *err);

/* Loads an Ed25519 private key (PEM).  HL_EIO / HL_EINVAL. */
int	hl_manifest_key_load(EVP_PKEY **out, const char *path,
	    struct hl_err *err);
/* out receives the 64-byte signature of data. */
int	hl_manifest_sign(struct hl_blob *out, EVP_PKEY *key, const void *data,
	    size_t len, struct hl_err *err);
/*
 * Checks sig (siglen bytes) over data with the Ed25519 public key in PEM
 * file pubkey.  0 when valid, HL_EINVAL when not.
 */
int	hl_manifest_verify(const char *pubkey, const void *data, size_t len,
	    const void *sig, size_t siglen, struct hl_err *err);

#endif
