/*
 * gitthin_push: a push's receive-pack request over libgit2's smart-HTTP
 * transport (see gitthin.h).
 *
 * A smart transport (git_transport_smart) over a subtransport that wraps
 * libgit2's HTTP one (git_smart_subtransport_http): every request goes
 * through untouched, and the refs advertised for a push are watched on
 * their way (the capability "no-thin"; the URL and the first bytes, for
 * the capabilities a request may ask for).  hl_gitthin_send then makes
 * the receive-pack POST itself on that subtransport, with libgit2's
 * authentication and connection: the ref-update commands (pkt-lines, the
 * first carrying the capabilities, then a flush-pkt), the pack written
 * into the body as it is made, and the server's report read back.
 *
 * The report (report-status, in side-band-64k channel 1 when the commands
 * asked for it): "unpack ok" or "unpack <why>", then "ok <ref>" or
 * "ng <ref> <why>" per ref.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitthin.h"
#include "pub_git.h"

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
	char				 tail[16];	/* last bytes read */
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
	k = sizeof(st->push->ls) - st->push->nls;
	if (k > n)
		k = n;
	memcpy(st->push->ls + st->push->nls, buffer, k);
	st->push->nls += k;
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
	if (action != GIT_SERVICE_RECEIVEPACK_LS) {
		*out = inner;
		return 0;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		inner->free(inner);
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	st->parent.subtransport = t;
	sb->push->no_thin = 0;
	sb->push->nls = 0;
	sb->push->sub = sb;
	(void)snprintf(sb->push->url, sizeof(sb->push->url), "%s", url);
	st->parent.read = stream_read_ls;
	st->parent.write = inner->write;	/* never called */
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

	if (sb->push->sub == sb)
		sb->push->sub = NULL;
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

/*
 * The capabilities the advertisement's first ref line carries (after its
 * NUL), into caps; empty when there are none.
 */
static void
adv_caps(char *caps, size_t cap, const char *data, size_t len)
{
	const char *p, *nul;
	size_t off = 0, m, k;
	int n;

	caps[0] = '\0';
	while (off + 4 <= len && (n = hexlen(data + off)) >= 0) {
		if (n == 0) {
			off += 4;
			continue;
		}
		if (n < 4 || off + (size_t)n > len)
			return;
		p = data + off + 4;
		m = (size_t)n - 4;
		off += (size_t)n;
		if (m > 0 && p[0] == '#')	/* "# service=..." */
			continue;
		if ((nul = memchr(p, '\0', m)) == NULL)
			return;
		k = (size_t)(p + m - (nul + 1));
		while (k > 0 && nul[k] == '\n')
			k--;
		if (k >= cap)
			k = cap - 1;
		memcpy(caps, nul + 1, k);
		caps[k] = '\0';
		return;
	}
}

static int
has_cap(const char *caps, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = caps; (p = strstr(p, name)) != NULL; p += n)
		if ((p == caps || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

static int
sink_stream(const void *p, size_t n, void *arg)
{
	git_smart_subtransport_stream *s = arg;

	return s->write(s, p, n);
}

/* The server's answer, read to its end (at most MAX_REPORT bytes). */
static int
read_answer(struct hl_buf *ans, git_smart_subtransport_stream *s)
{
	size_t got;
	int rc;

	for (;;) {
		if (hl_buf_grow(ans, 16384) != 0) {
			git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
			return -1;
		}
		if ((rc = s->read(s, ans->data + ans->len, 16384, &got)) < 0)
			return rc;
		if (got == 0)
			return 0;
		ans->len += got;
		if (ans->len > MAX_REPORT) {
			git_error_set_str(GIT_ERROR_NET, "push: the server's "
			    "report is too long");
			return -1;
		}
	}
}

int
hl_gitthin_send(struct hl_gitthin_push *p, const struct hl_gitthin_cmd *cmd,
    size_t n, struct hl_gitthin_pack *pk, size_t *ndelta,
    const struct hl_pub_git__cred *c, struct hl_err *err)
{
	struct sub *sb = p->sub;
	git_smart_subtransport_stream *s = NULL;
	struct hl_buf b = HL_BUF_INIT, ans = HL_BUF_INIT;
	char caps[1024], want[64], oh[GIT_OID_HEXSZ + 1], nh[GIT_OID_HEXSZ + 1];
	size_t i, start, len;
	int rc, sideband;

	*ndelta = 0;
	p->sent = p->unpack_ok = p->rejected = 0;
	p->status[0] = '\0';
	if (sb == NULL || n == 0)
		return hl_err_set(err, HL_EINVAL, "git push: no connection "
		    "made for a push, or nothing to push");
	adv_caps(caps, sizeof(caps), p->ls, p->nls);
	sideband = has_cap(caps, "side-band-64k");
	(void)snprintf(want, sizeof(want), "%s%s%s",
	    has_cap(caps, "report-status") ? " report-status" : "",
	    sideband ? " side-band-64k" : "",
	    has_cap(caps, "quiet") ? " quiet" : "");
	for (i = 0; i < n; i++) {
		git_oid_tostr(oh, sizeof(oh), &cmd[i].old);
		git_oid_tostr(nh, sizeof(nh), &cmd[i].new);
		start = b.len;
		if (hl_buf_printf(&b, "0000%s %s %s", oh, nh, cmd[i].ref) != 0 ||
		    (i == 0 && (hl_buf_putc(&b, '\0') != 0 ||
		    hl_buf_printf(&b, "%s", want[0] ? want + 1 : "") != 0)) ||
		    hl_buf_putc(&b, '\n') != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
		if ((len = b.len - start) > 65520) {
			rc = hl_err_set(err, HL_EINVAL, "git push: ref name too "
			    "long");
			goto out;
		}
		(void)snprintf(oh, sizeof(oh), "%04zx", len);
		memcpy(b.data + start, oh, 4);
	}
	if (hl_buf_printf(&b, "0000") != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sb->inner->action(&s, sb->inner, p->url,
	    GIT_SERVICE_RECEIVEPACK)) < 0 ||
	    (rc = s->write(s, b.data, b.len)) < 0) {
		rc = hl_pub_git__error(err, rc, c, "git push");
		goto out;
	}
	if ((rc = hl_gitthin_write(pk, ndelta, sink_stream, s, err)) != 0)
		goto out;
	if (p->idle != NULL)
		p->idle(p->idle_arg);
	if ((rc = read_answer(&ans, s)) < 0) {
		rc = hl_pub_git__error(err, rc, c, "git push");
		goto out;
	}
	p->sent = 1;
	if (ans.len == 0 || strstr(want, "report-status") == NULL)
		p->unpack_ok = 1;	/* no report-status: nothing to say */
	else if (sideband)
		(void)demux(p, ans.data, ans.len);
	else
		report(p, ans.data, ans.len);
	rc = 0;
out:
	if (s != NULL)
		s->free(s);
	hl_buf_free(&ans);
	hl_buf_free(&b);
	return rc;
}
