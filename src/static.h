/*
 * static: serves the published directory over HTTP from inside the
 * daemon, the way a CDN or nginx would serve the same files.
 *
 * GET and HEAD only.  Every file gets an ETag that is the quoted lower-case
 * MD5 hex of its bytes, exactly what S3 sends and what the manifest lists,
 * so a client that polls with If-None-Match sees the same validators
 * whichever target it reads.  A file with a precompressed "<path>.gz"
 * sibling is sent gzipped to clients that accept it (Content-Encoding:
 * gzip, Vary: Accept-Encoding; the gzip variant has the ETag of the .gz
 * bytes).  Cache-Control follows the file class of base/tree.h.
 *
 * The published tree (all but objects/ and changes/) is held in memory,
 * its answers made in advance (static_table.h): a request for one of its
 * files opens nothing, hashes nothing and takes no lock, and the body
 * goes out in one send.  The table is rebuilt when inotify reports a
 * change and is not used while a change is pending, so an answer never
 * lags a publish that has returned.  Other files (objects/, changes/, a
 * tree without inotify) are opened per request; their MD5 is computed
 * once per file version and cached by (path, device, inode, size, mtime):
 * the publishers replace files by rename, so a new version is a new
 * inode.  No request can reach a file outside the root:
 * "..", empty segments, backslashes and dot files are refused, and the
 * open does not follow symlinks out of the root.
 */
#ifndef HL_STATIC_H
#define HL_STATIC_H

#include <stddef.h>
#include <microhttpd.h>

#include "err.h"

struct hl_static;

/*
 * Opens root, the directory to serve.  Returns HL_EINVAL if it is not a
 * directory, HL_ENOMEM or HL_EIO.  On success *out is owned by the caller;
 * free with hl_static_free().  On error *out is NULL.
 */
int	hl_static_new(struct hl_static **out, const char *root,
	    struct hl_err *err);
/*
 * Starts the thread that keeps s's table of the tree fresh (HL_EIO when
 * it cannot); until then s answers from the files alone whenever the
 * tree changed.
 */
int	hl_static_start(struct hl_static *s, struct hl_err *err);
/* Closes the root and drops the ETag cache.  s may be NULL. */
void	hl_static_free(struct hl_static *s);

/*
 * Answers one request for url (the path as libmicrohttpd gives it, already
 * percent-decoded) with method GET or HEAD, queueing the response on conn:
 * 200, 304, 400 (bad path), 404, 405 (with Allow: GET, HEAD) or 500.
 * Returns the result of MHD_queue_response (MHD_NO if no response could
 * be made, which closes the connection), and stores the status sent in
 * *status and the number of body bytes in *bytes (0 for HEAD and 304), for
 * the access log.  status and bytes may be NULL.  Safe to call from
 * several threads at once.
 */
enum MHD_Result hl_static_serve(struct hl_static *s,
	    struct MHD_Connection *conn, const char *method, const char *url,
	    unsigned *status, size_t *bytes);

/*
 * Said by the publisher around each publish to this directory (begin 1,
 * then 0), so that s's table is walked once, right after the publish,
 * and not while it goes on (static_table.h).  s may be NULL.
 */
void	hl_static_publishing(struct hl_static *s, int begin);

/*
 * How many tables were built, and how many requests the table answered
 * (for tests and the logs).
 */
void	hl_static_counts(struct hl_static *s, unsigned long *builds,
	    unsigned long *hits);

/*
 * An MHD_OPTION_UNESCAPE_CALLBACK for the daemon: percent-decodes s in
 * place like libmicrohttpd's own decoder, except that "%00" becomes the
 * byte 0x7f instead of a NUL.  libmicrohttpd hands the handler a C
 * string, so a decoded NUL would silently cut "/manifest.json%00.txt"
 * to "/manifest.json"; with this decoder the path keeps its length and
 * hl_static_serve refuses it (400), as it refuses every control byte.
 * Returns the decoded length.
 */
size_t	hl_static_unescape(void *cls, struct MHD_Connection *conn, char *s);

#endif
