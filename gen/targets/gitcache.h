/*
 * gitcache: keeps the loose objects of a git cache (pub_git.h), or of a
 * file:// target's repository, bounded.
 *
 * libgit2 writes every new blob, tree and commit as a loose object, one
 * zlib file each, and has no `git gc`.  A cache that publishes a 1.85 MB
 * list on each change so grows by about half a megabyte per publish, for
 * ever.  hl_gitcache_pack() moves the loose objects into one pack, with
 * deltas between them (the versions of one list are near copies), once
 * they pass a size, and only then deletes them: the history stays whole,
 * so every walk pub_git makes (is the tip ours, is it contained) still
 * works.  Objects larger than HL_GITCACHE_OBJECT_MAX stay loose, as
 * delta search would hold them whole in memory.
 */
#ifndef HL_GITCACHE_H
#define HL_GITCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "err.h"

/* Loose bytes (as stored, compressed) past which a publish packs them. */
#define HL_GITCACHE_LOOSE_MAX	(32u * 1024 * 1024)
/* Objects larger than this (inflated) stay loose. */
#define HL_GITCACHE_OBJECT_MAX	(4u * 1024 * 1024)

/*
 * When the loose objects of repo no larger than HL_GITCACHE_OBJECT_MAX
 * take min_bytes or more on disk, writes them into one new pack, syncs
 * it, and deletes them.  *packed is the number of objects moved (0 when
 * under min_bytes).  0, or an HL_E* code with err set; on error no loose
 * object was deleted that the new pack does not hold durably.
 */
int	hl_gitcache_pack(size_t *packed, git_repository *repo,
	    uint64_t min_bytes, struct hl_err *err);

/*
 * Deletes the refs of repo whose object is missing: objects a crash lost
 * before they were written out (gitmem.h; libgit2 does not sync loose
 * objects either), so that a publish builds on what is there, or on the
 * remote's tip, fetched again.  *dropped: how many.  0, or HL_EIO.
 */
int	hl_gitcache_repair(size_t *dropped, git_repository *repo,
	    struct hl_err *err);

/* The loose objects of repo: how many and their bytes on disk. */
int	hl_gitcache_loose(size_t *n, uint64_t *bytes, git_repository *repo,
	    struct hl_err *err);

#endif
