/*
 * http: libmicrohttpd in front of api.c (see http.h).
 *
 * libmicrohttpd runs its own polling threads (a pool of o->threads, with
 * epoll where the system has it) and calls on_request several times per
 * request: once when the headers are in, once per chunk of body, and a
 * last time with no data, when the answer is made.  The per-request state
 * (the body read so far, the start time, the answer) lives in *req_cls and
 * is freed in on_completed.
 *
 * A write that waits for its commit does not hold a thread: api.c submits
 * it to the store and says the answer is pending; the connection is
 * suspended (MHD_suspend_connection) and, when the commit is over,
 * api_done() -- in whichever thread committed -- resumes it; the next
 * call of on_request sends the answer.  A request's state is its
 * connection's until on_completed, which libmicrohttpd calls once the
 * connection is resumed, whether the client is still there or not.
 * async_mu guards what the two threads share (ready, suspended) and the
 * count of requests that may still suspend, which hl_http_stop waits to
 * fall to 0 (libmicrohttpd may not stop with a connection suspended).
 * Otherwise nothing is shared but atomics and what api.c and the store
 * guard themselves.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "buf.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "static.h"

#define STOP_WAIT_MS	10000
#define MAX_EXEMPT	16

struct addr {
	int		 family;
	unsigned char	 a[16];
};

/*
 * What SIGHUP may change while requests run (hl_http_reload): read and
 * written under live_mu.
 */
struct live {
	double			 rate_read, rate_read_burst;
	double			 rate_write, rate_write_burst;
	struct addr		 exempt[MAX_EXEMPT];
	int			 nexempt;
	int			 log_json;
	unsigned		 log_sample;	/* 0 none, 1 all, N: 1 in N */
};

/* Why a 429 was sent: the bucket that was empty. */
enum { LIM_READ, LIM_WRITE_ADDR, LIM_WRITE_TOKEN, NLIM };
static const char *const lim_name[NLIM] = { "read", "write_address",
    "write_token" };

struct hl_http {
	struct MHD_Daemon	*d;
	struct hl_api		*api;
	struct hl_static	*site;
	struct hl_guard		*guard;
	struct hl_rate		*rate;
	struct hl_http_opts	 o;		/* for hl_http_run */
	pthread_mutex_t		 live_mu;
	struct live		 live;
	size_t			 max_body;
	atomic_uint		 log_count;	/* for access_log_sample */
	int			 fd;
	int			 port;
	atomic_int		 inflight;
	/* For /metrics (see hl_http_opts): counters since the start. */
	atomic_uint_fast64_t	 limited[NLIM];
	atomic_uint_fast64_t	 refused_total;	/* at max_connections */
	atomic_uint_fast64_t	 refused_per_ip;
	atomic_uint_fast64_t	 idle_cut;
	/* Answers that come later (see the top of this file). */
	pthread_mutex_t		 async_mu;
	pthread_cond_t		 async_cv;	/* nasync fell to 0 */
	unsigned		 nasync;	/* requests that may suspend */
	int			 stopping;	/* no more of them */
};

struct req_state {
	struct hl_buf	 body;
	int		 too_big;
	int		 answered;	/* refused when the headers came */
	uint64_t	 start;		/* microseconds, monotonic */
	struct hl_response res;		/* the answer, pending or not */
	/* A pending answer, under async_mu. */
	struct hl_http	*h;
	struct MHD_Connection *conn;
	int		 ready;		/* res holds it (api_done) */
	int		 suspended;	/* the connection waits for it */
	int		 api_rc;	/* what api_done was told */
};

/* What check_headers() counts while it walks the request's headers. */
struct hdr_scan {
	const char	*bad;		/* the first defect, or NULL */
	int		 nlength;	/* Content-Length fields */
	int		 ntransfer;	/* Transfer-Encoding fields */
	int		 nhost;
	int		 chunked;	/* Transfer-Encoding is "chunked" */
	/* The header block in libmicrohttpd's buffer (see gap_ok). */
	const char	*end;		/* one past the block */
	const char	*prev;		/* one past the last value seen */
	int		 unsure;	/* not laid out as expected */
};

static const char nomem_body[] = "{\"items\":[],\"numItems\":0,"
    "\"error\":\"internal\",\"message\":\"out of memory\"}\n";

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Keeps the URL as sent: api.c decodes it, segment by segment. */
static size_t
unescape_none(void *cls, struct MHD_Connection *conn, char *uri)
{
	return strlen(uri);
}

/*
 * libmicrohttpd's messages, at most LOG_PER_SEC a second: under a flood of
 * bad connections one line per connection would fill the disk.  The count
 * of lines left out is logged with the next one that passes.
 */
#define LOG_PER_SEC	10

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * libmicrohttpd 0.9.75 refuses a connection over its limits with this
 * message, the same for both; the guard's count of open connections tells
 * which limit it was.
 */
#define MHD_LIMIT_MSG	"Server reached connection limit"

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	static time_t window;
	static unsigned used, dropped;
	struct hl_http *h = cls;
	unsigned skipped = 0, open;
	uint64_t ncut;
	char msg[512];
	time_t now = time(NULL);
	size_t n;

	if (h != NULL && strncmp(fmt, MHD_LIMIT_MSG,
	    sizeof(MHD_LIMIT_MSG) - 1) == 0) {
		hl_guard_counts(h->guard, &open, &ncut);
		atomic_fetch_add(open >= h->o.max_conns ? &h->refused_total :
		    &h->refused_per_ip, 1);
	}
	pthread_mutex_lock(&log_mu);
	if (now != window) {
		window = now;
		used = 0;
	}
	if (used >= LOG_PER_SEC) {
		dropped++;
		pthread_mutex_unlock(&log_mu);
		return;
	}
	used++;
	skipped = dropped;
	dropped = 0;
	pthread_mutex_unlock(&log_mu);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (skipped > 0)
		hl_log_warnx("http: %u messages like the next left out",
		    skipped);
	hl_log_warnx("http: %s", msg);
}

/* Rebuilds the raw query "k=v&k2" from libmicrohttpd's arguments. */
static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hl_buf *b = cls;

	if ((b->len > 0 && hl_buf_putc(b, '&') != 0) ||
	    hl_buf_puts(b, key) != 0 ||
	    (value != NULL && (hl_buf_putc(b, '=') != 0 ||
	    hl_buf_puts(b, value) != 0)))
		return MHD_NO;
	return MHD_YES;
}

/* The path for the log: printable ASCII, at most 200 bytes. */
static void
log_path(char *out, size_t len, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char ch;

	for (; *p != '\0' && o + 4 < len; p++) {
		ch = (unsigned char)*p;
		if (ch > ' ' && ch < 0x7f && ch != '%') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0xf];
		}
	}
	if (*p != '\0' && o + 4 <= len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void
access_log(struct hl_http *h, struct req_state *rs, const char *method,
    const char *url, unsigned status, size_t bytes, const char *user)
{
	char path[208], meth[24], *line;
	uint64_t us = now_us() - rs->start;
	json_t *j;
	unsigned sample;
	int json;

	hl_api_observe(h->api, status, us);
	pthread_mutex_lock(&h->live_mu);
	json = h->live.log_json;
	sample = h->live.log_sample;
	pthread_mutex_unlock(&h->live_mu);
	if (sample == 0 || (sample > 1 && status < 500 &&
	    atomic_fetch_add_explicit(&h->log_count, 1,
	    memory_order_relaxed) % sample != 0))
		return;
	log_path(path, sizeof(path), url);
	log_path(meth, sizeof(meth), method);
	if (json && (j = json_pack("{s:s, s:s, s:I, s:I, s:f, s:s}",
	    "method", meth, "path", path, "status", (json_int_t)status,
	    "bytes", (json_int_t)bytes, "ms", (double)(us / 10) / 100.0,
	    "user", user)) != NULL) {
		line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		if (line != NULL) {
			hl_log_info("%s", line);
			free(line);
			return;
		}
	}
	hl_log_info("%s %s %u %zu %.2f %s", meth, path, status, bytes,
	    (double)us / 1000.0, user);
}

static enum MHD_Result
send_response(struct MHD_Connection *conn, struct hl_response *res,
    size_t *bytes)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *data;

	data = hl_buf_detach(&res->body, &len);
	if (data == NULL)
		len = 0;
	r = MHD_create_response_from_buffer(len, data ? data : (void *)"",
	    data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    res->content_type ? res->content_type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (res->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
	ret = MHD_queue_response(conn, res->status, r);
	MHD_destroy_response(r);
	*bytes = len;
	return ret;
}

/*
 * Answers status with the usual JSON error body.  close: the connection
 * is closed after it (framing that cannot be trusted: its bytes after the
 * headers could be read as another request, RFC 9112 sections 5.1 and
 * 6.3).  retry: a Retry-After in seconds, or 0.
 */
static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned status, const char *code,
    const char *why, int close, unsigned retry, size_t *bytes)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char body[256], ra[16];
	int n;

	n = snprintf(body, sizeof(body), "{\"items\":[],\"numItems\":0,"
	    "\"error\":\"%s\",\"message\":\"%s\"}\n", code, why);
	if (n < 0 || (size_t)n >= sizeof(body))
		return MHD_NO;
	r = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	if (retry > 0) {
		snprintf(ra, sizeof(ra), "%u", retry);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	*bytes = (size_t)n;
	return ret;
}

static int
is_token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("\"(),/:;<=>?@[\\]{}",
	    ch) == NULL;
}

/*
 * libmicrohttpd 0.9.75 cuts a header value at a NUL byte and keeps the
 * request, so the value it hands over cannot show one.  Its fields stay in
 * the read buffer where they arrived, in order, between the version and
 * the end of the header block; only line ends (which it overwrites with
 * NUL), spaces and the colon may lie between one field and the next.
 * Any other byte there was hidden behind a NUL.  When the pointers are not
 * laid out so (another version of the library), nothing is concluded.
 */
static int
gap_ok(struct hdr_scan *hs, const char *from, const char *to,
    const char *allowed)
{
	const char *p;

	if (hs->unsure || from == NULL || to == NULL || from > to ||
	    to > hs->end) {
		hs->unsure = 1;
		return 1;
	}
	for (p = from; p < to; p++)
		if (*p != '\0' && strchr(allowed, *p) == NULL)
			return 0;
	return 1;
}

/*
 * One header field: its name must be an RFC 9110 token (so "Name :" with
 * a space before the colon is refused, not ignored), its value free of
 * NUL and other control bytes (tab aside).  Counts the framing fields.
 */
static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct hdr_scan *hs = cls;
	size_t i;

	if (key_size == 0)
		hs->bad = "a header field has an empty name";
	for (i = 0; i < key_size && hs->bad == NULL; i++)
		if (!is_token_char((unsigned char)key[i]))
			hs->bad = "a header field name has a space or a"
			    " character outside a token";
	for (i = 0; value != NULL && i < value_size && hs->bad == NULL; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
		    value[i] == 0x7f)
			hs->bad = "a header field value has a NUL or a"
			    " control character";
	if (hs->bad == NULL && (!gap_ok(hs, hs->prev, key, "\r\n \t") ||
	    !gap_ok(hs, key + key_size, value, ": \t")))
		hs->bad = "a header field has a NUL byte";
	hs->prev = value != NULL ? value + value_size : NULL;
	if (hs->bad != NULL)
		return MHD_NO;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		hs->nlength++;
		if (value == NULL || value_size == 0 ||
		    strspn(value, "0123456789") != value_size)
			hs->bad = "Content-Length is not a number";
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		hs->ntransfer++;
		hs->chunked = value != NULL &&
		    strcasecmp(value, "chunked") == 0;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		hs->nhost++;
	return hs->bad != NULL ? MHD_NO : MHD_YES;
}

/*
 * Checks the framing of a request whose headers are in.  Returns 0, or
 * the status to answer (400, 501) with *why set.
 */
static unsigned
check_headers(struct MHD_Connection *conn, const char *method,
    const char *version, const char **why)
{
	const union MHD_ConnectionInfo *ci;
	struct hdr_scan hs = { 0 };

	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL || version < method)
		hs.unsure = 1;
	else {
		hs.end = method + ci->header_size;
		hs.prev = version + strlen(version);
	}
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &hs);
	if (hs.bad == NULL && !gap_ok(&hs, hs.prev, hs.end, "\r\n \t"))
		hs.bad = "a header field has a NUL byte";
	if (hs.bad != NULL)
		*why = hs.bad;
	else if (hs.nlength > 1)
		*why = "more than one Content-Length";
	else if (hs.nlength > 0 && hs.ntransfer > 0)
		*why = "both Content-Length and Transfer-Encoding";
	else if (hs.ntransfer > 1)
		*why = "more than one Transfer-Encoding";
	else if (hs.ntransfer == 1 && !hs.chunked) {
		*why = "the only transfer coding taken is chunked";
		return 501;
	} else if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
	    hs.nhost != 1)
		*why = "an HTTP/1.1 request needs exactly one Host";
	else
		return 0;
	return 400;
}

static enum MHD_Result
send_nomem(struct MHD_Connection *conn, size_t *bytes)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(sizeof(nomem_body) - 1,
	    (void *)nomem_body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	ret = MHD_queue_response(conn, 500, r);
	MHD_destroy_response(r);
	*bytes = sizeof(nomem_body) - 1;
	return ret;
}

static int	client_addr(struct addr *, struct MHD_Connection *);

/* The client's address as text, or "" when unknown. */
static const char *
client_addr_text(char *buf, size_t len, struct MHD_Connection *conn)
{
	struct addr a;

	buf[0] = '\0';
	if (client_addr(&a, conn) == 0 &&
	    inet_ntop(a.family, a.a, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
	return buf;
}

/* Sends the answer api.c made (rc: what it returned), and logs it. */
static enum MHD_Result
answer(struct hl_http *h, struct MHD_Connection *conn, struct req_state *rs,
    const char *url, const char *method, int rc)
{
	struct hl_response *res = &rs->res;
	enum MHD_Result ret;
	unsigned status = 500;
	size_t bytes = 0;

	res->pending = 0;
	if (rc != 0) {
		ret = send_nomem(conn, &bytes);
		status = 500;
	} else if (res->unrouted && h->site != NULL && res->path != NULL &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
		ret = hl_static_serve(h->site, conn, method, res->path,
		    &status, &bytes);
	} else {
		status = res->status;
		ret = send_response(conn, res, &bytes);
	}
	if (strcmp(method, "HEAD") == 0)
		bytes = 0;
	access_log(h, rs, method, url, status, bytes, res->user[0] ?
	    res->user : "-");
	hl_response_clear(res);
	return ret;
}

/* One fewer request that may suspend; under async_mu. */
static void
async_over(struct hl_http *h)
{
	if (--h->nasync == 0)
		pthread_cond_broadcast(&h->async_cv);
}

/*
 * api.c's call when a pending answer is made, from the thread that
 * committed the write: the connection is resumed if it was suspended
 * (else dispatch(), still running, sends it).  Nothing of rs is touched
 * after the resume: the connection may be answered and rs freed at once.
 */
static void
api_done(void *arg, int rc)
{
	struct req_state *rs = arg;
	struct hl_http *h = rs->h;

	pthread_mutex_lock(&h->async_mu);
	rs->api_rc = rc;
	rs->ready = 1;
	if (rs->suspended) {
		rs->suspended = 0;
		MHD_resume_connection(rs->conn);
		async_over(h);
	}
	pthread_mutex_unlock(&h->async_mu);
}

/* Answers the request, once its body (if any) is in. */
static enum MHD_Result
dispatch(struct hl_http *h, struct MHD_Connection *conn,
    struct req_state *rs, const char *url, const char *method)
{
	struct hl_request req = { 0 };
	struct hl_buf query = HL_BUF_INIT;
	enum MHD_Result ret;
	char remote[INET6_ADDRSTRLEN];
	int rc;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg,
	    &query);
	req.method = method;
	req.path = url;
	req.query = query.data;
	req.content_type = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.authorization = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.body = rs->body.data;
	req.body_len = rs->body.len;
	req.too_big = rs->too_big;
	req.remote = client_addr_text(remote, sizeof(remote), conn);
	rs->h = h;
	rs->conn = conn;
	/* Only a write may wait for a commit: a read takes no lock here. */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		pthread_mutex_lock(&h->async_mu);
		if (!h->stopping) {
			req.done = api_done;
			req.done_arg = rs;
			h->nasync++;
		}
		pthread_mutex_unlock(&h->async_mu);
	}

	rc = hl_api_handle(&rs->res, h->api, &req);
	hl_buf_free(&query);
	if (req.done != NULL) {
		pthread_mutex_lock(&h->async_mu);
		if (rs->res.pending && !rs->ready) {
			/* api_done resumes it. */
			rs->suspended = 1;
			MHD_suspend_connection(conn);
			pthread_mutex_unlock(&h->async_mu);
			return MHD_YES;
		}
		if (rs->res.pending)
			rc = rs->api_rc;	/* committed already */
		async_over(h);
		pthread_mutex_unlock(&h->async_mu);
	}
	ret = answer(h, conn, rs, url, method, rc);
	return ret;
}

/*
 * A chunked body crossed the limit while it was being read.
 * libmicrohttpd 0.9.75 takes no answer in the middle of a body, so the
 * 413 is written to the socket here (nothing else is being written on it:
 * the previous answer went out before this request was read), the write
 * side is shut, and the caller returns MHD_NO, which closes the
 * connection without reading the rest.
 */
static void
refuse_mid_body(struct hl_http *h, struct MHD_Connection *conn,
    struct req_state *rs, const char *method, const char *url)
{
	static const char body[] = "{\"items\":[],\"numItems\":0,"
	    "\"error\":\"too_large\",\"message\":\"the body is over the"
	    " limit\"}\n";
	const union MHD_ConnectionInfo *ci;
	char msg[512];
	int n;

	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 413 Content Too Large\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(body) - 1, body);
	if (ci != NULL && n > 0 && (size_t)n < sizeof(msg)) {
		(void)send(ci->connect_fd, msg, (size_t)n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)shutdown(ci->connect_fd, SHUT_WR);
	}
	access_log(h, rs, method, url, 413, sizeof(body) - 1, "-");
}

/* The client's address as bytes; 0, or -1 when it has none. */
static int
client_addr(struct addr *out, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(out->a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(out->a, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    16);
	else
		return -1;
	return 0;
}

/*
 * The rate limits: 0 when the request may go on, else the seconds to
 * wait.  The token's bucket is keyed by the Authorization value as sent
 * (hashed, see ratelimit.h): a wrong token is limited like a right one.
 */
static unsigned
rate_check(struct hl_http *h, struct MHD_Connection *conn,
    const char *method)
{
	struct addr a;
	struct live l;
	const char *auth;
	unsigned wait;
	int i;

	/*
	 * The peer's address, always: X-Forwarded-For and its kin are
	 * headers any client can write, so they are never read here.
	 */
	if (client_addr(&a, conn) != 0)
		return 0;
	pthread_mutex_lock(&h->live_mu);
	l = h->live;
	pthread_mutex_unlock(&h->live_mu);
	for (i = 0; i < l.nexempt; i++)
		if (l.exempt[i].family == a.family &&
		    memcmp(l.exempt[i].a, a.a, sizeof(a.a)) == 0)
			return 0;
	if ((wait = hl_rate_take(h->rate, 'r', &a, sizeof(a), l.rate_read,
	    l.rate_read_burst)) != 0) {
		atomic_fetch_add(&h->limited[LIM_READ], 1);
		return wait;
	}
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return 0;
	if ((wait = hl_rate_take(h->rate, 'w', &a, sizeof(a), l.rate_write,
	    l.rate_write_burst)) != 0) {
		atomic_fetch_add(&h->limited[LIM_WRITE_ADDR], 1);
		return wait;
	}
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth != NULL && (wait = hl_rate_take(h->rate, 't', auth,
	    strlen(auth), l.rate_write, l.rate_write_burst)) != 0) {
		atomic_fetch_add(&h->limited[LIM_WRITE_TOKEN], 1);
		return wait;
	}
	return 0;
}

/* Parses "127.0.0.1 ::1" into l->exempt; HL_EINVAL for a bad one. */
static int
parse_exempt(struct live *h, const char *list, struct hl_err *err)
{
	char word[64];
	size_t n;
	struct addr *a;

	while (list != NULL && *list != '\0') {
		list += strspn(list, " ,\t");
		if ((n = strcspn(list, " ,\t")) == 0)
			break;
		if (n >= sizeof(word) || h->nexempt == MAX_EXEMPT)
			return hl_err_set(err, HL_EINVAL, "rate_exempt: at"
			    " most %d addresses", MAX_EXEMPT);
		memcpy(word, list, n);
		word[n] = '\0';
		list += n;
		a = &h->exempt[h->nexempt];
		memset(a, 0, sizeof(*a));
		if (inet_pton(AF_INET, word, a->a) == 1)
			a->family = AF_INET;
		else if (inet_pton(AF_INET6, word, a->a) == 1)
			a->family = AF_INET6;
		else
			return hl_err_set(err, HL_EINVAL, "rate_exempt: \"%s\""
			    " is no IP address", word);
		h->nexempt++;
	}
	return 0;
}

/* The guard's entry for the connection of a request, or NULL. */
static struct hl_guard_conn *
guard_conn(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct hl_http *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx = ci != NULL ? hl_guard_open(h->guard,
		    ci->connect_fd) : NULL;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		hl_guard_close(h->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct hl_http *h = cls;
	struct req_state *rs = *req_cls;
	const char *cl, *why = NULL;
	char *end, msg[64];
	unsigned long long n;
	unsigned bad, wait;
	size_t bytes = 0;
	enum MHD_Result ret;

	if (rs == NULL) {
		if ((rs = calloc(1, sizeof(*rs))) == NULL)
			return MHD_NO;
		rs->res = (struct hl_response)HL_RESPONSE_INIT;
		rs->start = now_us();
		*req_cls = rs;
		atomic_fetch_add(&h->inflight, 1);
		hl_guard_body(h->guard, guard_conn(conn));
		if ((bad = check_headers(conn, method, version, &why)) != 0) {
			ret = send_error(conn, bad, bad == 501 ?
			    "not_implemented" : "bad_request", why, 1, 0,
			    &bytes);
			rs->answered = 1;
			access_log(h, rs, method, url, bad, bytes, "-");
			return ret;
		}
		if ((wait = rate_check(h, conn, method)) != 0) {
			snprintf(msg, sizeof(msg), "too many requests; retry"
			    " in %u s", wait);
			ret = send_error(conn, 429, "rate_limited", msg, 0,
			    wait, &bytes);
			rs->answered = 1;
			access_log(h, rs, method, url, 429, bytes, "-");
			return ret;
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno != 0 || n > h->max_body) {
				/* Refuse before reading a byte of it. */
				rs->too_big = 1;
				return dispatch(h, conn, rs, url, method);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (rs->too_big || rs->answered) {
			/* Answered already: the connection is to close. */
			*upload_data_size = 0;
			return MHD_NO;
		}
		if (rs->body.len + *upload_data_size > h->max_body) {
			/*
			 * A chunked body crossed the limit: refuse it now
			 * rather than read the rest (refuse_mid_body).
			 */
			rs->too_big = 1;
			hl_buf_free(&rs->body);
			*upload_data_size = 0;
			refuse_mid_body(h, conn, rs, method, url);
			return MHD_NO;
		}
		if (hl_buf_put(&rs->body, upload_data,
		    *upload_data_size) != 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rs->answered)
		return MHD_YES;
	if (rs->res.pending)	/* resumed: the answer is in */
		return answer(h, conn, rs, url, method, rs->api_rc);
	hl_guard_answer(h->guard, guard_conn(conn));
	return dispatch(h, conn, rs, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct hl_http *h = cls;
	struct req_state *rs = *req_cls;

	hl_guard_head(h->guard, guard_conn(conn));
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		atomic_fetch_add(&h->idle_cut, 1);
	if (rs == NULL)
		return;
	hl_buf_free(&rs->body);
	hl_response_clear(&rs->res);
	free(rs);
	*req_cls = NULL;
	atomic_fetch_sub(&h->inflight, 1);
}

/* Whether the socket is bound to a loopback address (127/8 or ::1). */
static int
is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	return 0;
}

/*
 * Opens, binds and listens on "host:port" or "[v6]:port".  Returns the
 * socket, or -1 with err set; *v6 is 1 for an IPv6 address.
 */
static int
listen_on(const char *addr, int *v6, int *port, struct hl_err *err)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	const char *colon, *h0, *h1;
	int fd = -1, one = 1, rc;

	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL ||
	    colon[1] == '\0') {
		hl_err_set(err, HL_EINVAL, "listen address '%s': want "
		    "HOST:PORT", addr ? addr : "");
		return -1;
	}
	h0 = addr;
	h1 = colon;
	if (*h0 == '[') {
		if (h1 == h0 || h1[-1] != ']') {
			hl_err_set(err, HL_EINVAL, "listen address '%s': "
			    "want [V6]:PORT", addr);
			return -1;
		}
		h0++;
		h1--;
	}
	if ((size_t)(h1 - h0) >= sizeof(host)) {
		hl_err_set(err, HL_EINVAL, "listen address too long");
		return -1;
	}
	memcpy(host, h0, (size_t)(h1 - h0));
	host[h1 - h0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		hl_err_set(err, HL_EINVAL, "listen address '%s': %s", addr,
		    gai_strerror(rc));
		return -1;
	}
	*v6 = res->ai_family == AF_INET6;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd < 0) {
		hl_err_set(err, HL_EIO, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		hl_err_set(err, HL_EIO, "cannot bind %s: %s", addr,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, 128) != 0) {
		hl_err_set(err, HL_EIO, "cannot listen on %s: %s", addr,
		    strerror(errno));
		goto fail;
	}
	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(res);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

/* The settings SIGHUP may change, from o. */
static int
live_from(struct live *l, const struct hl_http_opts *o, struct hl_err *err)
{
	memset(l, 0, sizeof(*l));
	l->rate_read = o->rate_read;
	l->rate_read_burst = o->rate_read_burst;
	l->rate_write = o->rate_write;
	l->rate_write_burst = o->rate_write_burst;
	l->log_json = o->access_log_json;
	l->log_sample = o->access_log_sample;
	return parse_exempt(l, o->rate_exempt, err);
}

/* The guard's deadlines (and size), from o. */
static void
guard_opts(struct hl_guard_opts *go, const struct hl_http_opts *o)
{
	struct hl_guard_opts init = HL_GUARD_OPTS_INIT;

	*go = init;
	if (o->max_conns)
		go->max_conns = o->max_conns;
	if (o->conn_reserve)
		go->reserve = o->conn_reserve;
	if (o->header_timeout)
		go->header_timeout_ms = o->header_timeout * 1000u;
	if (o->body_timeout)
		go->body_timeout_ms = o->body_timeout * 1000u;
}

/* The counters of the guard and the limits, for GET /metrics. */
static int
http_metrics(struct hl_buf *b, void *payload)
{
	struct hl_http *h = payload;
	struct hl_guard_stats gs;
	int rc = 0, i;

	if (h->guard == NULL)
		return 0;
	hl_guard_stats(h->guard, &gs);
	rc |= hl_buf_printf(b, "# HELP helios_connections_open Client"
	    " connections open now.\n# TYPE helios_connections_open gauge\n"
	    "helios_connections_open %u\n", gs.open);
	rc |= hl_buf_printf(b, "# HELP helios_connections_refused_total"
	    " Connections refused at accept, by the limit reached.\n"
	    "# TYPE helios_connections_refused_total counter\n"
	    "helios_connections_refused_total{reason=\"max_connections\"}"
	    " %" PRIuFAST64 "\n"
	    "helios_connections_refused_total{reason=\"per_ip\"}"
	    " %" PRIuFAST64 "\n", atomic_load(&h->refused_total),
	    atomic_load(&h->refused_per_ip));
	rc |= hl_buf_printf(b, "# HELP helios_connections_cut_total"
	    " Connections cut by a deadline: headers or body too slow,"
	    " waiting for headers while the reserve was in use, idle.\n"
	    "# TYPE helios_connections_cut_total counter\n"
	    "helios_connections_cut_total{reason=\"header_timeout\"}"
	    " %" PRIu64 "\n"
	    "helios_connections_cut_total{reason=\"body_timeout\"}"
	    " %" PRIu64 "\n"
	    "helios_connections_cut_total{reason=\"reserve\"}"
	    " %" PRIu64 "\n"
	    "helios_connections_cut_total{reason=\"idle_timeout\"}"
	    " %" PRIuFAST64 "\n", gs.cut_header, gs.cut_body, gs.cut_reserve,
	    atomic_load(&h->idle_cut));
	rc |= hl_buf_puts(b, "# HELP helios_rate_limited_total Requests"
	    " answered 429, by the bucket that was empty.\n"
	    "# TYPE helios_rate_limited_total counter\n");
	for (i = 0; i < NLIM; i++)
		rc |= hl_buf_printf(b, "helios_rate_limited_total"
		    "{limit=\"%s\"} %" PRIuFAST64 "\n", lim_name[i],
		    atomic_load(&h->limited[i]));
	return rc;
}

int
hl_http_bind(struct hl_http **out, const struct hl_http_opts *o,
    struct hl_err *err)
{
	struct hl_api_opts ao = HL_API_OPTS_INIT;
	struct hl_guard_opts go;
	struct hl_http *h = NULL;
	int v6 = 0, rc, i;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	h->fd = -1;
	h->o = *o;
	h->site = o->site;
	h->max_body = o->max_body ? o->max_body : HL_API_MAX_BODY;
	atomic_init(&h->inflight, 0);
	for (i = 0; i < NLIM; i++)
		atomic_init(&h->limited[i], 0);
	atomic_init(&h->refused_total, 0);
	atomic_init(&h->refused_per_ip, 0);
	atomic_init(&h->idle_cut, 0);
	pthread_mutex_init(&h->live_mu, NULL);
	pthread_mutex_init(&h->async_mu, NULL);
	pthread_cond_init(&h->async_cv, NULL);
	guard_opts(&go, o);
	h->o.max_conns = go.max_conns;
	ao.store = o->store;
	ao.dev_profile = o->dev_profile;
	ao.on_change = o->on_change;
	ao.health = o->health;
	ao.payload = o->payload;
	ao.metrics = http_metrics;
	ao.metrics_payload = h;
	ao.openapi_file = o->openapi_file;
	ao.review = o->review;
	ao.notifications_private = o->notifications_private;
	if ((rc = hl_api_new(&h->api, &ao, err)) != 0 ||
	    (rc = hl_rate_new(&h->rate, err)) != 0 ||
	    (rc = live_from(&h->live, o, err)) != 0)
		goto fail;
	if (go.max_conns == 0 || go.reserve >= go.max_conns) {
		rc = hl_err_set(err, HL_EINVAL, "connection_reserve (%u)"
		    " must be below max_connections (%u)", go.reserve,
		    go.max_conns);
		goto fail;
	}
	atomic_init(&h->log_count, 0);
	if ((h->fd = listen_on(o->listen, &v6, &h->port, err)) < 0) {
		rc = err ? err->code : HL_EIO;
		goto fail;
	}
	/* The dev profile mints admin tokens for anyone who asks. */
	if (o->dev_profile && !is_loopback(h->fd)) {
		rc = hl_err_set(err, HL_EINVAL, "profile dev: listen on a"
		    " loopback address (127.0.0.1, ::1), not %s", o->listen);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	hl_http_stop(h);
	return rc;
}

int
hl_http_run(struct hl_http *h, struct hl_err *err)
{
	const struct hl_http_opts *o = &h->o;
	struct hl_guard_opts go;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned flags, threads;
	int rc;

	guard_opts(&go, o);
	if ((rc = hl_guard_new(&h->guard, &go, err)) != 0)
		return rc;
	threads = o->threads ? o->threads : HL_HTTP_THREADS;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(o->idle_timeout ? o->idle_timeout : 30u),
	    MHD_OPTION_CONNECTION_LIMIT, go.max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)(o->max_conns_per_ip ? o->max_conns_per_ip : 64u),
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->d == NULL)
		return hl_err_set(err, HL_EIO, "cannot start the HTTP server "
		    "on %s", o->listen);
	return 0;
}

int
hl_http_start(struct hl_http **out, const struct hl_http_opts *o,
    struct hl_err *err)
{
	int rc;

	if ((rc = hl_http_bind(out, o, err)) != 0)
		return rc;
	if ((rc = hl_http_run(*out, err)) != 0) {
		hl_http_stop(*out);
		*out = NULL;
	}
	return rc;
}

int
hl_http_reload(struct hl_http *h, const struct hl_http_opts *o,
    struct hl_err *err)
{
	struct hl_guard_opts go;
	struct live l;
	int rc;

	if ((rc = live_from(&l, o, err)) != 0)
		return rc;
	pthread_mutex_lock(&h->live_mu);
	h->live = l;
	pthread_mutex_unlock(&h->live_mu);
	guard_opts(&go, o);
	if (h->guard != NULL)
		hl_guard_set_timeouts(h->guard, go.header_timeout_ms,
		    go.body_timeout_ms);
	return 0;
}

int
hl_http_port(const struct hl_http *h)
{
	return h->port;
}

void
hl_http_stop(struct hl_http *h)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	MHD_socket fd;
	int waited = 0;

	if (h == NULL)
		return;
	if (h->d != NULL) {
		fd = MHD_quiesce_daemon(h->d);
		/*
		 * The writes in flight are in the store's queue: each is
		 * committed (or fails) and answered, and its connection
		 * resumed; the requests that come meanwhile on open
		 * connections wait for their commit in their thread.
		 */
		pthread_mutex_lock(&h->async_mu);
		h->stopping = 1;
		while (h->nasync > 0)
			pthread_cond_wait(&h->async_cv, &h->async_mu);
		pthread_mutex_unlock(&h->async_mu);
		while (atomic_load(&h->inflight) > 0 &&
		    waited < STOP_WAIT_MS) {
			nanosleep(&ts, NULL);
			waited += 10;
		}
		MHD_stop_daemon(h->d);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	} else if (h->fd >= 0)
		close(h->fd);
	hl_guard_free(h->guard);
	hl_rate_free(h->rate);
	hl_api_free(h->api);
	pthread_mutex_destroy(&h->live_mu);
	pthread_mutex_destroy(&h->async_mu);
	pthread_cond_destroy(&h->async_cv);
	free(h);
}
