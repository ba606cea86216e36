/*
 * linetrack: the lines of one file through its versions, each line with the
 * commit that introduced it (what `git blame --first-parent` answers for a
 * line).  gitsrc feeds it the versions a walk finds; it knows nothing of
 * git and is fed plain bytes, so it is tested and fuzzed alone
 * (tests/fuzz/fuzz_linetrack.c compares it with a naive model).
 *
 * A version is split into lines: a last line without '\n' counts, an empty
 * file has none.  Going from one version to the next:
 *
 *   old:  a b c d e          prefix: lines equal from the start (a b)
 *   new:  a b X d e Y        suffix: lines equal from the end, not
 *                            overlapping the prefix (none here: e != Y)
 *
 * The middles (c d e / X d e Y) are matched as multisets, each new line
 * taking the first unused equal old line in file order: d and e keep their
 * commits, X and Y are added by the new commit, c is removed.  So no added
 * line equals a removed one.  A line moved within the middle keeps its
 * commit, where blame would give it to the move.
 *
 * The bytes both versions share from the start are compared a block at a
 * time, and the old lines lying wholly inside them are taken over without
 * a new split: appending one line to a 40,000-line file costs a comparison
 * of the two buffers.
 */
#ifndef HL_LINETRACK_H
#define HL_LINETRACK_H

#include <stddef.h>

/* A line of the current version; text points into the version's bytes. */
struct hl_linetrack_line {
	const char	*text;		/* without its '\n' */
	size_t		 len;
	size_t		 commit;
};

/* One file's current version.  Zero it before the first version. */
struct hl_linetrack {
	char				*data;	/* owned */
	size_t				 len;
	struct hl_linetrack_line	*lines;
	size_t				 nlines;
};

/*
 * What one hl_linetrack_advance did.  added[i] != 0 when the new version's
 * line i came with this commit.  removed holds the old lines that went
 * away, pointing into the old bytes, which the step keeps until
 * hl_linetrack_step_free.
 */
struct hl_linetrack_step {
	unsigned char			*added;
	struct hl_linetrack_line	*removed;
	size_t				 nremoved;
	char				*old_data;
	struct hl_linetrack_line	*old_lines;
};

/*
 * Moves t to the version data[0..len), introduced by commit; t owns data
 * from now on.  On success fills step.  -1 when out of memory: data is
 * freed and t is unchanged.
 */
int	hl_linetrack_advance(struct hl_linetrack *t, char *data, size_t len,
	    size_t commit, struct hl_linetrack_step *step);

/* Frees what a step kept of the old version.  Accepts a zeroed step. */
void	hl_linetrack_step_free(struct hl_linetrack_step *step);

/* Frees t's bytes and lines and zeroes it.  Accepts a zeroed t. */
void	hl_linetrack_free(struct hl_linetrack *t);

#endif
