/*
 * pystr: Python's str.lower() over UTF-8 (see pystr.h).  An ASCII string,
 * the usual pattern, is lowered byte by byte; any other is decoded to code
 * points, since the capital sigma's form depends on its neighbours.
 */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include "pystr.h"

#define CAPITAL_SIGMA		0x03A3
#define SMALL_SIGMA		0x03C3
#define FINAL_SIGMA		0x03C2
#define CAPITAL_I_DOT		0x0130

/*
 * Whether the capital sigma at u[i] ends a word, as CPython decides it:
 * a cased code point before it (skipping case-ignorable ones) and none
 * after it (skipping the same).
 */
static int
sigma_is_final(const ucs4_t *u, size_t n, size_t i)
{
	size_t j;

	for (j = i; j > 0 && uc_is_property_case_ignorable(u[j - 1]); j--)
		continue;
	if (j == 0 || !uc_is_property_cased(u[j - 1]))
		return 0;
	for (j = i + 1; j < n && uc_is_property_case_ignorable(u[j]); j++)
		continue;
	return j == n || !uc_is_property_cased(u[j]);
}

static char *
lower_ascii(const char *s, size_t len)
{
	char *out;
	size_t i;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
	out[len] = '\0';
	return out;
}

/*
 * The code points of s[0..len), an invalid byte standing for itself as a
 * value above Unicode's range (so it is neither cased nor lowered).
 */
#define RAW_BYTE	0x110000

static ucs4_t *
decode(size_t *n, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	ucs4_t *u;
	int k;

	if ((u = calloc(len + 1, sizeof(*u))) == NULL)
		return NULL;
	for (*n = 0; p < end; p += k) {
		if ((k = u8_mbtoucr(&u[*n], p, (size_t)(end - p))) < 0) {
			u[*n] = RAW_BYTE + *p;
			k = 1;
		}
		(*n)++;
	}
	return u;
}

char *
hl_pystr_lower(const char *s)
{
	size_t len = strlen(s), n, i, o = 0;
	ucs4_t *u, c;
	uint8_t *out;
	int k;

	for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
		continue;
	if (i == len)
		return lower_ascii(s, len);
	if ((u = decode(&n, s, len)) == NULL)
		return NULL;
	/*
	 * A code point's lowercase is at most 1.5 times its UTF-8 length
	 * (two bytes to three: U+0130 to "i\u0307", U+023A to U+2C65).
	 */
	if ((out = malloc(2 * len + 1)) == NULL) {
		free(u);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		c = u[i];
		if (c >= RAW_BYTE) {
			out[o++] = (uint8_t)(c - RAW_BYTE);
			continue;
		}
		if (c == CAPITAL_I_DOT) {
			out[o++] = 'i';
			c = 0x0307;
		} else if (c == CAPITAL_SIGMA)
			c = sigma_is_final(u, n, i) ? FINAL_SIGMA : SMALL_SIGMA;
		else
			c = uc_tolower(c);
		k = u8_uctomb(out + o, c, (ptrdiff_t)(2 * len - o));
		assert(k > 0);
		o += (size_t)k;
	}
	out[o] = '\0';
	free(u);
	return (char *)out;
}
