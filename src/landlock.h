/*
 * landlock: the daemon's file system (and TCP bind) confinement, on the
 * kernel's Landlock uAPI (<linux/landlock.h>, three system calls; no
 * library).
 *
 * A ruleset is built from rules, each a path and what may be done beneath
 * it (read, read and write, read and map executable code), then applied
 * to the calling thread and every thread it starts afterwards: Landlock
 * below ABI 8 cannot reach threads that already run, so apply it before
 * the first thread starts.  Whatever is not allowed by a rule fails with
 * EACCES, for every user, root included.
 *
 * The kernel's ABI version decides what can be handled (best effort, the
 * rest is left unrestricted): ABI 1 file access, 2 renames across
 * directories (REFER), 3 truncate, 4 TCP bind and connect, 5 device
 * ioctls, 6 signals and abstract unix sockets outside the domain.
 *
 *	struct hl_landlock *ll;
 *	hl_landlock_new(&ll, &err);
 *	hl_landlock_allow(ll, "/var/lib/helios", HL_LANDLOCK_RW, 0, &err);
 *	hl_landlock_bind_port(ll, 8080);
 *	hl_landlock_apply(ll, &err);
 *	hl_landlock_free(ll);
 */
#ifndef HL_LANDLOCK_H
#define HL_LANDLOCK_H

#include "err.h"

struct hl_landlock;

enum hl_landlock_access {
	HL_LANDLOCK_RO,		/* read files, list directories */
	HL_LANDLOCK_RX,		/* and map them executable (libraries) */
	HL_LANDLOCK_RW,		/* and create, write, rename, remove */
};

/* The kernel's Landlock ABI version; 0 when it has none (or disabled). */
int	hl_landlock_abi(void);

/*
 * A new, empty ruleset.  Returns 0; HL_ENOTFOUND when the kernel has no
 * Landlock (err says why), or HL_EIO / HL_ENOMEM.  On success *out is owned by the caller; free with
 * hl_landlock_free().
 */
int	hl_landlock_new(struct hl_landlock **out, struct hl_err *err);
void	hl_landlock_free(struct hl_landlock *ll);

/*
 * Allows access beneath path (a directory) or to path (a file).  A path
 * that does not exist, or that the user may not reach, is skipped when
 * optional, else HL_EIO.
 */
int	hl_landlock_allow(struct hl_landlock *ll, const char *path,
	    enum hl_landlock_access access, int optional, struct hl_err *err);

/*
 * TCP: bind() only to port (ABI 4 and later; call at most 8 times).  The
 * daemon's listener is bound before, so this only stops a later bind.
 */
void	hl_landlock_bind_port(struct hl_landlock *ll, unsigned port);

/*
 * Sets no_new_privs and restricts the calling thread.  Returns 0 or
 * HL_EIO.
 */
int	hl_landlock_apply(struct hl_landlock *ll, struct hl_err *err);

#endif
