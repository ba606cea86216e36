/*
 * cmd_verify: `helios verify`, which checks a published tree as a client
 * would see it, from a directory or over HTTP (fetch.h).
 *
 * Checked, with one line on stderr for each thing that is wrong:
 *   - manifest.json parses (pull.c) and, with --key, one of its
 *     signatures verifies (sigcheck.h); the manifest has not expired;
 *   - every file the manifest names exists with its size and SHA-256, and
 *     so does its object copy;
 *   - each .gz (and its object copy) has its size and SHA-256 and
 *     decompresses to the identity file;
 *   - every list names its text and JSON files among the files, and a
 *     big list's JSON assembles from its segments (listjson.c: every
 *     segment there, with its sizes, hashes and item count);
 *   - every change segment that changes.json names exists with its size
 *     and SHA-256 (and its .gz, which decompresses to it), and says the
 *     range changes.json gives it;
 *   - with --chain N, the chain of "previous" hashes, followed back at
 *     most N links through objects/<sha256>: each earlier manifest is
 *     there, hashes to the name that points to it, parses, and has a
 *     version no higher than the one after it.  The walk stops early,
 *     and well, at a manifest whose "previous" is null: the chain's start.
 *
 * Exit status: 0 all good, 1 usage, 2 the manifest cannot be read,
 * 3 mismatches, 5 expired, 6 signature (as helios pull).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "fetch.h"
#include "keyring.h"
#include "manifest.h"
#include "pull.h"
#include "sigcheck.h"
#include "sink.h"

static const char verify_usage[] =
"usage: helios verify [--key PUBKEY] [--max-size BYTES] [--chain N] DIR|URL\n"
"\n"
"Checks that every file the manifest of the tree at DIR or URL names is\n"
"there with its size and SHA-256, that each .gz decompresses to its file,\n"
"that the object copies match, and that every change segment matches.\n"
"Files are streamed, never held whole; one the manifest says is larger\n"
"than --max-size (default 64M; suffix k, M or G) is reported as bad.\n"
"With --chain N, also follows the manifest's \"previous\" hash back N\n"
"times through objects/, checking each earlier manifest's hash.\n"
"PUBKEY may be a keyring: PEM public keys one after the other; a\n"
"signature of the manifest by a key it names and the ring holds must\n"
"verify (objects/<sha256>.sigs, or manifest.json.sig).\n"
"\n"
"Exit status: 0 the tree is whole; 1 usage error; 2 the manifest cannot\n"
"be read; 3 a file is missing or does not match; 5 the manifest has\n"
"expired; 6 no signature of the manifest verifies (--key).\n";

struct vctx {
	struct hl_fetch	*f;
	uint64_t	 max;	/* --max-size */
	size_t		 checked;
	size_t		 bad;
};

static void
bad(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
bad(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	fputs("helios verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	v->bad++;
}

/*
 * Streams path through a sink and checks it against r, and when id is not
 * NULL (r is its .gz) checks what it inflates to against id.  Nothing is
 * held unless out is not NULL (small files: changes.json, segments), in
 * which case out receives the identity bytes.  0 when all matches.
 */
static int
check(struct vctx *v, struct hl_buf *out, const char *path,
    const struct hl_pull_ref *r, const struct hl_pull_ref *id)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_err e = HL_ERR_INIT;
	struct hl_sink *sk = NULL;
	char raw[65], idsha[65];
	uint64_t rawn = 0, idn = 0;
	int rc;

	v->checked++;
	if (out != NULL)
		hl_buf_reset(out);
	if ((uint64_t)r->bytes > v->max || (id && (uint64_t)id->bytes >
	    v->max)) {
		bad(v, "%s: the manifest says %lld bytes, over the limit of"
		    " %llu (--max-size)", path, (long long)(id &&
		    (uint64_t)id->bytes > v->max ? id->bytes : r->bytes),
		    (unsigned long long)v->max);
		return -1;
	}
	if ((rc = hl_sink_new(&sk, id != NULL, (uint64_t)r->bytes,
	    id ? (uint64_t)id->bytes : 0, -1, out, &e)) != 0) {
		bad(v, "%s: %s", path, e.msg);
		return rc;
	}
	rc = hl_fetch_stream(&res, v->f, path, NULL, (size_t)r->bytes, 0,
	    hl_sink_write, sk, &e);
	if (rc == 0)
		rc = hl_sink_finish(sk, raw, &rawn, idsha, &idn, &e);
	if (rc == HL_ETOOBIG && strstr(e.msg, "decompresses") == NULL)
		bad(v, "%s: longer than %lld bytes", path, (long long)r->bytes);
	else if (rc == HL_ENOTFOUND)
		bad(v, "%s: missing", path);
	else if (rc != 0)
		bad(v, "%s: %s", path, e.msg);
	else if (rawn != (uint64_t)r->bytes) {
		bad(v, "%s: %llu bytes, expected %lld", path,
		    (unsigned long long)rawn, (long long)r->bytes);
		rc = -1;
	} else if (strcmp(raw, r->sha256) != 0) {
		bad(v, "%s: sha256 %s, expected %s", path, raw, r->sha256);
		rc = -1;
	} else if (id && (idn != (uint64_t)id->bytes ||
	    strcmp(idsha, id->sha256) != 0)) {
		bad(v, "%s: decompresses to sha256 %s (%llu bytes), not %s"
		    " (%s)", path, idsha, (unsigned long long)idn,
		    id->sha256, id->path);
		rc = -1;
	}
	hl_sink_free(sk);
	if (rc != 0 && out != NULL)
		hl_buf_reset(out);
	return rc;
}

/*
 * Checks one file entry, its object and its gz; the identity in *id when
 * id is not NULL (then the file must be under cap bytes).
 */
static void
check_file(struct vctx *v, struct hl_buf *id, const struct hl_pull_file *pf,
    size_t cap)
{
	if (id != NULL && (uint64_t)pf->id.bytes > cap) {
		v->checked++;
		bad(v, "%s: %lld bytes, over the cap of %zu", pf->id.path,
		    (long long)pf->id.bytes, cap);
		id = NULL;
	}
	check(v, id, pf->id.path, &pf->id, NULL);
	if (pf->id.object)
		check(v, NULL, pf->id.object, &pf->id, NULL);
	if (pf->has_gz) {
		check(v, NULL, pf->gz.path, &pf->gz, &pf->id);
		if (pf->gz.object)
			check(v, NULL, pf->gz.object, &pf->gz, &pf->id);
	}
}

/* The "previous" of a manifest: 0 with sha set, 1 for null, -1 bad. */
static int
previous_of(char sha[65], int64_t *version, const struct hl_buf *m)
{
	json_t *doc, *p, *ver;
	const char *h;
	size_t i;
	int rc = -1;

	if ((doc = json_loadb(m->data ? m->data : "", m->len, 0,
	    NULL)) == NULL)
		return -1;
	p = json_object_get(doc, "previous");
	ver = json_object_get(doc, "version");
	if (!json_is_integer(ver))
		goto out;
	*version = json_integer_value(ver);
	if (json_is_null(p)) {
		rc = 1;
		goto out;
	}
	/* A name from the network: 64 lower-case hex digits, nothing else. */
	if ((h = json_string_value(p)) == NULL || strlen(h) != 64)
		goto out;
	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f')))
			goto out;
	memcpy(sha, h, 65);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/*
 * Follows "previous" back from the manifest m at most n links.  *walked
 * counts the manifests seen (m included), *oldest is the version of the
 * last one, and *start is set when the walk reached a null "previous".
 */
static void
check_chain(struct vctx *v, const struct hl_buf *m, long n, size_t *walked,
    int64_t *oldest, int *start)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_buf cur = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	char prev[65], path[80], sha[65];
	int64_t version, pv;
	long k;
	int rc;

	*walked = 1;
	*start = 0;
	if (hl_buf_put(&cur, m->data ? m->data : "", m->len) != 0) {
		bad(v, "chain: out of memory");
		return;
	}
	if ((rc = previous_of(prev, &version, &cur)) < 0) {
		bad(v, "manifest.json: no valid \"previous\" and version");
		goto out;
	}
	*oldest = version;
	for (k = 0; k < n && rc == 0; k++) {
		snprintf(path, sizeof(path), "objects/%s", prev);
		v->checked++;
		hl_err_clear(&e);
		rc = hl_fetch_get(&res, v->f, path, NULL, HL_PULL_MAX_MANIFEST,
		    0, &e);
		if (rc != 0) {
			bad(v, "chain: %s, the manifest before version %lld:"
			    " %s", path, (long long)version,
			    rc == HL_ENOTFOUND ? "missing" : e.msg);
			goto out;
		}
		hl_digest(sha, NULL, res.body.data ? res.body.data : "",
		    res.body.len);
		if (strcmp(sha, prev) != 0) {
			bad(v, "chain: %s: sha256 %s", path, sha);
			goto out;
		}
		hl_buf_free(&cur);
		cur = res.body;
		memset(&res.body, 0, sizeof(res.body));
		if ((rc = previous_of(prev, &pv, &cur)) < 0) {
			bad(v, "chain: %s: not a manifest", path);
			goto out;
		}
		if (pv > version) {
			bad(v, "chain: %s: version %lld before version %lld",
			    path, (long long)pv, (long long)version);
			goto out;
		}
		version = pv;
		*oldest = version;
		(*walked)++;
	}
	*start = rc == 1;
out:
	hl_buf_free(&res.body);
	hl_buf_free(&cur);
}

static void
check_segment(struct vctx *v, const struct hl_pull_seg *g)
{
	struct hl_buf b = HL_BUF_INIT;
	json_t *doc;
	json_int_t from, to;

	check_file(v, &b, &g->f, HL_PULL_MAX_SEGMENT);
	if (b.data == NULL)
		goto out;
	doc = json_loadb(b.data, b.len, 0, NULL);
	from = json_integer_value(json_object_get(doc, "from"));
	to = json_integer_value(json_object_get(doc, "to"));
	if (doc == NULL || !json_is_array(json_object_get(doc, "events")))
		bad(v, "%s: not a change segment", g->f.id.path);
	else if (from != g->from || to != g->to)
		bad(v, "%s: holds %lld-%lld, changes.json says %lld-%lld",
		    g->f.id.path, (long long)from, (long long)to,
		    (long long)g->from, (long long)g->to);
	json_decref(doc);
out:
	hl_buf_free(&b);
}

int
hl_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "chain", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_pull_manifest m = { 0 };
	struct hl_pull_changes c = { 0 };
	struct hl_buf b = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	struct vctx v = { 0 };
	const struct hl_pull_file *pf;
	const char *key = NULL;
	char *end;
	int64_t now = (int64_t)time(NULL), oldest = 0;
	size_t i, nseg = 0, walked = 0;
	long chain = 0, retry;
	int ch, status = 0, expired = 0, start = 0, sigfail;

	v.max = HL_PULL_MAX_SIZE;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
			break;
		case 'm':
			if (hl_pull_parse_size(&v.max, optarg) != 0) {
				fprintf(stderr, "helios verify: --max-size: a"
				    " size such as 64M\n");
				fputs(verify_usage, stderr);
				return 1;
			}
			break;
		case 'c':
			errno = 0;
			chain = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    chain < 1 || chain > 1000000) {
				fprintf(stderr, "helios verify: --chain: want"
				    " a number from 1 to 1000000, not \"%s\"\n",
				    optarg);
				return 1;
			}
			break;
		case 'h':
			fputs(verify_usage, stdout);
			return 0;
		default:
			fputs(verify_usage, stderr);
			return 1;
		}
	}
	if (argc - optind != 1) {
		fputs(verify_usage, stderr);
		return 1;
	}
	if (hl_fetch_new(&v.f, argv[optind], NULL, &e) != 0) {
		fprintf(stderr, "helios verify: %s\n", e.msg);
		return 1;
	}
	if (hl_fetch_get(&res, v.f, "manifest.json", NULL,
	    HL_PULL_MAX_MANIFEST, 0, &e) != 0) {
		fprintf(stderr, "helios verify: %s\n", e.msg);
		status = 2;
		goto out;
	}
	if (hl_pull_manifest_parse(&m, res.body.data, res.body.len, &e) != 0) {
		fprintf(stderr, "helios verify: %s\n", e.msg);
		status = 3;
		goto out;
	}
	if (key != NULL && hl_sigcheck(&sigfail, &retry, v.f, key,
	    res.body.data, res.body.len, &e) != 0) {
		fprintf(stderr, "helios verify: %s\n", e.msg);
		status = sigfail ? 6 : 2;
		goto out;
	}
	if (m.expires_at < now) {
		fprintf(stderr, "helios verify: manifest version %lld expired"
		    " %lld seconds ago\n", (long long)m.version,
		    (long long)(now - m.expires_at));
		expired = 1;
	}
	for (i = 0; i < m.nlists; i++)
		if (m.lists[i].json != NULL &&
		    hl_pull_manifest_file(&m, m.lists[i].json) == NULL)
			bad(&v, "list %s: %s is not among the files",
			    m.lists[i].id, m.lists[i].json);
	for (i = 0; i < m.nfiles; i++)
		check_file(&v, NULL, &m.files[i], 0);
	/* A segment's gzip is checked, not stood in for (pull.h). */
	for (i = 0; i < m.nfiles; i++)
		m.files[i].gz_only = 1;
	for (i = 0; i < m.nlists; i++) {
		int fd;

		if (m.lists[i].json == NULL ||
		    hl_pull_manifest_file(&m, m.lists[i].json) == NULL)
			continue;
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
			bad(&v, "/dev/null: %s", strerror(errno));
		else if (hl_pull_list_json(fd, v.f, &m, &m.lists[i], v.max,
		    NULL, &e) != 0)
			bad(&v, "list %s: %s", m.lists[i].id, e.msg);
		else
			v.checked++;
		if (fd != -1)
			close(fd);
	}
	if ((pf = hl_pull_manifest_file(&m, "changes.json")) != NULL &&
	    (uint64_t)pf->id.bytes <= HL_PULL_MAX_CHANGES &&
	    check(&v, &b, pf->id.path, &pf->id, NULL) == 0) {
		if (hl_pull_changes_parse(&c, b.data, b.len, &e) != 0)
			bad(&v, "%s", e.msg);
		for (i = 0; i < c.nsegs; i++)
			check_segment(&v, &c.segs[i]);
		nseg = c.nsegs;
	}
	if (chain > 0)
		check_chain(&v, &res.body, chain, &walked, &oldest, &start);
	if (v.bad > 0) {
		fprintf(stderr, "helios verify: %zu of %zu checks failed at"
		    " version %lld\n", v.bad, v.checked, (long long)m.version);
		status = 3;
	} else if (expired)
		status = 5;
	else {
		printf("version %lld: %zu files, %zu change segments, %zu"
		    " checks passed\n", (long long)m.version, m.nfiles, nseg,
		    v.checked);
		if (chain > 0)
			printf("chain: %zu manifests, back to version %lld%s\n",
			    walked, (long long)oldest, start ?
			    ", the start of the chain" : "");
	}
out:
	hl_buf_free(&b);
	hl_buf_free(&res.body);
	hl_pull_changes_clear(&c);
	hl_pull_manifest_clear(&m);
	hl_fetch_free(v.f);
	return status;
}
