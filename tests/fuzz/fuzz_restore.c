/*
 * fuzz_restore: libFuzzer target for `helios restore` (src/restore.c),
 * which rebuilds a lost server's database from a published tree that any
 * mirror, bucket or pages branch may have handed over.  It checks what
 * restore promises, not only that it does not crash:
 *
 *   1. a refused tree leaves no database behind;
 *   2. a restored database holds the manifest's version, and each list in
 *      it renders back to the very bytes of the list's text file (the
 *      lines SmokeDetector skips and the duplicates included).
 *
 * Input layout: a flags byte, then files separated by NUL bytes, each its
 * path, a newline and its bytes.  A source of the tree (struct
 * hl_restore_src) serves them by path, and serves objects/<sha256> as any
 * file with those bytes.  When the flags byte is odd, the manifest's
 * sizes and hashes are made right first (and a list index's segment
 * hashes name the files under objects/), so the fuzzer gets past the
 * checks to the readers behind them; when even, the tree is taken as it
 * comes.  A broken promise aborts with what was wrong on stderr.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "buf.h"
#include "err.h"
#include "item.h"
#include "restore.h"
#include "store.h"
#include "textfmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES	32

struct file {
	char		 path[256];
	const char	*data;
	size_t		 len;
	char		*owned;		/* data, when rewritten */
	char		 sha[65];
};

struct tree {
	struct file	f[MAX_FILES];
	size_t		 n;
};

static struct file *
by_path(struct tree *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->f[i].path, path) == 0)
			return &t->f[i];
	return NULL;
}

static struct file *
by_sha(struct tree *t, const char *sha)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->f[i].sha, sha) == 0)
			return &t->f[i];
	return NULL;
}

static int
tree_read(struct hl_buf *out, void *arg, const char *path, size_t max,
    struct hl_err *err)
{
	struct tree *t = arg;
	struct file *f = by_path(t, path);

	if (f == NULL && strncmp(path, "objects/", 8) == 0)
		f = by_sha(t, path + 8);
	if (f == NULL)
		return hl_err_set(err, HL_ENOTFOUND, "%s: not found", path);
	if (f->len > max)
		return hl_err_set(err, HL_ETOOBIG, "%s: too big", path);
	return hl_buf_put(out, f->data, f->len) == 0 ? 0 :
	    hl_err_set(err, HL_ENOMEM, "out of memory");
}

/* Replaces f's bytes with j's compact form. */
static void
rewrite(struct file *f, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s == NULL)
		return;
	free(f->owned);
	f->owned = s;
	f->data = s;
	f->len = strlen(s);
	hl_digest(f->sha, NULL, f->data, f->len);
}

/* A list index's segments name files under objects/, in turn. */
static void
fix_segments(struct tree *t, struct file *f)
{
	json_t *j = json_loadb(f->data, f->len, 0, NULL), *g;
	size_t i, k = 0, o;

	if (!json_is_array(json_object_get(j, "segments"))) {
		json_decref(j);
		return;
	}
	json_array_foreach(json_object_get(j, "segments"), i, g) {
		for (o = 0; o < t->n; o++) {
			struct file *s = &t->f[(k + o) % t->n];

			if (strncmp(s->path, "objects/", 8) == 0 &&
			    json_is_object(g)) {
				json_object_set_new(g, "sha256",
				    json_string(s->sha));
				k += o + 1;
				break;
			}
		}
	}
	rewrite(f, j);
	json_decref(j);
}

/* The manifest's entries get the sizes and hashes of the files. */
static void
fix_manifest(struct tree *t, struct file *m)
{
	json_t *j = json_loadb(m->data, m->len, 0, NULL), *e;
	struct file *f;
	char obj[80];
	size_t i;

	json_array_foreach(json_object_get(j, "files"), i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));

		if (p == NULL || (f = by_path(t, p)) == NULL)
			continue;
		json_object_set_new(e, "sha256", json_string(f->sha));
		json_object_set_new(e, "bytes", json_integer((json_int_t)
		    f->len));
		if (json_object_get(e, "object") != NULL) {
			snprintf(obj, sizeof(obj), "objects/%s", f->sha);
			json_object_set_new(e, "object", json_string(obj));
		}
	}
	if (j != NULL)
		rewrite(m, j);
	json_decref(j);
}

static void
broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_restore: %s: %s\n", what, detail);
	abort();
}

/* The sha256 the manifest j gives the file path ("" when none). */
static const char *
entry_sha(json_t *j, const char *path)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(j, "files"), i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *sha = json_string_value(json_object_get(e,
		    "sha256"));

		if (p != NULL && path != NULL && strcmp(p, path) == 0)
			return sha ? sha : "";
	}
	return "";
}

/* Promise 2: the database holds the tree's version and its lists' bytes. */
static void
check_restored(struct tree *t, const char *db, int64_t version)
{
	struct file *m = by_path(t, "manifest.json"), *txt;
	struct hl_store *st;
	struct hl_item *items;
	struct hl_list info;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_err e = { 0 };
	json_t *j, *l;
	size_t i, n;

	if (hl_store_open(&st, db, &e) != 0)
		broken("the restored database does not open", e.msg);
	if (hl_store_version(st) != version)
		broken("the restored version", "is not the manifest's");
	j = json_loadb(m->data, m->len, 0, NULL);
	if (hl_store_read_begin(st, &e) != 0)
		broken("read", e.msg);
	json_array_foreach(json_object_get(j, "lists"), i, l) {
		const char *id = json_string_value(json_object_get(l, "id"));
		const char *tp = json_string_value(json_object_get(l, "text"));

		/* The bytes restore checked: those of the entry's sha256. */
		txt = by_sha(t, entry_sha(j, tp));
		memset(&info, 0, sizeof(info));
		if (hl_store_list(&info, st, id, &e) != 0 ||
		    hl_store_items(&items, &n, st, id, 1, &e) != 0)
			broken("a restored list does not read", e.msg);
		hl_buf_reset(&b);
		if (hl_textfmt_render(&b, info.fmt, items, n, &e) != 0)
			broken("a restored list does not render", e.msg);
		if (txt != NULL && (b.len != txt->len ||
		    memcmp(b.data ? b.data : "", txt->data, b.len) != 0))
			broken("a restored list renders to other bytes", id);
		hl_items_free(items, n);
		hl_list_clear(&info);
	}
	hl_store_read_end(st);
	json_decref(j);
	hl_buf_free(&b);
	hl_store_close(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char db[64];
	char tmp[96];
	struct tree t;
	struct hl_restore_src src = { .name = "fuzz", .read = tree_read };
	struct hl_restore_opts o = HL_RESTORE_OPTS_INIT;
	struct hl_restore_stats stats;
	struct hl_err e = { 0 };
	struct file *m;
	size_t pos = 1, i;
	int rc;

	if (size < 1)
		return 0;
	if (db[0] == '\0')
		snprintf(db, sizeof(db), "/dev/shm/fuzz_restore.%ld.sqlite",
		    (long)getpid());
	memset(&t, 0, sizeof(t));
	while (pos < size && t.n < MAX_FILES) {
		const uint8_t *z = memchr(data + pos, '\0', size - pos);
		const uint8_t *nl = memchr(data + pos, '\n', (size_t)((z ? z :
		    data + size) - (data + pos)));
		size_t end = z ? (size_t)(z - data) : size;
		struct file *f = &t.f[t.n++];

		if (nl != NULL && (size_t)(nl - (data + pos)) <
		    sizeof(f->path)) {
			memcpy(f->path, data + pos, (size_t)(nl - (data + pos)));
			f->data = (const char *)nl + 1;
		} else
			f->data = (const char *)data + pos;
		f->len = end - (size_t)((const uint8_t *)f->data - data);
		hl_digest(f->sha, NULL, f->data, f->len);
		pos = end + 1;
	}
	if ((data[0] & 1) && (m = by_path(&t, "manifest.json")) != NULL) {
		for (i = 0; i < t.n; i++)
			if (&t.f[i] != m)
				fix_segments(&t, &t.f[i]);
		fix_manifest(&t, m);
	}
	src.arg = &t;
	o.db = db;
	o.force = 1;
	unlink(db);
	rc = hl_restore_run(&stats, &src, &o, &e);
	snprintf(tmp, sizeof(tmp), "%s.restore.%ld", db, (long)getpid());
	if (rc != 0 && (access(db, F_OK) == 0 || access(tmp, F_OK) == 0))
		broken("a refused tree left a database", e.msg);
	if (rc == 0)
		check_restored(&t, db, stats.version);
	unlink(db);
	for (i = 0; i < t.n; i++)
		free(t.f[i].owned);
	return 0;
}
