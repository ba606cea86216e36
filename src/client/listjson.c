/*
 * listjson: a list's JSON as a client assembles it (helios pull --json),
 * from the whole document or from a big list's index of segments
 * (site/docs/protocol.html, section 4a; gen/listseg.h makes them).
 *
 * The index is fetched like any file the manifest names and checked
 * against it.  Every segment's name is built here from a SHA-256 that was
 * first checked to be 64 lower-case hex digits: objects/<sha256>.gz, never
 * a path read from the network.  Each segment's size is bounded before it
 * is fetched (by max and by HL_PULL_MAX_SEGMENT_JSON), its gzip and its
 * identity bytes are checked against the index, its item count too, and
 * the counts must add up to numItems.  The result is streamed to fd one
 * segment at a time: the same bytes as the whole-list document
 * ({"file","format","items","list","numItems","version"}, compact, keys
 * sorted, one final newline), whatever the form published.
 *
 * Each segment's items go out as the segment holds them (the bytes
 * between {"items":[ and ]}\n), and where they went is recorded
 * (struct hl_pull_jsegs), so that the next assembly after a change takes
 * every segment that did not change from the file written before instead
 * of the network: a slice is taken only when the segment's bytes made
 * again from it hash to the name the new index gives, so a local edit, a
 * stale record or a crafted one costs a download, never a wrong byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "pull.h"

/* A segment's identity bytes: SEG_HEAD, its items, SEG_TAIL. */
#define SEG_HEAD	"{\"items\":["
#define SEG_TAIL	"]}\n"

/* The output: a descriptor and how much went to it. */
struct out {
	int		fd;
	uint64_t	off;
};

static int
put(struct out *o, const char *p, size_t len, struct hl_err *err)
{
	ssize_t n;

	o->off += len;
	while (len > 0) {
		if ((n = write(o->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return hl_err_set(err, HL_EIO, "write: %s",
			    strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes j (compact, sorted keys) to fd; HL_ENOMEM, HL_EIO. */
static int
put_json(struct out *o, const json_t *j, size_t skip, size_t cut,
    struct hl_err *err)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	size_t n;
	int rc;

	if (s == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	n = strlen(s);
	rc = n < skip + cut ? hl_err_set(err, HL_EINVAL, "bad JSON") :
	    put(o, s + skip, n - skip - cut, err);
	free(s);
	return rc;
}

/* An integer member of o over 0 and at most max, or -1. */
static int64_t
count(json_t *o, const char *key, int64_t max)
{
	json_t *v = json_object_get(o, key);
	int64_t n;

	if (!json_is_integer(v))
		return -1;
	n = (int64_t)json_integer_value(v);
	return n > 0 && n <= max ? n : -1;
}

/*
 * The identity bytes of segment sha (bytes long) made again from the
 * file assembled before, into body: 0 when a recorded slice gives bytes
 * that hash to sha, else -1 (fetch it).
 */
static int
take_old(struct hl_buf *body, const struct hl_pull_jsegs *r,
    const char *sha, int64_t bytes)
{
	const size_t head = sizeof(SEG_HEAD) - 1, tail = sizeof(SEG_TAIL) - 1;
	char got[65];
	ssize_t n;
	size_t i;

	for (i = 0; r != NULL && r->oldfd != -1 && i < r->nold; i++) {
		const struct hl_pull_jseg *g = &r->old[i];

		if (strcmp(g->sha256, sha) != 0 ||
		    (uint64_t)bytes < head + tail ||
		    g->len != (uint64_t)bytes - head - tail)
			continue;
		hl_buf_reset(body);
		if (hl_buf_put(body, SEG_HEAD, head) != 0 ||
		    hl_buf_grow(body, g->len + tail) != 0)
			return -1;
		n = pread(r->oldfd, body->data + head, g->len, (off_t)g->off);
		if (n < 0 || (uint64_t)n != g->len)
			continue;
		body->len = head + g->len;
		if (hl_buf_put(body, SEG_TAIL, tail) != 0)
			return -1;
		hl_digest(got, NULL, body->data, body->len);
		if (strcmp(got, sha) == 0)
			return 0;
	}
	hl_buf_reset(body);
	return -1;
}

/*
 * Fetches segment k of the index (or takes it from r), checked, and
 * writes its items; gz_only as the index's file has it (pull.h).
 */
static int
put_segment(struct out *o, struct hl_fetch *f, json_t *g, size_t k,
    uint64_t max, int first, int gz_only, struct hl_pull_jsegs *r,
    struct hl_err *err)
{
	const size_t head = sizeof(SEG_HEAD) - 1, tail = sizeof(SEG_TAIL) - 1;
	struct hl_pull_file pf;
	struct hl_buf body = HL_BUF_INIT;
	char idpath[80], gzpath[84];
	const char *sha, *gzsha;
	json_t *gz = json_object_get(g, "gz"), *doc = NULL, *items, *it;
	int64_t bytes, gzbytes, n;
	size_t i;
	int rc = 0;

	sha = json_string_value(json_object_get(g, "sha256"));
	gzsha = json_string_value(json_object_get(gz, "sha256"));
	bytes = count(g, "bytes", INT64_MAX);
	gzbytes = count(gz, "bytes", INT64_MAX);
	n = count(g, "items", INT64_MAX);
	if (!json_is_object(g) || !hl_digest_is_sha256(sha) ||
	    !hl_digest_is_sha256(gzsha) ||
	    bytes < 0 || gzbytes < 0 || n < 0)
		return hl_err_set(err, HL_EINVAL, "list index: segment %zu is"
		    " not {sha256, bytes, items, gz: {sha256, bytes}}", k);
	if ((uint64_t)bytes > max || (uint64_t)gzbytes > max ||
	    (uint64_t)bytes > HL_PULL_MAX_SEGMENT_JSON)
		return hl_err_set(err, HL_ETOOBIG, "list index: segment %zu"
		    " says %lld bytes, over the limit", k, (long long)bytes);
	/* Names built here, from checked hex: never from the network. */
	snprintf(idpath, sizeof(idpath), "objects/%s", sha);
	snprintf(gzpath, sizeof(gzpath), "objects/%s.gz", sha);
	if (take_old(&body, r, sha, bytes) == 0)
		r->reused++;
	else {
		memset(&pf, 0, sizeof(pf));
		pf.id.path = idpath;
		memcpy(pf.id.sha256, sha, 65);
		pf.id.bytes = bytes;
		pf.gz.path = gzpath;
		memcpy(pf.gz.sha256, gzsha, 65);
		pf.gz.bytes = gzbytes;
		pf.has_gz = 1;
		pf.gz_only = gz_only;
		rc = hl_pull_fetch_file(-1, &body, f, &pf, max,
		    r != NULL ? &r->fellback : NULL, err);
	}
	if (rc != 0)
		goto out;
	doc = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
	items = json_object_get(doc, "items");
	if (!json_is_object(doc) || json_object_size(doc) != 1 ||
	    !json_is_array(items) || json_array_size(items) != (size_t)n) {
		rc = hl_err_set(err, HL_EINVAL, "%s: not {\"items\": [...]}"
		    " of %lld items", gzpath, (long long)n);
		goto out;
	}
	json_array_foreach(items, i, it)
		if (!json_is_object(it)) {
			rc = hl_err_set(err, HL_EINVAL, "%s: item %zu is not"
			    " an object", gzpath, i);
			goto out;
		}
	if (!first && (rc = put(o, ",", 1, err)) != 0)
		goto out;
	if (body.len > head + tail && memcmp(body.data, SEG_HEAD, head) == 0 &&
	    memcmp(body.data + body.len - tail, SEG_TAIL, tail) == 0) {
		/* The items as the segment holds them, recorded. */
		if (r != NULL) {
			struct hl_pull_jseg *w = &r->made[r->nmade++];

			memcpy(w->sha256, sha, 65);
			w->off = o->off;
			w->len = body.len - head - tail;
		}
		rc = put(o, (const char *)body.data + head,
		    body.len - head - tail, err);
		goto out;
	}
	/* Another writer's spacing: each item as compact JSON. */
	json_array_foreach(items, i, it) {
		if (i > 0 && (rc = put(o, ",", 1, err)) != 0)
			goto out;
		if ((rc = put_json(o, it, 0, 0, err)) != 0)
			goto out;
	}
out:
	json_decref(doc);
	hl_buf_free(&body);
	return rc;
}

int
hl_pull_list_json(int fd, struct hl_fetch *f,
    const struct hl_pull_manifest *m, const struct hl_pull_list *l,
    uint64_t max, struct hl_pull_jsegs *reuse, struct hl_err *err)
{
	struct out o = { .fd = fd, .off = 0 };
	const struct hl_pull_file *pf;
	struct hl_buf idx = HL_BUF_INIT;
	json_t *doc = NULL, *segs, *g, *ends = NULL;
	int64_t total = 0, n, numitems;
	size_t i;
	int rc;

	if (l->json == NULL || (pf = hl_pull_manifest_file(m, l->json)) ==
	    NULL)
		return hl_err_set(err, HL_EINVAL, "manifest.json: list %s"
		    " names no JSON file", l->id);
	if ((rc = hl_pull_fetch_file(-1, &idx, f, pf, max,
	    reuse != NULL ? &reuse->fellback : NULL, err)) != 0)
		goto out;
	doc = json_loadb(idx.data, idx.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		rc = hl_err_set(err, HL_EINVAL, "%s: not a JSON object",
		    l->json);
		goto out;
	}
	segs = json_object_get(doc, "segments");
	if (segs == NULL) {
		/* The whole form: the bytes as checked. */
		if (!json_is_array(json_object_get(doc, "items")))
			rc = hl_err_set(err, HL_EINVAL, "%s: neither items"
			    " nor segments", l->json);
		else
			rc = put(&o, idx.data, idx.len, err);
		goto out;
	}
	numitems = json_is_integer(json_object_get(doc, "numItems")) ?
	    (int64_t)json_integer_value(json_object_get(doc, "numItems")) :
	    -1;
	if (!json_is_array(segs) || json_array_size(segs) == 0 ||
	    json_array_size(segs) > HL_PULL_MAX_LIST_SEGMENTS ||
	    json_object_get(doc, "items") != NULL || numitems < 0) {
		rc = hl_err_set(err, HL_EINVAL, "%s: a bad index of segments",
		    l->json);
		goto out;
	}
	json_array_foreach(segs, i, g) {
		if ((n = count(g, "items", INT64_MAX)) < 0 ||
		    (total += n) > numitems)
			break;
	}
	if (i < json_array_size(segs) || total != numitems) {
		rc = hl_err_set(err, HL_EINVAL, "%s: the segments' items do"
		    " not add up to numItems %lld", l->json,
		    (long long)numitems);
		goto out;
	}
	if (reuse != NULL && (reuse->made = calloc(json_array_size(segs),
	    sizeof(*reuse->made))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	/* {"file":..,"format":..,"items":[ ... ],"list":..,...}\n */
	if ((ends = json_deep_copy(doc)) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_object_del(ends, "segments");
	json_object_set_new(ends, "items", json_array());
	{
		char *s = json_dumps(ends, JSON_COMPACT | JSON_SORT_KEYS);
		char *mark = s ? strstr(s, "\"items\":[]") : NULL;

		if (mark == NULL) {
			free(s);
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
		mark += strlen("\"items\":[");
		rc = put(&o, s, (size_t)(mark - s), err);
		json_array_foreach(segs, i, g) {
			if (rc == 0)
				rc = put_segment(&o, f, g, i, max, i == 0,
				    pf->gz_only, reuse, err);
		}
		if (rc == 0)
			rc = put(&o, mark, strlen(mark), err);
		if (rc == 0)
			rc = put(&o, "\n", 1, err);
		free(s);
	}
out:
	json_decref(ends);
	json_decref(doc);
	hl_buf_free(&idx);
	return rc;
}
