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
 * again by length, CRC-32 and bytes); new ones are compressed on
 * HL_LSEG_THREADS threads, each segment on its own, so the output is the
 * same bytes whatever the threads' timing.
 */
#ifndef HL_LISTSEG_H
#define HL_LISTSEG_H

#include <stddef.h>

#include <jansson.h>

#include "blob.h"
#include "err.h"
#include "item.h"

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
};

struct hl_lsegs {
	struct hl_lseg	*v;
	size_t		 n;
};

/* Is a list of count items published in segments? */
int	hl_lseg_wanted(int64_t count);

/*
 * Cuts items (verbatim lines skipped) of list `list`, format fmt, into
 * *out.  Segments equal to one of old are taken from it, the others are
 * compressed at level.  old is emptied either way.  *made counts the
 * segments compressed.  On error (HL_ENOMEM, HL_EIO) *out is empty.
 */
int	hl_lseg_build(struct hl_lsegs *out, struct hl_lsegs *old,
	    const struct hl_item *items, size_t n, const char *list, int fmt,
	    int level, size_t *made, struct hl_err *err);

/*
 * Appends items to segs as hl_lseg_build of the whole list would: the
 * open last segment is made again with them, and new segments follow.
 * On error segs is emptied: render the list in full.
 */
int	hl_lseg_append(struct hl_lsegs *segs, const struct hl_item *items,
	    size_t n, const char *list, int fmt, int level, size_t *made,
	    struct hl_err *err);

/*
 * The index's "segments" array: [{"sha256", "bytes", "items",
 * "gz": {"sha256", "bytes"}}, ...].  NULL when out of memory.
 */
json_t	*hl_lseg_index(const struct hl_lsegs *segs);

void	hl_lsegs_clear(struct hl_lsegs *segs);

#endif
