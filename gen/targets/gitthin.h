/*
 * gitthin: thin packs for pub_git's pushes, and the smart-HTTP transport
 * that sends them.
 *
 * libgit2 (1.5) builds a push's pack with its packbuilder, which deltas
 * objects only against others in the same pack: a one-line change to a
 * 1.85 MB list sends the whole new blob.  git's own `git push` sends a
 * thin pack instead, whose deltas are against objects the remote already
 * has (receive-pack always completes such a pack, --fix-thin).  This
 * module builds that pack (gitthin.c) and sends it through libgit2's own
 * smart-HTTP transport in place of libgit2's pack (gitthin_push.c), so
 * authentication, the connection and the refs stay libgit2's.
 *
 * The pack holds every commit from tip down to base (excluded), and the
 * trees and blobs of each that its first parent's tree does not have at
 * the same path.  A blob or tree that base's tree has a different version
 * of at the same path is sent as a delta against that version when the
 * delta is less than half of the object and the object is at most 16 MB.
 */
#ifndef HL_GITTHIN_H
#define HL_GITTHIN_H

#include <stddef.h>

#include <git2.h>
#include <git2/sys/transport.h>

#include "buf.h"
#include "err.h"

/*
 * Appends to out the thin pack of the commits from tip down to base (which
 * the remote has).  *nobj and *ndelta give its objects and how many are
 * deltas.  HL_EINVAL when base is not an ancestor of tip.
 */
int	hl_gitthin_pack(struct hl_buf *out, size_t *nobj, size_t *ndelta,
	    git_repository *repo, const git_oid *tip, const git_oid *base,
	    struct hl_err *err);

/*
 * The git delta that makes target out of source (git's pack delta format:
 * both sizes, then copy and insert instructions), appended to out.
 * HL_ETOOBIG when it would reach max bytes (out is then left as it was).
 */
int	hl_gitthin_delta(struct hl_buf *out, const unsigned char *src,
	    size_t srclen, const unsigned char *tgt, size_t tgtlen, size_t max);

/*
 * One thin push: the pack, and after the push what the server said.
 * sent: the pack went out and the server's report was read; unpack_ok:
 * the server took the pack; rejected: a ref it refused ("ng"), with why.
 */
struct hl_gitthin_push {
	const struct hl_buf	*pack;		/* NULL: libgit2's own pack */
	int			 sent;
	int			 unpack_ok;
	int			 rejected;
	int			 no_thin;	/* the server said "no-thin" */
	char			 status[200];
	git_smart_subtransport_definition def;	/* the transport's */
};

/*
 * A git_transport_cb for git_remote_callbacks.transport (payload: a
 * struct hl_gitthin_push): libgit2's smart-HTTP transport, except that the
 * receive-pack request carries push->pack once libgit2 has written its
 * ref updates, after which the push ends with the error
 * HL_GITTHIN_SENT.  Sets push->no_thin when the refs advertised for a
 * push carry the capability "no-thin" (receive.fixThin=false): then no
 * thin pack may be sent.  Only for http:// and https:// URLs.
 */
int	hl_gitthin_transport(git_transport **out, git_remote *owner,
	    void *payload);

#define HL_GITTHIN_SENT	(-4242)

#endif
