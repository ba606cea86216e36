/*
 * cmd_verify: `helios verify`, which checks a published tree as a client
 * would see it, from a directory or over HTTP (fetch.h).
 *
 * Checked, with one line on stderr for each thing that is wrong:
 *   - manifest.json parses (pull.c) and, with --key, manifest.json.sig
 *     verifies; the manifest has not expired;
 *   - every file the manifest names exists with its size and SHA-256, and
 *     so does its object copy;
 *   - each .gz (and its object copy) has its size and SHA-256 and
 *     decompresses to the identity file;
 *   - every list names its text and JSON files among the files;
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
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "blob.h"
#include "client.h"
#include "fetch.h"
#include "manifest.h"
#include "pull.h"

static const char verify_usage[] =
"usage: helios verify [--key PUBKEY] [--chain N] DIR|URL\n"
"\n"
"Checks that every file the manifest of the tree at DIR or URL names is\n"
"there with its size and SHA-256, that each .gz decompresses to its file,\n"
"that the object copies match, and that every change segment matches.\n"
"With --chain N, also follows the manifest's \"previous\" hash back N\n"
"times through objects/, checking each earlier manifest's hash.\n"
"\n"
"Exit status: 0 the tree is whole; 1 usage error; 2 the manifest cannot\n"
"be read; 3 a file is missing or does not match; 5 the manifest has\n"
"expired; 6 manifest.json.sig is missing or does not verify (--key).\n";

struct vctx {
	struct hl_fetch	*f;
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
 * Fetches path and checks it against sha256 and bytes.  On success the
 * bytes are left in out (when out is not NULL) and 0 is returned.
 */
static int
check(struct vctx *v, struct hl_buf *out, const char *path,
    const char *sha256, int64_t bytes)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_err e = HL_ERR_INIT;
	char sha[65], md5[33];
	int rc;

	v->checked++;
	rc = hl_fetch_get(&res, v->f, path, NULL, (size_t)bytes, 0, &e);
	if (rc == HL_ETOOBIG)
		bad(v, "%s: longer than %lld bytes", path, (long long)bytes);
	else if (rc == HL_ENOTFOUND)
		bad(v, "%s: missing", path);
	else if (rc != 0)
		bad(v, "%s", e.msg);
	if (rc != 0)
		goto out;
	hl_digest(sha, md5, res.body.data ? res.body.data : "", res.body.len);
	if ((int64_t)res.body.len != bytes) {
		bad(v, "%s: %zu bytes, expected %lld", path, res.body.len,
		    (long long)bytes);
		rc = -1;
	} else if (strcmp(sha, sha256) != 0) {
		bad(v, "%s: sha256 %s, expected %s", path, sha, sha256);
		rc = -1;
	} else if (out != NULL) {
		hl_buf_free(out);
		*out = res.body;
		memset(&res.body, 0, sizeof(res.body));
	}
out:
	hl_buf_free(&res.body);
	return rc;
}

/* Checks a .gz's bytes decompress to the identity file. */
static void
check_gunzip(struct vctx *v, const struct hl_buf *gz, const char *path,
    const struct hl_pull_ref *id)
{
	struct hl_buf out = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	char sha[65], md5[33];

	if (hl_gunzip(&out, gz->data, gz->len, (size_t)id->bytes, &e) != 0)
		bad(v, "%s: %s", path, e.msg);
	else {
		hl_digest(sha, md5, out.data ? out.data : "", out.len);
		if ((int64_t)out.len != id->bytes ||
		    strcmp(sha, id->sha256) != 0)
			bad(v, "%s: decompresses to sha256 %s (%zu bytes),"
			    " not %s (%s)", path, sha, out.len, id->sha256,
			    id->path);
	}
	hl_buf_free(&out);
}

/* Checks one file entry, its object and its gz; the identity in *id. */
static void
check_file(struct vctx *v, struct hl_buf *id, const struct hl_pull_file *pf)
{
	struct hl_buf gz = HL_BUF_INIT;

	check(v, id, pf->id.path, pf->id.sha256, pf->id.bytes);
	if (pf->id.object)
		check(v, NULL, pf->id.object, pf->id.sha256, pf->id.bytes);
	if (pf->has_gz) {
		if (check(v, &gz, pf->gz.path, pf->gz.sha256,
		    pf->gz.bytes) == 0)
			check_gunzip(v, &gz, pf->gz.path, &pf->id);
		if (pf->gz.object && check(v, &gz, pf->gz.object,
		    pf->gz.sha256, pf->gz.bytes) == 0)
			check_gunzip(v, &gz, pf->gz.object, &pf->id);
	}
	hl_buf_free(&gz);
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
	char prev[65], path[80], sha[65], md5[33];
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
		hl_digest(sha, md5, res.body.data ? res.body.data : "",
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

	check_file(v, &b, &g->f);
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
		{ "chain", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_fetch_res res = HL_FETCH_RES_INIT, sig = HL_FETCH_RES_INIT;
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
	long chain = 0;
	int ch, status = 0, expired = 0, start = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
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
	if (key != NULL) {
		if (hl_fetch_get(&sig, v.f, "manifest.json.sig", NULL,
		    HL_PULL_MAX_SIG, 0, &e) != 0 ||
		    hl_manifest_verify(key, res.body.data, res.body.len,
		    sig.body.data, sig.body.len, &e) != 0) {
			fprintf(stderr, "helios verify: manifest.json.sig: "
			    "%s\n", e.msg);
			status = 6;
			goto out;
		}
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
		check_file(&v, &b, &m.files[i]);
	if ((pf = hl_pull_manifest_file(&m, "changes.json")) != NULL &&
	    check(&v, &b, pf->id.path, pf->id.sha256, pf->id.bytes) == 0) {
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
	hl_buf_free(&sig.body);
	hl_pull_changes_clear(&c);
	hl_pull_manifest_clear(&m);
	hl_fetch_free(v.f);
	return status;
}
