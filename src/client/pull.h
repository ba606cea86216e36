/*
 * pull: the client side of the published tree.  Keeps a directory holding
 * SmokeDetector's list files and notifications.json in step with a tree
 * served anywhere fetch.h can read, and reads a manifest and changes.json
 * for helios verify.
 *
 * One poll (hl_pull_once), as site/docs/protocol.html describes it:
 *
 *  1. Load the state file (DIR/.helios-state.json) and hash the local
 *     files.  If they are the files the state recorded, GET manifest.json
 *     with If-None-Match: the ETag kept.  304 ends the poll.
 *  2. Parse the manifest; with a public key, GET manifest.json.sig and
 *     check it.  Refuse a version lower than the one in the state
 *     (rollback) and an expires_at in the past (a frozen mirror).
 *  3. Every list whose text file's SHA-256 differs from the local file's
 *     is brought up to date: when DIR holds the state's version of it and
 *     the published changes cover the versions since, by applying their
 *     events to the local file (changes.json, then only the segments
 *     after the state's version); otherwise, or when the result's hash is
 *     not the manifest's, by downloading the list's .gz object.  Every
 *     download is checked against the SHA-256 and size the manifest (or
 *     changes.json) names before anything is written.
 *  4. Each new file is written to a temporary file, fsync'd and renamed
 *     over the old one; the state file is replaced last.  Any failure
 *     before that leaves DIR as it was.
 *
 * State file (JSON, rewritten whole):
 *
 *   {"format": 1, "url": "https://lists.example.org/",
 *    "etag": "\"5d41...\"", "version": 42, "expires_at": 1796604800,
 *    "poll_interval": 60, "manifest_sha256": "9f86...",
 *    "lists": {"watch-keyword": {"file": "watched_keywords.txt",
 *              "sha256": "3f2a...", "version": 40}, ...},
 *    "notifications": {"file": "notifications.json", "sha256": "..."}}
 */
#ifndef HL_PULL_H
#define HL_PULL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "fetch.h"

/* Exit statuses of helios pull, one for each kind of failure. */
enum hl_pull_status {
	HL_PULL_OK = 0,		/* up to date (updated or unchanged) */
	HL_PULL_USAGE = 1,	/* bad arguments */
	HL_PULL_NET = 2,	/* network or server error */
	HL_PULL_INTEGRITY = 3,	/* hash or size mismatch, bad gzip/JSON */
	HL_PULL_ROLLBACK = 4,	/* the manifest's version went back */
	HL_PULL_EXPIRED = 5,	/* the manifest is past its expires_at */
	HL_PULL_SIGNATURE = 6,	/* manifest.json.sig missing or bad */
	HL_PULL_LOCAL = 7,	/* cannot read or write DIR or the state */
};

#define HL_PULL_STATE_FILE	".helios-state.json"
#define HL_PULL_NOTIFS_FILE	"notifications.json"
/* Caps on what a poll accepts before it knows better sizes. */
#define HL_PULL_MAX_MANIFEST	((size_t)16 << 20)
#define HL_PULL_MAX_SIG		1024

/* One file of the tree: where it is, its object copy, and its hashes. */
struct hl_pull_ref {
	char	*path;
	char	*object;	/* NULL when the tree names none */
	char	 sha256[65];
	int64_t	 bytes;
};

struct hl_pull_file {
	struct hl_pull_ref	id;
	struct hl_pull_ref	gz;
	int			has_gz;
};

struct hl_pull_list {
	char	*id;
	char	*file;		/* SmokeDetector's name: "bad_keywords.txt" */
	char	*text;		/* "lists/blacklist-keyword.txt" */
	char	*json;
	int	 fmt;		/* enum hl_fmt */
	int64_t	 version;
	int64_t	 count;
};

struct hl_pull_manifest {
	int64_t			 format;
	int64_t			 version;
	int64_t			 generated_at;
	int64_t			 expires_at;
	int64_t			 poll_interval;
	struct hl_pull_file	*files;
	size_t			 nfiles;
	struct hl_pull_list	*lists;
	size_t			 nlists;
};

/* A change segment named by changes.json. */
struct hl_pull_seg {
	int64_t			from;
	int64_t			to;
	struct hl_pull_file	f;
};

struct hl_pull_changes {
	int64_t			 version;
	int64_t			 oldest;
	struct hl_pull_seg	*segs;
	size_t			 nsegs;
};

/*
 * Parses manifest.json.  Paths are checked to stay inside the tree and
 * list file names to be plain names.  On error (HL_EINVAL, HL_ENOMEM) m
 * is empty.  Free with hl_pull_manifest_clear().
 */
int	hl_pull_manifest_parse(struct hl_pull_manifest *m, const void *data,
	    size_t len, struct hl_err *err);
void	hl_pull_manifest_clear(struct hl_pull_manifest *m);
/* The entry for path (identity path), or NULL.  Borrowed from m. */
const struct hl_pull_file *hl_pull_manifest_file(
	    const struct hl_pull_manifest *m, const char *path);

/* Parses changes.json, segments sorted by from.  As above. */
int	hl_pull_changes_parse(struct hl_pull_changes *c, const void *data,
	    size_t len, struct hl_err *err);
void	hl_pull_changes_clear(struct hl_pull_changes *c);

/*
 * Downloads the identity bytes of pf into out, checked: its .gz when it
 * has one (the object copy first, then the path), else the identity file.
 * Returns HL_EINVAL when a hash or size does not match or the gzip is bad,
 * or an hl_fetch_get() code (HL_ENOTFOUND, HL_EIO, HL_EBUSY) when nothing
 * could be read.  On error out is empty.
 */
int	hl_pull_fetch_file(struct hl_buf *out, struct hl_fetch *f,
	    const struct hl_pull_file *pf, struct hl_err *err);

struct hl_pull_opts {
	const char	*url;		/* recorded in the state */
	const char	*dir;
	const char	*state;		/* NULL: DIR/.helios-state.json */
	const char	*pubkey;	/* NULL: no signature check */
	int64_t		 now;		/* 0: time(NULL) */
	int		 no_changes;	/* always download changed lists */
};

struct hl_pull_report {
	int		status;		/* enum hl_pull_status */
	int		unchanged;	/* 304, or the same version */
	int64_t		from;		/* version DIR held before, 0 if none */
	int64_t		version;	/* version DIR holds now */
	int64_t		poll_interval;	/* the manifest's, 0 if unknown */
	long		retry_after;	/* seconds, -1 if none was sent */
	size_t		patched;	/* lists brought up to date by events */
	size_t		downloaded;	/* files downloaded whole */
	size_t		kept;		/* lists that did not change */
};

/*
 * One poll.  rep->status says how it went; the return value is 0 when
 * rep->status is HL_PULL_OK, else a negative HL_E* code with err's message.
 * Whatever the outcome, each file in DIR is whole, old or new, and the
 * state is written after the files it describes.
 */
int	hl_pull_once(struct hl_pull_report *rep, struct hl_fetch *f,
	    const struct hl_pull_opts *o, struct hl_err *err);

#endif
