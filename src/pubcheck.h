/*
 * pubcheck: at start, makes the published directory agree with its own
 * manifest before anything is served from it.
 *
 * A crash or a full disk can leave temporary files (NAME.tmp.PID.N, see
 * pub_dir.c) and, on a file system that lost writes, files whose bytes are
 * not what manifest.json says.  hl_pubcheck_dir removes the temporary
 * files of processes that no longer run, hashes every file the manifest
 * names (each mutable file, its .gz, their objects/ copies) and removes
 * each one that is missing a byte or has other bytes, so the next publish
 * writes it again (pub_dir never rewrites an object that is present).
 */
#ifndef HL_PUBCHECK_H
#define HL_PUBCHECK_H

#include <stddef.h>

#include "err.h"

/*
 * Checks dir.  *ntmp: temporary files removed; *nbad: named files that
 * were missing or wrong (and are now removed).  A directory without a
 * manifest is fine (nothing published yet).  Returns 0, or HL_EIO when
 * the manifest cannot be read or parsed, or a file cannot be removed.
 */
int	hl_pubcheck_dir(size_t *ntmp, size_t *nbad, const char *dir,
	    struct hl_err *err);

/*
 * Removes dir/name and dir/name.gz, published before and no longer to be
 * (notifications.json when notifications are made private).
 */
void	hl_pubcheck_forget(const char *dir, const char *name);

#endif
