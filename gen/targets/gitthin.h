/*
 * gitthin: thin packs for pub_git's pushes, and the smart-HTTP transport
 * that sends them.
 *
 * libgit2 (1.5) builds a push's pack with its packbuilder, which deltas
 * objects only against others in the same pack: a one-line change to a
 * 1.85 MB list sends the whole new blob.  git's own `git push` sends a
 * thin pack instead, whose deltas are against objects the remote already
 * has (receive-pack always completes such a pack, --fix-thin).  This
 * module builds that pack (gitthin.c) and sends the receive-pack request
 * itself through libgit2's own smart-HTTP subtransport (gitthin_push.c),
 * so authentication, the connection and the refs stay libgit2's, while
 * libgit2 builds no pack of its own (its push would read and delta every
 * new object first, then hold the pack whole).  The pack is written into
 * the request as it is made: memory does not grow with its size.
 *
 * The pack holds every commit from tip down to base (excluded), and the
 * trees and blobs of each that its first parent's tree does not have at
 * the same path.  A blob or tree that base's tree has a different version
 * of at the same path is sent as a delta against that version when the
 * delta is less than half of the object and the object is at most 4 MB.
 */
#ifndef HL_GITTHIN_H
#define HL_GITTHIN_H

#include <stddef.h>

#include <git2.h>
#include <git2/sys/transport.h>

#include "buf.h"
#include "err.h"

struct hl_pub_git__cred;

/* Where a pack's bytes go, in order: 0, or an error code of the sink. */
typedef int	(*hl_gitthin_sink)(const void *p, size_t n, void *arg);

/* The objects of one push, found before a byte is written (see below). */
struct hl_gitthin_pack;

/*
 * The objects of a push of the commits from tip down to base (which the
 * remote has; NULL: the remote has none of them).  With thin, changed
 * blobs and trees go as deltas against base's versions (a thin pack);
 * without, every object goes whole.  HL_EINVAL when base is not an
 * ancestor of tip, HL_ENOMEM; err says why.
 */
int	hl_gitthin_plan(struct hl_gitthin_pack **out, git_repository *repo,
	    const git_oid *tip, const git_oid *base, int thin,
	    struct hl_err *err);
/* How many objects the pack holds. */
size_t	hl_gitthin_count(const struct hl_gitthin_pack *pk);
/*
 * Writes the pack to sink in pieces of at most 64 KB, with at most one
 * object (a delta: the object and its base, each at most 4 MB) in
 * memory: bigger objects are read and deflated as a stream.  *ndelta:
 * how many went as deltas.  A sink's error code, or HL_EIO, HL_ENOMEM
 * with err set.
 */
int	hl_gitthin_write(struct hl_gitthin_pack *pk, size_t *ndelta,
	    hl_gitthin_sink sink, void *arg, struct hl_err *err);
/*
 * Blobs whose bytes the caller holds: the lists just written and the
 * versions last pushed, which are the deltas' targets and bases.  Read
 * from memory rather than inflated from the repository again.
 */
struct hl_gitthin_blob {
	git_oid			 id;
	const unsigned char	*data;
	size_t			 len;
};

/*
 * Lets pk's writing read the blobs of v[0..n) from there (each must be
 * the blob its id names); v must outlive the writing.
 */
void	hl_gitthin_known(struct hl_gitthin_pack *pk,
	    const struct hl_gitthin_blob *v, size_t n);

/* Accepts NULL. */
void	hl_gitthin_free(struct hl_gitthin_pack *pk);

/*
 * The git delta that makes target out of source (git's pack delta format:
 * both sizes, then copy and insert instructions), appended to out.
 * HL_ETOOBIG when it would reach max bytes (out is then left as it was).
 */
int	hl_gitthin_delta(struct hl_buf *out, const unsigned char *src,
	    size_t srclen, const unsigned char *tgt, size_t tgtlen, size_t max);

/*
 * A push over smart HTTP.  The transport (hl_gitthin_transport) keeps
 * here what hl_gitthin_send needs from the push connection: its
 * subtransport, the URL and the head of the refs the server advertised
 * (their capabilities).  After a send: sent, the request went out and
 * the server's report was read; unpack_ok, the server took the pack;
 * rejected, a ref it refused ("ng"), with why in status.
 */
struct hl_gitthin_push {
	int			 sent;
	int			 unpack_ok;
	int			 rejected;
	int			 no_thin;	/* the server said "no-thin" */
	char			 status[200];
	void			*sub;		/* the transport's, or NULL */
	char			 url[2048];	/* of the push connection */
	char			 ls[4096];	/* the advertisement's head */
	size_t			 nls;
	git_smart_subtransport_definition def;	/* the transport's */
	/*
	 * Called, when set, once the pack is sent and before the report is
	 * read: work that can overlap the server's unpacking.
	 */
	void			(*idle)(void *arg);
	void			*idle_arg;
};

/* One ref update: old id (zero: create) to new id. */
struct hl_gitthin_cmd {
	git_oid		 old;
	git_oid		 new;
	const char	*ref;
};

/*
 * A git_transport_cb for git_remote_callbacks.transport (payload: a
 * struct hl_gitthin_push): libgit2's smart-HTTP transport, which also
 * keeps in push what hl_gitthin_send needs, and sets push->no_thin when
 * the refs advertised for a push carry the capability "no-thin"
 * (receive.fixThin=false): then no thin pack may be sent.  Only for
 * http:// and https:// URLs.
 */
int	hl_gitthin_transport(git_transport **out, git_remote *owner,
	    void *payload);

/*
 * The receive-pack request of a push, sent by Helios rather than
 * libgit2 (whose push would first build, delta and hold a pack of its
 * own): the ref updates cmd[0..n), then pk's pack written straight into
 * the request body, push->idle, then the server's report read into
 * push.  The remote must be connected for a push through
 * hl_gitthin_transport (refs listed).  0 when the report was read,
 * whatever it says (see push); else HL_EIO, HL_EAUTH (c: the
 * credentials libgit2 was given) or HL_ENOMEM, with err set.
 */
int	hl_gitthin_send(struct hl_gitthin_push *push,
	    const struct hl_gitthin_cmd *cmd, size_t n,
	    struct hl_gitthin_pack *pk, size_t *ndelta,
	    const struct hl_pub_git__cred *c, struct hl_err *err);

#endif
