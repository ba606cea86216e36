/*
 * site: the browsable part of the published tree, made from the
 * templates and assets under site/ (see site/README.md) and the data of
 * the build.  Pages, all at the top of the tree so that every link is
 * relative and the site works under a sub-path and from a file:// copy:
 *
 *   index.html          every list: count, last change, files with sizes
 *                       and SHA-256, copyable URLs; version, expiry,
 *                       signing key, the last measured propagation to
 *                       each public copy
 *   <id>.html           one list: its entries (loaded from
 *                       lists/<id>.json.gz by assets/list.js), search,
 *                       sort, provenance; <id>.html#<item id> opens on
 *                       the entry; its recent changes
 *   changes.html        the recent changes of the window, newest first
 *   caught.html         "Is this caught?" (assets/caught.js)
 *   api.html            the write API, from schema/openapi.json
 *   feed.xml            Atom feed of the recent changes; feed-<id>.xml
 *                       one per list
 *
 * Files under site/assets/ and site/docs/ are published as they are.
 * Without a site directory bare pages are made from built-in templates,
 * so a tree is always browsable.  Output depends only on the input:
 * nothing here reads the clock.
 */
#ifndef HL_SITE_H
#define HL_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "item.h"

/* A published file as the index shows it: path, size, hash, its gzip. */
struct hl_site_ref {
	const char	*path;		/* "lists/watch-keyword.json" */
	const char	*sha256;	/* hex */
	size_t		 bytes;
	const char	*gzpath;
	const char	*gzsha256;
	size_t		 gzbytes;
};

struct hl_site_list {
	const struct hl_list	*info;
	struct hl_site_ref	 json;
	struct hl_site_ref	 text;
};

/* A change segment's JSON text (changes/<a>-<b>.json), borrowed. */
struct hl_site_seg {
	int64_t		 from;
	int64_t		 to;
	const char	*data;
	size_t		 len;
};

/*
 * What one build of the site keeps for the next: the parsed change
 * segments, which are immutable, so that a build parses only the new
 * ones.  Optional (NULL: everything is parsed each time).
 */
struct hl_site_cache;
struct hl_par;
int	hl_site_cache_new(struct hl_site_cache **out, struct hl_err *err);
void	hl_site_cache_free(struct hl_site_cache *c);

/* How long a publish took to show at a public URL (monitor, src/). */
struct hl_site_prop {
	const char	*url;
	int64_t		 version;
	double		 seconds;
	int64_t		 measured_at;
};

struct hl_site_in {
	const struct hl_site_list *lists;
	size_t		 nlists;
	int64_t		 version;
	int64_t		 notif_version;	/* 0: no notifications.json */
	int64_t		 ttl;		/* seconds a manifest stays valid */
	const char	*key_fpr;	/* signing key fingerprint, or NULL */
	const struct hl_site_seg *segs;	/* the change window, oldest first */
	size_t		 nsegs;
	struct hl_site_cache *cache;	/* or NULL */
	const struct hl_site_prop *props; /* the public copies, or NULL */
	size_t		 nprops;
	struct hl_par	*par;		/* a second thread (par.h), or NULL */
};

struct hl_site_file {
	char		*path;	/* "assets/style.css" */
	char		*data;
	size_t		 len;
};

/*
 * Renders every page of the site into *out (sorted by path).  site_dir
 * holds the templates (NULL or absent: built-in ones); the API page is
 * made from site_dir/../schema/openapi.json or site_dir/../openapi.json
 * and says so when neither exists.  HL_EIO when a template can't be
 * read, HL_ENOMEM.  On success *out is owned by the caller; free with
 * hl_site_files_free.  On error *out is NULL.
 */
int	hl_site_build(struct hl_site_file **out, size_t *n,
	    const char *site_dir, const struct hl_site_in *in,
	    struct hl_err *err);

/*
 * The static files under site_dir/assets and site_dir/docs, sorted by path.
 * An absent directory gives none.  Free with hl_site_files_free.
 */
int	hl_site_files(struct hl_site_file **out, size_t *n,
	    const char *site_dir, struct hl_err *err);
void	hl_site_files_free(struct hl_site_file *v, size_t n);

/*
 * The fingerprint the site shows for an Ed25519 public key given as its
 * 32 raw bytes: "SHA256:" and the hex SHA-256 of those bytes, into out
 * (at least HL_SITE_FPR_LEN bytes).
 */
#define HL_SITE_FPR_LEN	72
void	hl_site_key_fpr(char *out, const unsigned char *raw, size_t len);

#endif
