/*
 * signer: the current and previous signing keys, reloaded when their
 * files change, and the rotation that makes and retires them (see
 * signer.h for the files).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "blob.h"
#include "manifest.h"
#include "signer.h"

#define PATH_LEN	4096

enum { F_KEY, F_PREV, F_ROT, F_N };

static const char *const suffix[F_N] = { "", ".previous", ".rotation" };

/* What stat(2) said of a file; exists 0 when it is not there. */
struct stamp {
	int		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

struct hl_signer {
	char				 path[F_N][PATH_LEN];
	struct stamp			 st[F_N];
	EVP_PKEY			*cur;
	EVP_PKEY			*prev;	/* NULL: none */
	char				 curid[HL_KEYRING_ID_LEN + 1];
	char				 previd[HL_KEYRING_ID_LEN + 1];
	struct hl_signer_rotation	 rot;
	/* The ids of the last hl_signer_sign. */
	char				 signed_ids[HL_SIGNER_MAX]
					     [HL_KEYRING_ID_LEN + 1];
	size_t				 nsigned;
};

static int
paths(char out[F_N][PATH_LEN], const char *path, struct hl_err *err)
{
	int i;

	for (i = 0; i < F_N; i++)
		if ((size_t)snprintf(out[i], PATH_LEN, "%s%s", path,
		    suffix[i]) >= PATH_LEN)
			return hl_err_set(err, HL_EINVAL, "%s: name too long",
			    path);
	return 0;
}

static void
stamp_get(struct stamp *t, const char *path)
{
	struct stat sb;

	memset(t, 0, sizeof(*t));
	if (stat(path, &sb) != 0)
		return;
	t->exists = 1;
	t->dev = sb.st_dev;
	t->ino = sb.st_ino;
	t->size = sb.st_size;
	t->mtime = sb.st_mtim;
}

static int
stamp_same(const struct stamp *a, const struct stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int
is_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return i == HL_KEYRING_ID_LEN;
}

/* Reads the rotation file rp; HL_ENOTFOUND when it is not there. */
static int
read_rotation(struct hl_signer_rotation *out, const char *rp,
    struct hl_err *err)
{
	json_t *doc, *cur, *prev, *start, *until;
	json_error_t je;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((doc = json_load_file(rp, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return access(rp, F_OK) != 0 && errno == ENOENT ?
		    hl_err_set(err, HL_ENOTFOUND, "%s: no rotation", rp) :
		    hl_err_set(err, HL_EINVAL, "%s: %s", rp, je.text);
	cur = json_object_get(doc, "current");
	prev = json_object_get(doc, "previous");
	start = json_object_get(doc, "started_at");
	until = json_object_get(doc, "overlap_until");
	if (!json_is_string(cur) || !is_id(json_string_value(cur)) ||
	    !json_is_string(prev) || !is_id(json_string_value(prev)) ||
	    !json_is_integer(start) || !json_is_integer(until))
		rc = hl_err_set(err, HL_EINVAL, "%s: want {\"current\","
		    " \"previous\": key ids, \"started_at\", \"overlap_until\":"
		    " times}", rp);
	else {
		memcpy(out->current, json_string_value(cur),
		    HL_KEYRING_ID_LEN + 1);
		memcpy(out->previous, json_string_value(prev),
		    HL_KEYRING_ID_LEN + 1);
		out->started_at = json_integer_value(start);
		out->overlap_until = json_integer_value(until);
	}
	json_decref(doc);
	return rc;
}

static int
load_key(EVP_PKEY **k, char id[HL_KEYRING_ID_LEN + 1], const char *path,
    struct hl_err *err)
{
	int rc;

	if ((rc = hl_manifest_key_load(k, path, err)) != 0)
		return rc;
	if ((rc = hl_keyring_id(id, *k, err)) != 0) {
		EVP_PKEY_free(*k);
		*k = NULL;
	}
	return rc;
}

/*
 * Loads every file into n (whose paths are set), stamps first: a file
 * that changes while it is read is read again at the next refresh.
 */
static int
load(struct hl_signer *n, struct hl_err *err)
{
	int i, rc;

	for (i = 0; i < F_N; i++)
		stamp_get(&n->st[i], n->path[i]);
	if ((rc = load_key(&n->cur, n->curid, n->path[F_KEY], err)) != 0)
		return rc;
	rc = read_rotation(&n->rot, n->path[F_ROT], err);
	if (rc == HL_ENOTFOUND)
		return 0;	/* no rotation: K.previous, if any, is idle */
	if (rc != 0)
		return rc;
	/* A previous key removed by hand (retired) signs no more. */
	if (!n->st[F_PREV].exists)
		return 0;
	if ((rc = load_key(&n->prev, n->previd, n->path[F_PREV], err)) != 0)
		return rc;
	if (strcmp(n->previd, n->rot.previous) != 0)
		return hl_err_set(err, HL_EINVAL, "%s is key %s, but %s names"
		    " key %s", n->path[F_PREV], n->previd, n->path[F_ROT],
		    n->rot.previous);
	return 0;
}

static void
keys_clear(struct hl_signer *s)
{
	EVP_PKEY_free(s->cur);
	EVP_PKEY_free(s->prev);
	s->cur = s->prev = NULL;
	s->curid[0] = s->previd[0] = '\0';
	memset(&s->rot, 0, sizeof(s->rot));
}

int
hl_signer_open(struct hl_signer **out, const char *path, struct hl_err *err)
{
	struct hl_signer *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((rc = paths(s->path, path, err)) != 0 ||
	    (rc = load(s, err)) != 0) {
		hl_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
hl_signer_free(struct hl_signer *s)
{
	if (s == NULL)
		return;
	keys_clear(s);
	free(s);
}

static int
files_changed(const struct hl_signer *s)
{
	struct stamp t;
	int i;

	for (i = 0; i < F_N; i++) {
		stamp_get(&t, s->path[i]);
		if (!stamp_same(&t, &s->st[i]))
			return 1;
	}
	return 0;
}

int
hl_signer_refresh(struct hl_signer *s, struct hl_err *err)
{
	struct hl_signer *n;
	int rc;

	if (!files_changed(s))
		return 0;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	memcpy(n->path, s->path, sizeof(n->path));
	if ((rc = load(n, err)) == 0) {
		keys_clear(s);
		memcpy(s->st, n->st, sizeof(s->st));
		s->cur = n->cur;
		s->prev = n->prev;
		memcpy(s->curid, n->curid, sizeof(s->curid));
		memcpy(s->previd, n->previd, sizeof(s->previd));
		s->rot = n->rot;
		n->cur = n->prev = NULL;
	}
	hl_signer_free(n);
	return rc;
}

/* The keys that sign at now, manifest.json.sig's first. */
static size_t
signing(EVP_PKEY *keys[HL_SIGNER_MAX], const char *ids[HL_SIGNER_MAX],
    const struct hl_signer *s, int64_t now)
{
	size_t n = 0;

	if (s->prev != NULL && now < s->rot.overlap_until &&
	    strcmp(s->previd, s->curid) != 0) {
		keys[n] = s->prev;
		ids[n++] = s->previd;
	}
	keys[n] = s->cur;
	ids[n++] = s->curid;
	return n;
}

size_t
hl_signer_ids(char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1],
    const struct hl_signer *s, int64_t now)
{
	EVP_PKEY *keys[HL_SIGNER_MAX];
	const char *p[HL_SIGNER_MAX];
	size_t n, i;

	n = signing(keys, p, s, now);
	for (i = 0; i < n; i++)
		memcpy(ids[i], p[i], HL_KEYRING_ID_LEN + 1);
	return n;
}

int
hl_signer_stale(const struct hl_signer *s, int64_t now)
{
	EVP_PKEY *keys[HL_SIGNER_MAX];
	const char *ids[HL_SIGNER_MAX];
	size_t n, i;

	if (files_changed(s))
		return 1;
	n = signing(keys, ids, s, now);
	if (n != s->nsigned)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(ids[i], s->signed_ids[i]) != 0)
			return 1;
	return 0;
}

int
hl_signer_sign(struct hl_blob sigs[HL_SIGNER_MAX], size_t *n,
    struct hl_signer *s, int64_t now, const void *data, size_t len,
    struct hl_err *err)
{
	EVP_PKEY *keys[HL_SIGNER_MAX];
	const char *ids[HL_SIGNER_MAX];
	size_t i, k;
	int rc = 0;

	memset(sigs, 0, HL_SIGNER_MAX * sizeof(*sigs));
	*n = 0;
	k = signing(keys, ids, s, now);
	for (i = 0; i < k && rc == 0; i++)
		rc = hl_manifest_sign(&sigs[i], keys[i], data, len, err);
	if (rc != 0) {
		for (i = 0; i < k; i++)
			hl_blob_clear(&sigs[i]);
		return rc;
	}
	for (i = 0; i < k; i++)
		memcpy(s->signed_ids[i], ids[i], HL_KEYRING_ID_LEN + 1);
	s->nsigned = k;
	*n = k;
	return 0;
}

EVP_PKEY *
hl_signer_current(const struct hl_signer *s)
{
	return s->cur;
}

EVP_PKEY *
hl_signer_previous(const struct hl_signer *s)
{
	return s->prev;
}

/* Writes a new file path (never over one) holding the bytes of s. */
static int
write_new(const char *path, int mode, const char *s, struct hl_err *err)
{
	size_t n = strlen(s);
	ssize_t w;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) < 0)
		return hl_err_set(err, errno == EEXIST ? HL_EEXISTS : HL_EIO,
		    "%s: %s", path, strerror(errno));
	w = write(fd, s, n);
	ok = w == (ssize_t)n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		unlink(path);
		return hl_err_set(err, HL_EIO, "%s: cannot write", path);
	}
	return 0;
}

/* The PEM public key of k, malloc'd. */
static char *
pub_pem(EVP_PKEY *k)
{
	BIO *b;
	char *p, *out = NULL;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, k) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

int
hl_signer_rotate(struct hl_signer_rotation *out, const char *path,
    int64_t now, int64_t overlap, struct hl_err *err)
{
	char p[F_N][PATH_LEN], prevpub[PATH_LEN], next[PATH_LEN];
	char nextpub[PATH_LEN], pub[PATH_LEN], newid[HL_KEYRING_ID_LEN + 1];
	char oldid[HL_KEYRING_ID_LEN + 1], *pem = NULL, *doc = NULL;
	struct hl_signer_rotation r;
	struct stat sb;
	EVP_PKEY *old = NULL;
	int rc, made_next = 0, made_prev = 0, made_prevpub = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = paths(p, path, err)) != 0)
		return rc;
	if (snprintf(prevpub, sizeof(prevpub), "%s.pub", p[F_PREV]) >=
	    (int)sizeof(prevpub) ||
	    snprintf(next, sizeof(next), "%s.next", path) >=
	    (int)sizeof(next) ||
	    snprintf(nextpub, sizeof(nextpub), "%s.pub", next) >=
	    (int)sizeof(nextpub) ||
	    snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub))
		return hl_err_set(err, HL_EINVAL, "%s: name too long", path);
	if (stat(path, &sb) != 0)
		return hl_err_set(err, errno == ENOENT ? HL_ENOTFOUND : HL_EIO,
		    "signing key %s: %s", path, strerror(errno));
	if ((rc = load_key(&old, oldid, path, err)) != 0)
		return rc;
	if (read_rotation(&r, p[F_ROT], NULL) == 0) {
		rc = hl_err_set(err, HL_EEXISTS, "%s exists: the rotation from"
		    " key %s to %s is not retired (helios key retire)",
		    p[F_ROT], r.previous, r.current);
		goto out;
	}
	if (access(p[F_ROT], F_OK) == 0 || access(p[F_PREV], F_OK) == 0 ||
	    access(prevpub, F_OK) == 0) {
		rc = hl_err_set(err, HL_EEXISTS, "%s exists: retire the"
		    " previous key first (helios key retire)",
		    access(p[F_ROT], F_OK) == 0 ? p[F_ROT] :
		    access(p[F_PREV], F_OK) == 0 ? p[F_PREV] : prevpub);
		goto out;
	}
	if ((pem = pub_pem(old)) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}

	/* The new key, readable by whoever reads the old one. */
	if ((rc = hl_keyring_generate(next, newid, err)) != 0)
		goto out;
	made_next = 1;
	if ((sb.st_uid != geteuid() || sb.st_gid != getegid()) &&
	    chown(next, sb.st_uid, sb.st_gid) != 0) {
		rc = hl_err_set(err, HL_EIO, "%s: cannot give it the owner of"
		    " %s: %s", next, path, strerror(errno));
		goto out;
	}
	/* The old key stays, under its new name, before K changes. */
	if (link(path, p[F_PREV]) != 0) {
		rc = hl_err_set(err, errno == EEXIST ? HL_EEXISTS : HL_EIO,
		    "%s: %s", p[F_PREV], strerror(errno));
		goto out;
	}
	made_prev = 1;
	if ((rc = write_new(prevpub, 0644, pem, err)) != 0)
		goto out;
	made_prevpub = 1;
	memcpy(r.current, newid, sizeof(r.current));
	memcpy(r.previous, oldid, sizeof(r.previous));
	r.started_at = now;
	r.overlap_until = now + overlap;
	if (asprintf(&doc, "{\"current\": \"%s\", \"previous\": \"%s\","
	    " \"started_at\": %lld, \"overlap_until\": %lld}\n", r.current,
	    r.previous, (long long)r.started_at,
	    (long long)r.overlap_until) < 0) {
		doc = NULL;
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = write_new(p[F_ROT], 0644, doc, err)) != 0)
		goto out;
	if (rename(next, path) != 0) {
		rc = hl_err_set(err, HL_EIO, "rename %s: %s", next,
		    strerror(errno));
		unlink(p[F_ROT]);
		goto out;
	}
	made_next = 0;
	made_prev = made_prevpub = 0;
	if (rename(nextpub, pub) != 0) {
		rc = hl_err_set(err, HL_EIO, "rename %s: %s (the new public"
		    " key is there)", nextpub, strerror(errno));
		goto out;
	}
	*out = r;
out:
	if (made_next) {
		unlink(next);
		unlink(nextpub);
	}
	if (made_prev)
		unlink(p[F_PREV]);
	if (made_prevpub)
		unlink(prevpub);
	free(doc);
	free(pem);
	EVP_PKEY_free(old);
	return rc;
}

int
hl_signer_rotation(struct hl_signer_rotation *out, const char *path,
    struct hl_err *err)
{
	char p[F_N][PATH_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = paths(p, path, err)) != 0)
		return rc;
	return read_rotation(out, p[F_ROT], err);
}

int
hl_signer_retire(struct hl_signer_rotation *out, const char *path,
    int64_t now, int force, struct hl_err *err)
{
	char p[F_N][PATH_LEN], prevpub[PATH_LEN];
	struct hl_signer_rotation r;
	int rc, i;

	memset(out, 0, sizeof(*out));
	if ((rc = paths(p, path, err)) != 0)
		return rc;
	if (snprintf(prevpub, sizeof(prevpub), "%s.pub", p[F_PREV]) >=
	    (int)sizeof(prevpub))
		return hl_err_set(err, HL_EINVAL, "%s: name too long", path);
	if ((rc = read_rotation(&r, p[F_ROT], err)) != 0)
		return rc;
	if (now < r.overlap_until && !force)
		return hl_err_set(err, HL_EBUSY, "the overlap lasts %lld more"
		    " seconds: key %s still signs every manifest, for clients"
		    " whose keyring lacks key %s", (long long)(r.overlap_until -
		    now), r.previous, r.current);
	/* The key first: without it K.rotation makes nothing sign. */
	const char *gone[] = { p[F_PREV], prevpub, p[F_ROT] };
	for (i = 0; i < 3; i++)
		if (unlink(gone[i]) != 0 && errno != ENOENT)
			return hl_err_set(err, HL_EIO, "%s: %s", gone[i],
			    strerror(errno));
	*out = r;
	return 0;
}
