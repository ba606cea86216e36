/*
 * gitstream: a plain TCP stream for libgit2, with TCP_NODELAY and stall
 * limits (see gitstream.h).
 *
 * The socket is non-blocking from the start: connect, read and write each
 * try, and on EAGAIN wait in poll() for at most the limit.  A write sends
 * all it is given (libgit2 passes a chunk at a time) or fails.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitstream.h"

struct stream {
	git_stream	 parent;
	char		*host;
	char		*port;
	int		 fd;
	int		 timeout_ms;	/* the limit when it was made */
};

static atomic_int	limit_ms = HL_GITSTREAM_TIMEOUT_MS;

static void
fail(const struct stream *s, const char *what, int errnum)
{
	char m[512];

	(void)snprintf(m, sizeof(m), "%s %s:%s: %s", what, s->host, s->port,
	    errnum != 0 ? strerror(errnum) : "failed");
	git_error_set_str(GIT_ERROR_NET, m);
}

static void
stalled(const struct stream *s, const char *what)
{
	char m[512];

	(void)snprintf(m, sizeof(m), "%s %s:%s: timed out (no progress for "
	    "%d ms)", what, s->host, s->port, s->timeout_ms);
	git_error_set_str(GIT_ERROR_NET, m);
}

/* Waits until fd is ready for events: 1, 0 on the limit, -1 on error. */
static int
wait_for(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, ms);
	while (rc == -1 && errno == EINTR);
	return rc;
}

/* One address: a connected socket, or -1 with errno (ETIMEDOUT). */
static int
connect_one(const struct addrinfo *a, int ms)
{
	socklen_t len = sizeof(int);
	int fd, soerr = 0, one = 1, rc;

	if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, a->ai_protocol)) == -1)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto bad;
		if ((rc = wait_for(fd, POLLOUT, ms)) <= 0) {
			if (rc == 0)
				errno = ETIMEDOUT;
			goto bad;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto bad;
		if (soerr != 0) {
			errno = soerr;
			goto bad;
		}
	}
	if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return fd;
bad:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int
s_connect(git_stream *g)
{
	struct stream *s = (struct stream *)g;
	struct addrinfo hints, *ai = NULL, *a;
	char m[512];
	int rc, last = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(s->host, s->port, &hints, &ai)) != 0) {
		(void)snprintf(m, sizeof(m), "resolve %s: %s", s->host,
		    gai_strerror(rc));
		git_error_set_str(GIT_ERROR_NET, m);
		return -1;
	}
	for (a = ai; a != NULL && s->fd == -1; a = a->ai_next)
		if ((s->fd = connect_one(a, s->timeout_ms)) == -1)
			last = errno;
	freeaddrinfo(ai);
	if (s->fd != -1)
		return 0;
	if (last == ETIMEDOUT)
		stalled(s, "connect to");
	else
		fail(s, "connect to", last);
	return -1;
}

static ssize_t
s_read(git_stream *g, void *buf, size_t len)
{
	struct stream *s = (struct stream *)g;
	ssize_t n;
	int rc;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	for (;;) {
		if ((n = recv(s->fd, buf, len, 0)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fail(s, "read from", errno);
			return -1;
		}
		if ((rc = wait_for(s->fd, POLLIN, s->timeout_ms)) == 0) {
			stalled(s, "read from");
			return -1;
		}
		if (rc == -1) {
			fail(s, "read from", errno);
			return -1;
		}
	}
}

static ssize_t
s_write(git_stream *g, const char *buf, size_t len, int flags)
{
	struct stream *s = (struct stream *)g;
	size_t off = 0;
	ssize_t n;
	int rc;

	(void)flags;
	if (len > SSIZE_MAX) {
		git_error_set_str(GIT_ERROR_NET, "write: too long");
		return -1;
	}
	while (off < len) {
		n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fail(s, "write to", errno);
			return -1;
		}
		if ((rc = wait_for(s->fd, POLLOUT, s->timeout_ms)) == 0) {
			stalled(s, "write to");
			return -1;
		}
		if (rc == -1) {
			fail(s, "write to", errno);
			return -1;
		}
	}
	return (ssize_t)len;
}

static int
s_close(git_stream *g)
{
	struct stream *s = (struct stream *)g;

	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void
s_free(git_stream *g)
{
	struct stream *s = (struct stream *)g;

	if (s == NULL)
		return;
	(void)s_close(g);
	free(s->host);
	free(s->port);
	free(s);
}

int
hl_gitstream_new(git_stream **out, const char *host, const char *port)
{
	struct stream *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->host = strdup(host)) == NULL ||
	    (s->port = strdup(port != NULL ? port : "80")) == NULL) {
		if (s != NULL)
			free(s->host);
		free(s);
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	s->fd = -1;
	s->timeout_ms = atomic_load(&limit_ms);
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.connect = s_connect;
	s->parent.read = s_read;
	s->parent.write = s_write;
	s->parent.close = s_close;
	s->parent.free = s_free;
	*out = &s->parent;
	return 0;
}

int
hl_gitstream_register(struct hl_err *err)
{
	git_stream_registration r;
	const git_error *e;

	memset(&r, 0, sizeof(r));
	r.version = GIT_STREAM_VERSION;
	r.init = hl_gitstream_new;
	if (git_stream_register(GIT_STREAM_STANDARD, &r) < 0) {
		e = git_error_last();
		return hl_err_set(err, HL_EIO, "git: register the stream: %s",
		    e != NULL && e->message != NULL ? e->message : "failed");
	}
	return 0;
}

void
hl_gitstream_set_timeout(int ms)
{
	atomic_store(&limit_ms, ms);
}

int
hl_gitstream_timeout_env(struct hl_err *err)
{
	const char *v = getenv("HELIOS_GIT_TIMEOUT_MS");
	char *end;
	long ms;

	if (v == NULL || *v == '\0') {
		hl_gitstream_set_timeout(HL_GITSTREAM_TIMEOUT_MS);
		return 0;
	}
	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' ||
	    ms < HL_GITSTREAM_TIMEOUT_MIN || ms > HL_GITSTREAM_TIMEOUT_MAX)
		return hl_err_set(err, HL_EINVAL, "HELIOS_GIT_TIMEOUT_MS must "
		    "be a number of milliseconds from %d to %d",
		    HL_GITSTREAM_TIMEOUT_MIN, HL_GITSTREAM_TIMEOUT_MAX);
	hl_gitstream_set_timeout((int)ms);
	return 0;
}
