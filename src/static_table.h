/*
 * static_table: the published tree held in memory for the static server,
 * so that a request for a known file costs no open, stat or hash.
 *
 * A table is a sorted array of the tree's files and directories, built by
 * walking the public directory: for each regular file its bytes (read
 * once, shared with the next table while the file stays the same: same
 * device, inode, size and mtime), fstat, ETag (quoted MD5) and whatever
 * the builder callback made of them (static.c makes the finished
 * libmicrohttpd responses), and whether "<path>.gz" is there too.  The
 * bytes are held in memory rather than as open descriptors: no descriptor
 * is kept, and libmicrohttpd 0.9.75 sends a file response 128 KiB per
 * call with the response's mutex held, serializing every thread that
 * sends the same file, where a buffer goes out in one call, unlocked.  Dot
 * names (the publishers' temporary files), symlinks, other kinds of file
 * and the immutable classes (objects/, changes/: many, content-addressed,
 * pruned) are left out: requests for them take the ordinary path.  At most
 * HL_STABLE_MAX_FILES files and HL_STABLE_MAX_BYTES bytes are held.
 *
 * A table never changes once made.  The current one sits behind an atomic
 * pointer; a request enters (two atomic counters, one per epoch, no lock),
 * reads the table and leaves.  A rebuild swaps the pointer, flips the
 * epoch and waits until no request of the old epoch is left before the
 * old table is freed.
 *
 * Freshness: every directory of the table is watched with inotify, and
 * a table is used only while that inotify queue is empty and no rebuild is
 * pending.  The kernel queues the event inside the rename(2) or unlink(2)
 * that changed the tree, so a request that begins after a publish has
 * returned sees the new files (through the ordinary path until the
 * watcher thread has built the next table).  Without inotify (a sandbox
 * that forbids it, no watches left) no table is used at all.
 */
#ifndef HL_STATIC_TABLE_H
#define HL_STATIC_TABLE_H

#include <sys/stat.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "err.h"

#define HL_STABLE_MAX_FILES	1024
#define HL_STABLE_MAX_BYTES	(64 * 1024 * 1024)
#define HL_STABLE_ETAG_LEN	35		/* '"' + 32 hex + '"' + NUL */

/* A file's bytes, counted: each table and each response holds one. */
struct hl_stable_blob;

/* One representation: the plain file or its .gz. */
struct hl_stable_rep {
	struct hl_stable_blob	*blob;
	const void		*data;	/* the blob's bytes */
	struct stat		 st;
	char			 etag[HL_STABLE_ETAG_LEN];
	struct MHD_Response	*ok;	/* 200 (GET and HEAD) */
	struct MHD_Response	*nm;	/* 304 */
};

struct hl_stable_ent {
	char			*path;	/* relative, "." for the root */
	int			 dir;
	int			 has_gz;
	struct hl_stable_rep	 plain, gz;
};

struct hl_stable_tab {
	struct hl_stable_ent	*ents;	/* sorted by path (strcmp) */
	size_t			 n;
};

/*
 * Makes the responses of e (a file) from its reps' data, each response
 * holding the blob through hl_stable_blob_hold / hl_stable_blob_drop:
 * 0, or -1 to leave the file out.
 */
typedef int	(*hl_stable_make_fn)(struct hl_stable_ent *e, void *cls);

struct hl_stable;

/*
 * Builds the first table of the directory open on rootfd (not taken
 * over; it must outlive the table).  An inotify that cannot be had is no
 * error: the table is then never used.  HL_ENOMEM or HL_EIO.
 */
int	hl_stable_new(struct hl_stable **out, int rootfd,
	    hl_stable_make_fn make, void *cls, struct hl_err *err);
/*
 * Starts the watcher thread that keeps the table fresh (a separate step,
 * so that the daemon starts it once confined: sandbox.h).  Until then
 * the table is used only while no change is queued.  HL_EIO.
 */
int	hl_stable_start(struct hl_stable *t, struct hl_err *err);
/*
 * Said by a publisher of this process around each publish to the
 * directory (begin 1, then 0): meanwhile no table is walked, and the end
 * walks the tree at once, without the quiet time that changes made by
 * others wait for.  A table is never used while the tree changes, with
 * or without this.
 */
void	hl_stable_publishing(struct hl_stable *t, int begin);
/* Stops the watcher and frees the table.  No request may be inside. */
void	hl_stable_free(struct hl_stable *t);

/*
 * The current table when it is known to match the directory, else NULL.
 * A table returned stays valid until hl_stable_leave(t, *tok).
 */
const struct hl_stable_tab *hl_stable_enter(struct hl_stable *t,
	    unsigned *tok);
void	hl_stable_leave(struct hl_stable *t, unsigned tok);

/* The entry for path in tab, or NULL. */
const struct hl_stable_ent *hl_stable_find(const struct hl_stable_tab *tab,
	    const char *path);

/* Takes one more hold of b; drops one (the last frees it). */
void	hl_stable_blob_hold(struct hl_stable_blob *b);
void	hl_stable_blob_drop(void *b);

/* How many tables have been built (tests and logs). */
unsigned long	hl_stable_builds(struct hl_stable *t);

#endif
