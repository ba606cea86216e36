/*
 * gitarchive: past versions read back from a git pages branch (see
 * gitarchive.h).  A local repository is read in place; a remote one is
 * fetched into pub_git's cache first, which is then read like a local one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitarchive.h"
#include "pub_git.h"

#define MAX_BLOB	(256u << 20)

struct where {
	git_repository	*repo;
	git_oid		 tip;
};

static int
tip_of(git_oid *tip, git_repository *repo, const char *branch,
    struct hl_err *err)
{
	char name[HL_GIT_MAX_BRANCH + 32];

	(void)snprintf(name, sizeof(name), "refs/heads/%s", branch);
	if (git_reference_name_to_id(tip, repo, name) == 0)
		return 0;
	(void)snprintf(name, sizeof(name), "refs/remotes/origin/%s", branch);
	if (git_reference_name_to_id(tip, repo, name) == 0)
		return 0;
	return hl_err_set(err, HL_ENOTFOUND, "git archive: no branch %s",
	    branch);
}

static int
open_where(struct where *w, const char *repo, const char *branch,
    struct hl_err *err)
{
	struct hl_pub_git__url u;
	struct hl_pub_git__cred c;
	int rc, have;

	memset(w, 0, sizeof(*w));
	memset(&c, 0, sizeof(c));
	if ((rc = hl_pub_git__init(err)) < 0)
		return rc;
	if (strstr(repo, "://") == NULL) {
		if (branch == NULL || *branch == '\0')
			branch = HL_GIT_DEFAULT_BRANCH;
		if ((rc = git_repository_open_ext(&w->repo, repo,
		    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) < 0)
			return hl_pub_git__error(err, rc, NULL, repo);
		return tip_of(&w->tip, w->repo, branch, err);
	}
	if ((rc = hl_pub_git__parse_url(&u, repo, err)) < 0)
		return rc;
	if (branch != NULL && *branch != '\0') {
		if (strlen(branch) >= sizeof(u.branch))
			return hl_err_set(err, HL_EINVAL, "branch name too "
			    "long");
		(void)strcpy(u.branch, branch);
	}
	if (u.local) {
		if ((rc = git_repository_open_ext(&w->repo,
		    u.remote + strlen("file://"),
		    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) < 0)
			return hl_pub_git__error(err, rc, NULL, u.remote);
		return tip_of(&w->tip, w->repo, u.branch, err);
	}
	if ((rc = hl_pub_git__cred_load(&c, err)) < 0 ||
	    (rc = hl_pub_git__cache_open(&w->repo, u.remote, err)) < 0 ||
	    (rc = hl_pub_git__fetch(&w->tip, &have, w->repo, &u, &c,
	    err)) < 0)
		goto out;
	if (!have)
		rc = hl_err_set(err, HL_ENOTFOUND, "git archive: %s has no "
		    "branch %s", u.remote, u.branch);
out:
	hl_pub_git__cred_wipe(&c);
	return rc;
}

static void
fill(struct hl_gitarchive_rev *r, const git_commit *c)
{
	const char *s = git_commit_summary((git_commit *)c);

	r->version = hl_pub_git__msg_version(git_commit_message(c));
	r->time = git_commit_time(c);
	git_oid_tostr(r->commit, sizeof(r->commit), git_commit_id(c));
	(void)snprintf(r->summary, sizeof(r->summary), "%s",
	    s != NULL ? s : "");
}

/*
 * Walks first parents from w->tip.  With max == 0 stops at the first
 * commit matching the bounds and gives it in *found; otherwise collects up
 * to max commits into *all.
 */
static int
walk(git_commit **found, struct hl_gitarchive_rev **all, size_t *n,
    size_t max, struct where *w, int64_t at_version, int64_t at_time,
    struct hl_err *err)
{
	git_revwalk *rw = NULL;
	git_commit *c = NULL;
	struct hl_gitarchive_rev *v = NULL, *nv;
	size_t cap = 0;
	git_oid id;
	int64_t ver;
	int rc;

	if ((rc = git_revwalk_new(&rw, w->repo)) < 0 ||
	    (rc = git_revwalk_push(rw, &w->tip)) < 0 ||
	    (rc = git_revwalk_simplify_first_parent(rw)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git archive");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, rw)) == 0) {
		if ((rc = git_commit_lookup(&c, w->repo, &id)) < 0)
			break;
		if (all != NULL) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nv = realloc(v, cap * sizeof(*v))) ==
				    NULL) {
					rc = hl_err_set(err, HL_ENOMEM,
					    "out of memory");
					goto out;
				}
				v = nv;
			}
			fill(&v[(*n)++], c);
			git_commit_free(c);
			c = NULL;
			if (max != 0 && *n == max)
				break;
			continue;
		}
		ver = hl_pub_git__msg_version(git_commit_message(c));
		if ((at_version <= 0 || (ver >= 0 && ver <= at_version)) &&
		    (at_time <= 0 || git_commit_time(c) <= at_time)) {
			*found = c;
			c = NULL;
			rc = 0;
			goto out;
		}
		git_commit_free(c);
		c = NULL;
	}
	if (rc < 0 && rc != GIT_ITEROVER) {
		rc = hl_pub_git__error(err, rc, NULL, "git archive");
		goto out;
	}
	if (all != NULL) {
		*all = v;
		v = NULL;
		rc = 0;
	} else
		rc = hl_err_set(err, HL_ENOTFOUND, "git archive: no version "
		    "at or before the one asked for");
out:
	free(v);
	git_commit_free(c);
	git_revwalk_free(rw);
	return rc;
}

int
hl_gitarchive_find(struct hl_gitarchive_rev *out, const char *repo,
    const char *branch, int64_t at_version, int64_t at_time,
    struct hl_err *err)
{
	struct where w;
	git_commit *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = open_where(&w, repo, branch, err)) < 0 ||
	    (rc = walk(&c, NULL, NULL, 0, &w, at_version, at_time, err)) < 0)
		goto out;
	fill(out, c);
out:
	git_commit_free(c);
	git_repository_free(w.repo);
	return rc;
}

int
hl_gitarchive_read(unsigned char **data, size_t *len, const char *repo,
    const char *branch, const char *path, int64_t at_version,
    int64_t at_time, struct hl_err *err)
{
	struct where w;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	char id[GIT_OID_HEXSZ + 1];
	size_t n;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = open_where(&w, repo, branch, err)) < 0 ||
	    (rc = walk(&c, NULL, NULL, 0, &w, at_version, at_time, err)) < 0)
		goto out;
	if ((rc = git_commit_tree(&tree, c)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git archive");
		goto out;
	}
	git_oid_tostr(id, sizeof(id), git_commit_id(c));
	if (git_tree_entry_bypath(&e, tree, path) < 0 ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = hl_err_set(err, HL_ENOTFOUND, "git archive: no file %s "
		    "in commit %.12s", path, id);
		goto out;
	}
	if ((rc = git_blob_lookup(&blob, w.repo, git_tree_entry_id(e))) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, path);
		goto out;
	}
	n = (size_t)git_blob_rawsize(blob);
	if (n > MAX_BLOB) {
		rc = hl_err_set(err, HL_ETOOBIG, "git archive: %s is %zu bytes",
		    path, n);
		goto out;
	}
	if ((*data = malloc(n + 1)) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*data, git_blob_rawcontent(blob), n);
	(*data)[n] = '\0';
	*len = n;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(w.repo);
	return rc;
}

int
hl_gitarchive_versions(struct hl_gitarchive_rev **out, size_t *n,
    const char *repo, const char *branch, size_t max, struct hl_err *err)
{
	struct where w;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = open_where(&w, repo, branch, err)) == 0)
		rc = walk(NULL, out, n, max, &w, 0, 0, err);
	git_repository_free(w.repo);
	return rc;
}
