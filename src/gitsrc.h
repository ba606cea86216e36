/*
 * gitsrc: SmokeDetector's own repository as a source of list files, read
 * through libgit2 without a work tree (`helios import --git`).
 *
 * A walk visits the first-parent history of a revision, oldest first, and
 * reports each commit that changed one of the paths asked for, with the
 * file's bytes before and after.  Merge commits count as the change they
 * made to their first parent, as `git log --first-parent` shows them.
 *
 * Line provenance (what `git blame --first-parent` answers) is kept by the
 * walk itself: for every path it tracks, gitsrc remembers which commit
 * introduced each line of the current file.  A change is located by the
 * lines it shares with the previous version at both ends, so a commit that
 * appends one pattern to a 40,000-line file costs a comparison of the two
 * buffers, not a diff of 40,000 lines; the middle is then matched line by
 * line, so a line that stays keeps its commit.
 */
#ifndef HL_GITSRC_H
#define HL_GITSRC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "linetrack.h"

struct hl_gitsrc;

/* One commit as an import records it. */
struct hl_gitsrc_commit {
	char	 id[41];	/* hex */
	int64_t	 time;		/* author time, seconds since the epoch */
	char	*author;	/* author name */
	char	*subject;	/* first line of the message */
};

/* What one commit did to one tracked path. */
struct hl_gitsrc_change {
	const char	*path;
	int		 existed;	/* the path was there before */
	int		 exists;	/* and is there after */
	/* The file before and after the commit (empty when absent). */
	const char	*old_data;
	size_t		 old_len;
	const char	*data;
	size_t		 len;
	/*
	 * The lines after the commit, each with the index of the commit that
	 * introduced it (hl_gitsrc_commit_at()), which of them are new
	 * (added[i] != 0), and the lines that went away (linetrack.h).  All
	 * borrowed: lines and data until the path's next change, removed
	 * and old_data until the callback returns.
	 */
	const struct hl_linetrack_line	*lines;
	size_t				 nlines;
	const unsigned char		*added;
	const struct hl_linetrack_line	*removed;
	size_t				 nremoved;
};

/*
 * Called for each commit that changed a tracked path, oldest first, with
 * every tracked path it changed.  A non-zero return stops the walk, and
 * hl_gitsrc_walk returns it.
 */
typedef int (*hl_gitsrc_cb)(const struct hl_gitsrc_commit *c, size_t ci,
    const struct hl_gitsrc_change *ch, size_t nch, void *payload);

/* HL_ENOTFOUND when path is not a git repository. */
int	hl_gitsrc_open(struct hl_gitsrc **out, const char *path,
	    struct hl_err *err);
void	hl_gitsrc_close(struct hl_gitsrc *g);

/* The commit id (hex) that rev names.  HL_ENOTFOUND when none. */
int	hl_gitsrc_resolve(char out[41], struct hl_gitsrc *g, const char *rev,
	    struct hl_err *err);

/*
 * Walks the first-parent history of rev (NULL: HEAD) after since (a commit
 * id, exclusive; NULL: from the first commit), tracking paths[0..n).  A
 * walk that starts at since begins with the files as they were there, their
 * lines attributed to HL_GITSRC_BEFORE: only what changed after since is
 * reported.
 */
#define HL_GITSRC_BEFORE	SIZE_MAX

int	hl_gitsrc_walk(struct hl_gitsrc *g, const char *since,
	    const char *rev, const char *const *paths, size_t n,
	    hl_gitsrc_cb cb, void *payload, struct hl_err *err);

/*
 * Reads path as it is at commit id (hex) into a malloc'd, NUL-terminated
 * buffer.  HL_ENOTFOUND when the commit has no such file.
 */
int	hl_gitsrc_read(char **data, size_t *len, struct hl_gitsrc *g,
	    const char *id, const char *path, struct hl_err *err);

/*
 * After a walk: the bytes of path as of its last commit, or NULL when it
 * was absent.  Borrowed, valid until the next walk or hl_gitsrc_close.
 */
const char *hl_gitsrc_file(size_t *len, const struct hl_gitsrc *g,
	    const char *path);

/* The walk's ci-th commit (valid until hl_gitsrc_close). */
const struct hl_gitsrc_commit *hl_gitsrc_commit_at(const struct hl_gitsrc *g,
	    size_t ci);

/*
 * After a walk: the lines of path as of its last commit, with provenance.
 * *n is 0 when the path was never seen.  Borrowed, valid until the next
 * walk or hl_gitsrc_close.
 */
const struct hl_linetrack_line *hl_gitsrc_lines(size_t *n,
	    const struct hl_gitsrc *g, const char *path);

#endif
