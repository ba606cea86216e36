/*
 * auth: API tokens -- making them, hashing them, reading them from an
 * Authorization header and checking them against the store.
 *
 * A token is HL_AUTH_TOKEN_BYTES (32) random bytes from the OpenSSL CSPRNG
 * (RAND_bytes), written as 64 lower-case hexadecimal characters, e.g.
 *
 *   3f1c0a9e5b7d2c4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6
 *
 * Hex rather than base64url so that it survives any shell, config file or
 * URL without quoting.  The store keeps only its SHA-256
 * (hl_auth_token_hash); the secret is shown once, when it is made.
 *
 * Clients send it as "Authorization: <token>" (the original proof of
 * concept) or "Authorization: Bearer <token>".
 *
 * Scopes: write (add and remove list items and notifications), approve,
 * and admin (mint, list and revoke tokens).  admin implies the others:
 * whoever can mint a write token can write.
 *
 * Nothing here logs; a token or header must never reach the log.
 */
#ifndef HL_AUTH_H
#define HL_AUTH_H

#include <stddef.h>

#include "err.h"
#include "item.h"

struct hl_store;

#define HL_AUTH_TOKEN_BYTES	32
/* Length of the hex form of a token, without the NUL. */
#define HL_AUTH_TOKEN_LEN	(2 * HL_AUTH_TOKEN_BYTES)
/* Longest token text accepted in a header (anything longer is refused). */
#define HL_AUTH_TOKEN_MAX	256

/*
 * Writes a new random token, 64 lower-case hex characters and a NUL, into
 * out.  Returns 0, or HL_EIO when the random generator fails (out is then
 * the empty string).
 */
int	hl_auth_token_new(char out[static HL_AUTH_TOKEN_LEN + 1],
	    struct hl_err *err);

/* out = SHA-256 of the bytes of token (its text, not decoded from hex). */
void	hl_auth_token_hash(unsigned char out[32], const char *token);

/* 1 when the two hashes are equal, compared in constant time. */
int	hl_auth_hash_equal(const unsigned char a[32],
	    const unsigned char b[32]);

/*
 * Parses an Authorization header value, "<token>" or "Bearer <token>"
 * ("Bearer" in any case, one or more spaces).  Returns a pointer into
 * value at the token, or NULL when value is NULL, empty, has nothing after
 * "Bearer", or the token holds a space or control character or is longer
 * than HL_AUTH_TOKEN_MAX.
 */
const char *hl_auth_header_token(const char *value);

/*
 * 1 when scopes (a set of HL_SCOPE_* bits) grants every scope in need,
 * with admin granting all.
 */
int	hl_auth_scopes_grant(unsigned scopes, unsigned need);

/*
 * Checks the Authorization header value authorization (may be NULL) and
 * that its token holds the scopes in need (0: any valid token).
 *
 * The token is hashed and looked up by its hash, so the time the lookup
 * takes depends only on the hash, never on how much of a guessed token is
 * right.  Returns 0 with *out the token record (free with
 * hl_token_clear), HL_EAUTH when the header is missing or malformed or the
 * token unknown or revoked (one message for all three), HL_EPERM when a
 * scope is missing (*out is then filled in too, so the caller can log who
 * it was), or the store's code (HL_EIO, HL_EBUSY) when the lookup fails.
 */
int	hl_auth_check(struct hl_token *out, struct hl_store *st,
	    const char *authorization, unsigned need, struct hl_err *err);

#endif
