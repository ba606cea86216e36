/*
 * gitthin_push: libgit2's smart-HTTP transport carrying a thin pack (see
 * gitthin.h).
 *
 * A smart transport (git_transport_smart) over a subtransport that wraps
 * libgit2's HTTP one (git_smart_subtransport_http): every request goes
 * through untouched but the receive-pack POST.  libgit2 writes that one as
 * the ref-update commands (one write, ending with a flush-pkt) and then
 * its own pack; the first write goes out, then the thin pack instead of
 * libgit2's, then the server's answer is read and its report kept in the
 * struct hl_gitthin_push, and the write fails with HL_GITTHIN_SENT so that
 * libgit2 neither builds nor sends its pack.
 *
 * The report (report-status, in side-band-64k channel 1 when the commands
 * asked for it): "unpack ok" or "unpack <why>", then "ok <ref>" or
 * "ng <ref> <why>" per ref.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitthin.h"

#define MAX_REPORT	(64 * 1024)

struct sub {
	git_smart_subtransport	 parent;
	git_smart_subtransport	*inner;
	struct hl_gitthin_push	*push;
};

struct stream {
	git_smart_subtransport_stream	 parent;
	git_smart_subtransport_stream	*inner;
	struct hl_gitthin_push		*push;
	int				 done;
	char				 tail[16];	/* LS: last bytes read */
	size_t				 ntail;
};

static int
hexlen(const char *p)
{
	int i, v, n = 0;

	for (i = 0; i < 4; i++) {
		if ((v = hl_hexval((unsigned char)p[i])) < 0)
			return -1;
		n = n << 4 | v;
	}
	return n;
}

/* One line of the report (without its newline). */
static void
report_line(struct hl_gitthin_push *p, const char *s, size_t n)
{
	if (n >= 9 && strncmp(s, "unpack ok", 9) == 0)
		p->unpack_ok = 1;
	else if (n >= 7 && strncmp(s, "unpack ", 7) == 0)
		(void)snprintf(p->status, sizeof(p->status), "unpack: %.*s",
		    (int)(n - 7 > 150 ? 150 : n - 7), s + 7);
	else if (n >= 3 && strncmp(s, "ng ", 3) == 0 && !p->rejected) {
		p->rejected = 1;
		(void)snprintf(p->status, sizeof(p->status), "%.*s",
		    (int)(n - 3 > 190 ? 190 : n - 3), s + 3);
	}
}

/* The pkt-lines of data[0..len): the report's lines. */
static void
report(struct hl_gitthin_push *p, const char *data, size_t len)
{
	size_t off = 0, m, line;
	int n;

	while (off + 4 <= len && (n = hexlen(data + off)) >= 0) {
		if (n == 0) {
			off += 4;
			continue;
		}
		if (n < 4 || off + (size_t)n > len)
			break;
		m = (size_t)n - 4;
		off += 4;
		for (line = m; line > 0 && data[off + line - 1] == '\n'; line--)
			;
		report_line(p, data + off, line);
		off += m;
	}
}

/*
 * The side band: pkt-lines whose first byte is the channel; channel 1
 * carries the report's own pkt-lines, 3 a fatal error.
 */
static int
demux(struct hl_gitthin_push *p, const char *data, size_t len)
{
	struct hl_buf b = HL_BUF_INIT;
	size_t off = 0;
	int n;

	while (off + 4 <= len && (n = hexlen(data + off)) >= 0) {
		off += 4;
		if (n == 0)
			continue;
		if (n < 5 || off + (size_t)n - 4 > len)
			break;
		n -= 4;
		if (data[off] == 1 && hl_buf_put(&b, data + off + 1,
		    (size_t)n - 1) != 0) {
			hl_buf_free(&b);
			return -1;
		}
		if (data[off] == 3)
			(void)snprintf(p->status, sizeof(p->status), "%.*s",
			    n - 1 > 190 ? 190 : n - 1, data + off + 1);
		off += (size_t)n;
	}
	if (b.len > 0)
		report(p, b.data, b.len);
	hl_buf_free(&b);
	return 0;
}

static int
stream_read(git_smart_subtransport_stream *s, char *buffer, size_t size,
    size_t *got)
{
	struct stream *st = (struct stream *)s;

	return st->inner->read(st->inner, buffer, size, got);
}

/*
 * Is the capability "no-thin" in data[0..n)?  Capabilities are separated
 * by spaces and follow a NUL; a ref name starts with "refs/".
 */
static int
has_no_thin(const char *data, size_t n)
{
	const char *p = data, *end = data + n;

	while ((p = memmem(p, end - p, "no-thin", 7)) != NULL) {
		if (p > data && (p[-1] == ' ' || p[-1] == '\0') &&
		    (p + 7 == end || p[7] == ' ' || p[7] == '\n'))
			return 1;
		p++;
	}
	return 0;
}

/* The refs advertised for a push: does the server take thin packs? */
static int
stream_read_ls(git_smart_subtransport_stream *s, char *buffer, size_t size,
    size_t *got)
{
	struct stream *st = (struct stream *)s;
	char win[sizeof(st->tail) + 64];
	size_t n, k;
	int rc;

	if ((rc = st->inner->read(st->inner, buffer, size, got)) < 0)
		return rc;
	n = *got;
	if (has_no_thin(buffer, n))
		st->push->no_thin = 1;
	/* A token cut between two reads. */
	k = n < 64 ? n : 64;
	memcpy(win, st->tail, st->ntail);
	memcpy(win + st->ntail, buffer, k);
	if (has_no_thin(win, st->ntail + k))
		st->push->no_thin = 1;
	k = n < sizeof(st->tail) ? n : sizeof(st->tail);
	if (k == sizeof(st->tail))
		st->ntail = 0;
	else if (st->ntail + k > sizeof(st->tail)) {
		memmove(st->tail, st->tail + st->ntail + k - sizeof(st->tail),
		    sizeof(st->tail) - k);
		st->ntail = sizeof(st->tail) - k;
	}
	memcpy(st->tail + st->ntail, buffer + n - k, k);
	st->ntail += k;
	return 0;
}

/*
 * The commands go out as libgit2 wrote them, then the thin pack; the
 * answer is read to the end.  Whether the server took it or not, the
 * push is over: HL_GITTHIN_SENT stops libgit2 before its pack.
 */
static int
stream_write(git_smart_subtransport_stream *s, const char *buffer, size_t len)
{
	struct stream *st = (struct stream *)s;
	struct hl_gitthin_push *p = st->push;
	struct hl_buf ans = HL_BUF_INIT;
	const char *nl;
	size_t got;
	int rc, sideband;

	if (st->done)
		return HL_GITTHIN_SENT;
	st->done = 1;
	nl = memchr(buffer, '\n', len);
	sideband = nl != NULL && memmem(buffer, nl - buffer, "side-band-64k",
	    13) != NULL;
	if ((rc = st->inner->write(st->inner, buffer, len)) < 0 ||
	    (rc = st->inner->write(st->inner, p->pack->data,
	    p->pack->len)) < 0)
		return rc;
	for (;;) {
		if ((rc = hl_buf_grow(&ans, 16384)) != 0) {
			hl_buf_free(&ans);
			git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
			return -1;
		}
		if ((rc = st->inner->read(st->inner, ans.data + ans.len,
		    16384, &got)) < 0) {
			hl_buf_free(&ans);
			return rc;
		}
		if (got == 0)
			break;
		ans.len += got;
		if (ans.len > MAX_REPORT) {
			hl_buf_free(&ans);
			git_error_set_str(GIT_ERROR_NET, "push: the server's "
			    "report is too long");
			return -1;
		}
	}
	p->sent = 1;
	if (ans.len == 0)
		p->unpack_ok = 1;	/* no report-status: nothing to say */
	else if (sideband)
		(void)demux(p, ans.data, ans.len);
	else
		report(p, ans.data, ans.len);
	hl_buf_free(&ans);
	git_error_set_str(GIT_ERROR_NET, "thin pack sent");
	return HL_GITTHIN_SENT;
}

static void
stream_free(git_smart_subtransport_stream *s)
{
	struct stream *st = (struct stream *)s;

	st->inner->free(st->inner);
	free(st);
}

static int
sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *t,
    const char *url, git_smart_service_t action)
{
	struct sub *sb = (struct sub *)t;
	struct stream *st;
	git_smart_subtransport_stream *inner = NULL;
	int rc;

	if ((rc = sb->inner->action(&inner, sb->inner, url, action)) < 0)
		return rc;
	if (!(action == GIT_SERVICE_RECEIVEPACK && sb->push->pack != NULL) &&
	    action != GIT_SERVICE_RECEIVEPACK_LS) {
		*out = inner;
		return 0;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		inner->free(inner);
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	st->parent.subtransport = t;
	if (action == GIT_SERVICE_RECEIVEPACK_LS) {
		sb->push->no_thin = 0;
		st->parent.read = stream_read_ls;
		st->parent.write = inner->write;	/* never called */
		st->done = 1;
	} else {
		st->parent.read = stream_read;
		st->parent.write = stream_write;
	}
	st->parent.free = stream_free;
	st->inner = inner;
	st->push = sb->push;
	*out = &st->parent;
	return 0;
}

static int
sub_close(git_smart_subtransport *t)
{
	struct sub *sb = (struct sub *)t;

	return sb->inner->close(sb->inner);
}

static void
sub_free(git_smart_subtransport *t)
{
	struct sub *sb = (struct sub *)t;

	sb->inner->free(sb->inner);
	free(sb);
}

static int
sub_new(git_smart_subtransport **out, git_transport *owner, void *payload)
{
	struct sub *sb;
	int rc;

	if ((sb = calloc(1, sizeof(*sb))) == NULL) {
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	if ((rc = git_smart_subtransport_http(&sb->inner, owner, NULL)) < 0) {
		free(sb);
		return rc;
	}
	sb->parent.action = sub_action;
	sb->parent.close = sub_close;
	sb->parent.free = sub_free;
	sb->push = payload;
	*out = &sb->parent;
	return 0;
}

int
hl_gitthin_transport(git_transport **out, git_remote *owner, void *payload)
{
	git_smart_subtransport_definition *def;

	/*
	 * git_transport_smart keeps the definition's address for the
	 * transport's life: it lives in the push state, as long as the remote.
	 */
	def = &((struct hl_gitthin_push *)payload)->def;
	def->callback = sub_new;
	def->rpc = 1;
	def->param = payload;
	return git_transport_smart(out, owner, def);
}
