/*
 * auth: API tokens.  See auth.h for the token format and the scopes.
 *
 * The secret is only ever held in the caller's buffers; hashes are made
 * with EVP so that libcrypto picks the fastest SHA-256 for the CPU.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "store.h"

int
hl_auth_token_new(char out[static HL_AUTH_TOKEN_LEN + 1], struct hl_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[HL_AUTH_TOKEN_BYTES];
	size_t i;

	out[0] = '\0';
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return hl_err_set(err, HL_EIO,
		    "the random generator failed");
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[HL_AUTH_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

void
hl_auth_token_hash(unsigned char out[32], const char *token)
{
	unsigned int n = 32;

	/* EVP_Digest only fails when out of memory inside libcrypto. */
	if (EVP_Digest(token, strlen(token), out, &n, EVP_sha256(),
	    NULL) != 1 || n != 32)
		memset(out, 0, 32);
}

int
hl_auth_hash_equal(const unsigned char a[32], const unsigned char b[32])
{
	return CRYPTO_memcmp(a, b, 32) == 0;
}

const char *
hl_auth_header_token(const char *value)
{
	const char *p, *q;

	if (value == NULL)
		return NULL;
	p = value;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "Bearer", 6) == 0 && (p[6] == ' ' ||
	    p[6] == '\0')) {
		p += 6;
		while (*p == ' ')
			p++;
	}
	if (*p == '\0')
		return NULL;
	for (q = p; *q != '\0'; q++) {
		if ((unsigned char)*q <= ' ' || (unsigned char)*q == 0x7f)
			return NULL;
		if (q - p >= HL_AUTH_TOKEN_MAX)
			return NULL;
	}
	return p;
}

int
hl_auth_scopes_grant(unsigned scopes, unsigned need)
{
	if (scopes & HL_SCOPE_ADMIN)
		return 1;
	return (scopes & need) == need;
}

int
hl_auth_check(struct hl_token *out, struct hl_store *st,
    const char *authorization, unsigned need, struct hl_err *err)
{
	unsigned char hash[32];
	const char *tok;
	char have[64], want[64];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((tok = hl_auth_header_token(authorization)) == NULL)
		return hl_err_set(err, HL_EAUTH,
		    "a valid token is required (Authorization header)");
	hl_auth_token_hash(hash, tok);
	rc = hl_store_token_find(out, st, hash, err);
	/*
	 * The lookup is by hash, so its timing says nothing about the
	 * secret; the stored hash is still compared in constant time.
	 */
	if (rc == 0 && !hl_auth_hash_equal(out->hash, hash))
		rc = HL_EAUTH;
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc == HL_EAUTH || rc == HL_ENOTFOUND) {
		hl_token_clear(out);
		memset(out, 0, sizeof(*out));
		return hl_err_set(err, HL_EAUTH,
		    "the token is unknown or revoked");
	}
	if (rc != 0) {
		hl_token_clear(out);
		memset(out, 0, sizeof(*out));
		return rc;
	}
	if (!hl_auth_scopes_grant(out->scopes, need)) {
		hl_scopes_format(have, sizeof(have), out->scopes);
		hl_scopes_format(want, sizeof(want), need);
		return hl_err_set(err, HL_EPERM,
		    "this token has scopes '%s'; '%s' is required", have,
		    want);
	}
	return 0;
}
