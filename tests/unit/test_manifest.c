/*
 * test_manifest: manifest.json's bytes (src/base/manifest.c) are those of
 * the whole document serialised by jansson at once (keys sorted, compact,
 * one line), with or without the cache of file entries, while files come,
 * change and go between renders, and with values that need escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "manifest.h"
#include "tree.h"

#define NF	4

static struct hl_blob ids[NF], gzs[NF];
static char paths[NF][64], gzpaths[NF][64], objs[NF][80], gzobjs[NF][84];
static struct hl_manifest_file files[NF];
static struct hl_list list = { .id = "watch-keyword",
    .file = "watched_keywords.txt", .fmt = HL_FMT_TSV, .version = 7,
    .count = 3 };
static const struct hl_manifest_list lists[1] = {
	{ &list, "lists/watch-keyword.json", "lists/watch-keyword.txt" },
};

/* File i's hashes, from a content that says gen. */
static void
set_file(size_t i, const char *path, int gen)
{
	char content[64];

	snprintf(content, sizeof(content), "%s %d", path, gen);
	hl_digest(ids[i].sha256, ids[i].md5, content, strlen(content));
	ids[i].len = strlen(content);
	hl_digest(gzs[i].sha256, gzs[i].md5, content, 3);
	gzs[i].len = 3 + (size_t)gen;
	snprintf(paths[i], sizeof(paths[i]), "%s", path);
	snprintf(gzpaths[i], sizeof(gzpaths[i]), "%s.gz", path);
	snprintf(objs[i], sizeof(objs[i]), "objects/%s", ids[i].sha256);
	snprintf(gzobjs[i], sizeof(gzobjs[i]), "objects/%s.gz",
	    ids[i].sha256);
	files[i] = (struct hl_manifest_file){ paths[i], objs[i], &ids[i],
	    gzpaths[i], gzobjs[i], &gzs[i] };
}

static json_t *
entry(const char *path, const char *obj, const struct hl_blob *b)
{
	char etag[40];

	snprintf(etag, sizeof(etag), "\"%s\"", b->md5);
	return json_pack("{s:s, s:s, s:s, s:I, s:s}", "path", path,
	    "object", obj, "sha256", b->sha256, "bytes", (json_int_t)b->len,
	    "etag", etag);
}

/* The document as one jansson serialisation: what the bytes must be. */
static char *
expected(const struct hl_manifest_info *m)
{
	json_t *doc, *fa = json_array(), *f;
	const char *ids2[1] = { "1f2e3d4c5b6a7988" };
	char *s, *t;
	size_t i;

	for (i = 0; i < m->nfiles; i++) {
		f = entry(m->files[i].path, m->files[i].object,
		    m->files[i].id);
		json_object_set_new(f, "content_type",
		    json_string(hl_tree_content_type(m->files[i].path)));
		json_object_set_new(f, "gz", entry(m->files[i].gzpath,
		    m->files[i].gzobject, m->files[i].gz));
		json_array_append_new(fa, f);
	}
	doc = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:[s],"
	    " s:[{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}]}",
	    "format", HL_MANIFEST_FORMAT, "version", (json_int_t)m->version,
	    "generated_at", (json_int_t)m->generated_at,
	    "expires_at", (json_int_t)m->expires_at,
	    "poll_interval", (json_int_t)m->poll_interval,
	    "notifications_version", (json_int_t)m->notifications_version,
	    "files", fa, "previous", m->previous, "key_ids", ids2[0],
	    "lists", "id", list.id, "file", list.file, "format", "tsv",
	    "policy", "direct", "version", (json_int_t)list.version,
	    "count", (json_int_t)list.count, "json", lists[0].json,
	    "text", lists[0].text);
	json_object_set_new(doc, "key_id", json_string(ids2[0]));
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	assert_non_null(s);
	assert_non_null(t = malloc(strlen(s) + 2));
	sprintf(t, "%s\n", s);
	free(s);
	return t;
}

static void
render_is(const struct hl_manifest_info *m)
{
	struct hl_buf b = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	char *want = expected(m);

	assert_int_equal(hl_manifest_render(&b, m, &err), 0);
	assert_string_equal(b.data, want);
	free(want);
	hl_buf_free(&b);
}

static void
the_bytes_are_one_serialisation_with_or_without_the_cache(void **state)
{
	static const char *const key_ids[1] = { "1f2e3d4c5b6a7988" };
	struct hl_manifest_cache *c = NULL;
	struct hl_manifest_info m;
	struct hl_err err = HL_ERR_INIT;
	int round;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.generated_at = 1796000000;
	m.expires_at = 1796604800;
	m.poll_interval = 60;
	m.notifications_version = 12;
	m.previous = "aa11";
	m.key_id = key_ids[0];
	m.key_ids = key_ids;
	m.nkey_ids = 1;
	m.lists = lists;
	m.nlists = 1;
	m.files = files;
	assert_int_equal(hl_manifest_cache_new(&c, &err), 0);
	for (round = 0; round < 5; round++) {
		m.version = 40 + round;
		set_file(0, "changes.html", round);	/* changes each time */
		set_file(1, "index.html", 0);		/* never */
		set_file(2, round < 3 ? "lists/a \"quoted\".txt" :
		    "lists/b\\back.txt", 0);		/* goes, another comes */
		set_file(3, "lists/watch-keyword.txt", round / 2);
		m.nfiles = round == 4 ? 2 : NF;		/* two go */
		m.cache = c;
		render_is(&m);
		m.cache = NULL;
		render_is(&m);
	}
	hl_manifest_cache_free(c);
	hl_manifest_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_bytes_are_one_serialisation_with_or_without_the_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
