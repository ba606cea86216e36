/*
 * cmd_restore: `helios restore --from-git PATH|URL [--branch B] [--db PATH]`
 * builds a new database from the newest version in a git pages archive, so
 * the public archive is also the backup.
 *
 * Each list comes back from two published files: the SmokeDetector text
 * file gives the items in order with the lines SmokeDetector skips (so a
 * restore then an export gives the same files), and lists/<id>.json gives
 * each item's provenance (a big list's assembled from its segments).  notifications.json gives the notifications, and
 * the manifest the versions: the next change after a restore gets the
 * archive's version + 1.  Tokens are not published, so none is restored:
 * the first `helios serve` makes a new admin token.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "blob.h"
#include "cmd.h"
#include "config.h"
#include "gitarchive.h"
#include "store.h"
#include "textfmt.h"

struct ctx {
	const char	*repo;
	const char	*branch;
	int64_t		 version;
};

static json_t *
read_json(const struct ctx *c, const char *path)
{
	struct hl_err e = HL_ERR_INIT;
	unsigned char *data;
	json_error_t je;
	json_t *j;
	size_t len;

	if (hl_gitarchive_read(&data, &len, c->repo, c->branch, path,
	    c->version, 0, &e) != 0)
		errx(1, "%s", e.msg);
	if ((j = json_loadb((const char *)data, len, 0, &je)) == NULL)
		errx(1, "%s: %s", path, je.text);
	free(data);
	return j;
}

/*
 * A big list's JSON is an index of segments (gen/listseg.h): gives doc the
 * items of objects/<sha256> for each, in order, each checked against its
 * name.
 */
static void
assemble_segments(const struct ctx *c, json_t *doc)
{
	struct hl_err e = HL_ERR_INIT;
	json_t *segs = json_object_get(doc, "segments"), *g, *seg, *all;
	unsigned char *data;
	const char *sha;
	char path[80], got[65], md5[33];
	size_t i, len;

	if (segs == NULL)
		return;
	if ((all = json_array()) == NULL)
		errx(1, "out of memory");
	json_array_foreach(segs, i, g) {
		sha = json_string_value(json_object_get(g, "sha256"));
		if (sha == NULL || strlen(sha) != 64 ||
		    strspn(sha, "0123456789abcdef") != 64)
			errx(1, "a list index: segment %zu has no sha256", i);
		snprintf(path, sizeof(path), "objects/%s", sha);
		if (hl_gitarchive_read(&data, &len, c->repo, c->branch, path,
		    c->version, 0, &e) != 0)
			errx(1, "%s", e.msg);
		hl_digest(got, md5, data, len);
		if (strcmp(got, sha) != 0)
			errx(1, "%s: its bytes hash to %s", path, got);
		if ((seg = json_loadb((const char *)data, len, 0, NULL)) ==
		    NULL || !json_is_array(json_object_get(seg, "items")))
			errx(1, "%s: not a list segment", path);
		free(data);
		json_array_extend(all, json_object_get(seg, "items"));
		json_decref(seg);
	}
	json_object_set_new(doc, "items", all);
}

struct prov {
	char		*key;
	json_t		*rec;	/* borrowed from the list document */
};

static int
cmp_prov(const void *a, const void *b)
{
	return strcmp(((const struct prov *)a)->key,
	    ((const struct prov *)b)->key);
}

/* Gives items the provenance that the list's JSON records for them. */
static void
add_provenance(struct hl_item *items, size_t n, json_t *doc, int fmt)
{
	json_t *arr = json_object_get(doc, "items"), *r;
	struct prov *pv, key, *hit;
	struct hl_item rec;
	size_t np, i;

	np = json_array_size(arr);
	if ((pv = calloc(np + 1, sizeof(*pv))) == NULL)
		errx(1, "out of memory");
	for (i = 0; i < np; i++) {
		r = json_array_get(arr, i);
		pv[i].rec = r;
		pv[i].key = hl_item_key(fmt, json_string_value(
		    json_object_get(r, "text_pattern")) ?
		    json_string_value(json_object_get(r, "text_pattern")) : "");
	}
	qsort(pv, np, sizeof(*pv), cmp_prov);
	for (i = 0; i < n; i++) {
		if (items[i].verbatim)
			continue;
		key.key = hl_item_key(fmt, items[i].value);
		hit = key.key ? bsearch(&key, pv, np, sizeof(*pv), cmp_prov) :
		    NULL;
		free(key.key);
		if (hit == NULL || hl_item_from_json(&rec, hit->rec) != 0)
			continue;
		items[i].created_at = rec.created_at;
		items[i].modified_at = rec.modified_at;
		free(items[i].created_by);
		free(items[i].modified_by);
		items[i].created_by = rec.created_by;
		items[i].modified_by = rec.modified_by;
		rec.created_by = rec.modified_by = NULL;
		hl_item_clear(&rec);
	}
	for (i = 0; i < np; i++)
		free(pv[i].key);
	free(pv);
}

static size_t
restore_list(struct hl_store *st, const struct ctx *c, json_t *l)
{
	struct hl_err e = HL_ERR_INIT;
	struct hl_list info;
	struct hl_item *items = NULL;
	unsigned char *text;
	const char *id, *tpath, *jpath;
	json_t *doc;
	size_t len, n = 0;

	id = json_string_value(json_object_get(l, "id"));
	tpath = json_string_value(json_object_get(l, "text"));
	jpath = json_string_value(json_object_get(l, "json"));
	if (id == NULL || tpath == NULL || jpath == NULL)
		errx(1, "manifest: a list without id, text or json");
	if (hl_store_list(&info, st, id, &e) != 0) {
		warnx("%s: not a list of this database; skipped", id);
		return 0;
	}
	if (hl_gitarchive_read(&text, &len, c->repo, c->branch, tpath,
	    c->version, 0, &e) != 0)
		errx(1, "%s", e.msg);
	if (hl_textfmt_parse(&items, &n, info.fmt, (const char *)text, len,
	    tpath, &e) != 0)
		errx(1, "%s", e.msg);
	free(text);
	doc = read_json(c, jpath);
	assemble_segments(c, doc);
	add_provenance(items, n, doc, info.fmt);
	json_decref(doc);
	if (hl_store_restore_list(st, id, items, n, json_integer_value(
	    json_object_get(l, "version")), &e) != 0)
		errx(1, "%s: %s", id, e.msg);
	hl_items_free(items, n);
	hl_list_clear(&info);
	return n;
}

static size_t
restore_notifs(struct hl_store *st, const struct ctx *c, int64_t version)
{
	struct hl_err e = HL_ERR_INIT;
	struct hl_notif *v;
	json_t *doc, *arr, *r;
	size_t n, i;

	doc = read_json(c, "notifications.json");
	arr = json_object_get(doc, "items");
	n = json_array_size(arr);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		errx(1, "out of memory");
	json_array_foreach(arr, i, r) {
		v[i].user_id = json_integer_value(json_object_get(r,
		    "user_id"));
		v[i].server = (char *)json_string_value(json_object_get(r,
		    "server"));
		v[i].room_id = json_integer_value(json_object_get(r,
		    "room_id"));
		v[i].site = (char *)json_string_value(json_object_get(r,
		    "site"));
		v[i].always_ping = json_is_true(json_object_get(r,
		    "always_ping"));
		v[i].created_at = json_integer_value(json_object_get(r,
		    "created_at"));
		v[i].created_by = (char *)json_string_value(json_object_get(r,
		    "created_by"));
		if (v[i].server == NULL || v[i].site == NULL)
			errx(1, "notifications.json: item %zu is incomplete",
			    i);
	}
	if (hl_store_restore_notifs(st, v, n, version, &e) != 0)
		errx(1, "notifications: %s", e.msg);
	free(v);	/* the strings belong to doc */
	json_decref(doc);
	return n;
}

int
hl_cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-git", required_argument, NULL, 'g' },
		{ "branch", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: helios restore --from-git"
	    " PATH|URL [--branch B] [--db PATH]\n";
	struct hl_gitarchive_rev rev;
	struct hl_err e = HL_ERR_INIT;
	struct hl_store *st;
	struct ctx c = { NULL, NULL, 0 };
	const char *db = "var/helios.sqlite";
	json_t *man, *lists, *l;
	size_t i, items = 0, notifs;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'g': c.repo = optarg; break;
		case 'b': c.branch = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 1;
		}
	}
	if (optind != argc || c.repo == NULL) {
		fputs(usage, stderr);
		return 1;
	}
	if (hl_gitarchive_find(&rev, c.repo, c.branch, 0, 0, &e) != 0)
		errx(1, "%s", e.msg);
	if (rev.version < 0)
		errx(1, "%s: the newest commit (%.12s) was not written by"
		    " helios", c.repo, rev.commit);
	c.version = rev.version;
	man = read_json(&c, "manifest.json");
	if (hl_store_open(&st, db, &e) != 0)
		errx(1, "%s", e.msg);
	if (hl_store_version(st) != 0)
		errx(1, "%s: not a new database (version %lld); restore"
		    " into a new file", db, (long long)hl_store_version(st));
	lists = json_object_get(man, "lists");
	json_array_foreach(lists, i, l)
		items += restore_list(st, &c, l);
	notifs = restore_notifs(st, &c, json_integer_value(json_object_get(
	    man, "notifications_version")));
	if (hl_store_restore_version(st, json_integer_value(json_object_get(
	    man, "version")), &e) != 0)
		errx(1, "%s", e.msg);
	printf("%s: restored version %lld from %s (commit %.12s): %zu lists,"
	    " %zu lines, %zu notifications\n", db,
	    (long long)hl_store_version(st), c.repo, rev.commit,
	    json_array_size(lists), items, notifs);
	hl_store_close(st);
	json_decref(man);
	return 0;
}
