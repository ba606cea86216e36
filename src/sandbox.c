/*
 * sandbox: the policy of `helios serve` (see sandbox.h).
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landlock.h"
#include "log.h"
#include "pub_git.h"
#include "sandbox.h"
#include "seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* What the libraries read: resolver, TLS roots, users, time zones. */
static const char *const sys_read[] = {
	"/etc/ssl", "/etc/pki", "/etc/ca-certificates",
	"/usr/share/ca-certificates", "/usr/local/share/ca-certificates",
	"/etc/resolv.conf", "/run/systemd/resolve", "/etc/hosts",
	"/etc/host.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
	"/etc/services", "/etc/protocols", "/etc/passwd", "/etc/group",
	"/etc/localtime", "/usr/share/zoneinfo", "/etc/gitconfig",
	"/dev/urandom", "/dev/random", "/proc/sys/kernel/ngroups_max",
	"/sys/devices/system/cpu",
};

/* Shared libraries, and the modules glibc loads late (NSS, gconv). */
static const char *const sys_exec[] = {
	"/usr/lib", "/lib", "/lib64", "/usr/lib64", "/usr/local/lib",
};

/* Copies the directory part of path into dir ("." for a bare name). */
static int
dir_of(char *dir, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return snprintf(dir, len, ".") >= (int)len ? -1 : 0;
	if (slash == path)
		return snprintf(dir, len, "/") >= (int)len ? -1 : 0;
	return snprintf(dir, len, "%.*s", (int)(slash - path), path) >=
	    (int)len ? -1 : 0;
}

/* mkdir -p, mode 0700 for what it makes; errors are left to the caller. */
static void
make_dirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return;
	for (p = buf + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0700);
			*p = '/';
		}
	(void)mkdir(buf, 0700);
}

static int
allow(struct hl_landlock *ll, const char *path, enum hl_landlock_access a,
    int optional, struct hl_err *err)
{
	if (path == NULL || *path == '\0')
		return 0;
	return hl_landlock_allow(ll, path, a, optional, err);
}

/* The directory holding file (config, key, corpus), read only. */
static int
allow_dir_of(struct hl_landlock *ll, const char *file, struct hl_err *err)
{
	char dir[PATH_MAX];

	if (file == NULL || *file == '\0')
		return 0;
	if (dir_of(dir, sizeof(dir), file) != 0)
		return hl_err_set(err, HL_EINVAL, "%s: path too long", file);
	return allow(ll, dir, HL_LANDLOCK_RO, 1, err);
}

/*
 * A target's local path: dir:PATH (or a bare path), git+file://PATH.  A
 * git repository that does not exist yet is made by the target in its
 * parent, which is allowed instead.
 */
static int
allow_target(struct hl_landlock *ll, const char *url, int *remote_git,
    struct hl_err *err)
{
	char parent[PATH_MAX];
	const char *path = NULL;
	struct stat sb;

	if (strncmp(url, "git+file://", 11) == 0)
		path = url + 11;
	else if (strncmp(url, "git+", 4) == 0) {
		*remote_git = 1;
		return 0;
	} else if (strncmp(url, "dir:", 4) == 0)
		path = url + 4;
	else if (strstr(url, "://") == NULL)
		path = url;
	if (path == NULL)
		return 0;
	if (strncmp(url, "git+", 4) != 0)
		make_dirs(path);
	if (stat(path, &sb) == 0)
		return allow(ll, path, HL_LANDLOCK_RW, 0, err);
	if (dir_of(parent, sizeof(parent), path) != 0)
		return hl_err_set(err, HL_EINVAL, "%s: path too long", path);
	return allow(ll, parent, HL_LANDLOCK_RW, 1, err);
}

/* The git cache of pub_git.c, made now so that a rule can name it. */
static int
allow_git_cache(struct hl_landlock *ll, struct hl_err *err)
{
	char dir[PATH_MAX];
	int rc;

	if ((rc = hl_pub_git_cache_dir(dir, sizeof(dir), err)) < 0)
		return rc;
	make_dirs(dir);
	return allow(ll, dir, HL_LANDLOCK_RW, 0, err);
}

/* git's per-user config files, which libgit2 reads when they exist. */
static int
allow_git_home(struct hl_landlock *ll, struct hl_err *err)
{
	char path[PATH_MAX];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	int rc = 0;

	if (home != NULL && *home != '\0') {
		if (snprintf(path, sizeof(path), "%s/.gitconfig", home) <
		    (int)sizeof(path))
			rc = allow(ll, path, HL_LANDLOCK_RO, 1, err);
		if (rc == 0 && snprintf(path, sizeof(path),
		    "%s/.config/git", home) < (int)sizeof(path))
			rc = allow(ll, path, HL_LANDLOCK_RO, 1, err);
	}
	if (rc == 0 && xdg != NULL && *xdg != '\0' && snprintf(path,
	    sizeof(path), "%s/git", xdg) < (int)sizeof(path))
		rc = allow(ll, path, HL_LANDLOCK_RO, 1, err);
	return rc;
}

static int
rules(struct hl_landlock *ll, const struct hl_sandbox_opts *o,
    struct hl_err *err)
{
	static const char *const cred_env[] = { "HELIOS_GIT_CREDENTIALS",
	    "HELIOS_S3_CREDENTIALS", "HELIOS_GIT_SSH_KEY", "CURL_CA_BUNDLE",
	    "SSL_CERT_FILE" };
	const struct hl_config *c = o->cfg;
	char dir[PATH_MAX];
	size_t i;
	int rc = 0, k, remote_git = 0;

	for (i = 0; rc == 0 && i < sizeof(sys_read) / sizeof(*sys_read); i++)
		rc = allow(ll, sys_read[i], HL_LANDLOCK_RO, 1, err);
	for (i = 0; rc == 0 && i < sizeof(sys_exec) / sizeof(*sys_exec); i++)
		rc = allow(ll, sys_exec[i], HL_LANDLOCK_RX, 1, err);
	if (rc == 0)
		rc = allow(ll, "/dev/null", HL_LANDLOCK_RW, 1, err);
	if (rc == 0 && dir_of(dir, sizeof(dir), c->db) != 0)
		rc = hl_err_set(err, HL_EINVAL, "%s: path too long", c->db);
	if (rc == 0)
		rc = allow(ll, dir, HL_LANDLOCK_RW, 0, err);
	if (rc == 0)
		rc = allow(ll, c->public_dir, HL_LANDLOCK_RW, 0, err);
	for (k = 0; rc == 0 && k < c->ntargets; k++)
		rc = allow_target(ll, c->targets[k], &remote_git, err);
	if (rc == 0 && remote_git)
		rc = allow_git_cache(ll, err);
	if (rc == 0)
		rc = allow_git_home(ll, err);
	if (rc == 0)
		rc = allow(ll, c->site_dir, HL_LANDLOCK_RO, 1, err);
	/* The API reference the site builds: site/../schema/openapi.json. */
	if (rc == 0 && c->site_dir != NULL && snprintf(dir, sizeof(dir),
	    "%s/../schema/openapi.json", c->site_dir) < (int)sizeof(dir))
		rc = allow(ll, dir, HL_LANDLOCK_RO, 1, err);
	if (rc == 0 && c->site_dir != NULL && snprintf(dir, sizeof(dir),
	    "%s/../openapi.json", c->site_dir) < (int)sizeof(dir))
		rc = allow(ll, dir, HL_LANDLOCK_RO, 1, err);
	for (k = 0; rc == 0 && k < o->nconfig_files; k++)
		rc = allow_dir_of(ll, o->config_files[k], err);
	if (rc == 0)
		rc = allow_dir_of(ll, c->signing_key, err);
	if (rc == 0)
		rc = allow_dir_of(ll, c->ham_corpus, err);
	for (i = 0; rc == 0 && i < sizeof(cred_env) / sizeof(*cred_env); i++)
		rc = allow_dir_of(ll, getenv(cred_env[i]), err);
	if (rc == 0 && o->port != 0)
		hl_landlock_bind_port(ll, o->port);
	return rc;
}

int
hl_sandbox_apply(const struct hl_sandbox_opts *o, struct hl_err *err)
{
	struct hl_landlock *ll = NULL;
	struct hl_err e = HL_ERR_INIT;
	int mode = o->cfg->sandbox, abi = 0, rc;
	const char *landlock = "off", *filter = "off";

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return hl_err_set(err, HL_EIO, "no_new_privs: %s",
		    strerror(errno));
	if (mode == HL_SANDBOX_OFF || (mode == HL_SANDBOX_AUTO && SANITIZED)) {
		hl_log_info("sandbox %s: no_new_privs only", mode ==
		    HL_SANDBOX_OFF ? "off" : "auto in a sanitizer build");
		return 0;
	}
	if ((rc = hl_landlock_new(&ll, &e)) == HL_ENOTFOUND &&
	    mode == HL_SANDBOX_AUTO) {
		hl_log_warnx("sandbox: %s; serving without file system"
		    " confinement (sandbox = strict refuses this)", e.msg);
	} else if (rc != 0) {
		return hl_err_set(err, rc, "sandbox: %s", e.msg);
	} else {
		/* SQLite opens no temporary file: temp_store = MEMORY. */
		if ((rc = rules(ll, o, &e)) != 0 ||
		    (rc = hl_landlock_apply(ll, &e)) != 0) {
			hl_landlock_free(ll);
			return hl_err_set(err, rc, "sandbox: %s", e.msg);
		}
		abi = hl_landlock_abi();
		hl_landlock_free(ll);
		landlock = "on";
	}
	if ((rc = hl_seccomp_apply(&e)) == 0)
		filter = "on";
	else if (mode == HL_SANDBOX_STRICT)
		return hl_err_set(err, rc, "sandbox: %s", e.msg);
	else
		hl_log_warnx("sandbox: %s; serving without the syscall"
		    " filter (sandbox = strict refuses this)", e.msg);
	if (abi > 0)
		hl_log_info("sandbox: Landlock %s (ABI %d), syscall filter %s",
		    landlock, abi, filter);
	else
		hl_log_info("sandbox: Landlock %s, syscall filter %s",
		    landlock, filter);
	return 0;
}
