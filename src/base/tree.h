/*
 * tree: one version of the published tree, in memory, as the generator
 * hands it to the targets.
 *
 * Every target writes the same files (DESIGN.md, "The published tree"):
 *
 *   manifest.json              mutable, revalidated on every poll, last
 *   manifest.json.gz           its gzip (not named in the manifest)
 *   manifest.json.sig          Ed25519 signature of manifest.json (optional)
 *   lists/<id>.json[.gz]       mutable, short cache
 *   lists/<id>.<txt|yml>[.gz]  mutable, short cache
 *   notifications.json[.gz]    mutable, short cache
 *   changes.json[.gz]          mutable, short cache
 *   changes/<a>-<b>.json[.gz]  immutable change segments
 *   objects/<sha256>[.gz]      immutable, content-addressed copies, and
 *                              the segments of a big list's JSON
 *                              (gen/listseg.h), named by its index
 *   index.html, assets/...     the site, short cache
 *
 * files[] is in publication order: every HL_CACHE_IMMUTABLE file first,
 * then the HL_CACHE_SHORT ones, then HL_CACHE_REVALIDATE (the manifest and
 * its signature) last, so a reader that follows the manifest never sees a
 * file it names missing.  Within a class files are sorted by path.
 *
 * The bytes are borrowed: they belong to the generator and stay valid until
 * its next build.  A target that needs them later copies them.  A big file
 * is not in memory but in a file of the generator's spool (spool.h):
 * data is then NULL and spool names that file, which nobody changes while
 * it is named.  Targets read either kind through hl_file_read or
 * hl_file_each, in bounded pieces.
 */
#ifndef HL_TREE_H
#define HL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum hl_cache {
	HL_CACHE_IMMUTABLE,	/* objects/, changes/: a year, immutable */
	HL_CACHE_SHORT,		/* lists, notifications, changes.json, site */
	HL_CACHE_REVALIDATE,	/* manifest.json[.sig]: no-cache */
};

struct hl_file {
	const char		*path;		/* "lists/watch-keyword.txt" */
	const unsigned char	*data;		/* NULL when spooled */
	size_t			 len;
	const char		*spool;		/* else the file of the bytes */
	char			 sha256[65];	/* lower-case hex */
	char			 md5[33];	/* lower-case hex (S3 ETag); ""
					   for a segment's identity
					   (blob.h, HL_BLOB_NO_MD5) */
	int			 cache;		/* enum hl_cache */
	const char		*content_type;	/* "text/plain; charset=utf-8" */
};

struct hl_tree {
	int64_t			 version;
	const struct hl_file	*files;
	size_t			 n;
	/*
	 * A one-line summary for commit messages and logs:
	 * "v1234: +3 -1 blacklist-website; +1 watch-keyword (by alice)".
	 */
	const char		*summary;
};

/*
 * Reads up to n bytes of f from offset off into buf; *got is how many
 * (0 at the end).  HL_EIO when a spooled file cannot be read.
 */
int		 hl_file_read(const struct hl_file *f, uint64_t off, void *buf,
		    size_t n, size_t *got, struct hl_err *err);
/*
 * Calls fn with f's bytes in order, in pieces of at most HL_FILE_PIECE
 * (one piece for a file in memory).  Stops at fn's first nonzero return,
 * which it returns; HL_EIO when a spooled file cannot be read (or is not
 * f->len bytes long).
 */
#define HL_FILE_PIECE	(1024 * 1024)
int		 hl_file_each(const struct hl_file *f,
		    int (*fn)(const void *p, size_t n, void *arg), void *arg,
		    struct hl_err *err);

/* Cache-Control header value for a class. */
const char	*hl_tree_cache_control(int cache);
/* Content-Type for a path, by its suffix (".gz" gives application/gzip). */
const char	*hl_tree_content_type(const char *path);
/* The class of a path: objects/ and changes/ immutable, manifest* revalidate. */
int		 hl_tree_cache_class(const char *path);

#endif
