/*
 * restore: builds a new database from one published tree, whatever target
 * holds it (a directory, a web mirror, an S3 bucket, a git pages branch).
 * The target kinds differ only in how a file of the tree is read, which a
 * struct hl_restore_src says; everything else is here, once.
 *
 * What is read, and checked, from the tree:
 *
 *   manifest.json          the version, the lists, every file's sha256
 *   manifest.json.sig      with a keyring only: must verify (keyring.h)
 *   lists/<id>.<txt|yml>   the items in order, with the lines SmokeDetector
 *                          skips and the duplicates, byte for byte
 *   lists/<id>.json        each item's provenance (created/modified at/by),
 *                          its records taken in file order, so each copy of
 *                          a duplicate keeps its own (the text wins where
 *                          they disagree); a big list's from the segments
 *                          its index names, objects/<sha256>, each checked
 *                          against its name
 *   notifications.json     the notifications
 *
 * Each file is read through its immutable copy objects/<sha256> when the
 * source holds it (so a mirror being published meanwhile still gives one
 * consistent version), else through its path, and must have exactly the
 * size and sha256 that the manifest names.  Paths come from the manifest
 * and are refused unless they are plain relative paths.
 *
 * The database is written to a temporary file beside db and renamed over
 * db only when everything was read, checked and written: a refused or
 * failed restore leaves no database behind.  The next change after a
 * restore gets the manifest's version + 1, so clients never see versions
 * go backwards.
 *
 * Not in the tree, so not restored: tokens (the first `helios serve` makes
 * a new admin token), the audit log (history before the restore stays in
 * the git archive and the published change files), pending proposals,
 * item ids and which token made each item.
 */
#ifndef HL_RESTORE_H
#define HL_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* The largest file of the tree that a restore reads. */
#define HL_RESTORE_MAX_FILE	(512L << 20)

struct hl_restore_src {
	const char	*name;	/* for messages: the URL or path */
	/*
	 * Appends the bytes of path (a relative path of the tree) to out,
	 * reading at most max bytes.  HL_ENOTFOUND when the source has no
	 * such file, HL_ETOOBIG when it is longer than max, HL_EIO and
	 * HL_EAUTH for failures.
	 */
	int		(*read)(struct hl_buf *out, void *arg, const char *path,
			    size_t max, struct hl_err *err);
	void		*arg;
};

struct hl_restore_opts {
	const char	*db;		/* the database to write */
	const char	*keyring;	/* NULL: the signature is not checked */
	int		 force;		/* replace a database holding data */
};

#define HL_RESTORE_OPTS_INIT { .db = "var/helios.sqlite" }

struct hl_restore_stats {
	int64_t		 version;	/* the manifest's */
	size_t		 lists;
	size_t		 lines;		/* items of all lists, verbatim too */
	size_t		 notifs;
	size_t		 files;		/* files read and checked */
	int		 signed_tree;	/* the manifest carries a key_id */
	int		 sig_checked;	/* and its signature verified */
};

/*
 * Restores o->db from the tree src reads.  HL_EEXISTS when o->db holds a
 * database with data and !o->force; HL_EINVAL when the tree is not sound
 * (a file whose size or sha256 is not the manifest's, a bad signature, a
 * bad manifest, a list this build does not know); HL_ENOTFOUND when a
 * file the manifest names is missing; the source's errors.  On any error
 * o->db is as it was.
 */
int	hl_restore_run(struct hl_restore_stats *out,
	    const struct hl_restore_src *src, const struct hl_restore_opts *o,
	    struct hl_err *err);

/*
 * Is p a plain relative path: segments of A-Z a-z 0-9 . _ - separated by
 * single '/', none empty, "." or "..", at most 255 bytes?
 */
int	hl_restore_path_ok(const char *p);

#endif
