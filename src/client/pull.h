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
 *  2. Parse the manifest; with a public key, fetch its signatures and
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
 *  4. Each new file is streamed to a temporary file in DIR (never held
 *     whole in memory), fsync'd, and only once every one is checked
 *     renamed over the old one; the state file is replaced last.  Any
 *     failure before the renames leaves DIR as it was.
 *
 * What pull may write in DIR is fixed here, never taken from the
 * network: SmokeDetector's eleven list files, each under the name this
 * client knows for its list id (hl_pull_known_file), notifications.json,
 * the state file, the lock file and its own temporary files
 * (.helios-tmp.XXXXXX, renamed or removed).  A manifest whose list names
 * another file for a known id, names one file for two lists, or names an
 * id twice is refused.  A list id this client does not know is skipped
 * with a warning: SmokeDetector would not read its file anyway, and a
 * name of the mirror's choosing is what must never be written.
 *
 * Local edits.  The state records the SHA-256 of every file pull wrote.
 * A file in DIR that pull would replace and whose bytes are not what pull
 * last wrote (an edit, a SmokeDetector append, damage, a file that was
 * there before the first pull, a symlink) is not pull's to replace: the
 * poll is refused (HL_PULL_EDITED) before anything is written, unless
 * opts.force.  Bytes alone cannot tell damage from an edit, so pull does
 * not guess: both are kept, and `--force` is the repair.  A missing file
 * is simply written again.  Between writing the files and writing the
 * state, a crash could leave a file newer than the state says: the state
 * is first rewritten naming both hashes ("was" beside "sha256"), so
 * either counts as pull's own on the next poll.
 *
 * Sizes.  Every file pull downloads is capped at opts.max_size (the
 * identity bytes and the .gz alike), before any request when the manifest
 * claims more (HL_PULL_TOOBIG), and while it streams, at the size the
 * manifest names.  manifest.json, changes.json and change segments have
 * fixed caps below; change segments over theirs are not an error: the
 * lists are downloaded whole instead.
 *
 * The caller holds DIR's lock (hl_pull_lock) around hl_pull_once.
 *
 * State file (JSON, rewritten whole):
 *
 *   {"format": 1, "url": "https://lists.example.org/",
 *    "etag": "\"5d41...\"", "version": 42, "expires_at": 1796604800,
 *    "poll_interval": 60, "manifest_sha256": "9f86...",
 *    "lists": {"watch-keyword": {"file": "watched_keywords.txt",
 *              "sha256": "3f2a...", "version": 40}, ...},
 *              (and "was": "..." while the files are being replaced)
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
	HL_PULL_TOOBIG = 8,	/* a file is over --max-size (or a cap) */
	HL_PULL_EDITED = 9,	/* DIR holds files pull did not write */
	HL_PULL_LOCKED = 10,	/* another pull holds DIR's lock */
};

#define HL_PULL_STATE_FILE	".helios-state.json"
#define HL_PULL_LOCK_FILE	".helios-lock"
#define HL_PULL_TMP_PREFIX	".helios-tmp."
#define HL_PULL_NOTIFS_FILE	"notifications.json"
/*
 * Caps.  Real sizes (SmokeDetector's lists at full size): the manifest
 * about 20 KB, changes.json 10-30 KB, a 256-event segment about 80 KB,
 * the largest list (watched_keywords.txt) about 2 MB and its JSON 5 MB.
 */
#define HL_PULL_MAX_MANIFEST	((size_t)1 << 20)
#define HL_PULL_MAX_SIG		1024
#define HL_PULL_MAX_CHANGES	((size_t)1 << 20)	/* changes.json */
#define HL_PULL_MAX_SEGMENT	((size_t)1 << 20)	/* one segment */
#define HL_PULL_MAX_EVENTS	((size_t)4 << 20)	/* segments per poll */
#define HL_PULL_MAX_SIZE	((uint64_t)64 << 20)	/* --max-size */
/*
 * A big list's JSON in segments (--json): at most this many segments,
 * each at most this size (2048 items of some 120 bytes make 250 KB).
 */
#define HL_PULL_MAX_LIST_SEGMENTS	65536
#define HL_PULL_MAX_SEGMENT_JSON	((size_t)16 << 20)
/*
 * Parsed JSON costs memory by the value, not by the byte (an empty
 * object is some 250 bytes in jansson), so what is parsed is capped in
 * values too: manifest.json and changes.json (about 900 and 500 today),
 * and the segments of one poll (about 30 values an event; a full window
 * of 4096 events is 123,000).
 */
#define HL_PULL_MAX_VALUES	20000
#define HL_PULL_MAX_EVENT_VALUES	150000

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
	/*
	 * 1: a gzip that is missing or fails its checks is an error, not
	 * fetched from the identity bytes instead (hl_pull_fetch_file):
	 * helios verify checks the mirror's gzips.  A big list's segments
	 * take it from their index's file.
	 */
	int			gz_only;
};

struct hl_pull_list {
	char	*id;
	char	*file;		/* as the manifest says it */
	const char *local;	/* the name pull writes, NULL: unknown id */
	char	*text;		/* "lists/blacklist-keyword.txt" */
	char	*json;
	int	 fmt;		/* enum hl_fmt (this client's, when known) */
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
 * The file name pull writes for a list id (SmokeDetector's), and its
 * format in *fmt, or NULL for an id this client does not know.
 */
const char *hl_pull_known_file(const char *id, int *fmt);

/*
 * Parses manifest.json.  Paths are checked to stay inside the tree and
 * list file names to be plain names; a known list id must name its known
 * file and format; no id may appear twice, and no file for two lists.
 * On error (HL_EINVAL, HL_ENOMEM) m is empty.  Free with
 * hl_pull_manifest_clear().
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
 * Downloads the identity bytes of pf, checked, streaming them to fd (when
 * not -1) and appending them to buf (when not NULL): its .gz when it has
 * one (the object copy first, then the path), else the identity file.
 * A .gz that is missing or fails its checks gives way to the identity
 * file, unless pf->gz_only; when that fails too, the .gz's error is
 * returned.  *fell, when fell is not NULL, counts each time the identity
 * file stood in.
 * Returns HL_ETOOBIG, before any request, when pf claims more than max
 * bytes (identity or .gz); HL_EINVAL when a hash or size does not match,
 * the body is longer than claimed or the gzip is bad; or an
 * hl_fetch_stream() code (HL_ENOTFOUND, HL_EIO, HL_EBUSY).  On error buf
 * is empty and fd holds garbage: the caller removes its file.
 */
int	hl_pull_fetch_file(int fd, struct hl_buf *buf, struct hl_fetch *f,
	    const struct hl_pull_file *pf, uint64_t max, size_t *fell,
	    struct hl_err *err);

/*
 * Where an assembled list's JSON holds each segment's items: the bytes
 * between {"items":[ and ]}\n of the segment named sha256, at off, len
 * bytes.  pull records them in its state, so that the next assembly takes
 * the segments that did not change from the file it wrote before.
 */
struct hl_pull_jseg {
	char		sha256[65];
	uint64_t	off;
	uint64_t	len;
};

/*
 * Segment reuse for hl_pull_list_json.  In: oldfd, the JSON assembled
 * before (-1: none), and old, what it held where (hints: every slice
 * taken is checked against its segment's hash, and fetched when it does
 * not match).  Out: made, where the new file holds each segment (n 0 for
 * a whole-form list), reused, how many segments were taken from oldfd,
 * and fellback, how many files were taken whole for a gzip that failed
 * (hl_pull_fetch_file).  made is the caller's to free (free(made)).
 */
struct hl_pull_jsegs {
	int			 oldfd;
	const struct hl_pull_jseg *old;
	size_t			 nold;
	struct hl_pull_jseg	*made;
	size_t			 nmade;
	size_t			 reused;
	size_t			 fellback;
};

/*
 * Writes list l's JSON to fd, as the whole-list document, from the whole
 * form or assembled from a big list's segments (listjson.c, and
 * site/docs/protocol.html section 4a), every file checked against the
 * hashes and sizes the manifest and the index name.  HL_EINVAL on a
 * mismatch or a bad index, HL_ETOOBIG over max, or an
 * hl_pull_fetch_file() code.  On error fd holds garbage.  reuse may be
 * NULL (nothing reused, nothing recorded).
 */
int	hl_pull_list_json(int fd, struct hl_fetch *f,
	    const struct hl_pull_manifest *m, const struct hl_pull_list *l,
	    uint64_t max, struct hl_pull_jsegs *reuse, struct hl_err *err);

/*
 * Reads a size for --max-size: digits with an optional k, M or G suffix
 * (powers of 1024), 1 byte to 1 TiB.  -1 if it is not one.
 */
int	hl_pull_parse_size(uint64_t *out, const char *s);

/*
 * Takes DIR's lock: DIR/.helios-lock, made if missing (never through a
 * symlink), held with flock(2) until hl_pull_unlock or exit, then
 * removes the temporary files a crashed pull left.  HL_EBUSY when
 * another process holds it, HL_EIO otherwise.
 */
int	hl_pull_lock(int *fd, const char *dir, struct hl_err *err);
void	hl_pull_unlock(int fd);

struct hl_pull_opts {
	const char	*url;		/* recorded in the state */
	const char	*dir;
	const char	*state;		/* NULL: DIR/.helios-state.json */
	const char	*pubkey;	/* NULL: no signature check */
	int64_t		 now;		/* 0: time(NULL) */
	int		 no_changes;	/* always download changed lists */
	int		 force;		/* replace files pull did not write */
	int		 json;		/* also write each list's JSON */
	uint64_t	 max_size;	/* per file; 0: HL_PULL_MAX_SIZE */
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
	size_t		reused;		/* big lists' JSON segments taken
					   from DIR, not downloaded */
	size_t		kept;		/* lists that did not change */
	size_t		skipped;	/* lists of unknown ids, not written */
	char		skipped_ids[200];	/* their ids, ", "-joined */
	size_t		replaced;	/* files not pull's, replaced (force) */
	size_t		fellback;	/* .gz files that were missing or
					   failed their checks, the file
					   itself taken instead */
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
