/*
 * pull: one poll of a published tree into a directory of SmokeDetector
 * files (see pull.h for the steps and the state file, and
 * site/docs/protocol.html for the protocol as a client sees it).
 *
 * The manifest and changes.json are read with jansson into the structs of
 * pull.h.  Everything the poll will write goes to a temporary file in DIR
 * (streamed through sink.c, or rendered from a patched list) and is
 * checked before the first rename.  Every name written in DIR is one of
 * this file's: the list table below, notifications.json, the state, the
 * lock and the temporary files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "item.h"
#include "keyring.h"
#include "manifest.h"
#include "pull.h"
#include "sdfiles.h"
#include "sigcheck.h"
#include "sink.h"
#include "textfmt.h"

/* A file of DIR that the poll compares, and may replace. */
struct local {
	const struct hl_pull_list	*list;	/* NULL for notifications */
	const struct hl_pull_file	*pf;	/* its manifest entry */
	const char			*file;	/* its name in DIR (ours) */
	int				 exists;
	int				 regular;	/* not a link, fifo... */
	char				 sha256[65];	/* of DIR/file now */
	int				 ours;	/* pull last wrote these bytes */
	int				 at_state;	/* ...at the state's version */
	int				 todo;
	int				 ready;	/* tmp holds the new bytes */
	char				*tmp;	/* DIR/.helios-tmp.XXXXXX */
	struct hl_buf			 cur;	/* DIR/file, when patching */
	struct hl_item			*items;	/* parsed cur, when patching */
	size_t				 nitems;
	/* --json: the list's JSON, assembled (listjson.c) */
	const struct hl_pull_file	*jpf;	/* lists/<id>.json's entry */
	char				 jfile[64];	/* its name in DIR */
	int				 jtodo;
	char				*jtmp;
	/*
	 * Where DIR's JSON holds each segment (hl_pull_jseg as
	 * [sha256, off, len] arrays): the state's, then the new file's.
	 */
	json_t				*jsegs;
};

struct state {
	char	*url;
	char	*etag;
	char	*key;		/* sha256 of the public key that checked it */
	int64_t	 version;
	int64_t	 expires_at;
	int64_t	 poll_interval;
	json_t	*lists;		/* {"id": {"file","sha256","version"}} */
	json_t	*notifs;	/* {"file","sha256"} or NULL */
};

/* Reads a whole file, at most max bytes.  HL_ENOTFOUND if missing. */
static int
read_all(struct hl_buf *out, const char *path, size_t max,
    struct hl_err *err)
{
	char tmp[65536];
	ssize_t r;
	int fd, rc = 0;

	hl_buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return hl_err_set(err, errno == ENOENT ? HL_ENOTFOUND : HL_EIO,
		    "%s: %s", path, strerror(errno));
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = hl_err_set(err, HL_EIO, "%s: %s", path,
			    strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if (out->len + (size_t)r > max) {
			rc = hl_err_set(err, HL_ETOOBIG, "%s: over %zu bytes",
			    path, max);
			break;
		}
		if (hl_buf_put(out, tmp, (size_t)r) != 0) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			break;
		}
	}
	close(fd);
	if (rc != 0)
		hl_buf_reset(out);
	return rc;
}

/*
 * Writes data to path through a temporary file in the same directory:
 * write, fsync, rename.  path is either old or new, never half-written.
 */
static int
write_atomic(const char *path, const void *data, size_t len,
    struct hl_err *err)
{
	char *tmp = NULL;
	const char *p = data;
	ssize_t w;
	int fd = -1, rc = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((fd = mkstemp(tmp)) == -1) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			rc = hl_err_set(err, HL_EIO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = hl_err_set(err, HL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		rc = hl_err_set(err, HL_EIO, "rename %s: %s", path,
		    strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void
sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* A path inside the tree: relative, no "." or ".." names. */
static int
tree_path_ok(const char *p)
{
	const char *s;
	size_t n;

	if (p == NULL || *p == '\0' || *p == '/' || strchr(p, '\\'))
		return 0;
	for (s = p;;) {
		n = strcspn(s, "/");
		if (n == 0 || (n <= 2 && strncmp(s, "..", n) == 0))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

/* A plain file name for DIR: no '/', not hidden, printable ASCII. */
static int
file_name_ok(const char *p)
{
	const char *s;

	if (p == NULL || *p == '\0' || *p == '.' || strlen(p) > 200)
		return 0;
	for (s = p; *s != '\0'; s++)
		if (*s == '/' || *s == '\\' || (unsigned char)*s <= ' ' ||
		    (unsigned char)*s >= 127)
			return 0;
	return 1;
}

/*
 * The JSON values a text can hold at most: one more than its ',', ':',
 * '{' and '[' bytes (counted inside strings too, which only overcounts).
 * jansson takes some 40 to 250 bytes a value, so bytes alone do not bound
 * memory: 1 MiB of "{}," is 350,000 objects, about 90 MB.  Text from the
 * network is counted before it is parsed.
 */
static size_t
json_values(const char *p, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		n += p[i] == ',' || p[i] == ':' || p[i] == '{' || p[i] == '[';
	return n;
}

static void
ref_clear(struct hl_pull_ref *r)
{
	free(r->path);
	free(r->object);
	memset(r, 0, sizeof(*r));
}

static void
file_clear(struct hl_pull_file *f)
{
	ref_clear(&f->id);
	ref_clear(&f->gz);
	f->has_gz = 0;
}

static int
ref_parse(struct hl_pull_ref *r, json_t *o, const char *what,
    struct hl_err *err)
{
	json_t *path, *obj, *sha, *bytes;

	path = json_object_get(o, "path");
	obj = json_object_get(o, "object");
	sha = json_object_get(o, "sha256");
	bytes = json_object_get(o, "bytes");
	if (!json_is_string(path) || !tree_path_ok(json_string_value(path)) ||
	    !json_is_string(sha) ||
	    !hl_digest_is_sha256(json_string_value(sha)) ||
	    !json_is_integer(bytes) || json_integer_value(bytes) < 0 ||
	    (obj != NULL && (!json_is_string(obj) ||
	    !tree_path_ok(json_string_value(obj)))))
		return hl_err_set(err, HL_EINVAL, "%s: a file entry lacks a"
		    " valid path, sha256 or bytes", what);
	if ((r->path = strdup(json_string_value(path))) == NULL ||
	    (obj && (r->object = strdup(json_string_value(obj))) == NULL))
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(r->sha256, json_string_value(sha), 65);
	r->bytes = json_integer_value(bytes);
	return 0;
}

static int
file_parse(struct hl_pull_file *f, json_t *o, const char *what,
    struct hl_err *err)
{
	json_t *gz;
	int rc;

	if (!json_is_object(o))
		return hl_err_set(err, HL_EINVAL, "%s: a file entry is not an"
		    " object", what);
	if ((rc = ref_parse(&f->id, o, what, err)) != 0)
		return rc;
	if ((gz = json_object_get(o, "gz")) != NULL && !json_is_null(gz)) {
		if (!json_is_object(gz))
			return hl_err_set(err, HL_EINVAL, "%s: bad gz of %s",
			    what, f->id.path);
		if ((rc = ref_parse(&f->gz, gz, what, err)) != 0)
			return rc;
		f->has_gz = 1;
	}
	return 0;
}

static int64_t
int_or(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static char *
str_dup(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

void
hl_pull_manifest_clear(struct hl_pull_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		file_clear(&m->files[i]);
	free(m->files);
	for (i = 0; i < m->nlists; i++) {
		free(m->lists[i].id);
		free(m->lists[i].file);
		free(m->lists[i].text);
		free(m->lists[i].json);
	}
	free(m->lists);
	memset(m, 0, sizeof(*m));
}

/*
 * The lists this client writes, and the only names it writes them under:
 * SmokeDetector's files (sdfiles.h).
 */
const char *
hl_pull_known_file(const char *id, int *fmt)
{
	return hl_sdfile_name(id, fmt);
}

/*
 * Checks the last list of m (l) against the table and the lists before
 * it: a known id names its own file and format; no id twice; no file
 * for two lists.
 */
static int
list_check(struct hl_pull_manifest *m, struct hl_pull_list *l,
    struct hl_err *err)
{
	size_t j;
	int fmt = -1;

	if ((l->local = hl_pull_known_file(l->id, &fmt)) != NULL &&
	    (strcmp(l->local, l->file) != 0 || fmt != l->fmt))
		return hl_err_set(err, HL_EINVAL, "manifest.json: list %s"
		    " names file %s (%s); this client writes it as %s (%s)",
		    l->id, l->file, hl_fmt_name(l->fmt), l->local,
		    hl_fmt_name(fmt));
	if (strcmp(l->file, HL_PULL_NOTIFS_FILE) == 0)
		return hl_err_set(err, HL_EINVAL, "manifest.json: list %s"
		    " names file %s", l->id, l->file);
	for (j = 0; j + 1 < m->nlists; j++) {
		if (strcmp(m->lists[j].id, l->id) == 0)
			return hl_err_set(err, HL_EINVAL, "manifest.json:"
			    " list %s appears twice", l->id);
		if (strcmp(m->lists[j].file, l->file) == 0)
			return hl_err_set(err, HL_EINVAL, "manifest.json:"
			    " lists %s and %s both name file %s",
			    m->lists[j].id, l->id, l->file);
	}
	return 0;
}

int
hl_pull_manifest_parse(struct hl_pull_manifest *m, const void *data,
    size_t len, struct hl_err *err)
{
	json_error_t je;
	json_t *doc, *files, *lists, *v;
	struct hl_pull_list *l;
	size_t i;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (json_values(data, len) > HL_PULL_MAX_VALUES)
		return hl_err_set(err, HL_ETOOBIG, "manifest.json: more than"
		    " %d JSON values", HL_PULL_MAX_VALUES);
	if ((doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL)
		return hl_err_set(err, HL_EINVAL, "manifest.json: line %d: %s",
		    je.line, je.text);
	files = json_object_get(doc, "files");
	lists = json_object_get(doc, "lists");
	if (!json_is_object(doc) || !json_is_array(files) ||
	    !json_is_array(lists) ||
	    !json_is_integer(json_object_get(doc, "version")) ||
	    !json_is_integer(json_object_get(doc, "expires_at"))) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: not a manifest"
		    " (version, expires_at, files or lists missing)");
		goto out;
	}
	m->format = int_or(doc, "format", 0);
	m->version = int_or(doc, "version", 0);
	m->generated_at = int_or(doc, "generated_at", 0);
	m->expires_at = int_or(doc, "expires_at", 0);
	m->poll_interval = int_or(doc, "poll_interval", 0);
	if (m->format != HL_MANIFEST_FORMAT) {
		rc = hl_err_set(err, HL_EINVAL, "manifest.json: format %lld,"
		    " this client reads format %d", (long long)m->format,
		    HL_MANIFEST_FORMAT);
		goto out;
	}
	m->files = calloc(json_array_size(files) + 1, sizeof(*m->files));
	m->lists = calloc(json_array_size(lists) + 1, sizeof(*m->lists));
	if (m->files == NULL || m->lists == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(files, i, v) {
		m->nfiles++;
		if ((rc = file_parse(&m->files[i], v, "manifest.json",
		    err)) != 0)
			goto out;
	}
	json_array_foreach(lists, i, v) {
		l = &m->lists[m->nlists++];
		if (!json_is_object(v)) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: a list"
			    " is not an object");
			goto out;
		}
		l->id = str_dup(v, "id");
		l->file = str_dup(v, "file");
		l->text = str_dup(v, "text");
		l->json = str_dup(v, "json");
		l->version = int_or(v, "version", 0);
		l->count = int_or(v, "count", 0);
		l->fmt = json_is_string(json_object_get(v, "format")) ?
		    hl_fmt_parse(json_string_value(json_object_get(v,
		    "format"))) : -1;
		if (l->id == NULL || !file_name_ok(l->file) ||
		    !tree_path_ok(l->text) || l->fmt < 0) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: list"
			    " %zu: bad id, file, text or format", i);
			goto out;
		}
		if ((rc = list_check(m, l, err)) != 0)
			goto out;
		if (hl_pull_manifest_file(m, l->text) == NULL) {
			rc = hl_err_set(err, HL_EINVAL, "manifest.json: list"
			    " %s: %s is not among the files", l->id, l->text);
			goto out;
		}
	}
out:
	json_decref(doc);
	if (rc != 0)
		hl_pull_manifest_clear(m);
	return rc;
}

const struct hl_pull_file *
hl_pull_manifest_file(const struct hl_pull_manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].id.path, path) == 0)
			return &m->files[i];
	return NULL;
}

void
hl_pull_changes_clear(struct hl_pull_changes *c)
{
	size_t i;

	for (i = 0; i < c->nsegs; i++)
		file_clear(&c->segs[i].f);
	free(c->segs);
	memset(c, 0, sizeof(*c));
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct hl_pull_seg *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

int
hl_pull_changes_parse(struct hl_pull_changes *c, const void *data,
    size_t len, struct hl_err *err)
{
	json_error_t je;
	json_t *doc, *segs, *v;
	struct hl_pull_seg *g;
	size_t i;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (json_values(data, len) > HL_PULL_MAX_VALUES)
		return hl_err_set(err, HL_ETOOBIG, "changes.json: more than"
		    " %d JSON values", HL_PULL_MAX_VALUES);
	if ((doc = json_loadb(data, len, 0, &je)) == NULL)
		return hl_err_set(err, HL_EINVAL, "changes.json: line %d: %s",
		    je.line, je.text);
	segs = json_object_get(doc, "segments");
	if (!json_is_array(segs)) {
		rc = hl_err_set(err, HL_EINVAL, "changes.json: no segments");
		goto out;
	}
	c->version = int_or(doc, "version", 0);
	c->oldest = int_or(doc, "oldest", 0);
	if ((c->segs = calloc(json_array_size(segs) + 1,
	    sizeof(*c->segs))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(segs, i, v) {
		g = &c->segs[c->nsegs++];
		if ((rc = file_parse(&g->f, v, "changes.json", err)) != 0)
			goto out;
		g->from = int_or(v, "from", -1);
		g->to = int_or(v, "to", -1);
		if (g->from < 1 || g->to < g->from) {
			rc = hl_err_set(err, HL_EINVAL, "changes.json: segment"
			    " %s: bad from/to", g->f.id.path);
			goto out;
		}
	}
	qsort(c->segs, c->nsegs, sizeof(*c->segs), seg_cmp);
out:
	json_decref(doc);
	if (rc != 0)
		hl_pull_changes_clear(c);
	return rc;
}

/*
 * One try at one path of pf, its gzip (gz) or its identity bytes: a fresh
 * sink, the stream, the checks.
 */
static int
fetch_one(int fd, struct hl_buf *buf, struct hl_fetch *f,
    const struct hl_pull_file *pf, int gz, const char *path,
    struct hl_err *err)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	const struct hl_pull_ref *r = gz ? &pf->gz : &pf->id;
	struct hl_sink *sk = NULL;
	char raw[65], out[65], msg[sizeof(err->msg)];
	uint64_t rawn = 0, outn = 0;
	int rc;

	if (fd != -1 && (ftruncate(fd, 0) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1))
		return hl_err_set(err, HL_EIO, "temporary file: %s",
		    strerror(errno));
	if (buf != NULL)
		hl_buf_reset(buf);
	/* The sink stops a body, or what it inflates to, at its claim. */
	if ((rc = hl_sink_new(&sk, gz, (uint64_t)r->bytes,
	    (uint64_t)pf->id.bytes, fd, buf, err)) != 0)
		return rc;
	rc = hl_fetch_stream(&res, f, path, NULL, (size_t)r->bytes, 0,
	    hl_sink_write, sk, err);
	if (rc == 0)
		rc = hl_sink_finish(sk, raw, &rawn, out, &outn, err);
	if (rc == HL_ETOOBIG || rc == HL_EINVAL) {
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		rc = hl_err_set(err, HL_EINVAL, "%s: %s%s", r->path, msg,
		    rc == HL_ETOOBIG ? ", more than the manifest names" : "");
	} else if (rc == 0 && (rawn != (uint64_t)r->bytes ||
	    strcmp(raw, r->sha256) != 0))
		rc = hl_err_set(err, HL_EINVAL, "%s: sha256 %s (%llu bytes),"
		    " the manifest names %.12s... (%lld bytes)", r->path, raw,
		    (unsigned long long)rawn, r->sha256,
		    (long long)r->bytes);
	else if (rc == 0 && (outn != (uint64_t)pf->id.bytes ||
	    strcmp(out, pf->id.sha256) != 0))
		rc = hl_err_set(err, HL_EINVAL, "%s: decompresses to sha256"
		    " %s (%llu bytes), the manifest names %.12s... (%lld"
		    " bytes)", r->path, out, (unsigned long long)outn,
		    pf->id.sha256, (long long)pf->id.bytes);
	hl_sink_free(sk);
	return rc;
}

/* pf's gzip (gz) or identity bytes: the object copy first, then the path. */
static int
fetch_form(int fd, struct hl_buf *buf, struct hl_fetch *f,
    const struct hl_pull_file *pf, int gz, struct hl_err *err)
{
	const struct hl_pull_ref *r = gz ? &pf->gz : &pf->id;
	const char *paths[2] = { r->object ? r->object : r->path,
	    r->object ? r->path : NULL };
	size_t i;
	int rc = HL_ENOTFOUND;

	for (i = 0; i < 2 && rc == HL_ENOTFOUND; i++)
		if (paths[i] != NULL)
			rc = fetch_one(fd, buf, f, pf, gz, paths[i], err);
	return rc;
}

int
hl_pull_fetch_file(int fd, struct hl_buf *buf, struct hl_fetch *f,
    const struct hl_pull_file *pf, uint64_t max, size_t *fell,
    struct hl_err *err)
{
	const struct hl_pull_ref *r = pf->has_gz ? &pf->gz : &pf->id;
	struct hl_err id = HL_ERR_INIT;
	char gz[sizeof(id.msg)];
	int rc;

	if ((uint64_t)pf->id.bytes > max || (uint64_t)r->bytes > max) {
		rc = hl_err_set(err, HL_ETOOBIG, "%s: the manifest says"
		    " %lld bytes, over the limit of %llu (--max-size)",
		    pf->id.path, (long long)((uint64_t)pf->id.bytes > max ?
		    pf->id.bytes : r->bytes), (unsigned long long)max);
		goto out;
	}
	rc = fetch_form(fd, buf, f, pf, pf->has_gz, err);
	/*
	 * A gzip is named by the identity bytes, not its own (listseg.h), so
	 * a mirror may hold one that another compressor made, which fails the
	 * gzip's hash though its content is right, or none at all.  Then the
	 * identity bytes, checked against their own hash, do as well.  When
	 * they fail too, the gzip's error is the one returned, theirs after.
	 */
	if (pf->has_gz && !pf->gz_only && (rc == HL_EINVAL ||
	    rc == HL_ETOOBIG || rc == HL_ENOTFOUND)) {
		if (fetch_form(fd, buf, f, pf, 0, &id) == 0) {
			rc = 0;
			if (fell != NULL)
				(*fell)++;
		} else if (err != NULL) {
			memcpy(gz, err->msg, sizeof(gz));
			rc = hl_err_set(err, rc, "%s; %s", gz, id.msg);
		}
	}
out:
	if (rc != 0 && buf != NULL)
		hl_buf_reset(buf);
	return rc;
}

/* Reads a size: digits with an optional k, M or G (powers of 1024). */
int
hl_pull_parse_size(uint64_t *out, const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != '\0' || v == 0 || v > (1ULL << 40) >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * Removes the temporary files a pull that crashed left in DIR.  Only
 * called with the lock held, so none of them is in use.
 */
static void
remove_stale_tmp(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int dfd;

	if ((d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, HL_PULL_TMP_PREFIX,
		    strlen(HL_PULL_TMP_PREFIX)) == 0)
			(void)unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

int
hl_pull_lock(int *fd, const char *dir, struct hl_err *err)
{
	char *path = NULL;
	int rc = 0;

	*fd = -1;
	if (asprintf(&path, "%s/%s", dir, HL_PULL_LOCK_FILE) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644)) == -1)
		rc = hl_err_set(err, HL_EIO, "%s: %s", path,
		    errno == ELOOP ? "a symlink, not a lock file" :
		    strerror(errno));
	else if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		rc = hl_err_set(err, errno == EWOULDBLOCK ? HL_EBUSY : HL_EIO,
		    "%s: %s", path, errno == EWOULDBLOCK ? "another helios"
		    " pull is running in this directory" : strerror(errno));
		close(*fd);
		*fd = -1;
	} else
		remove_stale_tmp(dir);
	free(path);
	return rc;
}

void
hl_pull_unlock(int fd)
{
	if (fd != -1)
		close(fd);	/* drops the flock */
}

static void
state_clear(struct state *s)
{
	free(s->url);
	free(s->etag);
	free(s->key);
	json_decref(s->lists);
	json_decref(s->notifs);
	memset(s, 0, sizeof(*s));
}

/* Loads the state file; a missing one is an empty state. */
static int
state_load(struct state *s, const char *path, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	json_error_t je;
	json_t *doc = NULL, *v;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = read_all(&b, path, (size_t)16 << 20, err)) != 0) {
		if (rc == HL_ENOTFOUND)
			rc = 0;
		goto out;
	}
	if ((doc = json_loadb(b.data, b.len, 0, &je)) == NULL ||
	    !json_is_object(doc)) {
		rc = hl_err_set(err, HL_EINVAL, "%s: not a state file (%s);"
		    " remove it to start over", path, doc ? "not an object" :
		    je.text);
		goto out;
	}
	s->url = str_dup(doc, "url");
	s->etag = str_dup(doc, "etag");
	s->key = str_dup(doc, "key_sha256");
	s->version = int_or(doc, "version", 0);
	s->expires_at = int_or(doc, "expires_at", 0);
	s->poll_interval = int_or(doc, "poll_interval", 0);
	if (json_is_object(v = json_object_get(doc, "lists")))
		s->lists = json_incref(v);
	if (json_is_object(v = json_object_get(doc, "notifications")))
		s->notifs = json_incref(v);
out:
	json_decref(doc);
	hl_buf_free(&b);
	return rc;
}

/*
 * The state's record for a list id (or notifications, id NULL) when it
 * is for file: its sha256 and, while files were being replaced, the one
 * before ("was").  NULLs when there is none.
 */
static void
state_sha(const char **sha, const char **was, const struct state *s,
    const char *id, const char *file)
{
	json_t *o;

	*sha = *was = NULL;
	o = id ? json_object_get(s->lists, id) : s->notifs;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "file")) ||
	    strcmp(json_string_value(json_object_get(o, "file")), file) != 0)
		return;
	*sha = json_string_value(json_object_get(o, "sha256"));
	*was = json_string_value(json_object_get(o, "was"));
}

static void
local_clear(struct local *l)
{
	if (l->tmp != NULL) {
		unlink(l->tmp);
		free(l->tmp);
		l->tmp = NULL;
	}
	if (l->jtmp != NULL) {
		unlink(l->jtmp);
		free(l->jtmp);
		l->jtmp = NULL;
	}
	hl_buf_free(&l->cur);
	hl_items_free(l->items, l->nitems);
	l->items = NULL;
	l->nitems = 0;
	json_decref(l->jsegs);
	l->jsegs = NULL;
}

/*
 * Hashes DIR/file without following a symlink and without holding it:
 * l->exists, l->regular and l->sha256 ("" unless a regular file).
 */
static int
local_hash(struct local *l, const char *dir, struct hl_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char tmp[65536], d[32];
	struct stat sb;
	char *path = NULL;
	ssize_t r;
	size_t i;
	int fd = -1, rc = 0;

	l->exists = l->regular = 0;
	l->sha256[0] = '\0';
	if (asprintf(&path, "%s/%s", dir, l->file) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			goto out;
		l->exists = 1;	/* a symlink (ELOOP), or unreadable */
		if (errno != ELOOP)
			rc = hl_err_set(err, HL_EIO, "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	l->exists = 1;
	if (fstat(fd, &sb) == -1) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode))
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = hl_err_set(err, HL_EIO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, tmp, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, d, NULL);
	for (i = 0; i < 32; i++)
		snprintf(l->sha256 + 2 * i, 3, "%02x", d[i]);
	l->regular = 1;
out:
	EVP_MD_CTX_free(ctx);
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

/* Reads DIR/file (a regular file, at most max bytes) into l->cur. */
static int
local_load(struct local *l, const char *dir, uint64_t max,
    struct hl_err *err)
{
	char *path = NULL;
	int rc;

	if (asprintf(&path, "%s/%s", dir, l->file) < 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = read_all(&l->cur, path, max > SIZE_MAX ? SIZE_MAX : (size_t)max,
	    err);
	free(path);
	return rc;
}

/* Makes l->tmp, an empty temporary file in DIR; *fd is open on it. */
static int
tmp_make(int *fd, struct local *l, const char *dir, struct hl_err *err)
{
	*fd = -1;
	if (asprintf(&l->tmp, "%s/%sXXXXXX", dir, HL_PULL_TMP_PREFIX) < 0) {
		l->tmp = NULL;
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if ((*fd = mkostemp(l->tmp, O_CLOEXEC)) == -1) {
		free(l->tmp);
		l->tmp = NULL;
		return hl_err_set(err, HL_EIO, "%s: %s", dir,
		    strerror(errno));
	}
	return 0;
}

/* Makes a temporary file ready to be renamed: mode, fsync, close. */
static int
tmp_done(int fd, const struct local *l, struct hl_err *err)
{
	int rc = 0;

	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1)
		rc = hl_err_set(err, HL_EIO, "%s: %s", l->tmp,
		    strerror(errno));
	if (close(fd) == -1 && rc == 0)
		rc = hl_err_set(err, HL_EIO, "%s: %s", l->tmp,
		    strerror(errno));
	return rc;
}

/* Builds an item from an add event's record. */
static int
event_item(struct hl_item *it, json_t *ev, int fmt)
{
	json_t *rec = json_object_get(ev, "record"), *ns;
	const char *value;
	size_t i;

	if (hl_item_from_json(it, rec) != 0)
		return -1;
	value = it->value;
	if (fmt == HL_FMT_YAML_NS) {
		ns = json_object_get(rec, "ns");
		it->ns_seq = json_is_array(ns) && json_array_size(ns) > 1;
		for (i = 0; !json_is_array(ns) && value[i] != '\0'; i++)
			if (value[i] == ' ')
				it->ns_seq = 1;
	}
	return 0;
}

/*
 * The item of l a delete of value removes: the first that holds value
 * itself, else the first of the same key (hl_item_key), as the store
 * matched it.  The first rule keeps the right line when a list holds
 * copies that differ in case ("Spam", then "spam") and one of them goes.
 * 0 with *at, HL_ENOTFOUND, or HL_ENOMEM.
 */
static int
delete_target(size_t *at, const struct local *l, const char *value)
{
	char *key, *k;
	size_t i;
	int rc = HL_ENOTFOUND;

	for (i = 0; i < l->nitems; i++)
		if (!l->items[i].verbatim && l->items[i].value != NULL &&
		    strcmp(l->items[i].value, value) == 0) {
			*at = i;
			return 0;
		}
	if ((key = hl_item_key(l->list->fmt, value)) == NULL)
		return HL_ENOMEM;
	for (i = 0; i < l->nitems && rc == HL_ENOTFOUND; i++) {
		if (l->items[i].verbatim || l->items[i].value == NULL)
			continue;
		if ((k = hl_item_key(l->list->fmt, l->items[i].value)) == NULL)
			rc = HL_ENOMEM;
		else if (strcmp(k, key) == 0) {
			*at = i;
			rc = 0;
		}
		free(k);
	}
	free(key);
	return rc;
}

/*
 * Applies one event to l's items.  Returns -1 when the event cannot be
 * applied (an unknown operation, a delete of a value that is not there).
 */
static int
apply_event(struct local *l, json_t *ev)
{
	const char *op = json_string_value(json_object_get(ev, "op"));
	const char *value = json_string_value(json_object_get(ev, "value"));
	struct hl_item it, *v;
	size_t i;

	if (op == NULL || value == NULL)
		return -1;
	if (strcmp(op, "add") == 0) {
		if (event_item(&it, ev, l->list->fmt) != 0) {
			hl_item_clear(&it);
			return -1;
		}
		if ((v = realloc(l->items, (l->nitems + 1) *
		    sizeof(*v))) == NULL) {
			hl_item_clear(&it);
			return -1;
		}
		l->items = v;
		it.pos = l->nitems ? l->items[l->nitems - 1].pos + 1 : 0;
		l->items[l->nitems++] = it;
		return 0;
	}
	if (strcmp(op, "delete") != 0 || delete_target(&i, l, value) != 0)
		return -1;
	hl_item_clear(&l->items[i]);
	memmove(&l->items[i], &l->items[i + 1],
	    (l->nitems - i - 1) * sizeof(l->items[0]));
	l->nitems--;
	return 0;
}

/*
 * Fetches the segments covering (from, to] and appends their events in
 * version order to *events.  Returns 1 when the changes cover the range,
 * 0 when they do not (the client is too far behind, they would cost more
 * than budget bytes, or changes.json or the segments are over their
 * caps), or a negative code.  *fell counts the gzips stood in for
 * (hl_pull_fetch_file).
 */
static int
fetch_events(json_t *events, struct hl_fetch *f,
    const struct hl_pull_manifest *m, int64_t from, int64_t to,
    int64_t budget, size_t *fell, struct hl_err *err)
{
	const struct hl_pull_file *cf;
	const struct hl_pull_seg *g;
	struct hl_pull_changes c = { 0 };
	struct hl_buf b = HL_BUF_INIT;
	json_error_t je;
	json_t *doc = NULL, *ev, *arr;
	int64_t next = from + 1, cost = 0, size = 0, ver;
	size_t i, first = 0, last = 0, j, values = 0;
	int rc = 0, covered = 0;

	if ((cf = hl_pull_manifest_file(m, "changes.json")) == NULL ||
	    cf->id.bytes > (int64_t)HL_PULL_MAX_CHANGES)
		return 0;
	if ((rc = hl_pull_fetch_file(-1, &b, f, cf, HL_PULL_MAX_CHANGES,
	    fell, err)) != 0 ||
	    (rc = hl_pull_changes_parse(&c, b.data, b.len, err)) != 0) {
		if (rc == HL_ETOOBIG)
			rc = 0;	/* not covered: download instead */
		goto out;
	}
	/* Find a run of segments from..to without a gap. */
	for (i = 0; i < c.nsegs && c.segs[i].to < next; i++)
		;
	first = i;
	for (; i < c.nsegs && next <= to && c.segs[i].from <= next; i++) {
		g = &c.segs[i];
		next = g->to + 1;
		cost += g->f.has_gz ? g->f.gz.bytes : g->f.id.bytes;
		size += g->f.id.bytes;
		if (g->f.id.bytes > (int64_t)HL_PULL_MAX_SEGMENT ||
		    (g->f.has_gz && g->f.gz.bytes >
		    (int64_t)HL_PULL_MAX_SEGMENT))
			goto out;
	}
	last = i;
	if (next <= to || cost > budget || size > (int64_t)HL_PULL_MAX_EVENTS)
		goto out;
	for (i = first; i < last; i++) {
		if ((rc = hl_pull_fetch_file(-1, &b, f, &c.segs[i].f,
		    HL_PULL_MAX_SEGMENT, fell, err)) != 0)
			goto out;
		/* Events are kept until patched: their count is capped. */
		values += json_values(b.data ? b.data : "", b.len);
		if (values > HL_PULL_MAX_EVENT_VALUES)
			goto out;	/* not covered: download instead */
		json_decref(doc);
		if ((doc = json_loadb(b.data, b.len, 0, &je)) == NULL ||
		    !json_is_array(arr = json_object_get(doc, "events"))) {
			rc = hl_err_set(err, HL_EINVAL, "%s: not a change"
			    " segment", c.segs[i].f.id.path);
			goto out;
		}
		json_array_foreach(arr, j, ev) {
			ver = int_or(ev, "version", 0);
			if (ver > from && ver <= to &&
			    json_array_append(events, ev) != 0) {
				rc = hl_err_set(err, HL_ENOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
	covered = 1;
out:
	json_decref(doc);
	hl_buf_free(&b);
	hl_pull_changes_clear(&c);
	return rc != 0 ? rc : covered;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Brings l to its manifest hash by applying events, into a temporary
 * file; 0 if it did, -1 if the events do not give the manifest's bytes
 * (the caller downloads the list instead), HL_EIO if DIR cannot be
 * written.
 */
static int
patch_list(struct local *l, const char *dir, json_t *events,
    struct hl_err *err)
{
	struct hl_err e2 = HL_ERR_INIT;
	struct hl_buf next = HL_BUF_INIT;
	json_t *ev;
	const char *list;
	char sha[65];
	size_t i;
	int fd = -1, rc = -1;

	if (hl_textfmt_parse(&l->items, &l->nitems, l->list->fmt,
	    l->cur.data ? l->cur.data : "", l->cur.len, l->file, &e2) != 0)
		goto out;
	json_array_foreach(events, i, ev) {
		list = json_string_value(json_object_get(ev, "list"));
		if (list == NULL || strcmp(list, l->list->id) != 0)
			continue;
		if (apply_event(l, ev) != 0)
			goto out;
	}
	if (hl_textfmt_render(&next, l->list->fmt, l->items, l->nitems,
	    &e2) != 0)
		goto out;
	hl_digest(sha, NULL, next.data ? next.data : "", next.len);
	if (strcmp(sha, l->pf->id.sha256) != 0)
		goto out;
	if ((rc = tmp_make(&fd, l, dir, err)) != 0)
		goto out;
	if (write_all(fd, next.data ? next.data : "", next.len) != 0) {
		rc = hl_err_set(err, HL_EIO, "%s: %s", l->tmp,
		    strerror(errno));
		close(fd);
		goto out;
	}
	if ((rc = tmp_done(fd, l, err)) != 0)
		goto out;
	l->ready = 1;
out:
	hl_buf_free(&next);
	hl_buf_free(&l->cur);
	hl_items_free(l->items, l->nitems);
	l->items = NULL;
	l->nitems = 0;
	return rc;
}

/*
 * Writes the state.  pending: the files are about to be replaced, so a
 * list being replaced also records the hash of the bytes it replaces
 * ("was"): after a crash between two renames either is pull's own.
 */
static int
state_write(const char *path, const struct hl_pull_opts *o,
    const char *etag, const char *key, const struct hl_pull_manifest *m,
    const char *msha, struct local *loc, size_t nloc, int pending,
    struct hl_err *err)
{
	json_t *doc, *lists, *x;
	char *text = NULL;
	size_t i;
	int rc;

	if ((doc = json_object()) == NULL || (lists = json_object()) == NULL) {
		json_decref(doc);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	json_object_set_new(doc, "format", json_integer(1));
	json_object_set_new(doc, "url", json_string(o->url ? o->url : ""));
	json_object_set_new(doc, "etag", json_string(etag ? etag : ""));
	json_object_set_new(doc, "key_sha256", json_string(key));
	json_object_set_new(doc, "version", json_integer(m->version));
	json_object_set_new(doc, "expires_at", json_integer(m->expires_at));
	json_object_set_new(doc, "poll_interval",
	    json_integer(m->poll_interval));
	json_object_set_new(doc, "manifest_sha256", json_string(msha));
	for (i = 0; i < nloc; i++) {
		x = json_pack("{s:s, s:s}", "file", loc[i].file, "sha256",
		    loc[i].pf->id.sha256);
		if (x == NULL) {
			json_decref(lists);
			json_decref(doc);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		if (pending && loc[i].todo && loc[i].regular)
			json_object_set_new(x, "was",
			    json_string(loc[i].sha256));
		if (loc[i].list && loc[i].jpf != NULL)
			json_object_set_new(x, "json_sha256",
			    json_string(loc[i].jpf->id.sha256));
		if (loc[i].list && loc[i].jpf != NULL &&
		    json_is_array(loc[i].jsegs))
			json_object_set(x, "json_segments", loc[i].jsegs);
		if (loc[i].list) {
			json_object_set_new(x, "version",
			    json_integer(loc[i].list->version));
			json_object_set_new(lists, loc[i].list->id, x);
		} else
			json_object_set_new(doc, "notifications", x);
	}
	json_object_set_new(doc, "lists", lists);
	text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(1));
	json_decref(doc);
	if (text == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	rc = write_atomic(path, text, strlen(text), err);
	free(text);
	return rc;
}

/*
 * --json: the name of l's JSON in DIR (its text file's, with .json: a
 * name of this client's table, never the network's), and whether it must
 * be written: missing, not a regular file, or not the manifest's
 * lists/<id>.json the state says it was assembled from.
 */
static int
json_wanted(struct local *l, const struct hl_pull_manifest *m,
    const struct state *s, const char *dir, struct hl_err *err)
{
	const char *dot = strrchr(l->file, '.'), *was;
	char path[4096];
	struct stat sb;
	json_t *o;
	int n;

	l->jtodo = 0;
	if ((l->jpf = hl_pull_manifest_file(m, l->list->json)) == NULL)
		return 0;
	n = snprintf(l->jfile, sizeof(l->jfile), "%.*s.json",
	    (int)(dot ? dot - l->file : (long)strlen(l->file)), l->file);
	if (n < 0 || (size_t)n >= sizeof(l->jfile) ||
	    strcmp(l->jfile, l->file) == 0)
		return hl_err_set(err, HL_EINVAL, "%s: no JSON name", l->file);
	if (snprintf(path, sizeof(path), "%s/%s", dir, l->jfile) >=
	    (int)sizeof(path))
		return hl_err_set(err, HL_EINVAL, "%s: path too long", dir);
	o = json_object_get(s->lists, l->list->id);
	was = json_string_value(json_object_get(o, "json_sha256"));
	json_decref(l->jsegs);
	l->jsegs = json_incref(json_object_get(o, "json_segments"));
	l->jtodo = lstat(path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    was == NULL || strcmp(was, l->jpf->id.sha256) != 0;
	return 0;
}

/*
 * The state's record of where DIR's JSON holds each segment, as hints
 * for hl_pull_list_json (which checks every slice it takes): entries
 * that are not [64 hex digits, offset, length] are left out.  *out is
 * the caller's to free.  HL_ENOMEM.
 */
static int
jsegs_from_state(struct hl_pull_jseg **out, size_t *n, const json_t *a,
    struct hl_err *err)
{
	const char *sha;
	json_t *e;
	size_t i, len = json_array_size(a);

	*out = NULL;
	*n = 0;
	if (len == 0 || len > HL_PULL_MAX_LIST_SEGMENTS)
		return 0;
	if ((*out = calloc(len, sizeof(**out))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	json_array_foreach(a, i, e) {
		json_t *off = json_array_get(e, 1), *sz = json_array_get(e, 2);

		sha = json_string_value(json_array_get(e, 0));
		if (!hl_digest_is_sha256(sha) || !json_is_integer(off) ||
		    !json_is_integer(sz) || json_integer_value(off) < 0 ||
		    json_integer_value(sz) < 0)
			continue;
		memcpy((*out)[*n].sha256, sha, 65);
		(*out)[*n].off = (uint64_t)json_integer_value(off);
		(*out)[*n].len = (uint64_t)json_integer_value(sz);
		(*n)++;
	}
	return 0;
}

/*
 * --json: list l's JSON to fd, taking the segments that did not change
 * from the file DIR holds (opened without following a link, a regular
 * file only) where l->jsegs says they are; then l->jsegs says where the
 * new file holds them.  rep counts the segments taken and the gzips
 * stood in for.
 */
static int
json_assemble(int fd, struct hl_fetch *f, const struct hl_pull_manifest *m,
    struct local *l, const char *dir, uint64_t max,
    struct hl_pull_report *rep,
    struct hl_err *err)
{
	struct hl_pull_jsegs r = { .oldfd = -1 };
	struct hl_pull_jseg *old = NULL;
	struct stat sb;
	char path[4096];
	json_t *a = NULL;
	size_t i;
	int rc;

	if ((rc = jsegs_from_state(&old, &r.nold, l->jsegs, err)) != 0)
		return rc;
	r.old = old;
	if (r.nold > 0 && snprintf(path, sizeof(path), "%s/%s", dir,
	    l->jfile) < (int)sizeof(path) && (r.oldfd = open(path, O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) != -1 &&
	    (fstat(r.oldfd, &sb) == -1 || !S_ISREG(sb.st_mode))) {
		close(r.oldfd);
		r.oldfd = -1;
	}
	rc = hl_pull_list_json(fd, f, m, l->list, max, &r, err);
	if (r.oldfd != -1)
		close(r.oldfd);
	free(old);
	rep->reused += r.reused;
	rep->fellback += r.fellback;
	if (rc == 0 && r.nmade > 0 && (a = json_array()) == NULL)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < r.nmade; i++)
		if (json_array_append_new(a, json_pack("[s, I, I]",
		    r.made[i].sha256, (json_int_t)r.made[i].off,
		    (json_int_t)r.made[i].len)) != 0)
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	free(r.made);
	json_decref(l->jsegs);
	l->jsegs = rc == 0 ? a : NULL;
	if (rc != 0)
		json_decref(a);
	return rc;
}

/* Does every list of the state name the JSON it was assembled from? */
static int
state_has_json(const struct state *s)
{
	const char *id;
	json_t *o;

	json_object_foreach(s->lists, id, o)
		if (!json_is_string(json_object_get(o, "json_sha256")))
			return 0;
	return 1;
}

/* Sets rep->status from a failure's code. */
static int
fail(struct hl_pull_report *rep, int status, int rc)
{
	rep->status = status;
	return rc ? rc : HL_EGENERIC;
}

/* The status of a failed download or fetch. */
static int
get_status(int rc)
{
	switch (rc) {
	case HL_EINVAL:
		return HL_PULL_INTEGRITY;
	case HL_ETOOBIG:
		return HL_PULL_TOOBIG;
	case HL_ENOMEM:
	case HL_EGENERIC:	/* a write to DIR (sink.h) */
		return HL_PULL_LOCAL;
	default:
		return HL_PULL_NET;
	}
}

/* Does DIR still hold every file the state names, as the state says? */
static int
state_matches(const struct state *s, const char *dir)
{
	const char *id, *sha, *ssha, *was;
	struct local tmp;
	json_t *v;
	int match = 1;

	json_object_foreach(s->lists, id, v) {
		memset(&tmp, 0, sizeof(tmp));
		if ((tmp.file = hl_pull_known_file(id, NULL)) == NULL)
			return 0;
		state_sha(&sha, &was, s, id, tmp.file);
		if (sha == NULL || local_hash(&tmp, dir, NULL) != 0 ||
		    !tmp.regular || strcmp(tmp.sha256, sha) != 0)
			match = 0;
		if (!match)
			return 0;
	}
	if (s->notifs != NULL) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.file = HL_PULL_NOTIFS_FILE;
		state_sha(&ssha, &was, s, NULL, tmp.file);
		if (ssha == NULL || local_hash(&tmp, dir, NULL) != 0 ||
		    !tmp.regular || strcmp(tmp.sha256, ssha) != 0)
			return 0;
	}
	return json_object_size(s->lists) > 0;
}

/* Appends id to rep's list of skipped ids, as far as it fits. */
static void
note_skipped(struct hl_pull_report *rep, const char *id)
{
	size_t n = strlen(rep->skipped_ids);

	if (n + strlen(id) + 3 < sizeof(rep->skipped_ids))
		snprintf(rep->skipped_ids + n, sizeof(rep->skipped_ids) - n,
		    "%s%s", n ? ", " : "", id);
	rep->skipped++;
}

int
hl_pull_once(struct hl_pull_report *rep, struct hl_fetch *f,
    const struct hl_pull_opts *o, struct hl_err *err)
{
	struct hl_fetch_res res = HL_FETCH_RES_INIT;
	struct hl_pull_manifest m = { 0 };
	struct state s = { 0 };
	struct local *loc = NULL, *l;
	json_t *events = NULL;
	char *statepath = NULL, *path = NULL, msha[65];
	char keysha[65] = "";
	const char *ssha, *was, *inm = NULL, *edited = NULL;
	int64_t now = o->now ? o->now : (int64_t)time(NULL), budget = 0;
	uint64_t max = o->max_size ? o->max_size : HL_PULL_MAX_SIZE;
	size_t nloc = 0, i, ntodo = 0, nedited = 0;
	int rc = 0, covered, fd, sigfail;

	memset(rep, 0, sizeof(*rep));
	rep->retry_after = -1;
	if (o->state)
		statepath = strdup(o->state);
	else if (asprintf(&statepath, "%s/%s", o->dir,
	    HL_PULL_STATE_FILE) < 0)
		statepath = NULL;
	if (statepath == NULL) {
		rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_ENOMEM,
		    "out of memory"));
		goto out;
	}
	if ((rc = state_load(&s, statepath, err)) != 0) {
		rc = fail(rep, HL_PULL_LOCAL, rc);
		goto out;
	}
	rep->from = rep->version = s.version;
	rep->poll_interval = s.poll_interval;
	if (o->pubkey) {
		struct hl_buf kb = HL_BUF_INIT;

		if ((rc = read_all(&kb, o->pubkey, 65536, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		hl_digest(keysha, NULL, kb.data ? kb.data : "", kb.len);
		hl_buf_free(&kb);
	}

	/*
	 * The ETag is worth sending only if DIR still holds what it names,
	 * and if it was checked with the key required now, if any.
	 */
	if (s.etag && *s.etag && s.url && o->url &&
	    strcmp(s.url, o->url) == 0 &&
	    (!o->pubkey || (s.key && strcmp(s.key, keysha) == 0)) &&
	    state_matches(&s, o->dir) && (!o->json || state_has_json(&s)))
		inm = s.etag;

	rc = hl_fetch_get(&res, f, "manifest.json", inm, HL_PULL_MAX_MANIFEST,
	    HL_FETCH_GZIP, err);
	rep->retry_after = res.retry_after;
	if (rc != 0) {
		rc = fail(rep, get_status(rc == HL_EINVAL ? HL_EIO : rc), rc);
		goto out;
	}
	if (res.status == 304) {
		/* A frozen mirror may answer 304 for ever: check the expiry. */
		if (s.expires_at > 0 && s.expires_at < now) {
			rc = fail(rep, HL_PULL_EXPIRED, hl_err_set(err,
			    HL_EINVAL, "manifest version %lld (unchanged)"
			    " expired %lld seconds ago: the mirror has stopped"
			    " updating", (long long)s.version,
			    (long long)(now - s.expires_at)));
			goto out;
		}
		rep->unchanged = 1;
		goto out;
	}
	hl_digest(msha, NULL, res.body.data ? res.body.data : "", res.body.len);
	if ((rc = hl_pull_manifest_parse(&m, res.body.data, res.body.len,
	    err)) != 0) {
		rc = fail(rep, rc == HL_ENOMEM ? HL_PULL_LOCAL :
		    rc == HL_ETOOBIG ? HL_PULL_TOOBIG : HL_PULL_INTEGRITY, rc);
		goto out;
	}
	rep->poll_interval = m.poll_interval;
	if (o->pubkey && (rc = hl_sigcheck(&sigfail, &rep->retry_after, f,
	    o->pubkey, res.body.data, res.body.len, err)) != 0) {
		rc = fail(rep, sigfail ? HL_PULL_SIGNATURE : get_status(rc),
		    rc);
		goto out;
	}
	if (m.version < s.version) {
		rc = fail(rep, HL_PULL_ROLLBACK, hl_err_set(err, HL_ECONFLICT,
		    "manifest version %lld is older than version %lld already"
		    " seen: refusing to go back (a stale mirror or a replayed"
		    " manifest)", (long long)m.version, (long long)s.version));
		goto out;
	}
	if (m.expires_at < now) {
		rc = fail(rep, HL_PULL_EXPIRED, hl_err_set(err, HL_EINVAL,
		    "manifest version %lld expired %lld seconds ago: the"
		    " mirror has stopped updating", (long long)m.version,
		    (long long)(now - m.expires_at)));
		goto out;
	}

	/* Compare every known list (and notifications.json) with DIR. */
	if ((loc = calloc(m.nlists + 1, sizeof(*loc))) == NULL) {
		rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_ENOMEM,
		    "out of memory"));
		goto out;
	}
	for (i = 0; i <= m.nlists; i++) {
		l = &loc[nloc];
		if (i < m.nlists && m.lists[i].local == NULL) {
			note_skipped(rep, m.lists[i].id);
			continue;
		}
		if (i < m.nlists) {
			l->list = &m.lists[i];
			l->file = m.lists[i].local;
			l->pf = hl_pull_manifest_file(&m, m.lists[i].text);
		} else {
			l->file = HL_PULL_NOTIFS_FILE;
			if ((l->pf = hl_pull_manifest_file(&m,
			    HL_PULL_NOTIFS_FILE)) == NULL)
				break;
		}
		nloc++;
		if ((rc = local_hash(l, o->dir, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		state_sha(&ssha, &was, &s, l->list ? l->list->id : NULL,
		    l->file);
		if (l->list != NULL && o->json &&
		    (rc = json_wanted(l, &m, &s, o->dir, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		ntodo += l->jtodo;
		l->at_state = l->regular && ssha && strcmp(ssha,
		    l->sha256) == 0;
		l->ours = !l->exists || l->at_state || (l->regular && was &&
		    strcmp(was, l->sha256) == 0);
		l->todo = !l->regular || strcmp(l->sha256, l->pf->id.sha256);
		if (!l->todo) {
			rep->kept += l->list != NULL;
			continue;
		}
		ntodo++;
		budget += l->pf->has_gz ? l->pf->gz.bytes : l->pf->id.bytes;
		if (!l->ours && nedited++ == 0)
			edited = l->file;
		if ((uint64_t)l->pf->id.bytes > max || (l->pf->has_gz &&
		    (uint64_t)l->pf->gz.bytes > max)) {
			rc = fail(rep, HL_PULL_TOOBIG, hl_err_set(err,
			    HL_ETOOBIG, "%s: the manifest says %lld bytes,"
			    " over the limit of %llu (--max-size)",
			    l->pf->id.path, (long long)((uint64_t)
			    l->pf->id.bytes > max ? l->pf->id.bytes :
			    l->pf->gz.bytes), (unsigned long long)max));
			goto out;
		}
	}
	if (nedited > 0 && !o->force) {
		rc = fail(rep, HL_PULL_EDITED, hl_err_set(err, HL_ECONFLICT,
		    "%s/%s%s is not what helios pull last wrote (edited,"
		    " appended to, damaged, or there before): kept as it is;"
		    " --force replaces it with version %lld", o->dir, edited,
		    nedited > 1 ? " (and others)" : "", (long long)m.version));
		goto out;
	}
	rep->replaced = nedited;

	/* Patch what the published changes can patch. */
	if (ntodo > 0 && !o->no_changes && s.version > 0 &&
	    m.version > s.version) {
		for (i = 0; i < nloc; i++)
			if (loc[i].todo && loc[i].list && loc[i].at_state)
				break;
		if (i < nloc) {
			if ((events = json_array()) == NULL) {
				rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err,
				    HL_ENOMEM, "out of memory"));
				goto out;
			}
			covered = fetch_events(events, f, &m, s.version,
			    m.version, budget, &rep->fellback, err);
			if (covered == HL_ENOTFOUND)
				covered = 0;	/* no changes: download */
			if (covered < 0) {
				rc = fail(rep, get_status(covered), covered);
				goto out;
			}
			for (i = 0; covered && i < nloc; i++) {
				l = &loc[i];
				if (!l->todo || !l->list || !l->at_state)
					continue;
				if ((rc = local_load(l, o->dir, max,
				    err)) != 0) {
					rc = fail(rep, rc == HL_ETOOBIG ?
					    HL_PULL_TOOBIG : HL_PULL_LOCAL,
					    rc);
					goto out;
				}
				rc = patch_list(l, o->dir, events, err);
				if (rc == 0)
					rep->patched++;
				else if (rc != -1) {
					rc = fail(rep, HL_PULL_LOCAL, rc);
					goto out;
				}
				rc = 0;
			}
		}
	}

	/* Download the rest, each streamed to a temporary file in DIR. */
	for (i = 0; i < nloc; i++) {
		l = &loc[i];
		if (!l->todo || l->ready)
			continue;
		if (l->tmp != NULL) {	/* a patch that did not match */
			unlink(l->tmp);
			free(l->tmp);
			l->tmp = NULL;
		}
		if ((rc = tmp_make(&fd, l, o->dir, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		rc = hl_pull_fetch_file(fd, NULL, f, l->pf, max,
		    &rep->fellback, err);
		if (rc != 0) {
			close(fd);
			rc = fail(rep, get_status(rc), rc);
			goto out;
		}
		if ((rc = tmp_done(fd, l, err)) != 0) {
			rc = fail(rep, HL_PULL_LOCAL, rc);
			goto out;
		}
		l->ready = 1;
		rep->downloaded++;
	}

	/* --json: each list's JSON that changed, assembled and checked. */
	for (i = 0; i < nloc; i++) {
		l = &loc[i];
		if (!l->jtodo)
			continue;
		if (asprintf(&l->jtmp, "%s/%sXXXXXX", o->dir,
		    HL_PULL_TMP_PREFIX) < 0 ||
		    (fd = mkostemp(l->jtmp, O_CLOEXEC)) == -1) {
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_EIO,
			    "%s: %s", o->dir, strerror(errno)));
			goto out;
		}
		if ((rc = json_assemble(fd, f, &m, l, o->dir, max, rep,
		    err)) != 0) {
			close(fd);
			rc = fail(rep, get_status(rc), rc);
			goto out;
		}
		if (fchmod(fd, 0644) == -1 || fsync(fd) == -1 ||
		    close(fd) == -1) {
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_EIO,
			    "%s: %s", l->jtmp, strerror(errno)));
			goto out;
		}
		rep->downloaded++;
	}

	/* Everything is checked: the state first names both hashes... */
	if (ntodo > 0 && (rc = state_write(statepath, o, res.etag, keysha, &m,
	    msha, loc, nloc, 1, err)) != 0) {
		rc = fail(rep, HL_PULL_LOCAL, rc);
		goto out;
	}
	/* ... the files are renamed over the old ones (or links) ... */
	for (i = 0; i < nloc; i++) {
		l = &loc[i];
		if (!l->todo)
			continue;
		free(path);
		if (asprintf(&path, "%s/%s", o->dir, l->file) < 0) {
			path = NULL;
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err,
			    HL_ENOMEM, "out of memory"));
			goto out;
		}
		if (l->tmp != NULL && rename(l->tmp, path) == -1) {
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_EIO,
			    "rename %s: %s", path, strerror(errno)));
			goto out;
		}
		free(l->tmp);
		l->tmp = NULL;
	}
	for (i = 0; i < nloc; i++) {
		l = &loc[i];
		if (l->jtmp == NULL)
			continue;
		free(path);
		if (asprintf(&path, "%s/%s", o->dir, l->jfile) < 0) {
			path = NULL;
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err,
			    HL_ENOMEM, "out of memory"));
			goto out;
		}
		if (rename(l->jtmp, path) == -1) {
			rc = fail(rep, HL_PULL_LOCAL, hl_err_set(err, HL_EIO,
			    "rename %s: %s", path, strerror(errno)));
			goto out;
		}
		free(l->jtmp);
		l->jtmp = NULL;
	}
	sync_dir(o->dir);
	/* ... and the state is written again, naming only the new. */
	if ((rc = state_write(statepath, o, res.etag, keysha, &m, msha, loc,
	    nloc, 0, err)) != 0) {
		rc = fail(rep, HL_PULL_LOCAL, rc);
		goto out;
	}
	sync_dir(o->dir);
	rep->unchanged = m.version == s.version && ntodo == 0;
	rep->version = m.version;
out:
	for (i = 0; loc && i < nloc; i++)
		local_clear(&loc[i]);
	free(loc);
	free(path);
	free(statepath);
	json_decref(events);
	hl_buf_free(&res.body);
	hl_pull_manifest_clear(&m);
	state_clear(&s);
	return rc;
}
