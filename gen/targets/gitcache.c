/*
 * gitcache: packs a git cache's loose objects, and drops its refs to
 * objects it lost (see gitcache.h).
 *
 * The loose objects are found by reading objects/00 .. objects/ff, where
 * each file named by 38 hex digits is one object (libgit2's temporary
 * files have other names and are left alone).  The pack is written by
 * libgit2's packbuilder into objects/pack, then it, its index and the
 * directory are synced before any loose file is deleted, so a crash
 * leaves each object in the pack or loose, or both.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitcache.h"

struct loose {
	git_oid		 id;
	uint64_t	 bytes;
};

struct scan {
	char		 objects[1024];	/* ends with '/' */
	struct loose	*v;
	size_t		 n, cap;
	uint64_t	 bytes;
};

static int
git_fail(struct hl_err *err, int rc, const char *what)
{
	const git_error *e = git_error_last();

	return hl_err_set(err, HL_EIO, "git cache: %s: %s (%d)", what,
	    e != NULL && e->message != NULL ? e->message : "failed", rc);
}

static int
is_object_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == GIT_OID_HEXSZ - 2;
}

static int
scan_add(struct scan *s, const char *hex, uint64_t bytes,
    struct hl_err *err)
{
	struct loose *nv;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 256;
		if ((nv = realloc(s->v, cap * sizeof(*nv))) == NULL)
			return hl_err_set(err, HL_ENOMEM, "git cache: out of "
			    "memory");
		s->v = nv;
		s->cap = cap;
	}
	if (git_oid_fromstr(&s->v[s->n].id, hex) < 0)
		return git_fail(err, -1, hex);
	s->v[s->n++].bytes = bytes;
	s->bytes += bytes;
	return 0;
}

/* One fan-out directory, objects/xx. */
static int
scan_dir(struct scan *s, unsigned fan, struct hl_err *err)
{
	char path[1100], hex[GIT_OID_HEXSZ + 1];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	(void)snprintf(path, sizeof(path), "%s%02x", s->objects, fan);
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return hl_err_set(err, HL_EIO, "git cache: %s: %s", path,
		    strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!is_object_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		(void)snprintf(hex, 3, "%02x", fan & 0xffu);
		memcpy(hex + 2, de->d_name, GIT_OID_HEXSZ - 1);
		rc = scan_add(s, hex, (uint64_t)st.st_size, err);
	}
	closedir(d);
	return rc;
}

static int
scan(struct scan *s, git_repository *repo, struct hl_err *err)
{
	unsigned fan;
	int n, rc;

	memset(s, 0, sizeof(*s));
	n = snprintf(s->objects, sizeof(s->objects), "%sobjects/",
	    git_repository_path(repo));
	if (n < 0 || (size_t)n >= sizeof(s->objects))
		return hl_err_set(err, HL_EINVAL, "git cache: path too long");
	for (fan = 0; fan < 256; fan++)
		if ((rc = scan_dir(s, fan, err)) != 0)
			return rc;
	return 0;
}

int
hl_gitcache_loose(size_t *n, uint64_t *bytes, git_repository *repo,
    struct hl_err *err)
{
	struct scan s;
	int rc;

	rc = scan(&s, repo, err);
	*n = s.n;
	*bytes = s.bytes;
	free(s.v);
	return rc;
}

/* Leaves in s only the objects small enough to pack. */
static int
keep_small(struct scan *s, git_repository *repo, struct hl_err *err)
{
	git_object_t type;
	git_odb *odb = NULL;
	size_t i, k = 0, len;
	int rc;

	if ((rc = git_repository_odb(&odb, repo)) < 0)
		return git_fail(err, rc, "odb");
	s->bytes = 0;
	for (i = 0; i < s->n; i++) {
		if ((rc = git_odb_read_header(&len, &type, odb,
		    &s->v[i].id)) < 0) {
			git_odb_free(odb);
			return git_fail(err, rc, "object header");
		}
		if (len > HL_GITCACHE_OBJECT_MAX)
			continue;
		s->v[k++] = s->v[i];
		s->bytes += s->v[i].bytes;
	}
	s->n = k;
	git_odb_free(odb);
	return 0;
}

static int
sync_path(const char *path, int flags, struct hl_err *err)
{
	int fd, rc;

	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		return hl_err_set(err, HL_EIO, "git cache: %s: %s", path,
		    strerror(errno));
	rc = fsync(fd);
	close(fd);
	if (rc == -1)
		return hl_err_set(err, HL_EIO, "git cache: sync %s: %s", path,
		    strerror(errno));
	return 0;
}

/* Writes the objects of s into one pack and syncs it. */
static int
write_pack(struct scan *s, git_repository *repo, struct hl_err *err)
{
	git_packbuilder *pb = NULL;
	char dir[1100], path[1200];
	const char *ext[] = { "pack", "idx" };
	size_t i;
	int rc;

	(void)snprintf(dir, sizeof(dir), "%spack", s->objects);
	if ((rc = git_packbuilder_new(&pb, repo)) < 0)
		return git_fail(err, rc, "packbuilder");
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < s->n; i++)
		if ((rc = git_packbuilder_insert(pb, &s->v[i].id, NULL)) < 0) {
			rc = git_fail(err, rc, "pack insert");
			goto out;
		}
	if ((rc = git_packbuilder_write(pb, dir, 0, NULL, NULL)) < 0) {
		rc = git_fail(err, rc, "pack write");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		(void)snprintf(path, sizeof(path), "%s/pack-%s.%s", dir,
		    git_packbuilder_name(pb), ext[i]);
		if ((rc = sync_path(path, O_RDONLY, err)) != 0)
			goto out;
	}
	rc = sync_path(dir, O_RDONLY | O_DIRECTORY, err);
out:
	git_packbuilder_free(pb);
	return rc;
}

/* Deletes the loose copies of the objects of s, now in the pack. */
static void
unlink_loose(const struct scan *s)
{
	char hex[GIT_OID_HEXSZ + 1], path[1200];
	size_t i;
	unsigned fan;

	for (i = 0; i < s->n; i++) {
		git_oid_tostr(hex, sizeof(hex), &s->v[i].id);
		(void)snprintf(path, sizeof(path), "%s%.2s/%s", s->objects,
		    hex, hex + 2);
		(void)unlink(path);
	}
	for (fan = 0; fan < 256; fan++) {
		(void)snprintf(path, sizeof(path), "%s%02x", s->objects, fan);
		(void)rmdir(path);	/* only when empty */
	}
}

int
hl_gitcache_pack(size_t *packed, git_repository *repo, uint64_t min_bytes,
    struct hl_err *err)
{
	struct scan s;
	git_odb *odb = NULL;
	int rc;

	*packed = 0;
	if ((rc = scan(&s, repo, err)) != 0 ||
	    s.bytes < min_bytes || s.n == 0 ||
	    (rc = keep_small(&s, repo, err)) != 0 ||
	    s.bytes < min_bytes || s.n == 0 ||
	    (rc = write_pack(&s, repo, err)) != 0)
		goto out;
	unlink_loose(&s);
	if (git_repository_odb(&odb, repo) == 0) {
		(void)git_odb_refresh(odb);
		git_odb_free(odb);
	}
	*packed = s.n;
out:
	free(s.v);
	return rc;
}

int
hl_gitcache_repair(size_t *dropped, git_repository *repo, struct hl_err *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_odb *odb = NULL;
	const git_oid *id;
	int rc;

	*dropped = 0;
	if ((rc = git_repository_odb(&odb, repo)) < 0 ||
	    (rc = git_reference_iterator_new(&it, repo)) < 0) {
		git_odb_free(odb);
		return git_fail(err, rc, "refs");
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		id = git_reference_target(ref);	/* NULL: symbolic */
		if (id != NULL && !git_odb_exists(odb, id) &&
		    git_reference_delete(ref) == 0)
			(*dropped)++;
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	git_odb_free(odb);
	return rc == GIT_ITEROVER ? 0 : git_fail(err, rc, "refs");
}
