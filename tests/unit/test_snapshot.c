/*
 * test_snapshot: the generator (gen/snapshot.c) over a real SQLite store in
 * a temporary file: the same database gives the same bytes, only what
 * changed is rendered again, the change segments partition the window,
 * every .gz decompresses to its identity file, the manifest names every
 * file with its right hashes and sizes, the tree is in publication order,
 * and the Ed25519 signature of the manifest verifies.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "blob.h"
#include "buf.h"
#include "manifest.h"
#include "snapshot.h"
#include "snapsrc.h"
#include "store.h"
#include "testdb.h"

/* A temporary directory with the store in it. */
struct fx {
	char		 dir[64];
	char		 db[128];
	struct hl_store	*st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hl_err err = HL_ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/helios-snap.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
	assert_int_equal(hl_store_open(&f->st, f->db, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hl_store_close(f->st);
	hl_testdb_rmtree(f->dir);
	free(f);
	return 0;
}

/*
 * The files that carry the build's clock: manifest.json, its .gz and .sig,
 * and its object copy (objects/<its sha256>, which holds a manifest).
 */
static int
clocked(const char *path, const void *data, size_t len)
{
	return strncmp(path, "manifest.json", 13) == 0 ||
	    (strncmp(path, "objects/", 8) == 0 && len > 0 &&
	    *(const char *)data == '{' &&
	    memmem(data, len, "\"generated_at\":", 15) != NULL &&
	    memmem(data, len, "\"previous\":", 11) != NULL);
}

/* A build with the store as the source, as the publisher does it. */
static int
build(const struct hl_tree **tree, struct hl_snap *s, struct hl_store *st,
    struct hl_err *err)
{
	struct hl_snap_source src;

	hl_snapsrc_store(&src, st);
	return hl_snap_build(tree, s, &src, err);
}

/* Adds n patterns "<prefix>-<i>\.example" to list in one import. */
static int64_t
add_many(struct hl_store *st, const char *list, const char *prefix,
    size_t n)
{
	struct hl_item *v = calloc(n, sizeof(*v));
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	char buf[128];
	size_t i, added = 0;
	int64_t version = 0;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s-%zu\\.example", prefix, i);
		v[i].value = strdup(buf);
		v[i].pos = (int64_t)i;
		v[i].created_at = 1500000000 + (int64_t)i;
		v[i].created_by = strdup("tester");
		v[i].modified_at = v[i].created_at;
		v[i].modified_by = strdup("tester");
	}
	assert_int_equal(hl_store_import(&added, &version, st, list, v, n,
	    &who, &err), 0);
	assert_int_equal(added, n);
	hl_items_free(v, n);
	return version;
}

/* Adds one pattern through the ordinary path (one version). */
static int64_t
add_one(struct hl_store *st, const char *list, const char *value)
{
	struct hl_item in, out;
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	int64_t version = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.value = (char *)value;
	assert_int_equal(hl_store_item_add(&out, &version, st, list, &in,
	    &who, &err), 0);
	hl_item_clear(&out);
	return version;
}

static const struct hl_file *
find(const struct hl_tree *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static json_t *
parse(const struct hl_file *f)
{
	json_error_t je;
	json_t *j;

	assert_non_null(f);
	j = json_loadb((const char *)f->data, f->len, 0, &je);
	if (j == NULL)
		fail_msg("%s: %s", f->path, je.text);
	return j;
}

/* A copy of every file of a tree: path and bytes. */
struct copy {
	char		*path;
	unsigned char	*data;
	size_t		 len;
};

static struct copy *
copy_tree(const struct hl_tree *t)
{
	struct copy *c = calloc(t->n + 1, sizeof(*c));
	size_t i;

	assert_non_null(c);
	for (i = 0; i < t->n; i++) {
		c[i].path = strdup(t->files[i].path);
		c[i].len = t->files[i].len;
		c[i].data = malloc(c[i].len + 1);
		assert_non_null(c[i].data);
		memcpy(c[i].data, t->files[i].data, c[i].len);
	}
	return c;
}

static void
copy_free(struct copy *c)
{
	size_t i;

	for (i = 0; c[i].path != NULL; i++) {
		free(c[i].path);
		free(c[i].data);
	}
	free(c);
}

/* Copies the database file (after a checkpoint on close) to path. */
static void
copy_db(struct fx *f, const char *to)
{
	struct hl_err err = HL_ERR_INIT;
	char buf[65536];
	FILE *in, *out;
	size_t n;

	hl_store_close(f->st);
	f->st = NULL;
	assert_non_null(in = fopen(f->db, "rb"));
	assert_non_null(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(hl_store_open(&f->st, f->db, &err), 0);
}

/*
 * Two builds from equal databases: every file has the same bytes but the
 * manifest (which carries the time); with a fixed clock the manifest too.
 */
static void
test_same_database_gives_same_bytes(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *a, *b;
	struct hl_store *st2;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *ta, *tb;
	const struct hl_file *fb;
	struct copy *ca;
	char db2[160];
	size_t i;

	add_many(f->st, "blacklist-keyword", "kw", 50);
	add_many(f->st, "watch-keyword", "wk", 30);
	add_one(f->st, "blacklist-website", "one\\.example");
	snprintf(db2, sizeof(db2), "%s/copy.sqlite", f->dir);
	copy_db(f, db2);
	assert_int_equal(hl_store_open(&st2, db2, &err), 0);

	o.now = 0;
	assert_int_equal(hl_snap_new(&a, &o, &err), 0);
	assert_int_equal(hl_snap_new(&b, &o, &err), 0);
	assert_int_equal(build(&ta, a, f->st, &err), 0);
	/* The second build is a second later, to show the clock matters. */
	sleep(1);
	assert_int_equal(build(&tb, b, st2, &err), 0);
	assert_int_equal(ta->n, tb->n);
	assert_int_equal(ta->version, tb->version);
	for (i = 0; i < ta->n; i++) {
		if (clocked(ta->files[i].path, ta->files[i].data,
		    ta->files[i].len))
			continue;
		assert_string_equal(ta->files[i].path, tb->files[i].path);
		if (ta->files[i].len != tb->files[i].len ||
		    memcmp(ta->files[i].data, tb->files[i].data,
		    ta->files[i].len) != 0)
			fail_msg("%s differs between equal databases",
			    ta->files[i].path);
		assert_string_equal(ta->files[i].sha256, tb->files[i].sha256);
	}
	fb = find(tb, "manifest.json");
	assert_non_null(fb);
	assert_memory_not_equal(find(ta, "manifest.json")->data, fb->data,
	    fb->len < find(ta, "manifest.json")->len ? fb->len :
	    find(ta, "manifest.json")->len);
	hl_snap_free(a);
	hl_snap_free(b);

	/* A fixed clock: the manifest is equal too, byte for byte. */
	o.now = 1800000000;
	assert_int_equal(hl_snap_new(&a, &o, &err), 0);
	assert_int_equal(hl_snap_new(&b, &o, &err), 0);
	assert_int_equal(build(&ta, a, f->st, &err), 0);
	ca = copy_tree(ta);
	assert_int_equal(build(&tb, b, st2, &err), 0);
	for (i = 0; i < tb->n; i++) {
		assert_non_null(ca[i].path);
		assert_string_equal(ca[i].path, tb->files[i].path);
		if (ca[i].len != tb->files[i].len ||
		    memcmp(ca[i].data, tb->files[i].data, ca[i].len) != 0)
			fail_msg("%s differs with a fixed clock", ca[i].path);
	}
	assert_null(ca[i].path);
	copy_free(ca);
	hl_snap_free(a);
	hl_snap_free(b);
	hl_store_close(st2);
}

/* gzip output has no name and no time, and decompresses to the file. */
static void
test_gzip_files_decompress_to_their_identity_bytes(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	const struct hl_file *g, *id;
	struct hl_buf b = HL_BUF_INIT;
	char path[512];
	size_t i, ngz = 0;

	add_many(f->st, "blacklist-keyword", "kw", 2000);
	add_one(f->st, "watch-ns", "ns1.example.");
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	for (i = 0; i < t->n; i++) {
		g = &t->files[i];
		if (!ends_with(g->path, ".gz"))
			continue;
		ngz++;
		snprintf(path, sizeof(path), "%.*s",
		    (int)(strlen(g->path) - 3), g->path);
		if ((id = find(t, path)) == NULL)
			fail_msg("%s has no identity file %s", g->path, path);
		assert_true(g->len >= 18);
		assert_int_equal(g->data[0], 0x1f);
		assert_int_equal(g->data[1], 0x8b);
		/* No FNAME or other flags, and a zero MTIME. */
		assert_int_equal(g->data[3], 0);
		assert_int_equal(g->data[4] | g->data[5] | g->data[6] |
		    g->data[7], 0);
		hl_buf_reset(&b);
		if (hl_gunzip(&b, g->data, g->len, 64 << 20, &err) != 0)
			fail_msg("%s: %s", g->path, err.msg);
		if (b.len != id->len || memcmp(b.data, id->data, b.len) != 0)
			fail_msg("%s does not decompress to %s", g->path,
			    id->path);
	}
	/* Every mutable file and its object have a .gz. */
	for (i = 0; i < t->n; i++) {
		if (ends_with(t->files[i].path, ".gz") ||
		    clocked(t->files[i].path, t->files[i].data,
		    t->files[i].len))
			continue;
		snprintf(path, sizeof(path), "%s.gz", t->files[i].path);
		if (find(t, path) == NULL)
			fail_msg("%s has no .gz", t->files[i].path);
	}
	assert_true(ngz > 20);
	/* A truncated stream is an error, not a short file. */
	g = find(t, "lists/blacklist-keyword.txt.gz");
	assert_non_null(g);
	hl_buf_reset(&b);
	assert_int_equal(hl_gunzip(&b, g->data, g->len - 9, 64 << 20, &err),
	    HL_EINVAL);
	hl_buf_free(&b);
	hl_snap_free(s);
}

/* Checks one manifest file record against the tree. */
static void
check_ref(const struct hl_tree *t, json_t *r, int gz)
{
	const char *path, *object, *sha, *etag;
	const struct hl_file *fp, *fo;
	char want_sha[65], want_md5[33], want_etag[40], objname[128];
	json_int_t bytes;

	assert_int_equal(json_unpack(r, "{s:s, s:s, s:s, s:I, s:s}",
	    "path", &path, "object", &object, "sha256", &sha, "bytes", &bytes,
	    "etag", &etag), 0);
	if ((fp = find(t, path)) == NULL)
		fail_msg("the manifest names %s, not in the tree", path);
	if ((fo = find(t, object)) == NULL)
		fail_msg("the manifest names %s, not in the tree", object);
	hl_digest(want_sha, want_md5, fp->data, fp->len);
	snprintf(want_etag, sizeof(want_etag), "\"%s\"", want_md5);
	assert_string_equal(sha, want_sha);
	assert_string_equal(fp->sha256, want_sha);
	assert_string_equal(fp->md5, want_md5);
	assert_int_equal((size_t)bytes, fp->len);
	assert_string_equal(etag, want_etag);
	/* The object holds the same bytes. */
	assert_int_equal(fo->len, fp->len);
	assert_memory_equal(fo->data, fp->data, fp->len);
	assert_string_equal(fo->sha256, want_sha);
	if (!gz) {
		snprintf(objname, sizeof(objname), "objects/%s", want_sha);
		assert_string_equal(object, objname);
		assert_string_equal(json_string_value(json_object_get(r,
		    "content_type")), hl_tree_content_type(path));
	}
}

/*
 * Every file the manifest names is in the tree with its sha256, size and
 * MD5 ETag, and its object too; the lists it names exist.
 */
static void
test_manifest_names_every_file_with_its_hashes(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	json_t *m, *files, *lists, *r, *gz;
	const char *gzpath, *path, *gzobj, *obj;
	char sha1[65], want[128];
	size_t i, nmut = 0;
	json_int_t version, gen, exp;

	add_many(f->st, "watch-keyword", "wk", 40);
	add_one(f->st, "blacklist-cidr", "192.0.2.1");
	o.now = 1800000000;
	o.manifest_ttl = 3600;
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	m = parse(find(t, "manifest.json"));
	assert_int_equal(json_unpack(m, "{s:I, s:I, s:I, s:o, s:o}",
	    "version", &version, "generated_at", &gen, "expires_at", &exp,
	    "files", &files, "lists", &lists), 0);
	assert_int_equal(version, t->version);
	assert_int_equal(version, hl_store_version(f->st));
	assert_int_equal(gen, 1800000000);
	assert_int_equal(exp, 1800000000 + 3600);
	assert_int_equal(hl_snap_expires(s), exp);
	assert_true(json_is_null(json_object_get(m, "previous")));
	assert_true(json_array_size(files) > 0);
	json_array_foreach(files, i, r) {
		check_ref(t, r, 0);
		gz = json_object_get(r, "gz");
		assert_non_null(gz);
		check_ref(t, gz, 1);
		path = json_string_value(json_object_get(r, "path"));
		obj = json_string_value(json_object_get(r, "object"));
		gzpath = json_string_value(json_object_get(gz, "path"));
		gzobj = json_string_value(json_object_get(gz, "object"));
		snprintf(want, sizeof(want), "%s.gz", path);
		assert_string_equal(gzpath, want);
		snprintf(want, sizeof(want), "%s.gz", obj);
		assert_string_equal(gzobj, want);
	}
	/* Every mutable file of the tree is named. */
	for (i = 0; i < t->n; i++) {
		size_t k;
		int named = 0;

		if (t->files[i].cache != HL_CACHE_SHORT)
			continue;
		nmut++;
		json_array_foreach(files, k, r) {
			if (strcmp(json_string_value(json_object_get(r,
			    "path")), t->files[i].path) == 0 ||
			    strcmp(json_string_value(json_object_get(
			    json_object_get(r, "gz"), "path")),
			    t->files[i].path) == 0)
				named = 1;
		}
		if (!named)
			fail_msg("%s is in the tree, not in the manifest",
			    t->files[i].path);
	}
	assert_int_equal(nmut, 2 * json_array_size(files));
	assert_true(json_array_size(lists) >= 11);
	json_array_foreach(lists, i, r) {
		json_t *doc;

		assert_non_null(find(t, json_string_value(json_object_get(r,
		    "json"))));
		assert_non_null(find(t, json_string_value(json_object_get(r,
		    "text"))));
		doc = parse(find(t, json_string_value(json_object_get(r,
		    "json"))));
		assert_int_equal(json_integer_value(json_object_get(doc,
		    "numItems")), json_integer_value(json_object_get(r,
		    "count")));
		assert_int_equal(json_array_size(json_object_get(doc,
		    "items")), json_integer_value(json_object_get(r,
		    "count")));
		assert_string_equal(json_string_value(json_object_get(doc,
		    "list")), json_string_value(json_object_get(r, "id")));
		json_decref(doc);
	}
	snprintf(sha1, sizeof(sha1), "%s", find(t, "manifest.json")->sha256);
	json_decref(m);

	/* The next manifest names this one as its previous. */
	add_one(f->st, "watch-keyword", "next\\.example");
	assert_int_equal(build(&t, s, f->st, &err), 0);
	m = parse(find(t, "manifest.json"));
	assert_string_equal(json_string_value(json_object_get(m, "previous")),
	    sha1);
	json_decref(m);
	hl_snap_free(s);
}

/*
 * Publication order: every immutable file, then the short-lived ones, then
 * the manifest last (after its own .gz and signature).
 */
static void
test_tree_is_in_publication_order(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	const struct hl_file *x;
	char obj[80];
	size_t i, j;

	add_many(f->st, "blacklist-number", "n", 20);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	assert_true(t->n > 4);
	for (i = 0; i < t->n; i++) {
		x = &t->files[i];
		assert_int_equal(x->cache, hl_tree_cache_class(x->path));
		if (i > 0 && t->files[i - 1].cache > x->cache)
			fail_msg("%s (class %d) after %s (class %d)", x->path,
			    x->cache, t->files[i - 1].path,
			    t->files[i - 1].cache);
		if (strncmp(x->path, "objects/", 8) == 0 ||
		    strncmp(x->path, "changes/", 8) == 0)
			assert_int_equal(x->cache, HL_CACHE_IMMUTABLE);
		for (j = 0; j < i; j++)
			if (strcmp(t->files[j].path, x->path) == 0)
				fail_msg("%s is twice in the tree", x->path);
	}
	assert_string_equal(t->files[t->n - 1].path, "manifest.json");
	assert_int_equal(t->files[t->n - 1].cache, HL_CACHE_REVALIDATE);
	assert_int_equal(t->files[0].cache, HL_CACHE_IMMUTABLE);
	/*
	 * The manifest's own object copy (what the chain of "previous"
	 * hashes points to) is the last immutable file, before any mutable.
	 */
	x = &t->files[t->n - 1];
	snprintf(obj, sizeof(obj), "objects/%s", x->sha256);
	for (i = 0; i < t->n && t->files[i].cache == HL_CACHE_IMMUTABLE; i++)
		;
	assert_true(i > 0 && i < t->n);
	assert_string_equal(t->files[i - 1].path, obj);
	assert_int_equal(t->files[i - 1].len, x->len);
	assert_memory_equal(t->files[i - 1].data, x->data, x->len);
	hl_snap_free(s);
}

/*
 * A change to one list renders that list alone; a build with no change
 * renders nothing; the work of a change does not grow with the lists it
 * did not touch.
 */
static void
test_only_changed_lists_are_rendered(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_snap_stats a, b;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	struct copy *c;
	size_t i, nlists;
	json_t *m;

	add_many(f->st, "blacklist-keyword", "big", 5000);
	add_many(f->st, "watch-number", "wn", 10);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	m = parse(find(t, "manifest.json"));
	nlists = json_array_size(json_object_get(m, "lists"));
	json_decref(m);
	hl_snap_stats(&a, s);
	assert_int_equal(a.builds, 1);
	assert_int_equal(a.lists_rendered, (int64_t)nlists);
	c = copy_tree(t);

	/* Nothing changed: nothing is rendered, the files are the same. */
	assert_int_equal(build(&t, s, f->st, &err), 0);
	hl_snap_stats(&b, s);
	assert_int_equal(b.builds, 2);
	assert_int_equal(b.lists_rendered, a.lists_rendered);
	assert_int_equal(b.segments_rendered, a.segments_rendered);
	assert_int_equal(b.bytes_compressed, a.bytes_compressed);
	for (i = 0; i < t->n; i++) {
		if (clocked(c[i].path, c[i].data, c[i].len))
			continue;
		assert_string_equal(c[i].path, t->files[i].path);
		if (c[i].len != t->files[i].len || memcmp(c[i].data,
		    t->files[i].data, c[i].len) != 0)
			fail_msg("%s changed with no change", c[i].path);
	}
	copy_free(c);

	/* One small list changes: it alone is brought up to date. */
	add_one(f->st, "watch-number", "12345");
	a = b;
	assert_int_equal(build(&t, s, f->st, &err), 0);
	hl_snap_stats(&b, s);
	assert_int_equal(b.lists_rendered - a.lists_rendered +
	    b.lists_appended - a.lists_appended, 1);
	/* ... and far less than the big list is compressed again. */
	assert_true(b.bytes_compressed - a.bytes_compressed <
	    (int64_t)find(t, "lists/blacklist-keyword.txt")->len);
	assert_non_null(strstr((const char *)find(t,
	    "lists/watch-number.txt")->data, "12345"));

	/* The big list changes: it alone is brought up to date. */
	add_one(f->st, "blacklist-keyword", "late\\.example");
	a = b;
	assert_int_equal(build(&t, s, f->st, &err), 0);
	hl_snap_stats(&b, s);
	assert_int_equal(b.lists_rendered - a.lists_rendered +
	    b.lists_appended - a.lists_appended, 1);
	assert_non_null(strstr((const char *)find(t,
	    "lists/blacklist-keyword.txt")->data, "late\\.example"));
	hl_snap_free(s);
}

/* Reads changes.json and checks its segments against version v. */
static void
check_window(const struct hl_tree *t, int64_t v, int64_t *oldest_out)
{
	json_t *c, *segs, *r, *doc, *ev, *e;
	json_int_t oldest, version, from, to, bytes;
	const char *path, *sha;
	const struct hl_file *sf;
	int64_t next;
	size_t i, k;

	c = parse(find(t, "changes.json"));
	assert_int_equal(json_unpack(c, "{s:I, s:I, s:o}", "version",
	    &version, "oldest", &oldest, "segments", &segs), 0);
	assert_int_equal(version, v);
	assert_true(oldest <= (v > HL_SNAP_WINDOW ? v - HL_SNAP_WINDOW : 0));
	assert_true(oldest >= 0);
	next = oldest + 1;
	json_array_foreach(segs, i, r) {
		assert_int_equal(json_unpack(r, "{s:I, s:I, s:s, s:s, s:I}",
		    "from", &from, "to", &to, "path", &path, "sha256", &sha,
		    "bytes", &bytes), 0);
		if (from != next)
			fail_msg("segment %lld-%lld, expected it to start at"
			    " %lld", (long long)from, (long long)to,
			    (long long)next);
		assert_true(to >= from);
		/* Sizes are 256, 16 or 1, aligned on their size. */
		assert_true(to - from + 1 == HL_SNAP_SEG_BIG ||
		    to - from + 1 == HL_SNAP_SEG_MID || to == from);
		assert_int_equal((from - 1) % (to - from + 1), 0);
		if ((sf = find(t, path)) == NULL)
			fail_msg("changes.json names %s, not in the tree",
			    path);
		assert_string_equal(sf->sha256, sha);
		assert_int_equal(sf->len, (size_t)bytes);
		assert_int_equal(sf->cache, HL_CACHE_IMMUTABLE);
		doc = parse(sf);
		assert_int_equal(json_integer_value(json_object_get(doc,
		    "from")), from);
		assert_int_equal(json_integer_value(json_object_get(doc,
		    "to")), to);
		ev = json_object_get(doc, "events");
		assert_int_equal(json_array_size(ev), (size_t)(to - from + 1));
		json_array_foreach(ev, k, e)
			assert_int_equal(json_integer_value(json_object_get(e,
			    "version")), from + (json_int_t)k);
		json_decref(doc);
		next = to + 1;
	}
	assert_int_equal(next - 1, v);
	*oldest_out = oldest;
	json_decref(c);
}

/*
 * After 300 versions: 1-256, 257-272, 273-288, then 289..300 one by one;
 * the segments partition (oldest, version]; the ones made already are not
 * made again.
 */
static void
test_change_segments_partition_the_window(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_snap_stats a, b;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	json_t *c, *segs;
	char first[65];
	int64_t v, oldest;
	size_t i;

	v = add_many(f->st, "blacklist-keyword", "seg", 300);
	assert_int_equal(v, 300);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	check_window(t, 300, &oldest);
	assert_int_equal(oldest, 0);
	c = parse(find(t, "changes.json"));
	segs = json_object_get(c, "segments");
	assert_int_equal(json_array_size(segs), 3 + 12);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    segs, 0), "path")), "changes/1-256.json");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    segs, 1), "path")), "changes/257-272.json");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    segs, 2), "path")), "changes/273-288.json");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    segs, 3), "path")), "changes/289-289.json");
	for (i = 3; i < 15; i++)
		assert_int_equal(json_integer_value(json_object_get(
		    json_array_get(segs, i), "from")), 289 + (int64_t)i - 3);
	json_decref(c);
	snprintf(first, sizeof(first), "%s",
	    find(t, "changes/1-256.json")->sha256);
	hl_snap_stats(&a, s);
	assert_int_equal(a.segments_rendered, 15);

	/* One more version: one new segment, no other made again. */
	add_one(f->st, "watch-keyword", "v301\\.example");
	assert_int_equal(build(&t, s, f->st, &err), 0);
	check_window(t, 301, &oldest);
	hl_snap_stats(&b, s);
	assert_int_equal(b.segments_rendered - a.segments_rendered, 1);
	assert_string_equal(find(t, "changes/1-256.json")->sha256, first);

	/* Up to 304: 289-304 replaces the single ones. */
	add_one(f->st, "watch-keyword", "v302\\.example");
	add_one(f->st, "watch-keyword", "v303\\.example");
	add_one(f->st, "watch-keyword", "v304\\.example");
	a = b;
	assert_int_equal(build(&t, s, f->st, &err), 0);
	check_window(t, 304, &oldest);
	hl_snap_stats(&b, s);
	assert_int_equal(b.segments_rendered - a.segments_rendered, 1);
	assert_non_null(find(t, "changes/289-304.json"));
	assert_null(find(t, "changes/289-289.json"));

	/* Beyond the window: the oldest segments slide out. */
	v = add_many(f->st, "watch-number", "w", HL_SNAP_WINDOW + 500);
	a = b;
	assert_int_equal(build(&t, s, f->st, &err), 0);
	check_window(t, v, &oldest);
	assert_true(oldest > 0);
	assert_null(find(t, "changes/1-256.json"));
	hl_snap_stats(&b, s);
	/* Made once more: only the segments not there before. */
	assert_true(b.segments_rendered - a.segments_rendered <=
	    (v - 304) / HL_SNAP_SEG_BIG + 2 * HL_SNAP_SEG_MID);
	hl_snap_free(s);
}

/*
 * A database restored at version 300 (helios restore) holds no event up
 * to it: changes.json's oldest is 300 and the segments start at 301, so
 * none bears the name of a segment the lost server published with its
 * events (changes/289-304.json), which targets keep as immutable.
 */
static void
test_change_segments_start_after_a_restore(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	json_t *c, *segs, *r, *doc;
	json_int_t from, to;
	char value[64];
	size_t i;

	assert_int_equal(hl_store_restore_version(f->st, 300, &err), 0);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	c = parse(find(t, "changes.json"));
	assert_int_equal(json_integer_value(json_object_get(c, "oldest")),
	    300);
	assert_int_equal(json_array_size(json_object_get(c, "segments")), 0);
	json_decref(c);
	for (i = 301; i <= 320; i++) {
		snprintf(value, sizeof(value), "after-%zu\\.example", i);
		assert_int_equal(add_one(f->st, "watch-keyword", value),
		    (int64_t)i);
	}
	assert_int_equal(build(&t, s, f->st, &err), 0);
	c = parse(find(t, "changes.json"));
	assert_int_equal(json_integer_value(json_object_get(c, "oldest")),
	    300);
	segs = json_object_get(c, "segments");
	/* 301-316, then 317..320 one by one. */
	assert_int_equal(json_array_size(segs), 1 + 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    segs, 0), "path")), "changes/301-316.json");
	json_array_foreach(segs, i, r) {
		from = json_integer_value(json_object_get(r, "from"));
		to = json_integer_value(json_object_get(r, "to"));
		assert_true(from > 300);
		doc = parse(find(t, json_string_value(json_object_get(r,
		    "path"))));
		assert_int_equal(json_array_size(json_object_get(doc,
		    "events")), (size_t)(to - from + 1));
		json_decref(doc);
	}
	assert_null(find(t, "changes/289-304.json"));
	json_decref(c);
	hl_snap_free(s);
}

/* Runs a shell command; fails the test on a non-zero status. */
static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/*
 * With an Ed25519 key from openssl, manifest.json.sig verifies over the
 * manifest's bytes, and not once one byte of either changes.
 */
static void
test_signed_manifest_verifies(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	const struct hl_file *m, *sig;
	char key[160], pub[160], rsa[160];
	unsigned char *copy, sigcopy[64];

	snprintf(key, sizeof(key), "%s/key.pem", f->dir);
	snprintf(pub, sizeof(pub), "%s/pub.pem", f->dir);
	snprintf(rsa, sizeof(rsa), "%s/rsa.pem", f->dir);
	sh("openssl genpkey -algorithm ed25519 -out %s 2>/dev/null", key);
	sh("openssl pkey -in %s -pubout -out %s 2>/dev/null", key, pub);
	add_one(f->st, "watch-keyword", "signed\\.example");
	o.signing_key = key;
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	m = find(t, "manifest.json");
	sig = find(t, "manifest.json.sig");
	assert_non_null(m);
	assert_non_null(sig);
	assert_int_equal(sig->len, 64);
	assert_int_equal(sig->cache, HL_CACHE_REVALIDATE);
	/* The signature goes up just before the manifest, which is last. */
	assert_string_equal(t->files[t->n - 1].path, "manifest.json");
	assert_string_equal(t->files[t->n - 2].path, "manifest.json.sig");
	if (hl_manifest_verify(pub, m->data, m->len, sig->data, sig->len,
	    &err) != 0)
		fail_msg("the signature does not verify: %s", err.msg);

	copy = malloc(m->len);
	assert_non_null(copy);
	memcpy(copy, m->data, m->len);
	copy[m->len / 2] ^= 0x01;
	assert_int_equal(hl_manifest_verify(pub, copy, m->len, sig->data,
	    sig->len, &err), HL_EINVAL);
	free(copy);
	memcpy(sigcopy, sig->data, 64);
	sigcopy[10] ^= 0x80;
	assert_int_equal(hl_manifest_verify(pub, m->data, m->len, sigcopy,
	    64, &err), HL_EINVAL);
	hl_snap_free(s);

	/* Not an Ed25519 key: refused when the generator starts. */
	sh("openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024"
	    " -out %s 2>/dev/null", rsa);
	o.signing_key = rsa;
	s = NULL;
	assert_int_equal(hl_snap_new(&s, &o, &err), HL_EINVAL);
	assert_null(s);
	o.signing_key = "/nonexistent/key.pem";
	assert_int_equal(hl_snap_new(&s, &o, &err), HL_EIO);
	assert_null(s);
}

/* Every file but the manifest is the same in trees a and b. */
static void
same_files(const struct hl_tree *a, const struct copy *b, size_t nb)
{
	size_t i;

	assert_int_equal(a->n, nb);
	for (i = 0; i < nb; i++) {
		if (clocked(b[i].path, b[i].data, b[i].len))
			continue;
		assert_string_equal(a->files[i].path, b[i].path);
		if (a->files[i].len != b[i].len ||
		    memcmp(a->files[i].data, b[i].data, b[i].len) != 0)
			fail_msg("%s differs from a full render", b[i].path);
	}
}

/*
 * New items appended to a rendered list give exactly the bytes of a full
 * render, for plain and tsv lists, from empty and non-empty lists, one or
 * several at a time; a delete falls back to a full render.
 */
static void
test_appends_give_the_bytes_of_a_full_render(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *warm, *cold;
	struct hl_snap_stats a, b;
	struct hl_item gone;
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;
	struct copy *c;
	char val[64];
	int64_t v;
	int round;

	o.now = 1796000000;
	/* Big enough for several gzip chunks (HL_BLOB_CHUNK) per file. */
	add_many(f->st, "blacklist-keyword", "base", 20000);
	assert_int_equal(hl_snap_new(&warm, &o, &err), 0);
	assert_int_equal(build(&t, warm, f->st, &err), 0);
	for (round = 0; round < 4; round++) {
		snprintf(val, sizeof(val), "append-%d\\.example", round);
		add_one(f->st, "blacklist-keyword", round == 2 ?
		    "caf\xc3\xa9 \"q\" \\d+" : val);
		if (round == 0)
			add_one(f->st, "watch-keyword", "first\\.ever");
		if (round == 1) {
			add_one(f->st, "watch-keyword", "second\\.one");
			add_one(f->st, "watch-keyword", "third\\.one");
		}
		if (round == 3)
			assert_int_equal(hl_store_item_del(&gone, &v, f->st,
			    "blacklist-keyword", "base-7\\.example", &who,
			    &err), 0);
		if (round == 3)
			hl_item_clear(&gone);
		hl_snap_stats(&a, warm);
		assert_int_equal(build(&t, warm, f->st, &err), 0);
		hl_snap_stats(&b, warm);
		if (round < 3)
			assert_true(b.lists_appended > a.lists_appended);
		else
			assert_true(b.lists_rendered > a.lists_rendered);
		c = copy_tree(t);
		assert_int_equal(hl_snap_new(&cold, &o, &err), 0);
		assert_int_equal(build(&u, cold, f->st, &err), 0);
		same_files(u, c, t->n);
		hl_snap_free(cold);
		copy_free(c);
	}
	hl_snap_free(warm);
}

/*
 * The segments a big list's index names, each checked against its hash:
 * their sha256 values (sorted, as one string per segment) into *shas,
 * and their items, concatenated, as the return value.
 */
static json_t *
assemble_list(const struct hl_tree *t, const char *list, json_t **shas)
{
	char path[128], obj[80], sha[65], md5[33], *canon;
	const struct hl_file *fi;
	json_t *idx, *segs, *g, *doc, *items;
	size_t i;

	snprintf(path, sizeof(path), "lists/%s.json", list);
	idx = parse(fi = find(t, path));
	/* The bytes jansson gives the document, keys sorted (snapshot.c
	   writes the segments itself). */
	canon = json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(canon);
	assert_int_equal(fi->len, strlen(canon) + 1);
	assert_memory_equal(fi->data, canon, fi->len - 1);
	assert_int_equal(fi->data[fi->len - 1], '\n');
	free(canon);
	assert_null(json_object_get(idx, "items"));
	segs = json_object_get(idx, "segments");
	assert_true(json_array_size(segs) > 1);
	items = json_array();
	*shas = json_array();
	json_array_foreach(segs, i, g) {
		snprintf(obj, sizeof(obj), "objects/%s",
		    json_string_value(json_object_get(g, "sha256")));
		assert_non_null(fi = find(t, obj));
		hl_digest(sha, md5, fi->data, fi->len);
		assert_string_equal(sha, obj + 8);
		assert_int_equal(json_integer_value(json_object_get(g,
		    "bytes")), fi->len);
		snprintf(obj + strlen(obj), sizeof(obj) - strlen(obj), ".gz");
		assert_non_null(find(t, obj));
		doc = parse(fi);
		assert_int_equal(json_array_size(json_object_get(doc,
		    "items")), json_integer_value(json_object_get(g,
		    "items")));
		json_array_extend(items, json_object_get(doc, "items"));
		json_decref(doc);
		json_array_append_new(*shas, json_string(sha));
	}
	assert_int_equal(json_array_size(items),
	    json_integer_value(json_object_get(idx, "numItems")));
	json_decref(idx);
	return items;
}

/* How many strings of b are not in a. */
static size_t
not_in(json_t *a, json_t *b)
{
	size_t i, j, n = 0;
	json_t *x, *y;

	json_array_foreach(b, i, x) {
		json_array_foreach(a, j, y)
			if (json_equal(x, y))
				break;
		if (j == json_array_size(a))
			n++;
	}
	return n;
}

/*
 * A big list's JSON is an index of segments: assembled, they are the
 * list's items (as the store holds them, in file order); a second build
 * from the same rows gives the same segments; an append, a delete in the
 * middle and an edit each make exactly one new segment, every other
 * segment file staying as it was; a small list stays whole.
 */
static void
test_big_list_changes_one_segment(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s, *cold;
	struct hl_snap_source src;
	struct hl_snap_stats a, b;
	struct hl_item *v = NULL, gone;
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;
	json_t *items, *want, *shas, *shas2, *small;
	size_t n = 0, i;
	int64_t ver;

	o.now = 1796000000;
	add_many(f->st, "blacklist-keyword", "base", 20000);
	add_many(f->st, "watch-number", "wn", 10);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	items = assemble_list(t, "blacklist-keyword", &shas);

	/* The items, as the store hands them over, one by one. */
	hl_snapsrc_store(&src, f->st);
	assert_int_equal(src.begin(src.payload, &err), 0);
	assert_int_equal(src.items(&v, &n, src.payload, "blacklist-keyword",
	    &err), 0);
	src.end(src.payload);
	want = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(want, hl_item_json(&v[i],
		    "blacklist-keyword", HL_FMT_PLAIN));
	hl_items_free(v, n);
	assert_true(json_equal(items, want));
	json_decref(want);
	json_decref(items);
	small = parse(find(t, "lists/watch-number.json"));
	assert_int_equal(json_array_size(json_object_get(small, "items")), 10);
	json_decref(small);

	/* Determinism: a cold build names the same segments. */
	assert_int_equal(hl_snap_new(&cold, &o, &err), 0);
	assert_int_equal(build(&u, cold, f->st, &err), 0);
	items = assemble_list(u, "blacklist-keyword", &shas2);
	assert_true(json_equal(shas, shas2));
	json_decref(items);
	json_decref(shas2);
	hl_snap_free(cold);

	/* An append: one new segment, one compressed. */
	add_one(f->st, "blacklist-keyword", "late\\.example");
	hl_snap_stats(&a, s);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	hl_snap_stats(&b, s);
	assert_int_equal(b.lists_appended - a.lists_appended, 1);
	assert_int_equal(b.list_segments_made - a.list_segments_made, 1);
	items = assemble_list(t, "blacklist-keyword", &shas2);
	assert_int_equal(not_in(shas, shas2), 1);
	assert_int_equal(json_array_size(items), 20001);
	json_decref(items);
	json_decref(shas);
	shas = shas2;

	/* A delete in the middle: a full render, still one new segment. */
	assert_int_equal(hl_store_item_del(&gone, &ver, f->st,
	    "blacklist-keyword", "base-9000\\.example", &who, &err), 0);
	hl_item_clear(&gone);
	hl_snap_stats(&a, s);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	hl_snap_stats(&b, s);
	assert_int_equal(b.lists_rendered - a.lists_rendered, 1);
	assert_int_equal(b.list_segments_made - a.list_segments_made, 1);
	items = assemble_list(t, "blacklist-keyword", &shas2);
	assert_int_equal(not_in(shas, shas2), 1);
	assert_int_equal(json_array_size(items), 20000);
	json_decref(items);
	json_decref(shas);
	json_decref(shas2);
	hl_snap_free(s);
}

/* The bytes of a tree's file, whatever backs it (tree.h), malloc'd. */
static int
to_buf(const void *p, size_t n, void *arg)
{
	return hl_buf_put(arg, p, n) != 0 ? HL_ENOMEM : 0;
}

static unsigned char *
file_bytes(const struct hl_file *fi)
{
	struct hl_buf b = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;

	assert_int_equal(hl_buf_put(&b, "", 0), 0);
	assert_int_equal(hl_file_each(fi, to_buf, &b, &err), 0);
	assert_int_equal(b.len, fi->len);
	return (unsigned char *)hl_buf_detach(&b, NULL);
}

/*
 * Every file of a (spooled or not) has the bytes of b's, but the
 * manifest; returns how many of a's are spooled.
 */
static size_t
same_as(const struct hl_tree *a, const struct hl_tree *b)
{
	unsigned char *x, *y;
	size_t i, spooled = 0;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		/* The manifest names its previous one: a warm build's. */
		if (a->files[i].data != NULL && clocked(a->files[i].path,
		    a->files[i].data, a->files[i].len))
			continue;
		assert_string_equal(a->files[i].path, b->files[i].path);
		assert_string_equal(a->files[i].sha256, b->files[i].sha256);
		assert_string_equal(a->files[i].md5, b->files[i].md5);
		x = file_bytes(&a->files[i]);
		y = file_bytes(&b->files[i]);
		if (a->files[i].len != b->files[i].len ||
		    memcmp(x, y, a->files[i].len) != 0)
			fail_msg("%s: spooled bytes differ", a->files[i].path);
		free(x);
		free(y);
		if (a->files[i].spool != NULL) {
			assert_null(a->files[i].data);
			spooled++;
		}
	}
	return spooled;
}

/* Imports n items to list, item `cut`'s line kept with trailing blanks. */
static void
import_src(struct hl_store *st, const char *list, size_t n, size_t cut)
{
	struct hl_item *v = calloc(n, sizeof(*v));
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	char buf[128];
	size_t i, added = 0;
	int64_t version = 0;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "src-%zu\\.example", i);
		v[i].value = strdup(buf);
		v[i].pos = (int64_t)i;
		v[i].created_at = 1500000000 + (int64_t)i;
		v[i].created_by = strdup("tester");
		if (i == cut) {
			/* Kept as read: no '\n', which a render adds. */
			snprintf(buf, sizeof(buf), "src-%zu\\.example  ", i);
			v[i].src = strdup(buf);
		}
	}
	assert_int_equal(hl_store_import(&added, &version, st, list, v, n,
	    &who, &err), 0);
	hl_items_free(v, n);
}

/* Counts the entries of dir whose name starts with prefix. */
static size_t
entries(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/*
 * Lists written to the spool (hl_snap_opts.spool_items) give every file
 * the bytes and hashes of an in-memory build: plain and tsv, items read
 * in several batches (a line kept cut short at a batch's end gets its
 * '\n'), after appends (the spooled text reusing its chunks) and after a
 * delete; the spool's files are removed with the builds that made them.
 */
static void
test_spooled_lists_give_the_same_bytes(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT, so;
	struct hl_snap *mem, *sp;
	struct hl_snap_stats a, b;
	struct hl_item gone;
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;
	char spdir[160];
	int64_t v;
	int round;

	o.now = 1796000000;
	so = o;
	so.spool_items = 5000;
	snprintf(spdir, sizeof(spdir), "%s/spool", f->dir);
	assert_int_equal(mkdir(spdir, 0700), 0);
	so.spool_dir = spdir;
	/* Several gzip chunks and item batches (HL_SNAP_BATCH) per file. */
	import_src(f->st, "blacklist-keyword", 3 * HL_SNAP_BATCH + 7,
	    HL_SNAP_BATCH - 1);
	add_many(f->st, "watch-number", "wn", 10);
	/* Last: its appends are within the 256 events appended_items reads. */
	add_many(f->st, "watch-keyword", "tsv", 12000);
	assert_int_equal(hl_snap_new(&sp, &so, &err), 0);
	assert_int_equal(build(&t, sp, f->st, &err), 0);
	assert_int_equal(hl_snap_new(&mem, &o, &err), 0);
	assert_int_equal(build(&u, mem, f->st, &err), 0);
	/* Both lists' text, gzip and segments, and their objects. */
	assert_true(same_as(t, u) > 8);
	/* An empty yaml list still has its header ("items: []"). */
	assert_non_null(strstr((const char *)find(t,
	    "lists/blacklist-cidr.yml")->data, "items: []"));
	hl_snap_free(mem);
	assert_int_equal(entries(spdir, "helios-spool."), 1);

	for (round = 0; round < 3; round++) {
		if (round < 2)
			add_one(f->st, "watch-keyword", round ? "late\\.one" :
			    "later\\.one");
		else {
			assert_int_equal(hl_store_item_del(&gone, &v, f->st,
			    "blacklist-keyword", "src-9\\.example", &who,
			    &err), 0);
			hl_item_clear(&gone);
		}
		hl_snap_stats(&a, sp);
		assert_int_equal(build(&t, sp, f->st, &err), 0);
		hl_snap_stats(&b, sp);
		if (round < 2)
			assert_int_equal(b.lists_appended - a.lists_appended,
			    1);
		else
			assert_int_equal(b.lists_rendered - a.lists_rendered,
			    1);
		assert_int_equal(hl_snap_new(&mem, &o, &err), 0);
		assert_int_equal(build(&u, mem, f->st, &err), 0);
		assert_true(same_as(t, u) > 8);
		hl_snap_free(mem);
	}
	hl_snap_free(sp);
	assert_int_equal(entries(spdir, "helios-spool."), 0);

	/* A spool that cannot be made fails the build, with why. */
	so.spool_dir = "/nonexistent/helios";
	assert_int_equal(hl_snap_new(&sp, &so, &err), 0);
	assert_int_equal(build(&t, sp, f->st, &err), HL_EIO);
	assert_non_null(strstr(err.msg, "spool"));
	hl_snap_free(sp);
}

/*
 * The gzip of segment k of list's index in t: checks it decompresses to
 * the segment and is the gzip hl_blob_make gives at level (with its
 * flags), in small chunks as every segment (listseg.c).
 */
static void
seg_is(const struct hl_tree *t, const char *list, size_t k, int level)
{
	struct hl_buf out = HL_BUF_INIT;
	struct hl_blob id, gz;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_file *fi;
	unsigned char *seg, *gzb;
	char path[160];
	json_t *idx, *g;

	snprintf(path, sizeof(path), "lists/%s.json", list);
	assert_non_null(fi = find(t, path));
	seg = file_bytes(fi);
	idx = json_loadb((const char *)seg, fi->len, 0, NULL);
	free(seg);
	assert_non_null(idx);
	assert_non_null(g = json_array_get(json_object_get(idx, "segments"),
	    k));
	snprintf(path, sizeof(path), "objects/%s", json_string_value(
	    json_object_get(g, "sha256")));
	assert_non_null(fi = find(t, path));
	seg = file_bytes(fi);
	strcat(path, ".gz");
	assert_non_null(fi = find(t, path));
	gzb = file_bytes(fi);
	assert_int_equal(hl_gunzip(&out, gzb, fi->len, 1 << 24, &err), 0);
	assert_int_equal(out.len, (size_t)json_integer_value(
	    json_object_get(g, "bytes")));
	assert_memory_equal(out.data, seg, out.len);
	assert_int_equal(hl_blob_make(&id, &gz, NULL, seg, out.len, 0, level |
	    HL_BLOB_SMALL_CHUNKS, &err), 0);
	assert_int_equal(gz.len, fi->len);
	assert_memory_equal(gz.data, gzb, fi->len);
	hl_blob_clear(&id);
	hl_blob_clear(&gz);
	hl_buf_free(&out);
	free(gzb);
	json_decref(idx);
}

/*
 * A list of hl_snap_opts.big_items items or more has its JSON segments
 * compressed at the big files' level (HL_BLOB_GZIP_BIG_LEVEL), spooled or
 * not, with the same bytes either way; a smaller list's take the default
 * level.  Every file's last chunk is libdeflate's (HL_BLOB_LIBDEFLATE).
 * A list that grows past big_items gives a warm build the bytes of a cold
 * one: its old segments are compressed again, not kept as they were.
 */
static void
test_big_lists_take_the_big_level(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT, so;
	struct hl_snap *mem, *sp, *cold;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;
	char spdir[160];

	o.now = 1796000000;
	o.big_items = 10000;
	so = o;
	so.spool_items = 5000;
	snprintf(spdir, sizeof(spdir), "%s/spool", f->dir);
	assert_int_equal(mkdir(spdir, 0700), 0);
	so.spool_dir = spdir;
	add_many(f->st, "blacklist-keyword", "bk", 6000);
	/* Last: its append is within the events appended_items reads. */
	add_many(f->st, "watch-keyword", "tsv", 12000);
	assert_int_equal(hl_snap_new(&sp, &so, &err), 0);
	assert_int_equal(build(&t, sp, f->st, &err), 0);
	assert_int_equal(hl_snap_new(&mem, &o, &err), 0);
	assert_int_equal(build(&u, mem, f->st, &err), 0);
	assert_true(same_as(t, u) > 8);
	seg_is(t, "watch-keyword", 1, 1 | HL_BLOB_LIBDEFLATE);
	seg_is(u, "watch-keyword", 1, 1 | HL_BLOB_LIBDEFLATE);
	seg_is(t, "blacklist-keyword", 1, 6 | HL_BLOB_LIBDEFLATE);
	hl_snap_free(mem);
	hl_snap_free(sp);

	/* 12,001 items: past the line by an append. */
	so.big_items = o.big_items = 12001;
	assert_int_equal(hl_snap_new(&sp, &so, &err), 0);
	assert_int_equal(build(&t, sp, f->st, &err), 0);
	seg_is(t, "watch-keyword", 1, 6 | HL_BLOB_LIBDEFLATE);
	add_one(f->st, "watch-keyword", "late\\.one");
	assert_int_equal(build(&t, sp, f->st, &err), 0);
	assert_int_equal(hl_snap_new(&cold, &o, &err), 0);
	assert_int_equal(build(&u, cold, f->st, &err), 0);
	assert_true(same_as(t, u) > 8);
	seg_is(t, "watch-keyword", 1, 1 | HL_BLOB_LIBDEFLATE);
	hl_snap_free(cold);
	hl_snap_free(sp);
	assert_int_equal(entries(spdir, "helios-spool."), 0);
}

/*
 * A source that counts begin/end and fails the Nth items call: the store
 * beneath, seen only through the callbacks, as the generator sees it.
 */
struct failing {
	struct hl_snap_source	 store;
	int			 begins;
	int			 ends;
	int			 items_left;	/* calls before the failure */
};

static int
f_begin(void *payload, struct hl_err *err)
{
	struct failing *x = payload;

	x->begins++;
	return x->store.begin(x->store.payload, err);
}

static void
f_end(void *payload)
{
	struct failing *x = payload;

	x->ends++;
	x->store.end(x->store.payload);
}

static int64_t
f_version(void *payload)
{
	struct failing *x = payload;

	return x->store.version(x->store.payload);
}

static int
f_lists(struct hl_list **out, size_t *n, void *payload, struct hl_err *err)
{
	struct failing *x = payload;

	return x->store.lists(out, n, x->store.payload, err);
}

static int
f_items(struct hl_item **out, size_t *n, void *payload, const char *list,
    struct hl_err *err)
{
	struct failing *x = payload;

	if (x->items_left-- == 0) {
		*out = NULL;
		*n = 0;
		return hl_err_set(err, HL_EIO, "items of %s: disk on fire",
		    list);
	}
	return x->store.items(out, n, x->store.payload, list, err);
}

static int
f_events(struct hl_event **out, size_t *n, void *payload, int64_t since,
    size_t limit, struct hl_err *err)
{
	struct failing *x = payload;

	return x->store.events(out, n, x->store.payload, since, limit, err);
}

static int
f_notifs(struct hl_notif **out, size_t *n, void *payload,
    struct hl_err *err)
{
	struct failing *x = payload;

	return x->store.notifs(out, n, x->store.payload, err);
}

static int64_t
f_notifs_version(void *payload)
{
	struct failing *x = payload;

	return x->store.notifs_version(x->store.payload);
}

static int
f_proposals(json_t **out, void *payload, size_t limit, struct hl_err *err)
{
	struct failing *x = payload;

	return x->store.proposals(out, x->store.payload, limit, err);
}

static int64_t
f_proposals_version(void *payload)
{
	struct failing *x = payload;

	return x->store.proposals_version(x->store.payload);
}

/*
 * The generator reads only through its source, in one begin/end pair even
 * when a read fails, passes the source's error up, and builds the same
 * bytes once the source answers again.
 */
static void
test_source_errors_pass_up_and_the_read_ends(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s, *ref;
	struct hl_snap_source src = { 0 };
	struct failing x;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;
	size_t i;

	add_many(f->st, "blacklist-keyword", "kw", 20);
	add_one(f->st, "watch-keyword", "w\\.example");
	memset(&x, 0, sizeof(x));
	hl_snapsrc_store(&x.store, f->st);
	x.items_left = 3;
	src.payload = &x;
	src.begin = f_begin;
	src.end = f_end;
	src.version = f_version;
	src.lists = f_lists;
	src.items = f_items;
	src.events = f_events;
	src.notifs = f_notifs;
	src.notifs_version = f_notifs_version;
	src.proposals = f_proposals;
	src.proposals_version = f_proposals_version;
	o.now = 1700000000;
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(hl_snap_build(&t, s, &src, &err), HL_EIO);
	assert_null(t);
	assert_non_null(strstr(err.msg, "disk on fire"));
	assert_int_equal(x.begins, 1);
	assert_int_equal(x.ends, 1);
	/* The store's read transaction ended: a write goes through. */
	add_one(f->st, "watch-keyword", "after\\.example");
	hl_err_clear(&err);
	assert_int_equal(hl_snap_build(&t, s, &src, &err), 0);
	assert_int_equal(x.begins, 2);
	assert_int_equal(x.ends, 2);
	assert_int_equal(hl_snap_new(&ref, &o, &err), 0);
	assert_int_equal(build(&u, ref, f->st, &err), 0);
	assert_int_equal(t->n, u->n);
	for (i = 0; i < t->n; i++) {
		assert_string_equal(t->files[i].path, u->files[i].path);
		assert_int_equal(t->files[i].len, u->files[i].len);
		assert_memory_equal(t->files[i].data, u->files[i].data,
		    t->files[i].len);
	}
	hl_snap_free(ref);
	hl_snap_free(s);
}

/*
 * A big list's segments take no MD5 of their identity bytes
 * (HL_BLOB_NO_MD5: no manifest lists them, their ETag is made where they
 * are served); their gzips and every other file of the tree have the MD5
 * of their bytes.
 */
static void
test_segments_take_no_md5(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t;
	json_t *items, *shas;
	char sha[65], md5[33];
	unsigned char *b;
	size_t i, k, segs = 0;

	o.now = 1796000000;
	add_many(f->st, "blacklist-keyword", "kw", 5000);
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(build(&t, s, f->st, &err), 0);
	items = assemble_list(t, "blacklist-keyword", &shas);
	assert_true(json_array_size(shas) > 2);
	for (i = 0; i < t->n; i++) {
		const struct hl_file *fi = &t->files[i];

		for (k = 0; k < json_array_size(shas); k++) {
			const char *h = json_string_value(json_array_get(shas,
			    k));

			if (strncmp(fi->path, "objects/", 8) == 0 &&
			    strncmp(fi->path + 8, h, 64) == 0 &&
			    (fi->path[72] == '\0' ||
			    strcmp(fi->path + 72, ".gz") == 0))
				break;
		}
		if (k < json_array_size(shas) && fi->path[72] == '\0') {
			assert_string_equal(fi->md5, "");
			segs++;
			continue;
		}
		segs += k < json_array_size(shas);
		b = file_bytes(fi);
		hl_digest(sha, md5, b != NULL ? (void *)b : "", fi->len);
		assert_string_equal(fi->sha256, sha);
		assert_string_equal(fi->md5, md5);
		free(b);
	}
	assert_int_equal(segs, 2 * json_array_size(shas));
	json_decref(items);
	json_decref(shas);
	hl_snap_free(s);
}

/*
 * A source that hands the generator its own copies of the store's
 * batches and spoils each copy (its strings overwritten, then all freed)
 * as soon as the call after it returns: the longest items_each lets a
 * batch live (snapshot.h).  The rest is the store's, through `failing`.
 */
struct spoiling {
	struct failing	 base;		/* first: the f_* callbacks' payload */
	int		(*fn)(const struct hl_item *, size_t, void *);
	void		*arg;
	struct hl_item	*prev;		/* the copy handed last */
	size_t		 prevn;
	int		 batches;
	int		 ends;
};

static void
spoil(struct hl_item *v, size_t n)
{
	char **str[8];
	size_t i, k;

	for (i = 0; i < n; i++) {
		str[0] = &v[i].value;
		str[1] = &v[i].comment;
		str[2] = &v[i].src;
		str[3] = &v[i].origin;
		str[4] = &v[i].keys;
		str[5] = &v[i].created_by;
		str[6] = &v[i].modified_by;
		str[7] = &v[i].review;
		for (k = 0; k < 8; k++)
			if (*str[k] != NULL)
				memset(*str[k], 'X', strlen(*str[k]));
		v[i].pos = -1;
	}
	hl_items_free(v, n);
}

static int
spoil_batch(const struct hl_item *v, size_t n, void *arg)
{
	struct spoiling *x = arg;
	struct hl_item *copy = NULL;
	size_t i;
	int rc;

	if (v != NULL) {
		assert_non_null(copy = calloc(n + 1, sizeof(*copy)));
		for (i = 0; i < n; i++)
			assert_int_equal(hl_item_copy(&copy[i], &v[i]), 0);
		x->batches++;
	} else
		x->ends++;
	rc = x->fn(copy, n, x->arg);
	/* The batch before is the source's again. */
	spoil(x->prev, x->prevn);
	x->prev = copy;
	x->prevn = n;
	return rc;
}

static int
s_items_each(void *payload, const char *list, size_t batch,
    int (*fn)(const struct hl_item *, size_t, void *), void *arg,
    struct hl_err *err)
{
	struct spoiling *x = payload;

	x->fn = fn;
	x->arg = arg;
	return x->base.store.items_each(x->base.store.payload, list, batch,
	    spoil_batch, x, err);
}

/*
 * Lists read in many batches render while the source reads on (each
 * batch handed to the generator's threads): yet no batch is read after
 * the call following it returns, since the bytes are those of a build
 * from the store; every scan ends with its end call.
 */
static void
test_batches_are_let_go_in_time(void **state)
{
	struct fx *f = *state;
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap *s, *ref;
	struct hl_snap_source src;
	struct spoiling x;
	struct hl_err err = HL_ERR_INIT;
	const struct hl_tree *t, *u;

	o.now = 1796000000;
	import_src(f->st, "blacklist-keyword", 3 * HL_SNAP_BATCH + 7,
	    HL_SNAP_BATCH - 1);
	add_many(f->st, "watch-keyword", "tsv", 2 * HL_SNAP_BATCH + 1);
	memset(&x, 0, sizeof(x));
	hl_snapsrc_store(&x.base.store, f->st);
	x.base.items_left = -1;
	src = x.base.store;
	src.payload = &x;
	src.begin = f_begin;
	src.end = f_end;
	src.version = f_version;
	src.lists = f_lists;
	src.items = f_items;
	src.items_each = s_items_each;
	src.events = f_events;
	src.notifs = f_notifs;
	src.notifs_version = f_notifs_version;
	src.proposals = f_proposals;
	src.proposals_version = f_proposals_version;
	assert_int_equal(hl_snap_new(&s, &o, &err), 0);
	assert_int_equal(hl_snap_build(&t, s, &src, &err), 0);
	assert_null(x.prev);
	assert_true(x.batches >= 4 + 3);
	assert_true(x.ends >= 2);
	assert_int_equal(hl_snap_new(&ref, &o, &err), 0);
	assert_int_equal(build(&u, ref, f->st, &err), 0);
	(void)same_as(t, u);
	hl_snap_free(ref);
	hl_snap_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_same_database_gives_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_gzip_files_decompress_to_their_identity_bytes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_manifest_names_every_file_with_its_hashes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tree_is_in_publication_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_only_changed_lists_are_rendered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_change_segments_partition_the_window, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_change_segments_start_after_a_restore, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_signed_manifest_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_big_list_changes_one_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_appends_give_the_bytes_of_a_full_render, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_source_errors_pass_up_and_the_read_ends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_spooled_lists_give_the_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_big_lists_take_the_big_level, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_batches_are_let_go_in_time, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_segments_take_no_md5, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
