/*
 * listseg: the JSON of a big list, cut into immutable, content-addressed
 * segments, so that a one-item change rewrites one segment and a small
 * index instead of the whole list (several MB at real size).
 *
 * A list of more than HL_LSEG_MIN_ITEMS items is published as
 *
 *   lists/<id>.json        the index: the whole-list document with
 *                          "segments" in place of "items" (snapshot.c)
 *   objects/<sha256>       a segment: {"items":[item, ...]}\n
 *   objects/<sha256>.gz    its gzip
 *
 * where <sha256> is the SHA-256 of the segment's identity bytes.  A
 * client assembles the list by concatenating the segments' "items" in the
 * index's order (site/docs/protocol.html, "Big lists").
 *
 * Where segments end.  A segment ends after an item whose id, mixed
 * (splitmix64), is 0 modulo HL_LSEG_AVG, or after HL_LSEG_MAX items: the
 * boundaries are a function of the items themselves, not of their
 * positions, so adding, editing or removing an item changes the segment
 * that holds it (and, for an add or remove of a boundary item, its
 * neighbour) and no other.  The last segment is open: new items go at its
 * end until one closes it.
 *
 * Segments whose bytes did not change keep their hashes and gzip (found
 * again by length, CRC-32, bytes and gzip level); new ones are compressed
 * on HL_LSEG_THREADS threads, each segment on its own, so the output is
 * the same bytes whatever the threads' timing.  A spooled list's threads
 * take each segment as soon as it is closed, and write it and its gzip
 * to the spool, while the caller renders the next ones.
 *
 * The gzip's form is part of the name.  objects/<sha256>.gz is named by
 * the identity bytes, and clients check its own SHA-256 and size against
 * the index.  A change of chunking or compressor (even an upgrade of zlib
 * or libdeflate, neither of which promises the same output from one
 * version to the next) makes other bytes under the same name.  The
 * targets replace a gzip they hold with other bytes (pub_s3 by the
 * listed ETag, pub_dir by its mark or its MD5), and clients that meet one
 * on a mirror fall back to the identity object (pull.h, protocol.html
 * 4a), but every segment of every mirror is then uploaded again, and
 * every client downloads the identity bytes until it is.  Keep the form
 * unless the gain pays for that.
 */
#ifndef HL_LISTSEG_H
#define HL_LISTSEG_H

#include <stddef.h>

#include "blob.h"
#include "buf.h"
#include "err.h"
#include "item.h"
#include "spool.h"

#define HL_LSEG_MIN_ITEMS	2048	/* more items: segmented */
#define HL_LSEG_AVG		512	/* items per segment, on average */
#define HL_LSEG_MAX		2048	/* items per segment, at most */
#define HL_LSEG_THREADS		2

struct hl_lseg {
	struct hl_blob	 id;		/* {"items":[...]}\n */
	struct hl_blob	 gz;
	char		 obj[80];	/* objects/<sha256> */
	char		 gzobj[84];	/* objects/<sha256>.gz */
	size_t		 n;		/* items */
	int		 closed;	/* ended by the boundary rule */
	unsigned long	 crc;		/* crc32 of id, to find it again */
	int		 level;		/* gz's, to find it again */
	/* an open segment's (not closed), for its next append (blob.h) */
	struct hl_blob_memo memo;
	size_t		 keep;		/* pending: leading bytes memo had */
};

struct hl_lsegs {
	struct hl_lseg	*v;
	size_t		 n;
};

/* Is a list of count items published in segments? */
int	hl_lseg_wanted(int64_t count);

/*
 * Cuts a list's items into segments, fed in batches: hl_lseg_start, then
 * hl_lseg_put for each batch of items in file order (verbatim lines
 * skipped), then hl_lseg_finish, which gives the segments in *out and
 * adds the number compressed to *made.  Segments equal to one of old are
 * taken from it, the others are compressed at level; old is emptied
 * either way (at finish or abort).  With sp, the segments are written to
 * that spool as they are made (a few MB of them in memory at a time), and
 * old's may be spooled too.  On error (HL_ENOMEM, HL_EIO) the builder is
 * freed by finish (else call hl_lseg_abort) and *out is empty.
 */
struct hl_lseg_bld;
int	hl_lseg_start(struct hl_lseg_bld **out, struct hl_lsegs *old,
	    struct hl_spool *sp, const char *list, int fmt, int level,
	    struct hl_err *err);
int	hl_lseg_put(struct hl_lseg_bld *b, const struct hl_item *items,
	    size_t n, struct hl_err *err);
int	hl_lseg_finish(struct hl_lsegs *out, struct hl_lseg_bld *b,
	    size_t *made, struct hl_err *err);
void	hl_lseg_abort(struct hl_lseg_bld *b);

/*
 * Appends items to segs as a build of the whole list would: the open last
 * segment is made again with them, and new segments follow (spooled to
 * sp when not NULL).  On error segs is emptied: render the list in full.
 */
int	hl_lseg_append(struct hl_lsegs *segs, const struct hl_item *items,
	    size_t n, const char *list, int fmt, int level, struct hl_spool *sp,
	    size_t *made, struct hl_err *err);

/*
 * Appends the index's "segments" array to out, as json_dumps with
 * JSON_COMPACT | JSON_SORT_KEYS writes it: [{"bytes", "gz": {"bytes",
 * "sha256"}, "items", "sha256"}, ...] (no tree is built: at real size
 * a change renders the ~110 entries of a big list's index).  0, or
 * HL_ENOMEM.
 */
int	hl_lseg_index(struct hl_buf *out, const struct hl_lsegs *segs);

void	hl_lsegs_clear(struct hl_lsegs *segs);

#endif
