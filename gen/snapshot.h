/*
 * snapshot: builds the published tree (tree.h) from rows handed to it.
 *
 * The generator never reads the store: the caller gives hl_snap_build a
 * struct hl_snap_source, a few callbacks that hand over lists, items,
 * events and notifications (src/snapsrc.c serves them from the store).
 *
 * A struct hl_snap lives as long as the publisher and caches what it
 * rendered: a list is rendered, compressed and hashed again only when its
 * version moved, so the cost of a change does not grow with the lists it
 * did not touch.  Change segments are immutable and made once.
 *
 * Output is deterministic: the same rows give the same bytes for every
 * file but manifest.json (and its signature), which carries the time it was
 * generated and its expiry.
 */
#ifndef HL_SNAPSHOT_H
#define HL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "item.h"
#include "tree.h"

struct hl_snap;

/* The last measured propagation to one public copy (the site shows it). */
struct hl_snap_prop {
	char	 url[256];	/* the public URL */
	int64_t	 version;	/* seen there and verified */
	double	 seconds;	/* publish done -> visible and verified */
	int64_t	 measured_at;	/* Unix time */
};
#define HL_SNAP_MAX_PROPS	16

/*
 * Where the rows come from.  Every callback takes payload after its
 * out-parameters; arrays returned through them are owned by the generator,
 * which frees them with the matching hl_*s_free of item.h.  On error a
 * callback sets err (which may be NULL), leaves its out-parameters empty
 * and returns an HL_E* code.
 *
 * A build calls begin, then any of the others, then end (also after a
 * failure): every call in between must see one version of the data.
 */
struct hl_snap_source {
	void	*payload;
	int	(*begin)(void *payload, struct hl_err *err);
	void	(*end)(void *payload);
	/* The highest version (0 for no change yet). */
	int64_t	(*version)(void *payload);
	/* The lists, in display order, with counts and versions. */
	int	(*lists)(struct hl_list **out, size_t *n, void *payload,
		    struct hl_err *err);
	/* A list's items in file order, with its verbatim lines. */
	int	(*items)(struct hl_item **out, size_t *n, void *payload,
		    const char *list, struct hl_err *err);
	/*
	 * The same, handed to fn in batches of at most batch items (owned
	 * by the source), so that a list of any size is read in bounded
	 * memory.  A batch stays valid until fn returns for the call after
	 * it: the generator renders one batch on its threads while the
	 * source reads the next.  The last call, always made once, is
	 * fn(NULL, 0, arg): no batch follows (the end, an error, or fn's
	 * nonzero return), and fn lets go of every batch before it returns.
	 * Returns fn's first nonzero return.  NULL: the generator calls
	 * items and hands that on as one batch.
	 */
	int	(*items_each)(void *payload, const char *list, size_t batch,
		    int (*fn)(const struct hl_item *v, size_t n, void *arg),
		    void *arg, struct hl_err *err);
	/* Events with version > since, oldest first, at most limit. */
	int	(*events)(struct hl_event **out, size_t *n, void *payload,
		    int64_t since, size_t limit, struct hl_err *err);
	/* The notifications, ordered by id, and their version. */
	int	(*notifs)(struct hl_notif **out, size_t *n, void *payload,
		    struct hl_err *err);
	int64_t	(*notifs_version)(void *payload);
	/*
	 * The pending proposals, oldest first, at most limit, as a JSON
	 * array (owned by the caller), and their version.  NULL when the
	 * source has none: no proposals.json is made.
	 */
	int	(*proposals)(json_t **out, void *payload, size_t limit,
		    struct hl_err *err);
	int64_t	(*proposals_version)(void *payload);
	/*
	 * The last measured propagation of each watched public copy, at
	 * most max, into out; returns how many.  It is the daemon's
	 * measure, not the store's rows, so it takes prop_payload.  NULL:
	 * the index shows none.
	 */
	size_t	(*propagation)(struct hl_snap_prop *out, size_t max,
		    void *prop_payload);
	void	*prop_payload;
	/*
	 * Told twice a build, before it ends, of immutable files the tree
	 * will hold if the build succeeds: once the lists are rendered,
	 * their files' content-addressed copies (objects/, with .gz) and a
	 * big list's segments; once the site is, every other file's copy
	 * and the change segments (changes/).  The files stay valid until
	 * the next build begins; a caller that writes them ahead
	 * (hl_target_stage) is done with them first.  NULL: not told.
	 */
	void	(*early)(const struct hl_file *files, size_t n,
		    void *early_payload);
	void	*early_payload;
};

struct hl_snap_opts {
	int64_t		 manifest_ttl;	/* seconds; default 7 days */
	int64_t		 poll_interval;	/* seconds clients should wait */
	const char	*site_dir;	/* site/ sources; NULL: built-in page */
	const char	*signing_key;	/* Ed25519 PEM private key, or NULL */
	int		 gzip_level;	/* default HL_BLOB_GZIP_LEVEL */
	int64_t		 now;		/* fixed clock for tests; 0: real */
	int		 no_notifications; /* 1: no notifications.json */
	/*
	 * A plain or tsv list of at least spool_items items is written to
	 * disk as it is rendered (spool.h): its text file, gzip and JSON
	 * segments are then not held in memory.  0: HL_SNAP_SPOOL_ITEMS.
	 */
	int64_t		 spool_items;
	const char	*spool_dir;	/* parent of the spool; NULL: $TMPDIR */
	/*
	 * A list of at least big_items items has its JSON segments
	 * compressed at the big files' level (blob.h,
	 * HL_BLOB_GZIP_BIG_LEVEL), whether it is spooled or not: the same
	 * rows give the same bytes either way.  0: HL_SNAP_BIG_ITEMS.
	 */
	int64_t		 big_items;
};

#define HL_SNAP_SPOOL_ITEMS	100000
#define HL_SNAP_BIG_ITEMS	100000
#define HL_SNAP_BATCH		4096	/* items read at a time */

#define HL_SNAP_OPTS_INIT { .manifest_ttl = 604800, .poll_interval = 60, \
	.gzip_level = 6 }

/* HL_EINVAL / HL_EIO when the signing key can't be loaded. */
int	hl_snap_new(struct hl_snap **out, const struct hl_snap_opts *o,
	    struct hl_err *err);
void	hl_snap_free(struct hl_snap *s);

/*
 * Builds the tree of the source's current version.  *tree borrows from s
 * and stays valid until the next build or hl_snap_free.  On error the
 * previous tree is gone too: build again.
 */
int	hl_snap_build(const struct hl_tree **tree, struct hl_snap *s,
	    const struct hl_snap_source *src, struct hl_err *err);

/*
 * The SHA-256 of the manifest published before this process started, so
 * the chain of "previous" hashes continues across restarts.
 */
void	hl_snap_set_previous(struct hl_snap *s, const char *sha256);

/* What the builds so far did, for tests and benchmarks. */
struct hl_snap_stats {
	int64_t	builds;
	int64_t	lists_rendered;		/* list renders (json + text) */
	int64_t	lists_appended;		/* lists brought up to date by
					   appending new items */
	int64_t	segments_rendered;
	int64_t	list_segments_made;	/* big lists' segments compressed */
	int64_t	bytes_compressed;	/* input bytes given to gzip */
	double	last_build_ms;
};
void	hl_snap_stats(struct hl_snap_stats *out, const struct hl_snap *s);

/* Version and expiry of the last tree built (0 before the first). */
int64_t	hl_snap_version(const struct hl_snap *s);
int64_t	hl_snap_expires(const struct hl_snap *s);

/*
 * 1 when the last tree's manifest should be signed again: the signing
 * key's files changed (a rotation began or was retired) or a rotation's
 * overlap ended (signer.h).  A few stat(2) calls.
 */
int	hl_snap_keys_stale(const struct hl_snap *s);

/*
 * Change segments: the events after oldest..version are published in
 * files of HL_SNAP_SEG_* events, aligned on multiples of their size
 * (changes/1-256.json, changes/257-272.json, changes/273-273.json).  The
 * window keeps HL_SNAP_WINDOW versions; a client further behind downloads
 * whole lists.  The window never reaches below the first event the source
 * holds (a database restored from a published tree has none before that
 * tree's version), so no segment is made again with fewer events under a
 * name published before.
 */
#define HL_SNAP_SEG_BIG		256
#define HL_SNAP_SEG_MID		16
#define HL_SNAP_WINDOW		4096

#endif
