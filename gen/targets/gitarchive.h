/*
 * gitarchive: reads past versions of the published tree back from a git
 * pages branch written by pub_git.c.  git history is the archive (and the
 * backup): every commit Helios writes carries the trailer
 *
 *   Helios-Version: 1234
 *
 * and its tree is the whole published tree of that version, so a list as
 * it was at version N is the blob lists/<id>.<ext> of the newest commit on
 * the branch whose version is <= N.
 *
 * repo names where to read:
 *
 *   /srv/pages.git, ./clone        a local repository, bare or not
 *   git+file:///srv/pages.git#b    read in place
 *   git+https://host/o/r.git#b     (and http, ssh) fetched first into the
 *                                  cache of pub_git.h, with the same
 *                                  HELIOS_GIT_* credentials
 *
 * branch overrides the URL's "#branch"; NULL means the URL's, or gh-pages.
 * The walk follows first parents from the branch tip.
 */
#ifndef HL_GITARCHIVE_H
#define HL_GITARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct hl_gitarchive_rev {
	int64_t	version;	/* the trailer's, or -1 for a foreign commit */
	int64_t	time;		/* commit time, seconds since the epoch */
	char	commit[41];	/* hex id */
	char	summary[256];	/* the message's first line, maybe cut */
};

/*
 * Finds the newest commit with version <= at_version and commit time <=
 * at_time (a bound of 0 or less is no bound; commits without a version
 * match only when at_version is unbounded).  HL_ENOTFOUND when none does
 * or the branch does not exist; HL_EIO, HL_EAUTH for fetch failures.
 */
int	hl_gitarchive_find(struct hl_gitarchive_rev *out, const char *repo,
	    const char *branch, int64_t at_version, int64_t at_time,
	    struct hl_err *err);

/*
 * The bytes of path ("lists/watch-keyword.txt") in the commit that
 * hl_gitarchive_find() chooses.  On success *data (malloc, NUL-terminated
 * beyond len) is the caller's to free; on error it is NULL.  HL_ENOTFOUND
 * also when that version has no such file.
 */
int	hl_gitarchive_read(unsigned char **data, size_t *len, const char *repo,
	    const char *branch, const char *path, int64_t at_version,
	    int64_t at_time, struct hl_err *err);

/*
 * The newest commits of the branch, newest first, at most max of them
 * (0: all).  On success *out (malloc) is the caller's to free; *n may be 0.
 */
int	hl_gitarchive_versions(struct hl_gitarchive_rev **out, size_t *n,
	    const char *repo, const char *branch, size_t max,
	    struct hl_err *err);

#endif
