/*
 * spares: the files a directory target no longer names, kept emptied
 * under dot names and written again, so that a publish in the steady
 * state makes no new inode and frees none.
 *
 * Why: ext4 without a journal, when it makes a file, skips every inode
 * freed in the last 5 seconds (300 while its inode table block is dirty;
 * the kernel's recently_deleted()), one buffer lookup each.  A directory
 * target frees about as many files as it makes (pruning, and each
 * manifest renamed over the last), so under a stream of changes every
 * creat(2) came to scan thousands of them: 0.5 to 1 ms a file, 20 files a
 * publish, on the path to the manifest.  A spare is an inode already
 * allocated; giving one back is a rename(2), not an unlink(2).
 *
 * A file is kept only when nobody can be reading it, since it is about to
 * be emptied and written with other bytes.  It is first renamed to its
 * spare name, so nobody can open it anew (readers never open dot names:
 * see pub_dir.c); then a write lease (fcntl F_SETLEASE, F_WRLCK), which the
 * kernel grants only while no other descriptor of the file is open in any
 * process, shows that no reader holds it from before; then it is emptied.
 * A file with another name (a hard link), one no lease can be taken on
 * (leases turned off, a file system without them, another owner), one
 * open elsewhere, and any past the pool's bound are removed instead, as
 * before.
 *
 * The pool lives in one directory of the same file system (the target's
 * hidden ".spares/", which no server of the tree serves or watches), as
 * "<dir>/.spare.<n>", owned by the process that holds an exclusive
 * flock(2) on "<dir>/.spares.lock".  Another process
 * publishing to the same directory gets no pool and makes and removes
 * files as before.  The owner adopts the spares a process before it left
 * (after the same checks), so none is lost across restarts or crashes.
 */
#ifndef HL_SPARES_H
#define HL_SPARES_H

#include <stddef.h>

#include "err.h"

#define HL_SPARES_MAX	256	/* spares kept at most */
#define HL_SPARES_FRESH	64	/* made ready ahead of need (pub_dir) */

struct hl_spares;

/*
 * The pool of dir (made when missing), holding at most max spares (0:
 * HL_SPARES_MAX).  While nothing put waits for its checks, the keeper
 * makes new empty spares until fresh (at most max) are ready; it stops
 * making them for good when one cannot be made.  HL_EEXISTS when another
 * process holds the pool: the caller then goes without one.  HL_EIO,
 * HL_ENOMEM.
 */
int	hl_spares_open(struct hl_spares **out, const char *dir, size_t max,
	    size_t fresh, struct hl_err *err);
/* Leaves the spares on disk for the next owner.  Accepts NULL. */
void	hl_spares_close(struct hl_spares *s);

/*
 * Takes path away from its name: keeps the file as a spare, or removes
 * it (see above).  0 when path no longer exists, -1 with errno as
 * unlink(2) sets it otherwise.  With s NULL, unlink(2).
 */
int	hl_spares_put(struct hl_spares *s, const char *path);

/*
 * The path of a spare, empty, into buf (len bytes), for the caller to
 * open(2) without O_CREAT, write and rename(2) to its name; it is no
 * longer the pool's.  -1 when there is none (or s is NULL).
 */
int	hl_spares_take(struct hl_spares *s, char *buf, size_t len);

/*
 * rename(2) from to to, where to's old file, when there was one, goes
 * to the pool (hl_spares_put) instead of being freed.  It stays at from
 * until hl_spares_settle, so the rename costs no more than before; when
 * to is missing, a rename(2) follows the exchange that failed, so a
 * caller that knows to is new passes s NULL: a plain rename(2).  -1
 * with errno as rename(2) sets it.
 */
int	hl_spares_replace(struct hl_spares *s, const char *from,
	    const char *to);
/* Puts what hl_spares_replace set aside (after the publish shows). */
void	hl_spares_settle(struct hl_spares *s);

/* Spares ready now (checked and emptied: see spares.c). */
size_t	hl_spares_count(struct hl_spares *s);

#endif
