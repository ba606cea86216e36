/*
 * linetrack: lines of one file through its versions, with the commit that
 * introduced each (linetrack.h says how they are matched).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linetrack.h"

/*
 * Splits data into lines (a last line without '\n' counts), attributed to
 * commit.  The first old lines (of the buffer old_data) that lie wholly
 * inside the bytes data shares with old_data are taken over as they are,
 * moved to data, keeping their commits.
 */
static int
split(struct hl_linetrack_line **out, size_t *n, const char *data,
    size_t len, size_t commit, const struct hl_linetrack *old)
{
	struct hl_linetrack_line *v;
	const char *p = data, *end = data + len, *nl;
	size_t k = 0, cap, same = 0, keep = 0, lo, hi;
	size_t lim = len < old->len ? len : old->len;

	/* The bytes both buffers share, compared a block at a time. */
	while (same + 4096 <= lim &&
	    memcmp(data + same, old->data + same, 4096) == 0)
		same += 4096;
	while (same < lim && data[same] == old->data[same])
		same++;
	/* Old lines ending (with their '\n') inside them. */
	lo = 0;
	hi = old->nlines;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t endoff = (size_t)(old->lines[mid].text - old->data) +
		    old->lines[mid].len + 1;

		if (endoff <= same)
			lo = mid + 1;
		else
			hi = mid;
	}
	keep = lo;
	if (keep > 0)
		p = data + (old->lines[keep - 1].text - old->data) +
		    old->lines[keep - 1].len + 1;
	cap = keep + 1;
	for (nl = p; nl < end &&
	    (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL; nl++)
		cap++;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return -1;
	for (k = 0; k < keep; k++) {
		v[k] = old->lines[k];
		v[k].text = data + (old->lines[k].text - old->data);
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		v[k].text = p;
		v[k].len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		v[k].commit = commit;
		k++;
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = k;
	return 0;
}

static int
same(const struct hl_linetrack_line *a, const struct hl_linetrack_line *b)
{
	return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static uint64_t
hash(const struct hl_linetrack_line *l)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->text[i]) * 1099511628211ULL;
	return h;
}

/*
 * Gives the new middle lines nw[0..nn) the commits of equal old middle
 * lines od[0..no) (each old line once, the first unused in file order);
 * the rest are added by commit.  Marks the old lines used in used[].
 */
static int
match(struct hl_linetrack_line *nw, size_t nn, unsigned char *added,
    const struct hl_linetrack_line *od, size_t no, unsigned char *used,
    size_t commit)
{
	size_t cap = 16, i, j, *head, *next;

	while (cap < 2 * no)
		cap *= 2;
	if ((head = malloc(cap * sizeof(*head))) == NULL ||
	    (next = malloc((no + 1) * sizeof(*next))) == NULL) {
		free(head);
		return -1;
	}
	for (i = 0; i < cap; i++)
		head[i] = SIZE_MAX;
	/* Chains in file order: insert from the end. */
	for (j = no; j-- > 0;) {
		size_t h = (size_t)(hash(&od[j]) & (cap - 1));

		next[j] = head[h];
		head[h] = j;
	}
	for (i = 0; i < nn; i++) {
		size_t h = (size_t)(hash(&nw[i]) & (cap - 1));

		for (j = head[h]; j != SIZE_MAX; j = next[j])
			if (!used[j] && same(&od[j], &nw[i]))
				break;
		if (j == SIZE_MAX) {
			nw[i].commit = commit;
			added[i] = 1;
		} else {
			nw[i].commit = od[j].commit;
			used[j] = 1;
		}
	}
	free(head);
	free(next);
	return 0;
}

int
hl_linetrack_advance(struct hl_linetrack *t, char *data, size_t len,
    size_t commit, struct hl_linetrack_step *step)
{
	struct hl_linetrack_line *nw = NULL, *od = t->lines, *rm = NULL;
	unsigned char *add = NULL, *used = NULL;
	size_t nn, no = t->nlines, pre = 0, suf = 0, i, k;

	memset(step, 0, sizeof(*step));
	if (split(&nw, &nn, data, len, commit, t) != 0 ||
	    (add = calloc(nn + 1, 1)) == NULL ||
	    (used = calloc(no + 1, 1)) == NULL ||
	    (rm = calloc(no + 1, sizeof(*rm))) == NULL)
		goto nomem;
	while (pre < nn && pre < no && same(&nw[pre], &od[pre])) {
		nw[pre].commit = od[pre].commit;
		pre++;
	}
	while (suf < nn - pre && suf < no - pre &&
	    same(&nw[nn - 1 - suf], &od[no - 1 - suf])) {
		nw[nn - 1 - suf].commit = od[no - 1 - suf].commit;
		suf++;
	}
	/* Nothing to match when no new line lies between the common ends;
	 * with no old lines, od is NULL. */
	if (pre + suf < nn && match(nw + pre, nn - pre - suf, add + pre,
	    no > 0 ? od + pre : od, no - pre - suf, used + pre, commit) != 0)
		goto nomem;
	for (i = pre, k = 0; i < no - suf; i++)
		if (!used[i])
			rm[k++] = od[i];
	free(used);
	step->added = add;
	step->removed = rm;
	step->nremoved = k;
	step->old_data = t->data;
	step->old_lines = t->lines;
	t->data = data;
	t->len = len;
	t->lines = nw;
	t->nlines = nn;
	return 0;
nomem:
	free(nw);
	free(add);
	free(used);
	free(rm);
	free(data);
	return -1;
}

void
hl_linetrack_step_free(struct hl_linetrack_step *step)
{
	free(step->added);
	free(step->removed);
	free(step->old_data);
	free(step->old_lines);
	memset(step, 0, sizeof(*step));
}

void
hl_linetrack_free(struct hl_linetrack *t)
{
	free(t->data);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}
