/*
 * cmd_restore: `helios restore` rebuilds a database from any one target
 * that holds the published tree:
 *
 *   --from-dir PATH        a local copy (the dir target, an rsync of it)
 *   --from-url URL         a web mirror of the tree (nginx, any server)
 *   --from-s3 URL          an S3 target, s3://BUCKET/PREFIX?endpoint=...
 *                          as the target takes it (or BUCKET/PREFIX), with
 *                          the target's credentials (pub_s3.c)
 *   --from-git PATH|URL    a git pages branch: its newest version
 *
 * This file owns the options and how each kind reads one file of the
 * tree; restore.c does the rest, the same for all.  Every read is bounded
 * by the size the manifest names, and every path read was checked there.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmd.h"
#include "gitarchive.h"
#include "pub_s3.h"
#include "restore.h"
#include "target.h"

#define URL_TIMEOUT_S	30	/* connect, and a transfer that stalls */

/* ---- git: the newest version of a pages branch ---- */

struct git_src {
	const char	*repo;
	const char	*branch;
	int64_t		 version;
};

static int
git_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	struct git_src	*g = arg;
	unsigned char	*data;
	size_t		 len;
	int		 rc;

	if ((rc = hl_gitarchive_read(&data, &len, g->repo, g->branch, path,
	    g->version, 0, err)) != 0)
		return rc;
	if (len > max)
		rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes", path,
		    max);
	else if (hl_buf_put(out, data, len) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	free(data);
	return rc;
}

/* ---- dir: a local copy of the tree ---- */

static int
dir_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	const char	*root = arg;
	char		 p[PATH_MAX], chunk[65536];
	struct stat	 sb;
	ssize_t		 n;
	int		 fd, rc = 0;

	if (snprintf(p, sizeof(p), "%s/%s", root, path) >= (int)sizeof(p))
		return hl_err_set(err, HL_EINVAL, "%s/%s: path too long",
		    root, path);
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return hl_err_set(err, errno == ENOENT ? HL_ENOTFOUND : HL_EIO,
		    "%s: %s", p, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return hl_err_set(err, HL_EIO, "%s: not a regular file", p);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = hl_err_set(err, HL_EIO, "%s: %s", p,
			    strerror(errno));
			break;
		}
		if (out->len + (size_t)n > max) {
			rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
			    p, max);
			break;
		}
		if (hl_buf_put(out, chunk, (size_t)n) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
	}
	close(fd);
	return rc;
}

/* ---- url: a web mirror ---- */

struct url_body {
	struct hl_buf	*out;
	size_t		 max;
	int		 over;
};

static size_t
url_body(char *p, size_t sz, size_t n, void *arg)
{
	struct url_body	*b = arg;

	if (b->out->len + n > b->max) {
		b->over = 1;
		return 0;	/* stop reading */
	}
	if (hl_buf_put(b->out, p, n) != 0)
		return 0;
	(void)sz;
	return n;
}

static int
url_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	const char	*base = arg;
	struct url_body	 b = { out, max, 0 };
	struct hl_buf	 u = HL_BUF_INIT;
	CURLcode	 res;
	CURL		*h;
	long		 status = 0;
	int		 rc = 0;

	if (hl_buf_printf(&u, "%s%s%s", base, base[0] != '\0' &&
	    base[strlen(base) - 1] == '/' ? "" : "/", path) != 0 ||
	    (h = curl_easy_init()) == NULL) {
		hl_buf_free(&u);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	curl_easy_setopt(h, CURLOPT_URL, (const char *)u.data);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "helios-restore");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)URL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)URL_TIMEOUT_S);
	/* The stored bytes, as the manifest hashes them: no decoding. */
	curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, url_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (b.over)
		rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
		    (const char *)u.data, max);
	else if (res != CURLE_OK)
		rc = hl_err_set(err, HL_EIO, "%s: %s", (const char *)u.data,
		    curl_easy_strerror(res));
	else if (status == 404 || status == 410)
		rc = hl_err_set(err, HL_ENOTFOUND, "%s: HTTP %ld",
		    (const char *)u.data, status);
	else if (status == 401 || status == 403)
		rc = hl_err_set(err, HL_EAUTH, "%s: HTTP %ld",
		    (const char *)u.data, status);
	else if (status != 200)
		rc = hl_err_set(err, HL_EIO, "%s: HTTP %ld",
		    (const char *)u.data, status);
	curl_easy_cleanup(h);
	hl_buf_free(&u);
	return rc;
}

/* ---- s3: a bucket, through the S3 target's signed GET ---- */

static int
s3_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	return hl_pub_s3_get(out, arg, path, max, err);
}

int
hl_cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-git", required_argument, NULL, 'g' },
		{ "from-dir", required_argument, NULL, 'D' },
		{ "from-url", required_argument, NULL, 'u' },
		{ "from-s3", required_argument, NULL, 's' },
		{ "branch", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: helios restore --from-dir PATH |"
	    " --from-url URL | --from-s3 URL |\n"
	    "           --from-git PATH|URL [--branch B]"
	    " [--key KEYRING] [--force] [--db PATH]\n";
	struct hl_restore_opts o = HL_RESTORE_OPTS_INIT;
	struct hl_restore_stats st;
	struct hl_restore_src src = { NULL, NULL, NULL };
	struct hl_gitarchive_rev rev;
	struct hl_err e = HL_ERR_INIT;
	struct git_src g = { NULL, NULL, 0 };
	const char *from = NULL, *branch = NULL;
	char *s3url = NULL, what[80];
	void *s3 = NULL;
	int ch, kind = 0, nfrom = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'g': case 'D': case 'u': case 's':
			kind = ch;
			from = optarg;
			nfrom++;
			break;
		case 'b': branch = optarg; break;
		case 'k': o.keyring = optarg; break;
		case 'f': o.force = 1; break;
		case 'd': o.db = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 1;
		}
	}
	if (optind != argc || nfrom != 1 || (branch != NULL && kind != 'g')) {
		fputs(usage, stderr);
		return 1;
	}
	src.name = from;
	switch (kind) {
	case 'g':
		g.repo = from;
		g.branch = branch;
		if (hl_gitarchive_find(&rev, g.repo, g.branch, 0, 0, &e) != 0)
			errx(1, "%s", e.msg);
		if (rev.version < 0)
			errx(1, "%s: the newest commit (%.12s) was not written"
			    " by helios", g.repo, rev.commit);
		g.version = rev.version;
		src.read = git_read;
		src.arg = &g;
		snprintf(what, sizeof(what), " (commit %.12s)", rev.commit);
		break;
	case 'D':
		src.read = dir_read;
		src.arg = (void *)from;
		what[0] = '\0';
		break;
	case 'u':
		if (strncmp(from, "http://", 7) != 0 &&
		    strncmp(from, "https://", 8) != 0)
			errx(1, "%s: not an http:// or https:// URL", from);
		src.read = url_read;
		src.arg = (void *)from;
		what[0] = '\0';
		break;
	case 's':
		if (strncmp(from, "s3://", 5) != 0 && asprintf(&s3url,
		    "s3://%s", from) < 0)
			errx(1, "out of memory");
		if (hl_pub_s3_ops.open(&s3, s3url ? s3url : from, &e) != 0)
			errx(1, "%s", e.msg);
		src.read = s3_read;
		src.arg = s3;
		what[0] = '\0';
		break;
	}
	rc = hl_restore_run(&st, &src, &o, &e);
	if (s3 != NULL)
		hl_pub_s3_ops.close(s3);
	free(s3url);
	if (rc != 0)
		errx(1, "%s; nothing was written", e.msg);
	printf("%s: restored version %lld from %s%s: %zu lists, %zu lines,"
	    " %zu notifications, %zu files checked against the manifest"
	    "%s\n", o.db, (long long)st.version, from, what, st.lists,
	    st.lines, st.notifs, st.files, st.sig_checked ?
	    ", signature verified" : st.signed_tree ?
	    " (signed, but no --key given: signature not checked)" : "");
	printf("The next change gets version %lld.  Tokens are not published,"
	    " so none was restored:\nthe first `helios serve --db %s` writes"
	    " a new admin token; mint the others with\n`helios token create"
	    " NAME --scope write --db %s`.\n", (long long)st.version + 1,
	    o.db, o.db);
	return 0;
}
