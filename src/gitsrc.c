/*
 * gitsrc: reads SmokeDetector's repository through libgit2 (gitsrc.h).
 *
 * Per tracked path the walk keeps the current file's bytes, its lines, and
 * for each line the index of the commit that introduced it.  When a commit
 * changes the path, the new file is split into lines and compared with the
 * old one:
 *
 *   old:  a b c d e          prefix: lines equal from the start (a b)
 *   new:  a b X d e Y        suffix: lines equal from the end, not
 *                            overlapping the prefix (none here: e != Y)
 *
 * The middles (c d e / X d e Y) are matched as multisets through a hash
 * table: d and e keep their commits, X and Y are added by this commit, c
 * is removed.  That is what `git blame --first-parent` answers for the
 * usual edits (appends, deletions, in-place edits); a line moved within
 * the middle keeps its commit too, where blame would give it to the move.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitsrc.h"

struct track {
	char			*path;
	git_oid			 oid;
	int			 have;
	char			*data;
	size_t			 len;
	struct hl_gitsrc_line	*lines;
	size_t			 nlines;
};

struct hl_gitsrc {
	git_repository		*repo;
	struct hl_gitsrc_commit	*commits;
	size_t			 ncommits, ccap;
	struct track		*tr;
	size_t			 ntr;
};

static int
giterr(struct hl_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return hl_err_set(err, code, "%s: %s", what,
	    e && e->message ? e->message : "libgit2 error");
}

int
hl_gitsrc_open(struct hl_gitsrc **out, const char *path, struct hl_err *err)
{
	struct hl_gitsrc *g;

	*out = NULL;
	git_libgit2_init();
	/*
	 * A walk reads every version of every list file: don't hash each
	 * object again on reading (git verifies packs when it receives
	 * them), and keep recent delta bases, as consecutive versions of a
	 * file are deltas of each other.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)512 << 20);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if (git_repository_open_ext(&g->repo, path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		free(g);
		git_libgit2_shutdown();
		return giterr(err, HL_ENOTFOUND, path);
	}
	*out = g;
	return 0;
}

static void
tracks_free(struct hl_gitsrc *g)
{
	size_t i;

	for (i = 0; i < g->ntr; i++) {
		free(g->tr[i].path);
		free(g->tr[i].data);
		free(g->tr[i].lines);
	}
	free(g->tr);
	g->tr = NULL;
	g->ntr = 0;
}

static void
commits_free(struct hl_gitsrc *g)
{
	size_t i;

	for (i = 0; i < g->ncommits; i++) {
		free(g->commits[i].author);
		free(g->commits[i].subject);
	}
	free(g->commits);
	g->commits = NULL;
	g->ncommits = g->ccap = 0;
}

void
hl_gitsrc_close(struct hl_gitsrc *g)
{
	if (g == NULL)
		return;
	tracks_free(g);
	commits_free(g);
	git_repository_free(g->repo);
	free(g);
	git_libgit2_shutdown();
}

int
hl_gitsrc_resolve(char out[41], struct hl_gitsrc *g, const char *rev,
    struct hl_err *err)
{
	git_object *o = NULL;
	git_commit *c = NULL;
	int rc = 0;

	if (git_revparse_single(&o, g->repo, rev ? rev : "HEAD") != 0)
		return giterr(err, HL_ENOTFOUND, rev ? rev : "HEAD");
	if (git_object_peel((git_object **)&c, o, GIT_OBJECT_COMMIT) != 0)
		rc = giterr(err, HL_ENOTFOUND, rev ? rev : "HEAD");
	else
		git_oid_tostr(out, 41, git_commit_id(c));
	git_commit_free(c);
	git_object_free(o);
	return rc;
}

const struct hl_gitsrc_commit *
hl_gitsrc_commit_at(const struct hl_gitsrc *g, size_t ci)
{
	return ci < g->ncommits ? &g->commits[ci] : NULL;
}

const struct hl_gitsrc_line *
hl_gitsrc_lines(size_t *n, const struct hl_gitsrc *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->ntr; i++)
		if (strcmp(g->tr[i].path, path) == 0) {
			*n = g->tr[i].nlines;
			return g->tr[i].lines;
		}
	*n = 0;
	return NULL;
}

const char *
hl_gitsrc_file(size_t *len, const struct hl_gitsrc *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->ntr; i++)
		if (strcmp(g->tr[i].path, path) == 0 && g->tr[i].have) {
			*len = g->tr[i].len;
			return g->tr[i].data;
		}
	*len = 0;
	return NULL;
}

/*
 * Splits data into lines (a last line without '\n' counts), attributed to
 * commit.  The first nold lines of old (from the buffer old_data) that lie
 * wholly inside the bytes data shares with old_data are taken over as they
 * are, moved to data, keeping their commits: a commit that appends to a
 * large file costs a comparison of the two buffers, not a new split.
 */
static int
split(struct hl_gitsrc_line **out, size_t *n, const char *data, size_t len,
    size_t commit, const struct hl_gitsrc_line *old, size_t nold,
    const char *old_data, size_t old_len)
{
	struct hl_gitsrc_line *v;
	const char *p = data, *end = data + len, *nl;
	size_t k = 0, cap, same = 0, keep = 0, lo, hi;

	/* The bytes both buffers share, compared a block at a time. */
	if (old != NULL) {
		size_t lim = len < old_len ? len : old_len;

		while (same + 4096 <= lim &&
		    memcmp(data + same, old_data + same, 4096) == 0)
			same += 4096;
		while (same < lim && data[same] == old_data[same])
			same++;
		/* Old lines ending (with their '\n') inside them. */
		lo = 0;
		hi = nold;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			size_t endoff = (size_t)(old[mid].text - old_data) +
			    old[mid].len + 1;

			if (endoff <= same)
				lo = mid + 1;
			else
				hi = mid;
		}
		keep = lo;
	}
	cap = keep + 1;
	for (nl = data + (keep ? (size_t)(old[keep - 1].text - old_data) +
	    old[keep - 1].len + 1 : 0); nl < end &&
	    (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL; nl++)
		cap++;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return -1;
	for (k = 0; k < keep; k++) {
		v[k] = old[k];
		v[k].text = data + (old[k].text - old_data);
	}
	if (keep > 0)
		p = v[keep - 1].text + v[keep - 1].len + 1;
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
same(const struct hl_gitsrc_line *a, const struct hl_gitsrc_line *b)
{
	return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static uint64_t
hash(const struct hl_gitsrc_line *l)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->text[i]) * 1099511628211ULL;
	return h;
}

/*
 * Gives the new middle lines nw[0..nn) the commits of equal old middle
 * lines od[0..no) (each old line once); the rest are added by ci.  Marks
 * the old lines used in used[].
 */
static int
match(struct hl_gitsrc_line *nw, size_t nn, unsigned char *added,
    const struct hl_gitsrc_line *od, size_t no, unsigned char *used,
    size_t ci)
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
			nw[i].commit = ci;
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

/*
 * Moves track t to its new bytes (data, owned from now on), filling ch.
 * The old bytes and lines are handed back through old_* for the caller to
 * free after the callback (ch->removed points into them).
 */
static int
advance(struct track *t, char *data, size_t len, size_t ci,
    struct hl_gitsrc_change *ch, unsigned char **added,
    struct hl_gitsrc_line **removed, char **old_data,
    struct hl_gitsrc_line **old_lines, struct hl_err *err)
{
	struct hl_gitsrc_line *nw = NULL, *od = t->lines, *rm = NULL;
	unsigned char *add = NULL, *used = NULL;
	size_t nn, no = t->nlines, pre = 0, suf = 0, i, k;

	if (split(&nw, &nn, data, len, ci, od, no, t->data, t->len) != 0 ||
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
	/* No new lines between the common ends: nothing to match (and nw
	 * may be NULL); no old lines: od may be NULL. */
	if (pre + suf < nn && match(nw + pre, nn - pre - suf, add + pre,
	    no > 0 ? od + pre : od, no - pre - suf, used + pre, ci) != 0)
		goto nomem;
	for (i = pre, k = 0; i < no - suf; i++)
		if (!used[i])
			rm[k++] = od[i];
	free(used);
	ch->old_data = t->data ? t->data : "";
	ch->old_len = t->len;
	*old_data = t->data;
	*old_lines = t->lines;
	t->data = data;
	t->len = len;
	t->lines = nw;
	t->nlines = nn;
	ch->path = t->path;
	ch->data = data;
	ch->len = len;
	ch->lines = nw;
	ch->nlines = nn;
	ch->added = add;
	ch->removed = rm;
	ch->nremoved = k;
	*added = add;
	*removed = rm;
	return 0;
nomem:
	free(nw);
	free(add);
	free(used);
	free(rm);
	free(data);
	return hl_err_set(err, HL_ENOMEM, "out of memory");
}

static int
commit_add(struct hl_gitsrc *g, git_commit *c, struct hl_err *err)
{
	const git_signature *a = git_commit_author(c);
	const char *s = git_commit_summary(c);
	struct hl_gitsrc_commit *v;

	if (g->ncommits == g->ccap) {
		size_t cap = g->ccap ? 2 * g->ccap : 256;

		if ((v = realloc(g->commits, cap * sizeof(*v))) == NULL)
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		g->commits = v;
		g->ccap = cap;
	}
	v = &g->commits[g->ncommits];
	memset(v, 0, sizeof(*v));
	git_oid_tostr(v->id, sizeof(v->id), git_commit_id(c));
	v->time = a ? (int64_t)a->when.time : 0;
	v->author = strdup(a && a->name ? a->name : "");
	v->subject = strdup(s ? s : "");
	if (v->author == NULL || v->subject == NULL) {
		free(v->author);
		free(v->subject);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	g->ncommits++;
	return 0;
}

/* Reads blob id into a malloc'ed buffer. */
static int
blob_read(char **out, size_t *len, git_repository *repo, const git_oid *id,
    struct hl_err *err)
{
	git_blob *b = NULL;
	size_t n;

	if (git_blob_lookup(&b, repo, id) != 0)
		return giterr(err, HL_EIO, "blob");
	n = (size_t)git_blob_rawsize(b);
	if ((*out = malloc(n + 1)) == NULL) {
		git_blob_free(b);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	memcpy(*out, git_blob_rawcontent(b), n);
	(*out)[n] = '\0';
	*len = n;
	git_blob_free(b);
	return 0;
}

int
hl_gitsrc_read(char **data, size_t *len, struct hl_gitsrc *g, const char *id,
    const char *path, struct hl_err *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_oid oid;
	int rc;

	*data = NULL;
	*len = 0;
	if (git_oid_fromstr(&oid, id) != 0 ||
	    git_commit_lookup(&c, g->repo, &oid) != 0 ||
	    git_commit_tree(&tree, c) != 0) {
		rc = giterr(err, HL_ENOTFOUND, id);
		goto out;
	}
	if (git_tree_entry_bypath(&e, tree, path) != 0 ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = hl_err_set(err, HL_ENOTFOUND, "%s: not in %.12s", path,
		    id);
		goto out;
	}
	rc = blob_read(data, len, g->repo, git_tree_entry_id(e), err);
out:
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* The changes commit c makes to the tracked paths, through the callback. */
static int
visit(struct hl_gitsrc *g, git_commit *c, hl_gitsrc_cb cb, void *payload,
    struct hl_err *err)
{
	struct hl_gitsrc_change ch[64];
	unsigned char *added[64];
	struct hl_gitsrc_line *removed[64], *old_lines[64];
	char *old_data[64];
	git_tree *tree = NULL;
	git_tree_entry *e;
	size_t nch = 0, i, ci = g->ncommits;
	int rc = 0, counted = 0;

	if (git_commit_tree(&tree, c) != 0)
		return giterr(err, HL_EIO, "tree");
	for (i = 0; i < g->ntr && rc == 0; i++) {
		struct track *t = &g->tr[i];
		git_oid id;
		int has = 0;
		char *data = NULL;
		size_t len = 0;

		e = NULL;
		if (git_tree_entry_bypath(&e, tree, t->path) == 0 &&
		    git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			git_oid_cpy(&id, git_tree_entry_id(e));
			has = 1;
		}
		git_tree_entry_free(e);
		if (has == t->have && (!has || git_oid_equal(&id, &t->oid)))
			continue;
		if (!counted && (rc = commit_add(g, c, err)) != 0)
			break;
		counted = 1;
		if (has && (rc = blob_read(&data, &len, g->repo, &id,
		    err)) != 0)
			break;
		if (!has && (data = calloc(1, 1)) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
		memset(&ch[nch], 0, sizeof(ch[nch]));
		ch[nch].existed = t->have;
		ch[nch].exists = has;
		if ((rc = advance(t, data, len, ci, &ch[nch], &added[nch],
		    &removed[nch], &old_data[nch], &old_lines[nch], err)) != 0)
			break;
		t->have = has;
		if (has)
			git_oid_cpy(&t->oid, &id);
		nch++;
	}
	if (rc == 0 && nch > 0)
		rc = cb(&g->commits[ci], ci, ch, nch, payload);
	for (i = 0; i < nch; i++) {
		free(added[i]);
		free(removed[i]);
		free(old_data[i]);
		free(old_lines[i]);
	}
	git_tree_free(tree);
	return rc;
}

/* The tracked files as they are at commit id, from before the walk. */
static int
start_at(struct hl_gitsrc *g, const git_oid *id, struct hl_err *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e;
	size_t i;
	int rc = 0;

	if (git_commit_lookup(&c, g->repo, id) != 0 ||
	    git_commit_tree(&tree, c) != 0) {
		git_commit_free(c);
		return giterr(err, HL_ENOTFOUND, "commit");
	}
	for (i = 0; i < g->ntr && rc == 0; i++) {
		struct track *t = &g->tr[i];

		if (git_tree_entry_bypath(&e, tree, t->path) != 0)
			continue;
		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			git_oid_cpy(&t->oid, git_tree_entry_id(e));
			t->have = 1;
			if ((rc = blob_read(&t->data, &t->len, g->repo,
			    &t->oid, err)) == 0 && split(&t->lines,
			    &t->nlines, t->data, t->len,
			    HL_GITSRC_BEFORE, NULL, 0, NULL, 0) != 0)
				rc = hl_err_set(err, HL_ENOMEM,
				    "out of memory");
		}
		git_tree_entry_free(e);
	}
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int
hl_gitsrc_walk(struct hl_gitsrc *g, const char *since, const char *rev,
    const char *const *paths, size_t n, hl_gitsrc_cb cb, void *payload,
    struct hl_err *err)
{
	git_revwalk *w = NULL;
	git_commit *c;
	git_oid id;
	char hex[41];
	size_t i;
	int rc;

	if (n > 64)
		return hl_err_set(err, HL_EINVAL, "at most 64 paths");
	tracks_free(g);
	commits_free(g);
	if ((g->tr = calloc(n ? n : 1, sizeof(*g->tr))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++, g->ntr++)
		if ((g->tr[i].path = strdup(paths[i])) == NULL)
			return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((rc = hl_gitsrc_resolve(hex, g, rev, err)) != 0)
		return rc;
	if (git_revwalk_new(&w, g->repo) != 0)
		return giterr(err, HL_EIO, "revwalk");
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	git_revwalk_simplify_first_parent(w);
	git_oid_fromstr(&id, hex);
	if (git_revwalk_push(w, &id) != 0) {
		rc = giterr(err, HL_EIO, "revwalk");
		goto out;
	}
	if (since != NULL) {
		if (git_oid_fromstr(&id, since) != 0 ||
		    git_revwalk_hide(w, &id) != 0) {
			rc = giterr(err, HL_ENOTFOUND, since);
			goto out;
		}
		if ((rc = start_at(g, &id, err)) != 0)
			goto out;
	}
	while (rc == 0 && git_revwalk_next(&id, w) == 0) {
		if (git_commit_lookup(&c, g->repo, &id) != 0) {
			rc = giterr(err, HL_EIO, "commit");
			break;
		}
		rc = visit(g, c, cb, payload, err);
		git_commit_free(c);
	}
out:
	git_revwalk_free(w);
	return rc;
}
