/*
 * gitsrc: reads SmokeDetector's repository through libgit2 (gitsrc.h).
 *
 * Per tracked path the walk keeps the current file's bytes and its lines,
 * each with the index of the commit that introduced it (linetrack.h says
 * how one version's lines are matched with the next).
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitsrc.h"
#include "linetrack.h"

struct track {
	char			*path;
	git_oid			 oid;
	int			 have;
	struct hl_linetrack	 lt;
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
		hl_linetrack_free(&g->tr[i].lt);
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

const struct hl_linetrack_line *
hl_gitsrc_lines(size_t *n, const struct hl_gitsrc *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->ntr; i++)
		if (strcmp(g->tr[i].path, path) == 0) {
			*n = g->tr[i].lt.nlines;
			return g->tr[i].lt.lines;
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
			*len = g->tr[i].lt.len;
			return g->tr[i].lt.data;
		}
	*len = 0;
	return NULL;
}

/*
 * Moves track t to its new bytes (data, owned from now on), filling ch.
 * What is kept of the old version (ch->removed points into it) is in
 * step, for the caller to free after the callback.
 */
static int
advance(struct track *t, char *data, size_t len, size_t ci,
    struct hl_gitsrc_change *ch, struct hl_linetrack_step *step,
    struct hl_err *err)
{
	size_t old_len = t->lt.len;

	if (hl_linetrack_advance(&t->lt, data, len, ci, step) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	ch->path = t->path;
	ch->old_data = step->old_data ? step->old_data : "";
	ch->old_len = old_len;
	ch->data = t->lt.data;
	ch->len = t->lt.len;
	ch->lines = t->lt.lines;
	ch->nlines = t->lt.nlines;
	ch->added = step->added;
	ch->removed = step->removed;
	ch->nremoved = step->nremoved;
	return 0;
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
	struct hl_linetrack_step step[64];
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
		if ((rc = advance(t, data, len, ci, &ch[nch], &step[nch],
		    err)) != 0)
			break;
		t->have = has;
		if (has)
			git_oid_cpy(&t->oid, &id);
		nch++;
	}
	if (rc == 0 && nch > 0)
		rc = cb(&g->commits[ci], ci, ch, nch, payload);
	for (i = 0; i < nch; i++)
		hl_linetrack_step_free(&step[i]);
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
			struct hl_linetrack_step step;
			char *data;
			size_t len;

			git_oid_cpy(&t->oid, git_tree_entry_id(e));
			t->have = 1;
			if ((rc = blob_read(&data, &len, g->repo, &t->oid,
			    err)) == 0 && hl_linetrack_advance(&t->lt, data,
			    len, HL_GITSRC_BEFORE, &step) != 0)
				rc = hl_err_set(err, HL_ENOMEM,
				    "out of memory");
			if (rc == 0)
				hl_linetrack_step_free(&step);
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
