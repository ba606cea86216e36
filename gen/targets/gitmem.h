/*
 * gitmem: the objects a publish writes to a git cache, held in memory
 * until the push is on its way, then written out as loose objects.
 *
 * A publish to a remote writes its new blobs, trees and commit into the
 * cache (pub_git.h), then packs and pushes them.  Written as loose objects
 * at once, each costs a deflate, a new file and, for the pack, an inflate
 * back, all before the first byte of the push leaves; the server then
 * takes as long again to unpack it while Helios waits.  With gitmem, an
 * odb backend of the cache's repository ahead of its own, the objects
 * stay in memory while the tree is built and the pack is made from them,
 * and hl_gitmem_flush() writes them out while the server works on the
 * push (measured over loopback, a one-item change to the 38,642-line
 * list: building the tree ~60 ms -> ~20 ms, the write-out, ~25 ms, while
 * the server unpacks).
 *
 * Objects bigger than HL_GITMEM_OBJECT_MAX, or past HL_GITMEM_HELD_MAX in
 * all, go straight to the loose objects as before,
 * so memory stays bounded whatever the lists' size.  Until flushed, the
 * objects are in no file: pub_git flushes before it returns, and a cache
 * whose refs name objects a crash lost is repaired when it opens.
 */
#ifndef HL_GITMEM_H
#define HL_GITMEM_H

#include <stddef.h>

#include <git2.h>

#include "err.h"

#define HL_GITMEM_OBJECT_MAX	(4u * 1024 * 1024)
#define HL_GITMEM_HELD_MAX	(8u * 1024 * 1024)

struct hl_gitmem;

/*
 * Puts a new gitmem ahead of repo's object database (its loose objects
 * in DIR/objects get what it flushes).  The odb owns it: it lives as
 * long as repo.  0, or an HL_E* code with err set.
 */
int	hl_gitmem_attach(struct hl_gitmem **out, git_repository *repo,
	    struct hl_err *err);

/*
 * A blob of len bytes whose id the caller has computed (SHA-1 of "blob
 * <len>\0" and the bytes; OpenSSL's is several times libgit2's, which
 * checks for collisions): held, unless the repository has it already.
 * 0, or 1 when declined (too big, over the total: write it through
 * libgit2), or -1 with libgit2's error set.
 */
int	hl_gitmem_put_blob(struct hl_gitmem *m, git_repository *repo,
	    const git_oid *id, const void *data, size_t len);

/*
 * Writes every object held to the loose objects and forgets it.  0, or
 * HL_EIO with err set: the objects not written stay held for the next
 * flush.
 */
int	hl_gitmem_flush(struct hl_gitmem *m, struct hl_err *err);

/* How many objects are held, and their bytes. */
size_t	hl_gitmem_count(const struct hl_gitmem *m, size_t *bytes);

#endif
