/*
 * pubcheck: temporary files and files that disagree with the manifest
 * (see pubcheck.h).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blob.h"
#include "buf.h"
#include "pubcheck.h"

#define MAX_DEPTH	8
#define MAX_FILE	(1024L * 1024 * 1024)

/* "NAME.tmp.PID.N" of a process that is gone: 1; else 0. */
static int
stale_tmp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	char *end;
	long pid;

	if (t == NULL)
		return 0;
	errno = 0;
	pid = strtol(t + 5, &end, 10);
	if (errno != 0 || end == t + 5 || *end != '.' || pid <= 0)
		return 0;
	if (strspn(end + 1, "0123456789") != strlen(end + 1) || end[1] == '\0')
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int
sweep(size_t *ntmp, const char *dir, int depth, struct hl_err *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if (depth > MAX_DEPTH || (d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) || lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			rc = sweep(ntmp, path, depth + 1, err);
		else if (S_ISREG(sb.st_mode) && stale_tmp(de->d_name)) {
			if (unlink(path) != 0)
				rc = hl_err_set(err, HL_EIO, "unlink %s: %s",
				    path, strerror(errno));
			else
				(*ntmp)++;
		}
	}
	closedir(d);
	return rc;
}

static int
read_file(struct hl_buf *b, const char *path)
{
	char chunk[65536];
	size_t n;
	FILE *f;

	hl_buf_reset(b);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (b->len + n > MAX_FILE || hl_buf_put(b, chunk, n) != 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

/* A relative path without "..", as the manifest must name. */
static int
safe_path(const char *p)
{
	return p != NULL && *p != '\0' && *p != '/' &&
	    strstr(p, "..") == NULL;
}

/*
 * One named file: path must hold bytes hashing to sha256.  Removes it
 * when it does not; counts it in *nbad.
 */
static int
check_one(size_t *nbad, struct hl_buf *b, const char *dir, const char *rel,
    const char *sha256, json_int_t bytes, struct hl_err *err)
{
	char path[PATH_MAX], got[65];

	if (!safe_path(rel) || sha256 == NULL)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path))
		return 0;
	if (read_file(b, path) == 0) {
		hl_digest(got, NULL, b->data ? b->data : "", b->len);
		if ((json_int_t)b->len == bytes && strcmp(got, sha256) == 0)
			return 0;
		if (unlink(path) != 0 && errno != ENOENT)
			return hl_err_set(err, HL_EIO, "unlink %s: %s", path,
			    strerror(errno));
	}
	(*nbad)++;
	return 0;
}

/* A file entry: {path, sha256, bytes, object, gz: {...}}. */
static int
check_entry(size_t *nbad, struct hl_buf *b, const char *dir, json_t *f,
    struct hl_err *err)
{
	const char *sha = json_string_value(json_object_get(f, "sha256"));
	json_int_t bytes = json_integer_value(json_object_get(f, "bytes"));
	json_t *gz;
	int rc;

	if ((rc = check_one(nbad, b, dir, json_string_value(
	    json_object_get(f, "path")), sha, bytes, err)) != 0 ||
	    (rc = check_one(nbad, b, dir, json_string_value(
	    json_object_get(f, "object")), sha, bytes, err)) != 0)
		return rc;
	if ((gz = json_object_get(f, "gz")) != NULL && json_is_object(gz))
		return check_entry(nbad, b, dir, gz, err);
	return 0;
}

int
hl_pubcheck_dir(size_t *ntmp, size_t *nbad, const char *dir,
    struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	char path[PATH_MAX];
	json_error_t je;
	json_t *m = NULL, *files, *f;
	size_t i;
	int rc;

	*ntmp = *nbad = 0;
	if ((rc = sweep(ntmp, dir, 0, err)) != 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >=
	    (int)sizeof(path))
		return hl_err_set(err, HL_EINVAL, "path too long: %s", dir);
	if (access(path, F_OK) != 0)
		return 0;
	if ((m = json_load_file(path, 0, &je)) == NULL) {
		/* An unreadable manifest: the next publish replaces it. */
		if (unlink(path) != 0)
			return hl_err_set(err, HL_EIO, "%s: %s", path,
			    je.text);
		(*nbad)++;
		return 0;
	}
	files = json_object_get(m, "files");
	json_array_foreach(files, i, f) {
		if ((rc = check_entry(nbad, &b, dir, f, err)) != 0)
			break;
	}
	json_decref(m);
	hl_buf_free(&b);
	return rc;
}

void
hl_pubcheck_forget(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    (int)sizeof(path))
		(void)unlink(path);
	if (snprintf(path, sizeof(path), "%s/%s.gz", dir, name) <
	    (int)sizeof(path))
		(void)unlink(path);
}
