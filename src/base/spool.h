/*
 * spool: published files that live on disk instead of in memory.
 *
 * A big list's text file, its gzip and the segments of its JSON would take
 * hundreds of MB at a million items.  The generator writes them instead
 * into a spool, a private directory (helios-spool.XXXXXX under a parent
 * the caller names, or $TMPDIR, or /tmp), as they are rendered: hashed
 * (SHA-256, MD5) and compressed on the way, in the same chunked gzip as
 * hl_blob_make (blob.h), so a spooled file has the very bytes and hashes
 * it would have had in memory.  Such a blob has data NULL and spool set
 * to the file's path (blob.h); the blob owns the file, which
 * hl_blob_clear unlinks.  Spool files are never changed once written: a
 * new version of a file is a new name, so a target that linked one (or
 * still reads it) never sees it move.  Targets read any file's bytes
 * through hl_file_read (tree.h), whatever backs it.
 */
#ifndef HL_SPOOL_H
#define HL_SPOOL_H

#include <stddef.h>

#include "blob.h"
#include "err.h"

struct hl_spool;
struct hl_spool_w;

/*
 * Makes a private spool directory under parent (NULL: $TMPDIR or /tmp).
 * HL_EIO when it cannot be made.  On success *out is owned by the caller:
 * free with hl_spool_free, after every blob spooled in it was cleared.
 */
int	hl_spool_new(struct hl_spool **out, const char *parent,
	    struct hl_err *err);
/* Removes the directory and anything left in it.  Accepts NULL. */
void	hl_spool_free(struct hl_spool *sp);
/*
 * Removes the spools a crash left in parent (NULL: $TMPDIR or /tmp): each
 * helios-spool.XXXXXX directory (not a link) that no live hl_spool holds
 * (hl_spool_new keeps an flock(2) on its directory until hl_spool_free),
 * with its subdirectories and files (spool.c).  *removed counts them.  HL_EIO when parent cannot be
 * read.
 */
int	hl_spool_sweep(size_t *removed, const char *parent,
	    struct hl_err *err);
/* The directory's path. */
const char *hl_spool_dir(const struct hl_spool *sp);

/*
 * Moves the bytes of b (in memory, hashed) to a new file of the spool:
 * b->data is freed and b->spool set.  On error (HL_EIO) b is unchanged.
 */
int	hl_spool_blob(struct hl_blob *b, struct hl_spool *sp,
	    struct hl_err *err);

/*
 * A file written in pieces: hl_spool_w_write appends, hl_spool_w_close
 * gives its blob and its gzip's (both spooled), the same bytes and hashes
 * as hl_blob_make of the whole at level.
 *
 * When memo holds the state of prev's content (hl_blob_make's or an
 * earlier writer's) and the new file starts with prev's first keep
 * bytes, the writer starts from there: the whole chunks below keep are
 * copied (copy_file_range) with their compressed form (from the memo, or
 * read back from prevgz, prev's gzip, for a writer's memo, which keeps
 * no chunk bytes) and hash states, the rest of the prefix read again;
 * the caller then writes what follows keep.  prev may be in memory or spooled; memo is taken (emptied).  keep
 * 0: a new file.  HL_EIO, HL_ENOMEM; on error nothing is left behind.
 */
int	hl_spool_w_open(struct hl_spool_w **out, struct hl_spool *sp,
	    int level, struct hl_blob_memo *memo, const struct hl_blob *prev,
	    const struct hl_blob *prevgz, size_t keep, struct hl_err *err);
int	hl_spool_w_write(struct hl_spool_w *w, const void *p, size_t n,
	    struct hl_err *err);
/*
 * Ends the file: *id and *gz are the spooled file and its gzip, memo (may
 * be NULL) the state a later append reuses.  w is freed either way; on
 * error id and gz are empty and the files removed.
 */
int	hl_spool_w_close(struct hl_blob *id, struct hl_blob *gz,
	    struct hl_blob_memo *memo, struct hl_spool_w *w,
	    struct hl_err *err);
/* Drops an unfinished file.  Accepts NULL. */
void	hl_spool_w_abort(struct hl_spool_w *w);

#endif
