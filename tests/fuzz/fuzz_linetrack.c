/*
 * fuzz_linetrack: libFuzzer target for the line provenance of
 * `helios import --git` (src/linetrack.c): which commit introduced each
 * line of a list file, the "who and why" an import records per item.
 *
 * Each input is a file's history; every version goes through
 * hl_linetrack_advance and is compared with a naive model of the rule in
 * linetrack.h (split on '\n'; common prefix; common suffix not overlapping
 * it; each new middle line takes the first unused equal old middle line in
 * file order, else it is the commit's):
 *
 *   1. the lines are the version's lines, pointing into its bytes;
 *   2. each line has the model's commit, and is marked added exactly when
 *      the model adds it;
 *   3. the removed lines are the model's, in file order, with their
 *      commits.
 *
 * The model never takes the shortcut linetrack takes for the bytes two
 * versions share from the start, which is what most needs checking.
 *
 * Input layout: versions separated by NUL bytes, at most 32.  When the
 * first byte is odd, every version starts with the same 9,000 bytes of
 * lines, so the shortcut's block comparison and its search over many
 * lines are reached.  A broken promise aborts with the versions on stderr.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linetrack.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VERSIONS	32
#define FILLER_LEN	9000

struct mline {
	size_t	off;		/* in the version's bytes */
	size_t	len;
	size_t	commit;
};

struct model {
	const char	*data;
	struct mline	*lines;
	size_t		 n;
};

static void
broken(const char *what, size_t version, const char *old, size_t oldlen,
    const char *nw, size_t nwlen)
{
	fprintf(stderr, "fuzz_linetrack: version %zu: %s\n--- old (%zu bytes)"
	    "\n%.*s\n--- new (%zu bytes)\n%.*s\n---\n", version, what, oldlen,
	    (int)oldlen, old, nwlen, (int)nwlen, nw);
	abort();
}

static struct mline *
model_split(size_t *n, const char *d, size_t len, size_t commit)
{
	struct mline *v;
	size_t i, start = 0, cap = 1;

	for (i = 0; i < len; i++)
		cap += d[i] == '\n';
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		abort();
	*n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && d[i] != '\n')
			continue;
		if (i == len && start == len)
			break;
		v[*n].off = start;
		v[*n].len = i - start;
		v[*n].commit = commit;
		(*n)++;
		start = i + 1;
	}
	return v;
}

static int
model_same(const struct model *a, size_t i, const struct model *b, size_t j)
{
	return a->lines[i].len == b->lines[j].len &&
	    memcmp(a->data + a->lines[i].off, b->data + b->lines[j].off,
	    a->lines[i].len) == 0;
}

/* Moves m to d[0..len) by the rule; *added and *removed are malloc'ed. */
static void
model_advance(struct model *m, const char *d, size_t len, size_t commit,
    unsigned char **added, struct mline **removed, size_t *nremoved)
{
	struct model nw = { .data = d };
	unsigned char *used;
	size_t pre = 0, suf = 0, i, j;

	nw.lines = model_split(&nw.n, d, len, commit);
	*added = calloc(nw.n + 1, 1);
	used = calloc(m->n + 1, 1);
	*removed = calloc(m->n + 1, sizeof(**removed));
	if (*added == NULL || used == NULL || *removed == NULL)
		abort();
	while (pre < nw.n && pre < m->n && model_same(&nw, pre, m, pre)) {
		nw.lines[pre].commit = m->lines[pre].commit;
		pre++;
	}
	while (suf < nw.n - pre && suf < m->n - pre &&
	    model_same(&nw, nw.n - 1 - suf, m, m->n - 1 - suf)) {
		nw.lines[nw.n - 1 - suf].commit = m->lines[m->n - 1 - suf].commit;
		suf++;
	}
	for (i = pre; i < nw.n - suf; i++) {
		for (j = pre; j < m->n - suf; j++)
			if (!used[j] && model_same(&nw, i, m, j))
				break;
		if (j < m->n - suf) {
			used[j] = 1;
			nw.lines[i].commit = m->lines[j].commit;
		} else
			(*added)[i] = 1;
	}
	*nremoved = 0;
	for (j = pre; j < m->n - suf; j++)
		if (!used[j])
			(*removed)[(*nremoved)++] = m->lines[j];
	free(used);
	free(m->lines);
	*m = nw;
}

/* Compares step and t with the model after version v. */
static void
check(const struct hl_linetrack *t, const struct hl_linetrack_step *step,
    const struct model *m, const unsigned char *added,
    const struct mline *removed, size_t nremoved, size_t v,
    const char *oldv, size_t oldlen)
{
	size_t i;

	if (t->nlines != m->n)
		broken("line count", v, oldv, oldlen, t->data, t->len);
	for (i = 0; i < m->n; i++) {
		const struct hl_linetrack_line *l = &t->lines[i];

		if (l->text != t->data + m->lines[i].off ||
		    l->len != m->lines[i].len)
			broken("a line's bytes", v, oldv, oldlen, t->data,
			    t->len);
		if (l->commit != m->lines[i].commit)
			broken("a line's commit", v, oldv, oldlen, t->data,
			    t->len);
		if (!step->added[i] != !added[i])
			broken("a line's added mark", v, oldv, oldlen,
			    t->data, t->len);
	}
	if (step->nremoved != nremoved)
		broken("removed count", v, oldv, oldlen, t->data, t->len);
	for (i = 0; i < nremoved; i++)
		if (step->removed[i].text != oldv + removed[i].off ||
		    step->removed[i].len != removed[i].len ||
		    step->removed[i].commit != removed[i].commit)
			broken("a removed line", v, oldv, oldlen, t->data,
			    t->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char filler[FILLER_LEN];
	struct hl_linetrack t = { 0 };
	struct model m = { .data = "" };
	char *mdata = NULL;
	size_t v, pos = 0, fill = 0, oldlen = 0;

	if (filler[0] == '\0') {
		size_t k = 0;

		while (k + 1 < FILLER_LEN)
			k += (size_t)snprintf(filler + k, FILLER_LEN - k,
			    "filler %zu\n", k);
	}
	if (size > 0 && (data[0] & 1)) {
		fill = FILLER_LEN - 1;
		pos = 1;
	}
	for (v = 0; v < MAX_VERSIONS && pos <= size; v++) {
		struct hl_linetrack_step step;
		const uint8_t *z;
		unsigned char *added;
		struct mline *removed;
		size_t n, len, nremoved;
		char *d, *copy;

		z = memchr(data + pos, '\0', size - pos);
		n = z ? (size_t)(z - (data + pos)) : size - pos;
		len = fill + n;
		if ((d = malloc(len + 1)) == NULL ||
		    (copy = malloc(len + 1)) == NULL)
			abort();
		memcpy(d, filler, fill);
		memcpy(d + fill, data + pos, n);
		d[len] = '\0';
		memcpy(copy, d, len + 1);
		pos += n + 1;
		/* The model reads its own copy of each version. */
		model_advance(&m, copy, len, v, &added, &removed, &nremoved);
		free(mdata);
		mdata = copy;
		if (hl_linetrack_advance(&t, d, len, v, &step) != 0)
			abort();
		check(&t, &step, &m, added, removed, nremoved, v,
		    step.old_data ? step.old_data : "", oldlen);
		oldlen = len;
		hl_linetrack_step_free(&step);
		free(added);
		free(removed);
	}
	hl_linetrack_free(&t);
	free(m.lines);
	free(mdata);
	return 0;
}
