/*
 * fuzz_textfmt: libFuzzer target for SmokeDetector's list files in
 * textfmt.c (base/), the code that reads every imported file and writes
 * every published one.  It checks what the code promises, not only that
 * it does not crash:
 *
 *   1. a file that parses renders back to its own bytes (nothing a user
 *      gave is lost);
 *   2. with its first item deleted, and with every item deleted, the
 *      file renders to one that parses again, holding the other items'
 *      values in order (a delete through the API keeps the file readable);
 *      and while other items remain, a delete removes one run of bytes
 *      and changes no other (a version's diff is its change);
 *   3. with an item added at its end, as the API adds one, the same.
 *
 * Input layout: the first byte picks the format (enum hl_fmt, modulo 5),
 * the rest is the file.  A broken promise aborts with the file's bytes
 * and Helios's on stderr.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "item.h"
#include "textfmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fmts[] = { HL_FMT_PLAIN, HL_FMT_TSV, HL_FMT_YAML_CIDR,
    HL_FMT_YAML_NS, HL_FMT_YAML_ASN };

static void
broken(const char *what, int fmt, const char *in, size_t inlen,
    const struct hl_buf *out, const char *msg)
{
	fprintf(stderr, "fuzz_textfmt: format %d: %s%s%s\n--- file (%zu "
	    "bytes)\n", fmt, what, msg ? ": " : "", msg ? msg : "", inlen);
	fwrite(in, 1, inlen, stderr);
	if (out != NULL) {
		fprintf(stderr, "\n--- Helios's (%zu bytes)\n", out->len);
		fwrite(out->data ? out->data : "", 1, out->len, stderr);
	}
	fputc('\n', stderr);
	abort();
}

/* An item as the API makes one (no src, not verbatim). */
static void
api_item(struct hl_item *it, int fmt)
{
	memset(it, 0, sizeof(*it));
	it->value = strdup(fmt == HL_FMT_YAML_CIDR ? "192.0.2.1" :
	    fmt == HL_FMT_YAML_NS ? "ns1.example.com." :
	    fmt == HL_FMT_YAML_ASN ? "64511" : "fuzz\\.example");
	it->created_by = strdup("fuzz");
	it->modified_by = strdup("fuzz");
	it->created_at = 1700000000;
	if (it->value == NULL || it->created_by == NULL ||
	    it->modified_by == NULL)
		abort();
}

/*
 * Renders v[0..n) and parses the result: its items that are not verbatim
 * must be those of v, in order.  With cut, the rendering must also be the
 * file with one run of bytes taken out.
 */
static void
reads_back(const char *what, int fmt, const struct hl_item *v, size_t n,
    const char *in, size_t inlen, int cut)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf out = HL_BUF_INIT;
	struct hl_item *w = NULL;
	size_t m = 0, i, j;

	if (hl_textfmt_render(&out, fmt, v, n, &err) != 0)
		broken(what, fmt, in, inlen, NULL, err.msg);
	if (cut) {
		const char *o = out.data ? out.data : "";
		size_t pre = 0, suf = 0;

		while (pre < out.len && pre < inlen && o[pre] == in[pre])
			pre++;
		while (suf < out.len - pre && suf < inlen - pre &&
		    o[out.len - 1 - suf] == in[inlen - 1 - suf])
			suf++;
		if (pre + suf != out.len)
			broken(what, fmt, in, inlen, &out,
			    "bytes other than the item's changed");
	}
	if (hl_textfmt_parse(&w, &m, fmt, out.data ? out.data : "", out.len,
	    "out", &err) != 0)
		broken(what, fmt, in, inlen, &out, err.msg);
	for (i = 0, j = 0; i < n || j < m; i++, j++) {
		while (i < n && v[i].verbatim)
			i++;
		while (j < m && w[j].verbatim)
			j++;
		if (i == n && j == m)
			break;
		if (i == n || j == m || strcmp(v[i].value, w[j].value) != 0)
			broken(what, fmt, in, inlen, &out,
			    "the items read back are not the ones written");
	}
	hl_items_free(w, m);
	hl_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_buf out = HL_BUF_INIT;
	struct hl_item *v = NULL, *w;
	const char *in = (const char *)data + 1;
	size_t n = 0, k, i, len = size - 1;
	int fmt;

	if (size < 1)
		return 0;
	fmt = fmts[data[0] % 5];
	if (hl_textfmt_parse(&v, &n, fmt, in, len, "in", &err) != 0)
		return 0;

	/* 1. The same bytes. */
	if (hl_textfmt_render(&out, fmt, v, n, &err) != 0)
		broken("does not render", fmt, in, len, NULL, err.msg);
	if (out.len != len || memcmp(out.data ? out.data : "", in, len) != 0)
		broken("renders to other bytes", fmt, in, len, &out, NULL);
	hl_buf_free(&out);

	/* 3. An item added at the end. */
	if ((w = realloc(v, (n + 1) * sizeof(*v))) == NULL)
		abort();
	v = w;
	api_item(&v[n++], fmt);
	reads_back("with an item added", fmt, v, n, in, len, 0);
	hl_item_clear(&v[--n]);

	/* 2. The first item deleted, then all of them. */
	for (i = 0; i < n && v[i].verbatim; i++)
		;
	if (i < n) {
		hl_item_clear(&v[i]);
		memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
		n--;
		for (i = 0, k = 0; i < n; i++)
			k += !v[i].verbatim;
		reads_back("with its first item deleted", fmt, v, n, in, len,
		    k > 0);
		for (i = 0, k = 0; i < n; i++) {
			if (v[i].verbatim)
				v[k++] = v[i];
			else
				hl_item_clear(&v[i]);
		}
		n = k;
		reads_back("with every item deleted", fmt, v, n, in, len, 0);
	}
	hl_items_free(v, n);
	return 0;
}
