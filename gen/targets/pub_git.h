/*
 * pub_git: the git pages target (hl_pub_git_ops in target.h) and the
 * plumbing it shares with gitarchive.c.
 *
 * A target URL names a remote repository, options and a branch:
 *
 *   git+file:///srv/pages.git#gh-pages
 *   git+https://github.com/owner/repo.git?tag=1#gh-pages
 *   git+http://127.0.0.1:8080/pages.git          (branch gh-pages)
 *   git+ssh://git@github.com/owner/repo.git?force=1#pages
 *
 * The "git+" prefix, the query and the fragment are removed to give the
 * URL handed to libgit2.  Options: tag=1 adds a lightweight tag v<version>
 * per publish; force=1 lets the target publish over commits it did not
 * write (it still commits on top of them, and pushes with "+", so a race
 * with another writer is won rather than reported).
 *
 * objects=0 leaves out of the branch each file under objects/ whose bytes
 * another file of the tree has under its own name (lists/<id>.json,
 * manifest.json, ...): git addresses content already, and they are the
 * same blobs, so they cost only tree entries.  objects/ files that are no
 * such copy stay.  The default (objects=1) keeps them: `helios verify`
 * checks every object copy the manifest names, `helios verify --chain`
 * walks earlier manifests through objects/<sha256>, and `helios pull`
 * asks for the object copy first (one 404 more per file without it).
 *
 * layout=smokedetector publishes into SmokeDetector's own repository
 * instead of a pages branch, for the weeks when instances still `git pull`
 * their lists: each commit is the branch's tip with only the eleven list
 * files replaced, at the top of the tree under SmokeDetector's names
 * (bad_keywords.txt, ..., watched_asns.yml; sdfiles.h) where the tip
 * has them, and the rest of the repository (its code) as the tip has it.  Other people commit to
 * that branch too, so the branch is not Helios's alone: a publish builds on
 * whatever the tip is and pushes without "+"; a push that loses a race is
 * retried on the new tip.  A version that leaves the list files as they
 * are makes no commit, so right after an import from the same revision
 * the first publish changes nothing.  The branch must exist.
 *
 *   git+https://github.com/Charcoal-SE/SmokeDetector.git?layout=smokedetector#master
 *
 * Credentials in the URL
 * (user:password@) are refused: they would end up in logs.
 *
 * Credentials come from the environment, read once when the target opens:
 *
 *   HELIOS_GIT_USERNAME, HELIOS_GIT_PASSWORD   basic auth over http(s)
 *   HELIOS_GIT_TOKEN       a token, sent as the password of the user
 *                          "x-access-token" (as GitHub takes it)
 *   HELIOS_GIT_CREDENTIALS a file of "username=", "password=", "token="
 *                          lines; it must belong to the user and be
 *                          readable by no one else (0600), else HL_EAUTH
 *   HELIOS_GIT_SSH_KEY     a private key file for ssh (the public key is
 *                          KEY.pub when present); without it the ssh agent
 *   HELIOS_GIT_SSH_PASSPHRASE  its passphrase, if any
 *
 * Over https the server's certificate is checked against the system's
 * CAs, or those of the PEM file SSL_CERT_FILE names (read once, when the
 * first git target opens).  HELIOS_GIT_TIMEOUT_MS bounds each connect
 * and each stall of a connection (gitstream.h; 120 s by default).
 *
 * and the author of the commits from HELIOS_GIT_AUTHOR_NAME and
 * HELIOS_GIT_AUTHOR_EMAIL (default "Helios" <helios@localhost>).
 *
 * A file:// target is written in place: blobs, trees and the commit go
 * straight into that (bare) repository, created if missing, and the
 * branch moves by compare-and-swap.  No cache, no push: a local push would
 * deflate every new object into a pack and inflate it again to index it.
 Its loose objects are packed as the cache's are (below).
 *
 * Every other remote is mirrored in a local bare repository, the cache:
 * $HELIOS_GIT_CACHE/<h>.git, or ${TMPDIR:-/tmp}/helios-git-cache/<h>.git,
 * where <h> is the first 16 hex digits of the SHA-256 of the libgit2 URL
 * (the daemon passes its var/git-cache).  Commits are built there and
 * pushed.  Targets of one URL share its cache: one process at a time
 * should publish to a URL.  The cache holds these refs:
 *
 *   refs/remotes/origin/BRANCH   the remote tip seen last
 *   refs/heads/BRANCH            the last commit made (pushed or not)
 *   refs/helios/pushed/BRANCH    the last commit this cache pushed
 *
 * One connection per publish in the usual case: the refs the remote
 * advertises for the push tell where its branch is; only when that tip is
 * a commit the cache lacks is it fetched first.
 *
 * libgit2 writes each new object loose; after a push, when the cache's
 * loose objects take HL_GITCACHE_LOOSE_MAX bytes (looked at every 16
 * publishes), they are moved into one pack with deltas (gitcache.h), so
 * the cache grows about as the remote does after `git gc`.
 *
 * Each commit message is the tree's summary line, a blank line and the
 * trailer "Helios-Version: N", which gitarchive.c reads back.
 */
#ifndef HL_PUB_GIT_H
#define HL_PUB_GIT_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "buf.h"
#include "err.h"
#include "tree.h"

#define HL_GIT_DEFAULT_BRANCH	"gh-pages"
#define HL_GIT_TRAILER		"Helios-Version: "
#define HL_GIT_MAX_URL		2048
#define HL_GIT_MAX_BRANCH	256

struct hl_pub_git;

/*
 * Opens the target named by url (see above).  Reads the credentials and
 * author from the environment and opens or creates the cache (or the local
 * repository); it does not contact the remote.  HL_EINVAL for a malformed
 * URL or a file:// path that is not a bare repository, HL_EAUTH for an
 * unsafe credentials file, HL_EIO when the cache cannot be made.
 * On success *out is owned by the caller; free with hl_pub_git_close().
 */
int	hl_pub_git_open(struct hl_pub_git **out, const char *url,
	    struct hl_err *err);

/*
 * Looks up the branch, commits tree on top of it unless the branch
 * already holds that tree, and pushes.  HL_ECONFLICT when the branch was
 * moved by someone else (and force is off) or the push is rejected;
 * HL_EAUTH when the remote refuses the credentials (or forbids the push);
 * HL_EIO for network and server failures.  On HL_EIO and HL_EAUTH the
 * version is still committed in the cache on top of the last one, and the
 * next call that reaches the remote pushes them all: the history misses no
 * version that was handed over.  HL_EINVAL for a tree with a bad path
 * (absolute, "..", ".git", a file that is also a directory).
 */
int	hl_pub_git_publish(struct hl_pub_git *g, const struct hl_tree *tree,
	    struct hl_err *err);

/*
 * Appends the manifest.json at the branch's tip to out (the remote's, once
 * fetched, or this cache's unpushed commits on top of it, which the next
 * publish builds on).  HL_ENOTFOUND when there is no branch or no
 * manifest.json on it, HL_ETOOBIG over HL_TARGET_MAX_MANIFEST bytes;
 * HL_EIO and HL_EAUTH as for a fetch.
 */
int	hl_pub_git_manifest(struct hl_buf *out, struct hl_pub_git *g,
	    struct hl_err *err);

/*
 * The hex id of the last commit pushed by this target (or "" before the
 * first), and the libgit2 URL without options.  Borrowed from g.
 */
const char	*hl_pub_git_head(const struct hl_pub_git *g);
const char	*hl_pub_git_remote(const struct hl_pub_git *g);

/*
 * The directory that holds the caches (see above): $HELIOS_GIT_CACHE, or
 * ${TMPDIR:-/tmp}/helios-git-cache, written to out (cap bytes).  It is
 * not made here.  HL_EINVAL when it does not fit.
 */
int	hl_pub_git_cache_dir(char *out, size_t cap, struct hl_err *err);

/* Wipes the credentials and frees g.  g may be NULL. */
void	hl_pub_git_close(struct hl_pub_git *g);

/*
 * Module-private: shared by pub_git.c and gitarchive.c only.
 */
struct hl_pub_git__url {
	char	remote[HL_GIT_MAX_URL];		/* as libgit2 takes it */
	char	branch[HL_GIT_MAX_BRANCH];
	int	tag;
	int	force;
	int	sd;		/* layout=smokedetector */
	int	objects;	/* objects=0: leave out objects/ copies */
	int	local;		/* file:// */
};

struct hl_pub_git__cred {
	char	username[256];
	char	password[1024];
	char	ssh_key[1024];
	char	ssh_passphrase[256];
	int	have_userpass;
	int	calls;		/* credential callbacks this operation */
	int	refused;	/* a second request: the server said no */
	int	missing;	/* asked, but nothing to give */
};

/* libgit2 initialised once per process. */
int	hl_pub_git__init(struct hl_err *err);
/* Parses a target URL; "git+" may be absent. */
int	hl_pub_git__parse_url(struct hl_pub_git__url *u, const char *url,
	    struct hl_err *err);
int	hl_pub_git__cred_load(struct hl_pub_git__cred *c, struct hl_err *err);
void	hl_pub_git__cred_wipe(struct hl_pub_git__cred *c);
/* Opens (or creates) the bare cache repository of remote. */
int	hl_pub_git__cache_open(git_repository **out, const char *remote,
	    struct hl_err *err);
/*
 * Fetches branch from remote into repo (refs/remotes/origin/BRANCH),
 * downloading only when repo lacks the tip.
 * *have is 0 when the remote has no such branch (then the remote ref is
 * deleted from the cache); otherwise tip is its commit.
 */
int	hl_pub_git__fetch(git_oid *tip, int *have, git_repository *repo,
	    const struct hl_pub_git__url *u, struct hl_pub_git__cred *c,
	    struct hl_err *err);
/*
 * Turns the libgit2 failure rc of operation what into an HL_E* code and a
 * message (copied from git_error_last() now).  c may be NULL.
 */
int	hl_pub_git__error(struct hl_err *err, int rc,
	    const struct hl_pub_git__cred *c, const char *what);
/*
 * The repository g writes its commits in: its cache, or a file://
 * target's own (for tests).
 */
git_repository *hl_pub_git__repo(struct hl_pub_git *g);
/* The loose bytes at which g's repository is packed (gitcache.h). */
void	 hl_pub_git__pack_at(struct hl_pub_git *g, uint64_t bytes);
/* The Helios-Version trailer of a commit message, or -1. */
int64_t	hl_pub_git__msg_version(const char *msg);

#endif
