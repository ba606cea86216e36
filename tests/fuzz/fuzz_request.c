/*
 * fuzz_request: libFuzzer target for the request parser and router of
 * api.c -- path decoding, the query, the Authorization and Content-Type
 * headers and the JSON body -- over a real store in memory.
 *
 * Input layout: newline-separated fields, the rest being the body:
 *
 *   METHOD \n PATH[?QUERY] \n CONTENT-TYPE \n AUTHORIZATION \n BODY...
 *
 * An AUTHORIZATION of "A" or "W" stands for a valid admin or write token,
 * so that the fuzzer reaches the code behind authentication; an empty
 * field is a missing header.  A first byte of '!' marks the body as over
 * the size limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "log.h"
#include "store.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hl_store *st;
static struct hl_api *api;
static char admin[HL_AUTH_TOKEN_LEN + 1], writer[HL_AUTH_TOKEN_LEN + 1];

static void
mint(char *out, const char *name, unsigned scopes)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token t = { 0 };
	unsigned char hash[32];

	if (hl_auth_token_new(out, &err) != 0)
		abort();
	hl_auth_token_hash(hash, out);
	if (hl_store_token_add(&t, st, name, hash, scopes, "fuzz", &err) != 0)
		abort();
	hl_token_clear(&t);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hl_api_opts o = HL_API_OPTS_INIT;
	struct hl_err err = HL_ERR_INIT;

	hl_log_init(1, 0);
	if (hl_store_open(&st, ":memory:", &err) != 0)
		abort();
	mint(admin, "fuzz-admin", HL_SCOPE_ADMIN);
	mint(writer, "fuzz-writer", HL_SCOPE_WRITE);
	o.store = st;
	o.openapi_file = "/dev/null";
	if (hl_api_new(&api, &o, &err) != 0)
		abort();
	return 0;
}

/* The next field, NUL-terminated in a fresh allocation. */
static char *
field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl;
	size_t n;
	char *s;

	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nl != NULL);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_response res = HL_RESPONSE_INIT;
	struct hl_request req = { 0 };
	const uint8_t *p = data, *end = data + size;
	char *method, *path, *ct, *auth, *q;
	int too_big = 0;

	if (size > 0 && data[0] == '!') {
		too_big = 1;
		p++;
	}
	method = field(&p, end);
	path = field(&p, end);
	ct = field(&p, end);
	auth = field(&p, end);
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	req.method = method;
	req.path = path;
	req.query = q;
	req.content_type = ct[0] ? ct : NULL;
	if (strcmp(auth, "A") == 0)
		req.authorization = admin;
	else if (strcmp(auth, "W") == 0)
		req.authorization = writer;
	else
		req.authorization = auth[0] ? auth : NULL;
	req.body = (const char *)p;
	req.body_len = (size_t)(end - p);
	req.too_big = too_big;
	if (hl_api_handle(&res, api, &req) == 0 &&
	    (res.status < 200 || res.status > 599))
		abort();
	hl_response_clear(&res);
	free(method);
	free(path);
	free(ct);
	free(auth);
	return 0;
}
