/*
 * target: where a tree is published.  One small interface, three kinds:
 *
 *   dir:PATH or PATH                   pub_dir.c   local directory
 *   s3://BUCKET/PREFIX?endpoint=&region=&style=
 *                                      pub_s3.c    S3-compatible storage
 *   git+file://...#BRANCH, git+https://..., git+ssh://...
 *                                      pub_git.c   git pages branch
 *
 * A target publishes a whole tree, but may skip what it already holds
 * (immutable objects it has, mutable files whose hash it last wrote).  It
 * must write in the tree's order so a reader never sees a torn set: after
 * a failure the old manifest stays and names only files that exist.
 *
 * Errors: HL_EIO (and friends) for transient failures, which the publisher
 * retries with backoff; HL_ECONFLICT when someone else wrote the target
 * (S3 If-Match 412, a git branch moved by others), and HL_EAUTH for refused
 * credentials: both stop the target until an operator looks.
 *
 * A target also reads back the manifest.json it holds, so that the first
 * manifest a new process publishes names it as "previous" and the hash
 * chain goes on across restarts.
 */
#ifndef HL_TARGET_H
#define HL_TARGET_H

#include "buf.h"
#include "err.h"
#include "tree.h"

/* The largest manifest.json a target reads back. */
#define HL_TARGET_MAX_MANIFEST	(16 << 20)

struct hl_target;

struct hl_target_ops {
	const char	*kind;	/* "dir", "s3", "git" */
	int		(*open)(void **state, const char *url,
			    struct hl_err *err);
	int		(*publish)(void *state, const struct hl_tree *tree,
			    struct hl_err *err);
	int		(*manifest)(struct hl_buf *out, void *state,
			    struct hl_err *err);
	void		(*close)(void *state);
	/* NULL: the kind writes everything in its publish. */
	void		(*stage)(void *state, const struct hl_file *files,
			    size_t n);
};

/*
 * Opens the target named by url, choosing the kind by its scheme.
 * HL_EINVAL for a URL of no known kind or with bad parameters.
 */
int		 hl_target_open(struct hl_target **out, const char *url,
		    struct hl_err *err);
int		 hl_target_publish(struct hl_target *t,
		    const struct hl_tree *tree, struct hl_err *err);
/*
 * Tells t of immutable files (objects/, changes/) of the tree being
 * built, which it may begin to write while the build goes on, so that the
 * publish that follows finds them there.  The files and their bytes stay
 * as they are until that publish returns, or until a call with n 0,
 * which returns once t is done with them (after a failed build).  It
 * names nothing: no manifest names these files yet.  A file it could not
 * write is written by the publish.  A kind without the operation ignores
 * it.
 */
void		 hl_target_stage(struct hl_target *t,
		    const struct hl_file *files, size_t n);
/*
 * Appends the bytes of the manifest.json the target holds now to out:
 * the file (dir), a GET of PREFIXmanifest.json (s3), the file at the
 * pages branch's tip (git).  HL_ENOTFOUND when it holds none yet,
 * HL_ETOOBIG over HL_TARGET_MAX_MANIFEST bytes, HL_EIO and HL_EAUTH as
 * for a publish.  On error out is unchanged.
 */
int		 hl_target_manifest(struct hl_buf *out, struct hl_target *t,
		    struct hl_err *err);
/* The URL without credentials, for logs, /healthz and the store. */
const char	*hl_target_name(const struct hl_target *t);
const char	*hl_target_kind(const struct hl_target *t);
void		 hl_target_close(struct hl_target *t);

/* Each kind's operations (pub_dir.c, pub_s3.c, pub_git.c). */
extern const struct hl_target_ops hl_pub_dir_ops;
extern const struct hl_target_ops hl_pub_s3_ops;
extern const struct hl_target_ops hl_pub_git_ops;

#endif
