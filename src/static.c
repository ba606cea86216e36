/*
 * static: the built-in static file server for the published directory
 * (see static.h for the contract).
 *
 * One request, step by step:
 *
 *   GET /lists/watch-keyword.txt   Accept-Encoding: gzip
 *
 *   1. The path is checked segment by segment: no "..", ".", empty
 *      segment ("//"), backslash or control byte (400); a segment that
 *      starts with a dot (temp files of the publishers) is 404.
 *   1b. When the in-memory table (static_table.h) is fresh and holds the
 *      path (or the directory's index.html), its ready answer is queued:
 *      the 200 of the plain file or of its .gz (by Accept-Encoding, as
 *      in step 3), or the 304 (step 5), all made when the table was
 *      built, with the headers below.  Otherwise, on to step 2.
 *   2. "lists/watch-keyword.txt" is opened relative to the root with
 *      openat2(RESOLVE_BENEATH), which refuses any path, symlinks
 *      included, that leaves the root.  Where the kernel has no openat2
 *      the path is walked one component at a time with O_NOFOLLOW, so no
 *      symlink is followed at all.  A directory is replaced by its
 *      index.html.
 *   3. "lists/watch-keyword.txt.gz" is opened the same way.  If it is
 *      there the answer carries Vary: Accept-Encoding, and if the client
 *      accepts gzip (q > 0, "*" included) the .gz is what is sent, with
 *      Content-Encoding: gzip and the Content-Type of the plain file.
 *   4. The ETag of the chosen file is its quoted MD5, from the cache when
 *      (path, st_dev, st_ino, st_size, st_mtim) of the open descriptor
 *      match, else computed from the descriptor and stored.  Everything is
 *      taken from fstat of the one descriptor that is sent, so a rename
 *      in between cannot pair old bytes with a new ETag.
 *   5. If-None-Match (or, only when it is absent, If-Modified-Since)
 *      gives a 304 without a body; otherwise the descriptor goes to
 *      MHD_create_response_from_fd, which sends it with sendfile.
 *
 * The ETag cache of step 4 is a small open-addressed table: a path hashes
 * to a slot and the next few; a miss replaces the least recently used of
 * them.  Its entries are a path and a few integers, so a full table is
 * about 100 KiB.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "etagmark.h"
#include "static.h"
#include "static_table.h"
#include "tree.h"

#define HL_STATIC_MAX_PATH	1024		/* longest relative path */
#define HL_STATIC_SLOTS		1024		/* power of two */
#define HL_STATIC_PROBE		8
#define HL_STATIC_ETAG_LEN	HL_STABLE_ETAG_LEN

struct etag_entry {
	char		*path;		/* NULL: empty slot */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
	uint64_t	 used;
	char		 etag[HL_STATIC_ETAG_LEN];
};

struct hl_static {
	int			 rootfd;
	int			 walk;	/* no openat2: walk with O_NOFOLLOW */
	pthread_mutex_t		 mu;
	uint64_t		 tick;
	struct etag_entry	*slots;
	struct hl_stable	*table;	/* the tree in memory */
	atomic_ulong		 hits;
};

/* One representation about to be sent: an open file and its validators. */
struct rep {
	int		fd;
	struct stat	st;
	char		etag[HL_STATIC_ETAG_LEN];
	char		lastmod[40];
};

/* What the request headers say, gathered over every line of each. */
struct conds {
	const char	*etag;
	int		 inm_present;
	int		 inm_match;
	int		 gzip_q;	/* -1: gzip not named */
	int		 star_q;	/* -1: "*" not named */
};

static const char *const wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};


static uint64_t
hash_path(const char *p)
{
	uint64_t h = 1469598103934665603ULL;

	while (*p != '\0') {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static int
same_version(const struct etag_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	    e->size == st->st_size &&
	    e->mtim.tv_sec == st->st_mtim.tv_sec &&
	    e->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* The ETag of the file open on fd, known as path: cached or computed. */
static int
etag_get(struct hl_static *s, char etag[HL_STATIC_ETAG_LEN],
    const char *path, int fd, const struct stat *st)
{
	struct etag_entry *e, *victim = NULL;
	size_t h, i;
	char *copy;
	int rc;

	h = (size_t)hash_path(path);
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < HL_STATIC_PROBE; i++) {
		e = &s->slots[(h + i) & (HL_STATIC_SLOTS - 1)];
		if (e->path != NULL && strcmp(e->path, path) == 0) {
			if (same_version(e, st)) {
				memcpy(etag, e->etag, HL_STATIC_ETAG_LEN);
				e->used = ++s->tick;
				pthread_mutex_unlock(&s->mu);
				return 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);

	/* Hash outside the lock: a large object must not stall the rest. */
	if ((rc = hl_etagmark_hash(etag, fd, st)) != 0)
		return rc;
	if ((copy = strdup(path)) == NULL)
		return 0;	/* served all the same, just not cached */

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < HL_STATIC_PROBE; i++) {
		e = &s->slots[(h + i) & (HL_STATIC_SLOTS - 1)];
		if (e->path != NULL && strcmp(e->path, path) == 0) {
			victim = e;	/* an older version of this path */
			break;
		}
		if (victim == NULL || (victim->path != NULL &&
		    (e->path == NULL || e->used < victim->used)))
			victim = e;
	}
	free(victim->path);
	victim->path = copy;
	victim->dev = st->st_dev;
	victim->ino = st->st_ino;
	victim->size = st->st_size;
	victim->mtim = st->st_mtim;
	victim->used = ++s->tick;
	memcpy(victim->etag, etag, HL_STATIC_ETAG_LEN);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/*
 * Turns the decoded URL path into a path relative to the root, in out.
 * Returns 0, or -1 for a path that is refused outright (400), or -2 for a
 * path that names a dot file (404).  *dir is set when the URL ends in "/".
 */
static int
clean_path(char out[HL_STATIC_MAX_PATH], const char *url, int *dir)
{
	const char *p, *seg;
	size_t n, o = 0, k;
	int hidden = 0;

	*dir = 0;
	if (url == NULL || url[0] != '/')
		return -1;
	p = url + 1;
	if (*p == '\0') {
		strcpy(out, ".");
		*dir = 1;
		return 0;
	}
	while (*p != '\0') {
		seg = p;
		n = strcspn(p, "/");
		if (n == 0)
			return -1;
		for (k = 0; k < n; k++) {
			unsigned char c = (unsigned char)seg[k];

			if (c == '\\' || c < 0x20 || c == 0x7f)
				return -1;
		}
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return -1;
		if (seg[0] == '.')
			hidden = 1;
		if (o + (o > 0) + n >= HL_STATIC_MAX_PATH - 16)
			return -1;	/* room is kept for "/index.html.gz" */
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
		p += n;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				*dir = 1;
		}
	}
	out[o] = '\0';
	return hidden ? -2 : 0;
}

/* Opens rel one component at a time, never following a symlink. */
static int
open_walk(int rootfd, const char *rel, int flags)
{
	char comp[HL_STATIC_MAX_PATH];
	const char *p = rel;
	size_t n;
	int dfd = rootfd, fd;

	if (strcmp(rel, ".") == 0)
		return openat(rootfd, ".", flags);
	for (;;) {
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof(comp)) {
			errno = EINVAL;
			fd = -1;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (*p == '\0') {
			fd = openat(dfd, comp, flags | O_NOFOLLOW);
			break;
		}
		p++;
		fd = openat(dfd, comp, O_RDONLY | O_CLOEXEC | O_DIRECTORY |
		    O_NOFOLLOW);
		if (dfd != rootfd)
			close(dfd);
		if (fd < 0)
			return -1;
		dfd = fd;
	}
	if (dfd != rootfd) {
		int saved = errno;

		close(dfd);
		errno = saved;
	}
	return fd;
}

/* Opens rel (already cleaned) for reading, without leaving the root. */
static int
open_beneath(struct hl_static *s, const char *rel)
{
	struct open_how how;
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	long fd;

	if (!__atomic_load_n(&s->walk, __ATOMIC_RELAXED)) {
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)flags;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, s->rootfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return (int)fd;
		__atomic_store_n(&s->walk, 1, __ATOMIC_RELAXED);
	}
	return open_walk(s->rootfd, rel, flags);
}

/* Opens rel as a regular file into r.  0, HL_ENOTFOUND or HL_EIO. */
static int
open_rep(struct hl_static *s, struct rep *r, const char *rel, int want_dir)
{
	int fd;

	r->fd = -1;
	if ((fd = open_beneath(s, rel)) < 0) {
		switch (errno) {
		case EMFILE:
		case ENFILE:
		case ENOMEM:
		case EIO:
			return HL_EIO;
		default:	/* ENOENT, ELOOP, EXDEV, ENOTDIR, EACCES... */
			return HL_ENOTFOUND;
		}
	}
	if (fstat(fd, &r->st) != 0) {
		close(fd);
		return HL_EIO;
	}
	if (S_ISDIR(r->st.st_mode) && want_dir >= 0) {
		close(fd);
		return 1;	/* the caller looks for index.html */
	}
	if (!S_ISREG(r->st.st_mode) || want_dir > 0) {
		close(fd);
		return HL_ENOTFOUND;
	}
	r->fd = fd;
	return 0;
}

static void
http_date(char *out, size_t sz, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	snprintf(out, sz, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
month_index(const char *m)
{
	int i;

	for (i = 0; i < 12; i++)
		if (strcmp(m, months[i]) == 0)
			return i;
	return -1;
}

/*
 * Parses an HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime
 * forms that RFC 7231 still asks recipients to accept.  0 or -1.
 */
static int
parse_http_date(const char *v, time_t *out)
{
	struct tm tm;
	char mon[4], wd[16], tail[8];
	int d, y, H, M, S, mi, n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon,
	    &y, &H, &M, &S, tail, &n) == 8 && n > 0 &&
	    strcmp(tail, "GMT") == 0) {
		/* IMF-fixdate */
	} else if (sscanf(v, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n",
	    wd, &d, mon, &y, &H, &M, &S, tail, &n) == 8 && n > 0 &&
	    strcmp(tail, "GMT") == 0) {
		y += y < 70 ? 2000 : 1900;	/* RFC 850 */
	} else if (sscanf(v, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &d,
	    &H, &M, &S, &y, &n) == 7 && n > 0) {
		/* asctime */
	} else
		return -1;
	if (v[n] != '\0' && v[n] != ' ' && v[n] != '\t')
		return -1;
	if ((mi = month_index(mon)) < 0 || d < 1 || d > 31 || H > 23 ||
	    M > 59 || S > 60 || y < 1970 || H < 0 || M < 0 || S < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mi;
	tm.tm_mday = d;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Does one If-None-Match field value match etag?  Weak comparison: a W/
 * prefix is ignored on either side.  "*" matches any current file.
 */
static int
inm_match(const char *v, const char *etag)
{
	const char *p = v, *q;
	size_t elen = strlen(etag);

	if (etag[0] == 'W' && etag[1] == '/')
		etag += 2, elen -= 2;
	for (;;) {
		p = skip_ows(p);
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return 0;	/* malformed: stop, no match */
		if ((q = strchr(p + 1, '"')) == NULL)
			return 0;
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = q + 1;
	}
}

/* A qvalue ("0", "0.5", "1.000") as 0..1000, or -1 if malformed. */
static int
parse_q(const char *p, size_t n)
{
	int v, scale = 100;
	size_t i;

	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	v = (p[0] - '0') * 1000;
	if (n == 1)
		return v;
	if (p[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v += (p[i] - '0') * scale;
	}
	return v > 1000 ? -1 : v;
}

/* Notes the q of gzip and of "*" named in one Accept-Encoding value. */
static void
parse_accept_encoding(const char *v, struct conds *c)
{
	const char *p = v, *tok, *par, *eq;
	size_t tlen, plen;
	int q;

	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return;
		tok = p;
		tlen = strcspn(p, ",; \t");
		p += tlen;
		q = 1000;
		/* parameters: *( OWS ";" OWS name "=" value ) */
		for (;;) {
			p = skip_ows(p);
			if (*p != ';')
				break;
			p = skip_ows(p + 1);
			par = p;
			plen = strcspn(p, ",; \t");
			p += plen;
			eq = memchr(par, '=', plen);
			if (eq != NULL && eq - par == 1 &&
			    (par[0] == 'q' || par[0] == 'Q'))
				q = parse_q(eq + 1, plen - 2);
		}
		/* skip anything left up to the next element */
		p += strcspn(p, ",");
		if (q < 0)
			continue;	/* a malformed element is ignored */
		if ((tlen == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		    (tlen == 6 && strncasecmp(tok, "x-gzip", 6) == 0)) {
			if (q > c->gzip_q)
				c->gzip_q = q;
		} else if (tlen == 1 && tok[0] == '*') {
			if (q > c->star_q)
				c->star_q = q;
		}
	}
}

static enum MHD_Result
each_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct conds *c = cls;

	if (key == NULL || value == NULL)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0)
		parse_accept_encoding(value, c);
	else if (c->etag != NULL &&
	    strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
		c->inm_present = 1;
		if (inm_match(value, c->etag))
			c->inm_match = 1;
	}
	return MHD_YES;
}

static int
accepts_gzip(struct MHD_Connection *conn)
{
	struct conds c = { NULL, 0, 0, -1, -1 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, each_header, &c);
	if (c.gzip_q >= 0)
		return c.gzip_q > 0;
	return c.star_q > 0;
}

/* 304 by If-None-Match, or, only without it, by If-Modified-Since. */
static int
not_modified(struct MHD_Connection *conn, const char *etag, time_t mtime)
{
	struct conds c = { etag, 0, 0, -1, -1 };
	const char *ims;
	time_t t;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, each_header, &c);
	if (c.inm_present)
		return c.inm_match;
	ims = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	if (ims == NULL || parse_http_date(ims, &t) != 0)
		return 0;
	return mtime <= t;
}

/* Types and cache classes come from tree.c, as for every other target. */
static const char *
content_type(const char *rel)
{
	return hl_tree_content_type(rel);
}

static const char *
cache_control(const char *rel)
{
	return hl_tree_cache_control(hl_tree_cache_class(rel));
}

static int
add_common(struct MHD_Response *resp)
{
	/* Tells the site's pages that POST /test is here (caught.js). */
	return MHD_add_response_header(resp, "X-Helios-Test", "test") ==
	    MHD_YES && MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff") == MHD_YES &&
	    MHD_add_response_header(resp, "Accept-Ranges", "none") == MHD_YES;
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, const char *method, unsigned code,
    unsigned *status, size_t *bytes)
{
	struct MHD_Response *resp;
	const char *msg;
	enum MHD_Result ret;

	switch (code) {
	case MHD_HTTP_BAD_REQUEST:
		msg = "bad request\n";
		break;
	case MHD_HTTP_NOT_FOUND:
		msg = "not found\n";
		break;
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		msg = "method not allowed\n";
		break;
	default:
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
		msg = "internal error\n";
		break;
	}
	*status = code;
	*bytes = 0;
	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (!add_common(resp) ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store") != MHD_YES ||
	    (code == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		*bytes = strlen(msg);
	return ret;
}


size_t
hl_static_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	while (*r != '\0') {
		if (r[0] == '%' && (hi = hl_hexval((unsigned char)r[1])) >= 0 &&
		    (lo = hl_hexval((unsigned char)r[2])) >= 0) {
			*w = (char)(hi << 4 | lo);
			if (*w == '\0')
				*w = 0x7f;
			w++;
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/*
 * The headers of a file's answer: the common ones, its validators, its
 * cache class, Vary when it has a .gz, and for a 200 its type and
 * encoding.  1 when all were added.
 */
static int
rep_headers(struct MHD_Response *resp, const char *rel, const char *ctype,
    int ok200, int has_gz, int use_gz, const char *etag, const char *lastmod)
{
	int ok;

	ok = add_common(resp) &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
	    etag) == MHD_YES &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED,
	    lastmod) == MHD_YES &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    cache_control(rel)) == MHD_YES;
	if (ok && has_gz)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
		    MHD_HTTP_HEADER_ACCEPT_ENCODING) == MHD_YES;
	if (ok && ok200)
		ok = MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES;
	if (ok && ok200 && use_gz)
		ok = MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") == MHD_YES;
	return ok;
}

/* The 200 and 304 answers of one representation, from its bytes. */
static int
make_rep(struct hl_stable_rep *r, const char *rel, int has_gz, int use_gz)
{
	char lastmod[40];
	const char *ctype = content_type(rel);

	http_date(lastmod, sizeof(lastmod), r->st.st_mtime);
	if (r->st.st_size == 0)
		r->ok = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	else {
		/* the response holds the bytes until its last use */
		hl_stable_blob_hold(r->blob);
		r->ok = MHD_create_response_from_buffer_with_free_callback_cls(
		    (size_t)r->st.st_size, (void *)r->data, hl_stable_blob_drop,
		    r->blob);
		if (r->ok == NULL)
			hl_stable_blob_drop(r->blob);
	}
	r->nm = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);
	if (r->ok == NULL || r->nm == NULL ||
	    !rep_headers(r->ok, rel, ctype, 1, has_gz, use_gz, r->etag,
	    lastmod) ||
	    !rep_headers(r->nm, rel, ctype, 0, has_gz, use_gz, r->etag,
	    lastmod))
		return -1;
	return 0;
}

/* The table's builder (static_table.h): the finished answers of e. */
static int
make_responses(struct hl_stable_ent *e, void *cls)
{
	int rc;

	rc = make_rep(&e->plain, e->path, e->has_gz, 0);
	if (rc == 0 && e->has_gz)
		rc = make_rep(&e->gz, e->path, 1, 1);
	return rc;
}

/*
 * Answers from the table when it is fresh and holds the file: MHD_YES or
 * MHD_NO as sent, or -1 when the ordinary path is to answer.
 */
static int
serve_table(struct hl_static *s, struct MHD_Connection *conn,
    const char *method, const char *rel, int dir, unsigned *status,
    size_t *bytes)
{
	const struct hl_stable_tab *tab;
	const struct hl_stable_ent *e;
	const struct hl_stable_rep *r;
	char idx[HL_STATIC_MAX_PATH];
	unsigned tok, code;
	enum MHD_Result ret;

	if ((tab = hl_stable_enter(s->table, &tok)) == NULL)
		return -1;
	e = hl_stable_find(tab, rel);
	if (e != NULL && e->dir) {
		/* a directory is answered by its index.html (room kept) */
		snprintf(idx, sizeof(idx), "%s%sindex.html",
		    strcmp(rel, ".") == 0 ? "" : rel,
		    strcmp(rel, ".") == 0 ? "" : "/");
		e = hl_stable_find(tab, idx);
		if (e != NULL && e->dir)
			e = NULL;
	} else if (e != NULL && dir)
		e = NULL;	/* "file/": the ordinary path says 404 */
	if (e == NULL) {
		hl_stable_leave(s->table, tok);
		return -1;
	}
	r = e->has_gz && accepts_gzip(conn) ? &e->gz : &e->plain;
	code = not_modified(conn, r->etag, r->st.st_mtime) ?
	    MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
	ret = MHD_queue_response(conn, code, code == MHD_HTTP_OK ? r->ok :
	    r->nm);
	hl_stable_leave(s->table, tok);
	atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
	if (ret == MHD_YES) {
		*status = code;
		if (code == MHD_HTTP_OK &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			*bytes = (size_t)r->st.st_size;
	} else
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	return ret;
}

int
hl_static_new(struct hl_static **out, const char *root, struct hl_err *err)
{
	struct hl_static *s = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "static: out of memory");
	s->rootfd = -1;
	if ((s->slots = calloc(HL_STATIC_SLOTS, sizeof(*s->slots))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "static: out of memory");
		goto fail;
	}
	s->rootfd = open(root, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (s->rootfd < 0) {
		rc = hl_err_set(err, errno == ENOTDIR || errno == ENOENT ?
		    HL_EINVAL : HL_EIO, "static: %s: %s", root,
		    strerror(errno));
		goto fail;
	}
	if (fstat(s->rootfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = hl_err_set(err, HL_EINVAL, "static: %s: not a directory",
		    root);
		goto fail;
	}
#ifdef HL_STATIC_FORCE_WALK
	s->walk = 1;	/* tests: exercise the path walk without openat2 */
#endif
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		rc = hl_err_set(err, HL_ENOMEM, "static: mutex");
		goto fail;
	}
	if ((rc = hl_stable_new(&s->table, s->rootfd, make_responses, s,
	    err)) != 0) {
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->rootfd >= 0)
		close(s->rootfd);
	free(s->slots);
	free(s);
	return rc;
}

int
hl_static_start(struct hl_static *s, struct hl_err *err)
{
	return s == NULL ? 0 : hl_stable_start(s->table, err);
}

void
hl_static_free(struct hl_static *s)
{
	size_t i;

	if (s == NULL)
		return;
	hl_stable_free(s->table);
	for (i = 0; i < HL_STATIC_SLOTS; i++)
		free(s->slots[i].path);
	free(s->slots);
	pthread_mutex_destroy(&s->mu);
	close(s->rootfd);
	free(s);
}

void
hl_static_publishing(struct hl_static *s, int begin)
{
	if (s != NULL)
		hl_stable_publishing(s->table, begin);
}

void
hl_static_counts(struct hl_static *s, unsigned long *builds,
    unsigned long *hits)
{
	*builds = hl_stable_builds(s->table);
	*hits = atomic_load(&s->hits);
}

enum MHD_Result
hl_static_serve(struct hl_static *s, struct MHD_Connection *conn,
    const char *method, const char *url, unsigned *status, size_t *bytes)
{
	char rel[HL_STATIC_MAX_PATH], gz[HL_STATIC_MAX_PATH + 4];
	struct rep r = { .fd = -1 }, g = { .fd = -1 };
	struct MHD_Response *resp = NULL;
	const char *ctype, *sent_path;
	unsigned code = MHD_HTTP_OK, st_dummy;
	size_t by_dummy;
	enum MHD_Result ret = MHD_NO;
	int dir, rc, is_gz, has_gz = 0, use_gz = 0, head, ok;

	if (status == NULL)
		status = &st_dummy;
	if (bytes == NULL)
		bytes = &by_dummy;
	*status = 0;
	*bytes = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_error(conn, method, MHD_HTTP_METHOD_NOT_ALLOWED,
		    status, bytes);
	head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if ((rc = clean_path(rel, url, &dir)) != 0)
		return send_error(conn, method, rc == -2 ? MHD_HTTP_NOT_FOUND :
		    MHD_HTTP_BAD_REQUEST, status, bytes);
	if ((rc = serve_table(s, conn, method, rel, dir, status, bytes)) >= 0)
		return (enum MHD_Result)rc;
	/* "lists/" must be a directory; "lists" may be either */
	rc = open_rep(s, &r, rel, dir ? 1 : 0);
	if (rc == 1) {
		if (strcmp(rel, ".") == 0)
			strcpy(rel, "index.html");
		else
			strcat(rel, "/index.html");	/* room kept */
		rc = open_rep(s, &r, rel, -1);
	}
	if (rc != 0)
		return send_error(conn, method, rc == HL_ENOTFOUND ?
		    MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
		    status, bytes);

	/* rel now names a regular file, open on r.fd */
	ctype = content_type(rel);
	sent_path = rel;
	is_gz = strcmp(ctype, "application/gzip") == 0;
	if (!is_gz) {
		snprintf(gz, sizeof(gz), "%s.gz", rel);	/* room kept */
		if (open_rep(s, &g, gz, -1) == 0) {
			has_gz = 1;
			if (accepts_gzip(conn)) {
				use_gz = 1;
				close(r.fd);
				r = g;
				g.fd = -1;
				sent_path = gz;
			} else {
				close(g.fd);
				g.fd = -1;
			}
		}
	}

	if (etag_get(s, r.etag, sent_path, r.fd, &r.st) != 0) {
		close(r.fd);
		return send_error(conn, method, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    status, bytes);
	}
	http_date(r.lastmod, sizeof(r.lastmod), r.st.st_mtime);

	if (not_modified(conn, r.etag, r.st.st_mtime)) {
		code = MHD_HTTP_NOT_MODIFIED;
		close(r.fd);
		r.fd = -1;
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else if (r.st.st_size == 0) {
		close(r.fd);
		r.fd = -1;
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		/* the response owns the descriptor from here on */
		resp = MHD_create_response_from_fd((uint64_t)r.st.st_size,
		    r.fd);
		if (resp == NULL)
			close(r.fd);
		r.fd = -1;
	}
	if (resp == NULL) {
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return MHD_NO;
	}

	ok = rep_headers(resp, rel, ctype, code == MHD_HTTP_OK, has_gz, use_gz,
	    r.etag, r.lastmod);
	if (ok) {
		ret = MHD_queue_response(conn, code, resp);
		if (ret == MHD_YES) {
			*status = code;
			if (code == MHD_HTTP_OK && !head)
				*bytes = (size_t)r.st.st_size;
		}
	}
	MHD_destroy_response(resp);
	if (!ok)
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	return ret;
}
