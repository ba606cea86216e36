/*
 * restore: one published tree -> a new database (restore.h says what is
 * read and checked).  The command and the sources of each target kind are
 * in cmd_restore.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "keyring.h"
#include "restore.h"
#include "store.h"
#include "target.h"
#include "textfmt.h"

#define MAX_SIG		4096	/* bytes of manifest.json.sig read */

struct run {
	const struct hl_restore_src	*src;
	struct hl_restore_stats		*st;
	json_t				*files;	/* the manifest's "files" */
};

int
hl_restore_path_ok(const char *p)
{
	size_t	i, seg = 0;

	if (p == NULL || *p == '\0' || strlen(p) > 255)
		return 0;
	for (i = 0;; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			if (seg == 0 || (seg == 1 && p[i - 1] == '.') ||
			    (seg == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return 0;
			if (p[i] == '\0')
				return 1;
			seg = 0;
			continue;
		}
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '.' || p[i] == '_' || p[i] == '-'))
			return 0;
		seg++;
	}
}

/* The manifest's entry for path, or NULL. */
static json_t *
file_entry(const struct run *r, const char *path)
{
	json_t	*f;
	size_t	 i;

	json_array_foreach(r->files, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));

		if (p != NULL && strcmp(p, path) == 0)
			return f;
	}
	return NULL;
}

/*
 * Reads path of the tree into out (reset first) and checks it against the
 * manifest: through objects/<sha256> when the source has it, else through
 * path itself.
 */
static int
fetch(struct hl_buf *out, struct run *r, const char *path,
    struct hl_err *err)
{
	const char	*sha, *obj;
	json_t		*f;
	json_int_t	 bytes;
	char		 got[65];
	int		 rc;

	if (!hl_restore_path_ok(path))
		return hl_err_set(err, HL_EINVAL, "%s: the manifest names a"
		    " bad path", r->src->name);
	if ((f = file_entry(r, path)) == NULL)
		return hl_err_set(err, HL_EINVAL, "%s: %s is not among the"
		    " manifest's files", r->src->name, path);
	sha = json_string_value(json_object_get(f, "sha256"));
	bytes = json_integer_value(json_object_get(f, "bytes"));
	obj = json_string_value(json_object_get(f, "object"));
	if (!hl_digest_is_sha256(sha) ||
	    !json_is_integer(json_object_get(f, "bytes")) ||
	    bytes < 0 || bytes > HL_RESTORE_MAX_FILE)
		return hl_err_set(err, HL_EINVAL, "%s: the manifest's entry"
		    " for %s has no valid sha256 and size", r->src->name,
		    path);
	if (obj != NULL && (strncmp(obj, "objects/", 8) != 0 ||
	    !hl_restore_path_ok(obj)))
		obj = NULL;
	rc = HL_ENOTFOUND;
	if (obj != NULL) {
		hl_buf_reset(out);
		rc = r->src->read(out, r->src->arg, obj, (size_t)bytes + 1,
		    err);
		if (rc != 0 && rc != HL_ENOTFOUND && rc != HL_ETOOBIG)
			return rc;
	}
	if (rc != 0) {
		hl_buf_reset(out);
		rc = r->src->read(out, r->src->arg, path, (size_t)bytes + 1,
		    err);
		if (rc == HL_ETOOBIG)
			rc = 0;		/* the size check below says it */
		else if (rc != 0)
			return rc;
	}
	hl_digest(got, NULL, out->data ? out->data : "", out->len);
	if ((json_int_t)out->len != bytes || strcmp(got, sha) != 0)
		return hl_err_set(err, HL_EINVAL, "%s: %s does not match the"
		    " manifest (%s%zu bytes, sha256 %.16s..., where the"
		    " manifest says %lld bytes, sha256 %.16s...): the copy is"
		    " damaged or was tampered with", r->src->name, path,
		    out->len > (size_t)bytes ? "over " : "", out->len, got,
		    (long long)bytes, sha);
	r->st->files++;
	return 0;
}

static int
fetch_json(json_t **out, struct run *r, const char *path, struct hl_err *err)
{
	struct hl_buf	b = HL_BUF_INIT;
	json_error_t	je;
	int		rc;

	*out = NULL;
	if ((rc = fetch(&b, r, path, err)) == 0 && (*out = json_loadb(b.data ?
	    b.data : "", b.len, 0, &je)) == NULL)
		rc = hl_err_set(err, HL_EINVAL, "%s: %s: %s", r->src->name,
		    path, je.text);
	hl_buf_free(&b);
	return rc;
}

/*
 * A big list's JSON is an index of segments (gen/listseg.h): gives doc
 * the "items" of objects/<sha256> for each, in the index's order, each
 * checked against its name (the index itself was checked against the
 * manifest).
 */
static int
assemble_segments(json_t *doc, struct run *r, const char *jpath,
    struct hl_err *err)
{
	struct hl_buf	 b = HL_BUF_INIT;
	json_t		*segs = json_object_get(doc, "segments"), *g, *seg;
	json_t		*all;
	const char	*sha;
	char		 path[80], got[65];
	size_t		 i;
	int		 rc = 0;

	if (segs == NULL)
		return 0;
	if (!json_is_array(segs) || (all = json_array()) == NULL)
		return hl_err_set(err, HL_EINVAL, "%s: %s: segments is not a"
		    " list", r->src->name, jpath);
	json_array_foreach(segs, i, g) {
		sha = json_string_value(json_object_get(g, "sha256"));
		if (!hl_digest_is_sha256(sha)) {
			rc = hl_err_set(err, HL_EINVAL, "%s: %s: segment %zu"
			    " has no sha256", r->src->name, jpath, i);
			break;
		}
		snprintf(path, sizeof(path), "objects/%s", sha);
		hl_buf_reset(&b);
		if ((rc = r->src->read(&b, r->src->arg, path,
		    HL_RESTORE_MAX_FILE, err)) != 0)
			break;
		hl_digest(got, NULL, b.data ? b.data : "", b.len);
		if (strcmp(got, sha) != 0) {
			rc = hl_err_set(err, HL_EINVAL, "%s: %s does not match"
			    " its name (sha256 %.16s...): the copy is damaged"
			    " or was tampered with", r->src->name, path, got);
			break;
		}
		if ((seg = json_loadb(b.data ? (const char *)b.data : "",
		    b.len, 0, NULL)) == NULL ||
		    !json_is_array(json_object_get(seg, "items"))) {
			json_decref(seg);
			rc = hl_err_set(err, HL_EINVAL, "%s: %s is not a list"
			    " segment", r->src->name, path);
			break;
		}
		json_array_extend(all, json_object_get(seg, "items"));
		json_decref(seg);
		r->st->files++;
	}
	hl_buf_free(&b);
	if (rc != 0) {
		json_decref(all);
		return rc;
	}
	json_object_set_new(doc, "items", all);
	return 0;
}

struct prov {
	char		*key;
	size_t		 pos;	/* in the document's items */
	json_t		*rec;	/* borrowed from the list document */
};

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct prov *)a)->key,
	    ((const struct prov *)b)->key);
}

/* By key, then by place in the document: qsort is not stable. */
static int
cmp_prov(const void *a, const void *b)
{
	const struct prov *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Gives it the provenance of the JSON record r: who made and last changed
 * it and when, the git commit an import took it from, the review that
 * published it.  A tsv line's own timestamp and user are its creation, so
 * there the text's win: the list renders back to its file's bytes.
 */
static void
take_provenance(struct hl_item *it, json_t *r, int fmt)
{
	struct hl_item rec;

	if (hl_item_from_json(&rec, r) != 0)
		return;
	if (fmt != HL_FMT_TSV) {
		it->created_at = rec.created_at;
		free(it->created_by);
		it->created_by = rec.created_by;
		rec.created_by = NULL;
	}
	it->modified_at = rec.modified_at;
	free(it->modified_by);
	it->modified_by = rec.modified_by;
	rec.modified_by = NULL;
	if (rec.origin != NULL) {		/* the git commit of an import */
		free(it->origin);
		it->origin = rec.origin;
		rec.origin = NULL;
	}
	if (rec.review != NULL) {		/* the review that published it */
		free(it->review);
		it->review = rec.review;
		rec.review = NULL;
	}
	hl_item_clear(&rec);
}

/*
 * Does arr hold one record for each item that is not verbatim, in file
 * order, each with the item's value?  It does in a tree Helios wrote.
 */
static int
in_file_order(const struct hl_item *items, size_t n, json_t *arr)
{
	const char	*v;
	size_t		 i, k = 0;

	for (i = 0; i < n; i++) {
		if (items[i].verbatim)
			continue;
		v = json_string_value(json_object_get(json_array_get(arr, k++),
		    "text_pattern"));
		if (v == NULL || strcmp(v, items[i].value) != 0)
			return 0;
	}
	return k == json_array_size(arr);
}

/*
 * Gives items the provenance that the list's JSON records for them.  The
 * records are taken in file order, so that each copy of a duplicate gets
 * its own; a tree whose JSON does not follow its text (edited by hand) is
 * matched by key instead, each item taking the first record of its key.
 */
static int
add_provenance(struct hl_item *items, size_t n, json_t *doc, int fmt,
    struct hl_err *err)
{
	json_t		*arr = json_object_get(doc, "items"), *r;
	struct prov	*pv, key, *hit;
	const char	*v;
	size_t		 np, i, k = 0;

	if (in_file_order(items, n, arr)) {
		for (i = 0; i < n; i++)
			if (!items[i].verbatim)
				take_provenance(&items[i],
				    json_array_get(arr, k++), fmt);
		return 0;
	}
	np = json_array_size(arr);
	if ((pv = calloc(np + 1, sizeof(*pv))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < np; i++) {
		r = json_array_get(arr, i);
		v = json_string_value(json_object_get(r, "text_pattern"));
		if ((pv[k].key = hl_item_key(fmt, v ? v : "")) == NULL)
			continue;
		pv[k].pos = i;
		pv[k++].rec = r;
	}
	qsort(pv, k, sizeof(*pv), cmp_prov);
	for (i = 0; i < n; i++) {
		if (items[i].verbatim)
			continue;
		key.key = hl_item_key(fmt, items[i].value);
		hit = key.key ? bsearch(&key, pv, k, sizeof(*pv), cmp_key) :
		    NULL;
		free(key.key);
		/* bsearch finds one of the equal keys: back to the first. */
		while (hit != NULL && hit > pv && strcmp(hit[-1].key,
		    hit->key) == 0)
			hit--;
		if (hit != NULL)
			take_provenance(&items[i], hit->rec, fmt);
	}
	for (i = 0; i < k; i++)
		free(pv[i].key);
	free(pv);
	return 0;
}

static int
restore_list(struct hl_store *db, struct run *r, json_t *l,
    struct hl_err *err)
{
	struct hl_buf	 text = HL_BUF_INIT;
	struct hl_list	 info = { 0 };
	struct hl_item	*items = NULL;
	const char	*id, *tpath, *jpath;
	json_t		*doc = NULL, *ver;
	size_t		 n = 0;
	int		 rc;

	id = json_string_value(json_object_get(l, "id"));
	tpath = json_string_value(json_object_get(l, "text"));
	jpath = json_string_value(json_object_get(l, "json"));
	ver = json_object_get(l, "version");
	if (id == NULL || tpath == NULL || jpath == NULL ||
	    !json_is_integer(ver) || json_integer_value(ver) < 0)
		return hl_err_set(err, HL_EINVAL, "%s: manifest.json: a list"
		    " without id, text, json or version", r->src->name);
	if (hl_store_list(&info, db, id, err) != 0)
		return hl_err_set(err, HL_EINVAL, "%s: list %.64s is not one"
		    " this helios knows; restore with the helios that"
		    " published it", r->src->name, id);
	if ((rc = fetch(&text, r, tpath, err)) != 0 ||
	    (rc = fetch_json(&doc, r, jpath, err)) != 0 ||
	    (rc = assemble_segments(doc, r, jpath, err)) != 0)
		goto out;
	if (!json_is_array(json_object_get(doc, "items"))) {
		rc = hl_err_set(err, HL_EINVAL, "%s: %s has no items",
		    r->src->name, jpath);
		goto out;
	}
	if ((rc = hl_textfmt_parse(&items, &n, info.fmt, text.data ?
	    (const char *)text.data : "", text.len, tpath, err)) != 0 ||
	    (rc = add_provenance(items, n, doc, info.fmt, err)) != 0)
		goto out;
	if ((rc = hl_store_restore_list(db, id, items, n,
	    json_integer_value(ver), err)) != 0)
		goto out;
	r->st->lists++;
	r->st->lines += n;
out:
	hl_items_free(items, n);
	hl_list_clear(&info);
	json_decref(doc);
	hl_buf_free(&text);
	return rc;
}

static int
restore_notifs(struct hl_store *db, struct run *r, int64_t version,
    struct hl_err *err)
{
	struct hl_notif	*v = NULL;
	json_t		*doc = NULL, *arr, *it;
	size_t		 n, i;
	int		 rc;

	if (file_entry(r, "notifications.json") == NULL)	/* private */
		return hl_store_restore_notifs(db, NULL, 0, version, err);
	if ((rc = fetch_json(&doc, r, "notifications.json", err)) != 0)
		return rc;
	arr = json_object_get(doc, "items");
	n = json_array_size(arr);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, it) {
		v[i].user_id = json_integer_value(json_object_get(it,
		    "user_id"));
		v[i].server = (char *)json_string_value(json_object_get(it,
		    "server"));
		v[i].room_id = json_integer_value(json_object_get(it,
		    "room_id"));
		v[i].site = (char *)json_string_value(json_object_get(it,
		    "site"));
		v[i].always_ping = json_is_true(json_object_get(it,
		    "always_ping"));
		v[i].created_at = json_integer_value(json_object_get(it,
		    "created_at"));
		v[i].created_by = (char *)json_string_value(json_object_get(it,
		    "created_by"));
		if (v[i].server == NULL || v[i].site == NULL) {
			rc = hl_err_set(err, HL_EINVAL, "%s: notifications.json:"
			    " item %zu is incomplete", r->src->name, i);
			goto out;
		}
	}
	if ((rc = hl_store_restore_notifs(db, v, n, version, err)) == 0)
		r->st->notifs = n;
out:
	free(v);	/* the strings belong to doc */
	json_decref(doc);
	return rc;
}

/* The manifest, and its signature when a keyring is given. */
static int
read_manifest(json_t **out, struct run *r, const char *keyring,
    struct hl_err *err)
{
	struct hl_buf	 m = HL_BUF_INIT, sig = HL_BUF_INIT;
	json_error_t	 je;
	json_t		*j = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = r->src->read(&m, r->src->arg, "manifest.json",
	    HL_TARGET_MAX_MANIFEST, err)) != 0)
		goto out;
	if (keyring != NULL) {
		rc = r->src->read(&sig, r->src->arg, "manifest.json.sig",
		    MAX_SIG, err);
		if (rc == HL_ENOTFOUND)
			rc = hl_err_set(err, HL_EINVAL, "%s: manifest.json is"
			    " not signed, and --key asks for a signature",
			    r->src->name);
		if (rc != 0 || (rc = hl_keyring_verify(keyring, m.data ?
		    m.data : "", m.len, sig.data, sig.len, err)) != 0)
			goto out;
		r->st->sig_checked = 1;
	}
	if ((j = json_loadb(m.data ? m.data : "", m.len, 0, &je)) == NULL) {
		rc = hl_err_set(err, HL_EINVAL, "%s: manifest.json: %s",
		    r->src->name, je.text);
		goto out;
	}
	if (json_integer_value(json_object_get(j, "format")) != 1 ||
	    !json_is_integer(json_object_get(j, "version")) ||
	    json_integer_value(json_object_get(j, "version")) < 0 ||
	    !json_is_array(json_object_get(j, "lists")) ||
	    !json_is_array(json_object_get(j, "files"))) {
		rc = hl_err_set(err, HL_EINVAL, "%s: manifest.json is not a"
		    " helios manifest of format 1", r->src->name);
		goto out;
	}
	r->st->signed_tree = json_is_string(json_object_get(j, "key_id"));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	hl_buf_free(&m);
	hl_buf_free(&sig);
	return rc;
}

/* Refuses a database that holds data, unless forced. */
static int
check_target(const struct hl_restore_opts *o, struct hl_err *err)
{
	struct hl_store	*db;
	struct stat	 sb;
	int64_t		 v;
	int		 rc;

	if (stat(o->db, &sb) != 0)
		return errno == ENOENT ? 0 : hl_err_set(err, HL_EIO, "%s: %s",
		    o->db, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return hl_err_set(err, HL_EINVAL, "%s: not a regular file",
		    o->db);
	if (sb.st_size == 0 || o->force)
		return 0;
	if ((rc = hl_store_open(&db, o->db, err)) != 0)
		return rc;
	v = hl_store_version(db);
	hl_store_close(db);
	if (v != 0)
		return hl_err_set(err, HL_EEXISTS, "%s: not a new database"
		    " (version %lld): restore into a new file, or give --force"
		    " to replace it (stop the daemon first)", o->db,
		    (long long)v);
	return 0;
}

/* Removes path's SQLite side files, and path itself when main. */
static void
remove_db(const char *path, int with_main)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char	p[PATH_MAX];
	size_t	i;

	for (i = with_main ? 0 : 1; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (snprintf(p, sizeof(p), "%s%s", path, sfx[i]) <
		    (int)sizeof(p))
			(void)unlink(p);
}

/* fsync of the directory that holds path, so a rename in it lasts. */
static void
sync_dir(const char *path)
{
	char	 d[PATH_MAX], *s;
	int	 fd;

	if (snprintf(d, sizeof(d), "%s", path) >= (int)sizeof(d))
		return;
	if ((s = strrchr(d, '/')) == NULL)
		snprintf(d, sizeof(d), ".");
	else if (s == d)
		d[1] = '\0';
	else
		*s = '\0';
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
hl_restore_run(struct hl_restore_stats *out, const struct hl_restore_src *src,
    const struct hl_restore_opts *o, struct hl_err *err)
{
	struct hl_store	*db = NULL;
	struct run	 r;
	json_t		*man = NULL, *l;
	char		 tmp[PATH_MAX];
	size_t		 i;
	int		 rc, made = 0;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.src = src;
	r.st = out;
	if (snprintf(tmp, sizeof(tmp), "%s.restore.%ld", o->db,
	    (long)getpid()) >= (int)sizeof(tmp))
		return hl_err_set(err, HL_EINVAL, "%s: path too long", o->db);
	if ((rc = check_target(o, err)) != 0 ||
	    (rc = read_manifest(&man, &r, o->keyring, err)) != 0)
		goto out;
	r.files = json_object_get(man, "files");
	out->version = json_integer_value(json_object_get(man, "version"));
	remove_db(tmp, 1);
	made = 1;
	if ((rc = hl_store_open(&db, tmp, err)) != 0)
		goto out;
	json_array_foreach(json_object_get(man, "lists"), i, l)
		if ((rc = restore_list(db, &r, l, err)) != 0)
			goto out;
	if ((rc = restore_notifs(db, &r, json_integer_value(json_object_get(
	    man, "notifications_version")), err)) != 0 ||
	    (rc = hl_store_restore_version(db, out->version, err)) != 0)
		goto out;
	hl_store_close(db);
	db = NULL;
	if (o->force)		/* an old WAL must not meet the new file */
		remove_db(o->db, 0);
	if (rename(tmp, o->db) != 0) {
		rc = hl_err_set(err, HL_EIO, "rename %s to %s: %s", tmp, o->db,
		    strerror(errno));
		goto out;
	}
	made = 0;
	sync_dir(o->db);
out:
	hl_store_close(db);
	if (made)
		remove_db(tmp, 1);
	json_decref(man);
	return rc;
}
