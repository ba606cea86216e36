/*
 * main: the helios command and its subcommands.
 *
 * Each subcommand parses its own options and may exit early with err(3)
 * style messages; everything past option parsing is in the library, which
 * returns errors instead of printing them.  usage() mirrors the SYNOPSIS of
 * helios.1; keep the two in step.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth.h"
#include "checks.h"
#include "client.h"
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "publisher.h"
#include "reload.h"
#include "review.h"
#include "sandbox.h"
#include "spool.h"
#include "pubcheck.h"
#include "static.h"
#include "store.h"
#include "textfmt.h"
#include "validate.h"
#include "webhook.h"

static const char synopsis[] =
"usage: helios serve [--config FILE] [--listen ADDR:PORT] [--db PATH]\n"
"                    [--profile dev|prod] [--public DIR] [--target URL]...\n"
"                    [--admin-token-file FILE] [--user NAME] [-dv]\n"
"       helios check-config FILE\n"
"       helios migrate [--db PATH]\n"
"       helios token create NAME [--scope SCOPES] [--lists PATTERNS]\n"
"                          [--expires DURATION] [--db PATH]\n"
"       helios token list [--db PATH]\n"
"       helios token revoke ID [--db PATH]\n"
"       helios publish [--config FILE] [--db PATH] [--target URL]...\n"
"       helios verify [--key PUBKEY] [--max-size BYTES] [--chain N]\n"
"                     DIR|URL\n"
"       helios import [--db PATH] [--mirror [--dry-run] [--confirm REASON]]\n"
"                     [--strict] [--list ID FILE]... [FILE|DIR]...\n"
"       helios import --git PATH [--rev REV] [--history | --sync]\n"
"                     [--alias FILE=LIST:FORMAT]... [--dry-run] [--db PATH]\n"
"       helios export [--db PATH] DIR\n"
"       helios backup [--db PATH] FILE\n"
"       helios key generate FILE\n"
"       helios key rotate --config FILE [--overlap DURATION]\n"
"       helios key retire --config FILE [--force]\n"
"       helios key status --config FILE\n"
"       helios pull [--watch] [--key PUBKEY] [--state FILE]\n"
"                   [--interval SECS] [--full] [--force] [--max-size BYTES]\n"
"                   [--stats] [-q] URL DIR\n"
"       helios history ID [--at VERSION|DATE] --repo PATH|URL [--branch B]\n"
"       helios history ID [--at VERSION|DATE] --db PATH [--json]\n"
"       helios restore --from-dir PATH | --from-url URL | --from-s3 URL |\n"
"                      --from-git PATH|URL [--branch B]\n"
"                      [--key KEYRING] [--force] [--db PATH]\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(synopsis, status ? stderr : stdout);
	exit(status);
}

/* Options shared by the store-using subcommands. */
enum {
	OPT_CONFIG = 256, OPT_LISTEN, OPT_DB, OPT_PROFILE, OPT_PUBLIC,
	OPT_TARGET, OPT_ADMIN_FILE, OPT_SCOPE, OPT_LIST, OPT_LISTS,
	OPT_EXPIRES, OPT_MIRROR, OPT_DRY_RUN, OPT_STRICT, OPT_CONFIRM, OPT_USER,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "db", required_argument, NULL, OPT_DB },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "public", required_argument, NULL, OPT_PUBLIC },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "admin-token-file", required_argument, NULL, OPT_ADMIN_FILE },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "mirror", no_argument, NULL, OPT_MIRROR },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "lists", required_argument, NULL, OPT_LISTS },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "confirm", required_argument, NULL, OPT_CONFIRM },
	{ "user", required_argument, NULL, OPT_USER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	struct hl_config	 cfg;
	int			 debug;
	int			 verbose;
	char			*scope;
	char			*token_lists;	/* token create --lists */
	char			*expires;	/* token create --expires */
	int			 mirror;	/* import --mirror */
	char			*confirm;	/* import --confirm REASON */
	char			*lists[64];	/* --list ID FILE pairs */
	char			*list_files[64];
	int			 nlists;
	int			 dry_run;
	int			 strict;
	/* What made cfg, for a reload (reload.h): files, then options. */
	const char		*config_files[8];
	int			 nconfig_files;
	const char		*set_key[16];
	const char		*set_value[16];
	int			 nset;
};

static void
cfg_set(struct opts *o, const char *key, const char *v)
{
	struct hl_err e = HL_ERR_INIT;

	if (hl_config_set(&o->cfg, key, v, &e) != 0)
		errx(1, "%s", e.msg);
	if (o->nset < 16) {
		o->set_key[o->nset] = key;
		o->set_value[o->nset++] = v;
	}
}

/*
 * Parses the options of a subcommand.  --config is applied first, so the
 * command line overrides the file.  Returns the index of the first operand.
 * Options may follow operands, unless optstring starts with '+' (import,
 * whose --list takes two arguments).
 */
static int
parse_opts_mode(struct opts *o, int argc, char **argv, const char *optstring)
{
	struct hl_err e = HL_ERR_INIT;
	int c, i;

	memset(o, 0, sizeof(*o));
	if (hl_config_defaults(&o->cfg) != 0)
		errx(1, "out of memory");
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--config") != 0)
			continue;
		if (hl_config_load(&o->cfg, argv[i + 1], &e) != 0)
			errx(1, "%s", e.msg);
		if (o->nconfig_files < 8)
			o->config_files[o->nconfig_files++] = argv[i + 1];
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, long_opts,
	    NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			break;
		case OPT_LISTEN: cfg_set(o, "listen", optarg); break;
		case OPT_DB: cfg_set(o, "db", optarg); break;
		case OPT_PROFILE: cfg_set(o, "profile", optarg); break;
		case OPT_PUBLIC: cfg_set(o, "public", optarg); break;
		case OPT_TARGET: cfg_set(o, "target", optarg); break;
		case OPT_ADMIN_FILE:
			cfg_set(o, "admin_token_file", optarg);
			break;
		case OPT_USER: cfg_set(o, "user", optarg); break;
		case OPT_SCOPE:
			o->scope = optarg;
			break;
		case OPT_LISTS:
			o->token_lists = optarg;
			break;
		case OPT_EXPIRES:
			o->expires = optarg;
			break;
		case OPT_CONFIRM:
			o->confirm = optarg;
			break;
		case OPT_LIST:
			if (optind >= argc || o->nlists == 64)
				usage(1);
			o->lists[o->nlists] = optarg;
			o->list_files[o->nlists++] = argv[optind++];
			break;
		case OPT_MIRROR:
			o->mirror = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_STRICT:
			o->strict = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	return optind;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	return parse_opts_mode(o, argc, argv, "dhv");
}

/* Creates the directory that will hold path (as `mkdir -p dirname`). */
static void
make_parent(const char *path)
{
	char buf[PATH_MAX], *p;

	if (strcmp(path, ":memory:") == 0 ||
	    snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return;
	if ((p = strrchr(buf, '/')) == NULL || p == buf)
		return;
	*p = '\0';
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0755);
			*p = '/';
		}
	(void)mkdir(buf, 0755);
}

static struct hl_store *
open_store(const char *path)
{
	struct hl_store *st;
	struct hl_err e = HL_ERR_INIT;

	make_parent(path);
	if (hl_store_open(&st, path, &e) != 0)
		errx(1, "%s", e.msg);
	return st;
}

/* Mints a token; prints nothing.  The secret goes to secret (65 bytes). */
static int64_t
mint(struct hl_store *st, const char *name, unsigned scopes,
    const char *lists, int64_t expires_at, const char *by, char secret[65])
{
	unsigned char hash[32];
	struct hl_token t;
	struct hl_err e = HL_ERR_INIT;
	int64_t id;

	if (hl_auth_token_new(secret, &e) != 0)
		errx(1, "%s", e.msg);
	hl_auth_token_hash(hash, secret);
	if (hl_store_token_add_limited(&t, st, name, hash, scopes, lists,
	    expires_at, by, &e) != 0)
		errx(1, "%s", e.msg);
	id = t.id;
	hl_token_clear(&t);
	return id;
}

/*
 * Writes the secret to file, 0600, through a temporary name, fsync and
 * rename, then fsyncs the directory: once this returns the file is there
 * whole, or it was never there.
 */
static void
write_secret(const char *file, const char *secret)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd;

	make_parent(file);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir))
		errx(1, "%s: path too long", file);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, secret, 64) != 64 || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, file) != 0)
		err(1, "%s", file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Whether the database needs a first admin token: it has no valid admin
 * token, or the token file is missing and every valid admin token is one
 * that `helios serve` made and no one ever used (a start killed between
 * its commit and its file, by an older version).  Those are revoked: no
 * one holds their secret.
 */
static int
needs_admin(struct hl_store *st, const char *file)
{
	struct hl_token *v = NULL;
	struct hl_err e = HL_ERR_INIT;
	size_t n = 0, i;
	int orphans = 1;

	if (hl_store_admin_count(st) == 0)
		return 1;
	if (access(file, F_OK) == 0)
		return 0;
	if (hl_store_tokens(&v, &n, st, &e) != 0)
		errx(1, "%s", e.msg);
	for (i = 0; i < n; i++)
		if (v[i].revoked_at == 0 && (v[i].scopes & HL_SCOPE_ADMIN) &&
		    (v[i].last_used_at != 0 || v[i].created_by == NULL ||
		    strcmp(v[i].created_by, "helios serve") != 0))
			orphans = 0;
	for (i = 0; orphans && i < n; i++)
		if (v[i].revoked_at == 0 && (v[i].scopes & HL_SCOPE_ADMIN)) {
			hl_log_warnx("admin token %lld was never written to"
			    " %s nor used: revoked", (long long)v[i].id, file);
			if (hl_store_token_revoke(st, v[i].id, &e) != 0)
				errx(1, "%s", e.msg);
		}
	hl_tokens_free(v, n);
	return orphans;
}

/*
 * On a database without a usable admin token, makes one, prints it once
 * and writes it to file, readable by its owner only.  The file is written
 * (and made durable) before the token is committed, so a crash between
 * the two leaves a file whose token is not valid yet, and the next start
 * makes another; never a valid token that no file holds.
 */
static void
first_admin(struct hl_store *st, const char *file)
{
	unsigned char hash[32];
	struct hl_token t;
	struct hl_err e = HL_ERR_INIT;
	char secret[65];

	if (!needs_admin(st, file))
		return;
	if (hl_auth_token_new(secret, &e) != 0)
		errx(1, "%s", e.msg);
	write_secret(file, secret);
	hl_auth_token_hash(hash, secret);
	if (hl_store_token_add(&t, st, "admin", hash, HL_SCOPE_ADMIN |
	    HL_SCOPE_WRITE | HL_SCOPE_APPROVE, "helios serve", &e) != 0)
		errx(1, "%s", e.msg);
	hl_token_clear(&t);
	printf("helios: created the first admin token; it is shown once and"
	    " kept in %s (mode 0600):\n%s\n", file, secret);
	fflush(stdout);
	explicit_bzero(secret, sizeof(secret));
}

/*
 * The publisher is started after the listener (see cmd_serve), so the
 * request threads may run before it exists: they read it atomically and
 * a NULL publisher ignores them.
 */
struct serve_ctx {
	_Atomic(struct hl_publisher *)	pub;
	struct hl_webhook		*webhook;	/* set before serving */
};

static void
on_change(int64_t version, void *payload)
{
	struct serve_ctx *c = payload;

	hl_publisher_notify(atomic_load(&c->pub), version);
}

static void
on_health(json_t *obj, void *payload)
{
	struct serve_ctx *c = payload;

	hl_publisher_health(atomic_load(&c->pub), obj);
	hl_webhook_health(c->webhook, obj);
}

/*
 * Each target's public URL and purge, in the order of all_targets: the
 * public directory is "public" in the config, the others their URL.
 */
static void
watch_targets(struct hl_publisher_watch *out, const struct hl_config *c)
{
	const struct hl_config_watch *cw;
	size_t n = 0;
	int i;

	if (c->public_dir != NULL && *c->public_dir != '\0') {
		cw = hl_config_watch_for(c, "public");
		out[n].public_url = cw ? cw->public_url : NULL;
		out[n].purge_method = cw ? cw->purge_method : NULL;
		out[n++].purge_url = cw ? cw->purge_url : NULL;
	}
	for (i = 0; i < c->ntargets; i++) {
		cw = hl_config_watch_for(c, c->targets[i]);
		out[n].public_url = cw ? cw->public_url : NULL;
		out[n].purge_method = cw ? cw->purge_method : NULL;
		out[n++].purge_url = cw ? cw->purge_url : NULL;
	}
}

/*
 * The webhooks of the config (NULL when there are none), keyed with the
 * secret read before the privilege drop (which is wiped here).
 */
static int
start_webhooks(struct hl_webhook **out, const struct hl_config *c,
    unsigned char *secret, size_t len, struct hl_err *err)
{
	struct hl_webhook_opts wo;
	int rc;

	*out = NULL;
	if (c->nwebhooks == 0)
		return 0;
	memset(&wo, 0, sizeof(wo));
	wo.urls = (const char *const *)c->webhooks;
	wo.nurls = (size_t)c->nwebhooks;
	wo.secret = secret;
	wo.secret_len = len;
	rc = hl_webhook_start(out, &wo, err);
	explicit_bzero(secret, len);
	return rc;
}

/* The publisher's word to the static server of the public directory. */
static void
static_publishing(void *payload, int begin)
{
	hl_static_publishing(payload, begin);
}

/* Every target: the public directory first, then the configured ones. */
static size_t
all_targets(const char **out, char *dirbuf, size_t dirlen,
    const struct hl_config *c)
{
	size_t n = 0;
	int i;

	if (c->public_dir != NULL && *c->public_dir != '\0') {
		snprintf(dirbuf, dirlen, "dir:%s", c->public_dir);
		out[n++] = dirbuf;
	}
	for (i = 0; i < c->ntargets; i++)
		out[n++] = c->targets[i];
	return n;
}

/*
 * The git targets take their author from the environment (pub_git.h);
 * the config file's settings go there, the environment's own win.
 */
static void
git_author(const struct hl_config *c)
{
	if (c->git_author_name != NULL)
		setenv("HELIOS_GIT_AUTHOR_NAME", c->git_author_name, 0);
	if (c->git_author_email != NULL)
		setenv("HELIOS_GIT_AUTHOR_EMAIL", c->git_author_email, 0);
}

static void
snap_opts(struct hl_snap_opts *s, const struct hl_config *c)
{
	git_author(c);
	struct hl_snap_opts init = HL_SNAP_OPTS_INIT;
	/* The spool of big lists beside the database: the sandbox lets
	   the daemon write there, and pub_dir links from it. */
	static char spool[PATH_MAX];
	const char *slash = c->db != NULL ? strrchr(c->db, '/') : NULL;

	*s = init;
	if (c->db != NULL && snprintf(spool, sizeof(spool), "%.*s",
	    slash == NULL ? 1 : slash == c->db ? 1 : (int)(slash - c->db),
	    slash == NULL ? "." : c->db) < (int)sizeof(spool))
		s->spool_dir = spool;
	s->manifest_ttl = c->manifest_ttl;
	s->poll_interval = c->poll_interval;
	s->site_dir = c->site_dir;
	s->signing_key = c->signing_key;
	s->no_notifications = c->notifications_private;
}

/*
 * Before serving: the public directory's stale temporary files go, and
 * files that disagree with its manifest are written again (po->targets[0]
 * is that directory, see all_targets).
 */
static void
repair_public(const struct hl_config *c, const struct hl_publisher_opts *po)
{
	struct hl_publisher_opts one = *po;
	struct hl_err e = HL_ERR_INIT;
	size_t ntmp, nbad;

	if (c->public_dir == NULL || *c->public_dir == '\0')
		return;
	if (c->notifications_private)
		hl_pubcheck_forget(c->public_dir, "notifications.json");
	if (hl_pubcheck_dir(&ntmp, &nbad, c->public_dir, &e) != 0)
		hl_fatalx("%s", e.msg);
	if (ntmp > 0)
		hl_log_info("%s: removed %zu stale temporary file(s)",
		    c->public_dir, ntmp);
	if (nbad == 0)
		return;
	hl_log_warnx("%s: %zu file(s) disagree with the manifest;"
	    " publishing again before serving", c->public_dir, nbad);
	one.ntargets = 1;
	if (hl_publish_once(&one, &e) != 0)
		hl_log_warnx("%s: %s", c->public_dir, e.msg);
}

/*
 * The spools beside the database that a crash left (spool.h): a live one
 * (a `helios publish` running) is kept.
 */
static void
sweep_spools(const struct hl_snap_opts *so)
{
	struct hl_err e = HL_ERR_INIT;
	size_t n;

	if (so->spool_dir == NULL)
		return;
	if (hl_spool_sweep(&n, so->spool_dir, &e) != 0)
		hl_log_warnx("%s", e.msg);
	else if (n > 0)
		hl_log_info("%s: removed %zu stale spool director%s",
		    so->spool_dir, n, n == 1 ? "y" : "ies");
}

static uid_t own_uid;
static gid_t own_gid;

static int
own_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (sb->st_uid == 0)
		(void)lchown(path, own_uid, own_gid);
	return 0;
}

/*
 * What root made before the drop (the database and its -wal and -shm, the
 * token file, the public tree) is given to the user, so that it can go on
 * writing them.  This must run before any thread of ours writes as root
 * again: the publisher's workers only write on a change or a retry.
 */
static void
own_state(const struct hl_config *c, const struct passwd *pw)
{
	static const char *const side[] = { "", "-wal", "-shm" };
	char path[PATH_MAX];
	size_t i;

	own_uid = pw->pw_uid;
	own_gid = pw->pw_gid;
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++)
		if (snprintf(path, sizeof(path), "%s%s", c->db, side[i]) <
		    (int)sizeof(path))
			(void)chown(path, pw->pw_uid, pw->pw_gid);
	(void)chown(c->admin_token_file, pw->pw_uid, pw->pw_gid);
	if (c->public_dir != NULL && *c->public_dir != '\0')
		(void)nftw(c->public_dir, own_one, 16, FTW_PHYS);
}

/*
 * Runs as c->user from now on (after the port is bound), in every thread
 * (glibc applies set*id to all threads).
 */
static void
drop_privileges(const struct hl_config *c)
{
	const char *user = c->user;
	struct passwd *pw;

	if (user == NULL || *user == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		hl_fatalx("user %s: no such user", user);
	own_state(c, pw);
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		hl_fatal("cannot drop privileges to %s", user);
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		hl_fatalx("still root after dropping privileges");
	hl_log_info("running as %s (uid %lu)", user,
	    (unsigned long)pw->pw_uid);
}

/* The connection limits and rate limits of the config (http.h). */
static void
serve_limits(struct hl_http_opts *ho, const struct hl_config *c)
{
	ho->max_conns = (unsigned)c->max_conns;
	ho->max_conns_per_ip = (unsigned)c->max_conns_per_ip;
	ho->conn_reserve = (unsigned)c->conn_reserve;
	ho->header_timeout = (unsigned)c->header_timeout;
	ho->body_timeout = (unsigned)c->body_timeout;
	ho->idle_timeout = (unsigned)c->idle_timeout;
	ho->rate_read = (double)c->rate_read;
	ho->rate_read_burst = (double)c->rate_read_burst;
	ho->rate_write = (double)c->rate_write / 60.0;
	ho->rate_write_burst = (double)c->rate_write_burst;
	ho->rate_exempt = c->rate_exempt;
	ho->access_log_json = c->access_log_json;
	ho->access_log_sample = (unsigned)c->access_log_sample;
}

/* Each list's policy, from the config's review_lists. */
static void
set_policies(struct hl_store *st, const struct hl_config *c)
{
	struct hl_list *v = NULL;
	struct hl_err e = HL_ERR_INIT;
	size_t n = 0, i;
	int policy;

	if (hl_store_lists(&v, &n, st, &e) != 0)
		hl_fatalx("%s", e.msg);
	for (i = 0; i < n; i++) {
		policy = hl_config_list_match(c->review_lists, v[i].id) ?
		    HL_POLICY_REVIEW : HL_POLICY_DIRECT;
		if (policy != v[i].policy &&
		    hl_store_list_policy_set(st, v[i].id, policy, &e) != 0)
			hl_fatalx("%s", e.msg);
	}
	hl_lists_free(v, n);
}

/* SIGHUP: reads the config again; see reload.h. */
static void
reload(struct opts *o, struct hl_http *http, struct hl_publisher *pub)
{
	struct hl_config next;
	struct hl_http_opts ho = HL_HTTP_OPTS_INIT;
	struct hl_err e = HL_ERR_INIT;
	char restart[512];
	int i, rc = 0;

	if (o->nconfig_files == 0) {
		hl_log_info("SIGHUP: started without --config: nothing to"
		    " reload");
		return;
	}
	if (hl_config_defaults(&next) != 0)
		rc = hl_err_set(&e, HL_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < o->nconfig_files; i++)
		rc = hl_config_load(&next, o->config_files[i], &e);
	for (i = 0; rc == 0 && i < o->nset; i++)
		rc = hl_config_set(&next, o->set_key[i], o->set_value[i], &e);
	if (rc == 0)
		rc = hl_config_check(&next, &e);
	if (rc == 0) {
		serve_limits(&ho, &next);
		rc = hl_http_reload(http, &ho, &e);
	}
	if (rc != 0) {
		hl_log_warnx("SIGHUP: config refused, the old one stays: %s",
		    e.msg);
		hl_config_free(&next);
		return;
	}
	hl_reload_restart_keys(restart, sizeof(restart), &o->cfg, &next);
	hl_reload_take(&o->cfg, &next);
	hl_config_free(&next);
	hl_log_set_level(o->verbose ? HL_LOG_DEBUG : o->cfg.log_level);
	hl_publisher_set_stale_after(pub, o->cfg.stale_after);
	if (restart[0] != '\0')
		hl_log_warnx("SIGHUP: %s changed: needs a restart (left as"
		    " it was)", restart);
	hl_log_info("SIGHUP: config reloaded from %s%s", o->config_files[0],
	    o->nconfig_files > 1 ? " and others" : "");
}

static int
cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_static *site = NULL;
	struct hl_http *http = NULL;
	struct hl_http_opts ho = HL_HTTP_OPTS_INIT;
	struct hl_publisher_opts po;
	struct hl_publisher_watch watch[HL_CONFIG_MAX_TARGETS + 1];
	unsigned char secret[HL_WEBHOOK_SECRET_MAX];
	size_t secret_len = 0;
	struct hl_publisher *pub = NULL;
	struct serve_ctx ctx;
	struct hl_review_opts review = { .checks = NULL };
	struct hl_sandbox_opts so;
	struct hl_err e = HL_ERR_INIT;
	const char *targets[HL_CONFIG_MAX_TARGETS + 1];
	char dirbuf[PATH_MAX + 8];
	sigset_t set;
	int sig;

	if (parse_opts(&o, argc, argv) != argc)
		usage(1);
	if (hl_config_check(&o.cfg, &e) != 0)
		errx(1, "%s", e.msg);
	hl_log_init(o.debug || isatty(STDERR_FILENO), o.verbose);
	hl_log_set_level(o.verbose ? HL_LOG_DEBUG : o.cfg.log_level);
	/* Threads inherit this mask; the main thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	st = open_store(o.cfg.db);
	first_admin(st, o.cfg.admin_token_file);
	set_policies(st, &o.cfg);
	if (hl_checks_new(&review.checks, o.cfg.ham_corpus, &e) != 0)
		hl_fatalx("%s", e.msg);
	review.self_approve = o.cfg.self_approve;
	review.full_on_write = o.cfg.full_checks;
	atomic_init(&ctx.pub, NULL);
	ctx.webhook = NULL;

	/*
	 * Start-up order: everything that can fail (the public tree, the
	 * listener) comes before the first thread that outlives it, and a
	 * failure after a thread has started stops it before exiting: an
	 * exit under running threads runs the libraries' cleanup beneath
	 * them.  The publisher goes last; the listener's threads see it
	 * through ctx.
	 */
	if (o.cfg.public_dir != NULL && *o.cfg.public_dir != '\0') {
		/* Made here, not by the publisher's target: it starts later. */
		if (snprintf(dirbuf, sizeof(dirbuf), "%s/.", o.cfg.public_dir)
		    >= (int)sizeof(dirbuf))
			hl_fatalx("public directory name too long");
		make_parent(dirbuf);
		if (hl_static_new(&site, o.cfg.public_dir, &e) != 0)
			hl_fatalx("%s", e.msg);
	}
	ho.listen = o.cfg.listen;
	ho.store = st;
	ho.site = site;
	ho.dev_profile = strcmp(o.cfg.profile, "dev") == 0;
	ho.threads = (unsigned)o.cfg.threads;
	ho.on_change = on_change;
	ho.health = on_health;
	ho.payload = &ctx;
	ho.review = &review;
	ho.notifications_private = o.cfg.notifications_private;
	serve_limits(&ho, &o.cfg);

	memset(&po, 0, sizeof(po));
	po.db = o.cfg.db;
	po.targets = targets;
	po.ntargets = all_targets(targets, dirbuf, sizeof(dirbuf), &o.cfg);
	snap_opts(&po.snap, &o.cfg);
	po.stale_after = o.cfg.stale_after;
	sweep_spools(&po.snap);
	/* Before serving and before any thread: a torn tree is mended. */
	repair_public(&o.cfg, &po);
	memset(watch, 0, sizeof(watch));
	watch_targets(watch, &o.cfg);
	po.watch = watch;
	po.check_interval = o.cfg.public_check_interval;
	/* Read while still root: the file may be the owner's alone. */
	if (o.cfg.nwebhooks > 0 && hl_webhook_secret(secret, &secret_len,
	    o.cfg.webhook_secret, &e) != 0)
		hl_fatalx("%s", e.msg);

	if (hl_http_bind(&http, &ho, &e) != 0)
		hl_fatalx("%s", e.msg);
	/* Bound: from here on as the configured user, publisher included. */
	drop_privileges(&o.cfg);
	/* Confined before the first thread, which inherits it (sandbox.h). */
	so.cfg = &o.cfg;
	so.config_files = o.config_files;
	so.nconfig_files = o.nconfig_files;
	so.port = (unsigned)hl_http_port(http);
	if (hl_sandbox_apply(&so, &e) != 0 || hl_static_start(site,
	    &e) != 0 || hl_http_run(http, &e) != 0) {
		hl_http_stop(http);
		hl_fatalx("%s", e.msg);
	}
	if (start_webhooks(&ctx.webhook, &o.cfg, secret, secret_len,
	    &e) != 0) {
		hl_http_stop(http);
		hl_fatalx("webhook: %s", e.msg);
	}
	po.webhook = ctx.webhook;
	/* targets[0] is the directory site serves (all_targets). */
	if (site != NULL) {
		po.publishing = static_publishing;
		po.publishing_payload = site;
	}
	if (hl_publisher_start(&pub, &po, &e) != 0) {
		hl_http_stop(http);
		hl_webhook_stop(ctx.webhook);
		hl_fatalx("publisher: %s", e.msg);
	}
	atomic_store(&ctx.pub, pub);
	/* A change acknowledged before the store above was not notified. */
	hl_publisher_notify(pub, hl_store_version(st));
	hl_log_info("helios serving http://%s/ (api and public tree), db %s,"
	    " profile %s, %zu target(s)", o.cfg.listen, o.cfg.db,
	    o.cfg.profile, po.ntargets);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload(&o, http, pub);
	}
	hl_log_info("signal %d: shutting down", sig);
	hl_http_stop(http);
	atomic_store(&ctx.pub, NULL);
	hl_publisher_stop(pub);
	hl_webhook_stop(ctx.webhook);
	hl_static_free(site);
	hl_checks_free(review.checks);
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static int
cmd_check_config(int argc, char **argv)
{
	struct hl_config c;
	struct hl_err e = HL_ERR_INIT;

	if (argc != 2)
		usage(1);
	if (hl_config_defaults(&c) != 0)
		errx(1, "out of memory");
	if (hl_config_load(&c, argv[1], &e) != 0 ||
	    hl_config_check(&c, &e) != 0)
		errx(1, "%s", e.msg);
	printf("%s: ok\n", argv[1]);
	hl_config_free(&c);
	return 0;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;

	if (parse_opts(&o, argc, argv) != argc)
		usage(1);
	st = open_store(o.cfg.db);
	printf("%s: schema up to date, version %lld\n", o.cfg.db,
	    (long long)hl_store_version(st));
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static int
cmd_token(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_token *v = NULL;
	struct hl_err e = HL_ERR_INIT;
	char secret[65], sc[64], *end;
	unsigned scopes = HL_SCOPE_WRITE;
	int64_t ttl = 0;
	size_t n = 0, i;
	long long id;
	int ind;

	if (argc < 2)
		usage(1);
	ind = parse_opts(&o, argc - 1, argv + 1) + 1;
	if (strcmp(argv[1], "create") == 0 && ind == argc - 1) {
		if (o.scope && (hl_scopes_parse(&scopes, o.scope) != 0 ||
		    scopes == 0))
			errx(1, "--scope: want a list of admin, write,"
			    " approve, propose");
		if (o.expires && hl_review_duration(&ttl, o.expires) != 0)
			errx(1, "--expires: want a duration such as 90d, 12h,"
			    " 30m or 3600 (seconds), not %s", o.expires);
		if (o.token_lists && *o.token_lists == '\0')
			errx(1, "--lists: want list ids or patterns");
		st = open_store(o.cfg.db);
		id = mint(st, argv[ind], scopes, o.token_lists,
		    ttl ? (int64_t)time(NULL) + ttl : 0,
		    "helios token create", secret);
		hl_scopes_format(sc, sizeof(sc), scopes);
		printf("token %lld (%s, %s%s%s), shown once:\n%s\n", id,
		    argv[ind], sc, o.token_lists ? ", lists " : "",
		    o.token_lists ? o.token_lists : "", secret);
		explicit_bzero(secret, sizeof(secret));
	} else if (strcmp(argv[1], "list") == 0 && ind == argc) {
		st = open_store(o.cfg.db);
		if (hl_store_tokens(&v, &n, st, &e) != 0)
			errx(1, "%s", e.msg);
		printf("%-6s %-24s %-20s %s\n", "ID", "NAME", "SCOPES",
		    "STATE");
		for (i = 0; i < n; i++) {
			hl_scopes_format(sc, sizeof(sc), v[i].scopes);
			printf("%-6lld %-24s %-20s %s%s%s\n",
			    (long long)v[i].id, v[i].name, sc,
			    v[i].revoked_at ? "revoked" : v[i].expires_at &&
			    v[i].expires_at <= (int64_t)time(NULL) ?
			    "expired" : "valid", v[i].lists ? " lists=" : "",
			    v[i].lists ? v[i].lists : "");
		}
		hl_tokens_free(v, n);
	} else if (strcmp(argv[1], "revoke") == 0 && ind == argc - 1) {
		id = strtoll(argv[ind], &end, 10);
		if (*end != '\0' || id <= 0)
			errx(1, "revoke: want a token id, not %s", argv[ind]);
		st = open_store(o.cfg.db);
		if (hl_store_token_revoke(st, id, &e) != 0)
			errx(1, "%s", e.msg);
		printf("token %lld revoked\n", id);
	} else
		usage(1);
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static int
cmd_publish(int argc, char **argv)
{
	struct opts o;
	struct hl_publisher_opts po;
	struct hl_store *st;
	struct hl_err e = HL_ERR_INIT;
	const char *targets[HL_CONFIG_MAX_TARGETS + 1];
	char dirbuf[PATH_MAX + 8];
	int rc;

	if (parse_opts(&o, argc, argv) != argc)
		usage(1);
	hl_log_init(1, o.verbose);
	st = open_store(o.cfg.db);	/* creates and migrates if new */
	hl_store_close(st);
	memset(&po, 0, sizeof(po));
	po.db = o.cfg.db;
	po.targets = targets;
	/* Explicit targets replace the default directory. */
	if (o.cfg.ntargets > 0) {
		free(o.cfg.public_dir);
		o.cfg.public_dir = NULL;
	}
	po.ntargets = all_targets(targets, dirbuf, sizeof(dirbuf), &o.cfg);
	snap_opts(&po.snap, &o.cfg);
	rc = hl_publish_once(&po, &e);
	if (rc != 0)
		warnx("%s", e.msg);
	hl_config_free(&o.cfg);
	return rc ? 1 : 0;
}

static int
read_all(struct hl_buf *b, const char *path)
{
	char chunk[65536];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hl_buf_put(b, chunk, n) != 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

struct import_file {
	char		*list;
	char		*path;
	struct hl_item	*items;
	size_t		 n;
	size_t		 dups;		/* copies of an earlier item */
	size_t		 skipped;	/* lines SmokeDetector's parser skips */
};

/* At most 60 bytes of an item's first line, for a report. */
static int
quote_len(const char *s)
{
	size_t n = strcspn(s, "\n");

	return (int)(n > 60 ? 60 : n);
}

/*
 * Parses and checks one file with the rules the API applies; exits with
 * file:line on any error.  Lines SmokeDetector's parser skips and
 * duplicates are kept, and reported on stderr; with strict a skipped line
 * is an error.
 */
static void
import_parse(struct import_file *f, struct hl_store *st, int strict)
{
	struct hl_buf b = HL_BUF_INIT;
	struct hl_list l;
	struct hl_err e = HL_ERR_INIT;
	struct hl_item *it;
	char *note = NULL;
	size_t i, *first;

	if (hl_store_list(&l, st, f->list, &e) != 0)
		errx(1, "%s: %s", f->path, e.msg);
	if (read_all(&b, f->path) != 0)
		err(1, "%s", f->path);
	if (hl_textfmt_parse(&f->items, &f->n, l.fmt, b.data ? b.data : "",
	    b.len, f->path, &e) != 0)
		errx(1, "%s", e.msg);
	for (i = 0; i < f->n; i++) {
		it = &f->items[i];
		if (it->verbatim == HL_VERBATIM_SKIPPED) {
			if (strict)
				errx(1, "%s:%zu: SmokeDetector's parser skips "
				    "this line (--strict): %.*s", f->path,
				    it->line, quote_len(it->value), it->value);
			warnx("%s:%zu: kept, but SmokeDetector's parser skips "
			    "this line: %.*s", f->path, it->line,
			    quote_len(it->value), it->value);
			f->skipped++;
		}
		if (it->verbatim)
			continue;
		if (hl_validate_list_value(&note, l.id, l.fmt, it->value,
		    &e) != 0 || hl_validate_comment(it->comment, &e) != 0)
			errx(1, "%s:%zu: %s", f->path, it->line, e.msg);
		free(note);
		note = NULL;
	}
	if ((first = calloc(f->n + 1, sizeof(*first))) == NULL ||
	    hl_items_dups(first, f->items, f->n, l.fmt) != 0)
		errx(1, "out of memory");
	for (i = 0; i < f->n; i++) {
		if (first[i] == i)
			continue;
		it = &f->items[i];
		warnx("%s:%zu: kept, a duplicate of line %zu: %.*s", f->path,
		    it->line, f->items[first[i]].line, quote_len(it->value),
		    it->value);
		f->dups++;
	}
	free(first);
	hl_buf_free(&b);
	hl_list_clear(&l);
}

/* The list whose SmokeDetector file is named like path, or NULL. */
static char *
list_for(struct hl_list *lists, size_t n, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i < n; i++)
		if (strcmp(lists[i].file, base) == 0)
			return strdup(lists[i].id);
	return NULL;
}

/*
 * import --mirror: a removal the mass-change gate holds (review.h) stops
 * the import, with nothing written, unless confirmed with a reason.  The
 * removals are counted by a dry run of the mirror itself.
 */
static void
mirror_gate(const struct import_file *f, struct hl_store *st,
    const struct hl_config *c, const char *confirm)
{
	struct hl_store_mirror m;
	struct hl_list l;
	struct hl_actor who = { .name = "import" };
	struct hl_err e = HL_ERR_INIT;

	memset(&m, 0, sizeof(m));
	m.dry_run = 1;
	if (hl_store_list(&l, st, f->list, &e) != 0 ||
	    hl_store_mirror(&m, st, f->list, f->items, f->n, &who, &e) != 0)
		errx(1, "%s: %s", f->path, e.msg);
	if (confirm == NULL && hl_review_mass_held(l.count,
	    (int64_t)m.removed, c->mass_share, c->mass_items))
		errx(1, "%s: held: --mirror would remove %zu of the %lld items"
		    " of %s (more than %lld%% or %lld items, or all); nothing"
		    " was written; confirm with --confirm REASON", f->path,
		    m.removed, (long long)l.count, f->list,
		    (long long)c->mass_share, (long long)c->mass_items);
	hl_list_clear(&l);
}

static int
cmd_import(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_list *lists = NULL;
	struct import_file files[128];
	struct hl_store_mirror m;
	struct hl_buf diff = HL_BUF_INIT;
	struct hl_actor who = { .name = "import" };
	struct hl_err e = HL_ERR_INIT;
	struct dirent *de;
	char actor[200];
	struct stat sb;
	char path[PATH_MAX];
	size_t nl = 0, nf = 0, i, added;
	int64_t version;
	DIR *d;
	int ind, k;

	for (k = 1; k < argc; k++)
		if (strcmp(argv[k], "--git") == 0)
			return hl_cmd_import_git(argc, argv);
	ind = parse_opts_mode(&o, argc, argv, "+dhv");
	if ((ind == argc && o.nlists == 0) || (o.dry_run && !o.mirror))
		usage(1);
	memset(&m, 0, sizeof(m));
	st = open_store(o.cfg.db);
	if (hl_store_lists(&lists, &nl, st, &e) != 0)
		errx(1, "%s", e.msg);
	memset(files, 0, sizeof(files));
	for (k = 0; k < o.nlists; k++) {
		files[nf].list = strdup(o.lists[k]);
		files[nf++].path = strdup(o.list_files[k]);
	}
	for (; ind < argc; ind++) {
		if (stat(argv[ind], &sb) != 0)
			err(1, "%s", argv[ind]);
		if (!S_ISDIR(sb.st_mode)) {
			if (nf == 128)
				errx(1, "too many files");
			if ((files[nf].list = list_for(lists, nl,
			    argv[ind])) == NULL)
				errx(1, "%s: no list keeps a file of this name"
				    " (use --list ID FILE)", argv[ind]);
			files[nf++].path = strdup(argv[ind]);
			continue;
		}
		if ((d = opendir(argv[ind])) == NULL)
			err(1, "%s", argv[ind]);
		while ((de = readdir(d)) != NULL && nf < 128) {
			snprintf(path, sizeof(path), "%s/%s", argv[ind],
			    de->d_name);
			if ((files[nf].list = list_for(lists, nl, path)))
				files[nf++].path = strdup(path);
		}
		closedir(d);
	}
	if (o.confirm != NULL && (!o.mirror || *o.confirm == '\0'))
		errx(1, "--confirm REASON goes with --mirror");
	/* Everything is parsed and checked before anything is written. */
	for (i = 0; i < nf; i++)
		import_parse(&files[i], st, o.strict);
	for (i = 0; o.mirror && !o.dry_run && i < nf; i++)
		mirror_gate(&files[i], st, &o.cfg, o.confirm);
	if (o.confirm != NULL) {
		snprintf(actor, sizeof(actor), "import --mirror, confirmed: %s",
		    o.confirm);
		who.name = actor;
	}
	for (i = 0; i < nf; i++) {
		m.dry_run = o.dry_run;
		m.diff = &diff;
		hl_buf_reset(&diff);
		if (o.mirror) {
			if (hl_store_mirror(&m, st, files[i].list,
			    files[i].items, files[i].n, &who, &e) != 0)
				errx(1, "%s: %s", files[i].path, e.msg);
			added = m.added;
		} else if (hl_store_import(&added, &version, st,
		    files[i].list, files[i].items, files[i].n, &who,
		    &e) != 0)
			errx(1, "%s: %s", files[i].path, e.msg);
		if (o.dry_run && diff.len > 0)
			printf("%s (%s):\n%s", files[i].path, files[i].list,
			    diff.data);
		printf("%s: %zu of %zu lines %snew in %s", files[i].path,
		    added, files[i].n, o.dry_run ? "would be " : "",
		    files[i].list);
		if (o.mirror)
			printf(", %zu %sremoved", m.removed,
			    o.dry_run ? "would be " : "");
		if (files[i].dups > 0 || files[i].skipped > 0)
			printf(" (%zu duplicates, %zu lines SmokeDetector "
			    "skips: kept)", files[i].dups, files[i].skipped);
		printf("\n");
		hl_items_free(files[i].items, files[i].n);
		free(files[i].list);
		free(files[i].path);
	}
	hl_buf_free(&diff);
	hl_lists_free(lists, nl);
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static int
cmd_export(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_list *lists = NULL;
	struct hl_item *items;
	struct hl_buf b = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t nl = 0, n, i;
	FILE *f;
	int ind;

	ind = parse_opts(&o, argc, argv);
	if (ind != argc - 1)
		usage(1);
	st = open_store(o.cfg.db);
	if (hl_store_read_begin(st, &e) != 0 ||
	    hl_store_lists(&lists, &nl, st, &e) != 0)
		errx(1, "%s", e.msg);
	(void)mkdir(argv[ind], 0755);
	for (i = 0; i < nl; i++) {
		if (hl_store_items(&items, &n, st, lists[i].id, 1, &e) != 0)
			errx(1, "%s", e.msg);
		hl_buf_reset(&b);
		if (hl_textfmt_render(&b, lists[i].fmt, items, n, &e) != 0)
			errx(1, "%s: %s", lists[i].id, e.msg);
		hl_items_free(items, n);
		snprintf(path, sizeof(path), "%s/%s", argv[ind],
		    lists[i].file);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		if ((f = fopen(tmp, "wb")) == NULL ||
		    fwrite(b.data ? b.data : "", 1, b.len, f) != b.len ||
		    fclose(f) != 0 || rename(tmp, path) != 0)
			err(1, "%s", path);
	}
	hl_store_read_end(st);
	hl_buf_free(&b);
	hl_lists_free(lists, nl);
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static int
cmd_backup(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_err e = HL_ERR_INIT;
	int ind;

	ind = parse_opts(&o, argc, argv);
	if (ind != argc - 1)
		usage(1);
	st = open_store(o.cfg.db);
	if (hl_store_backup(st, argv[ind], &e) != 0)
		errx(1, "%s", e.msg);
	printf("%s: consistent copy of %s at version %lld\n", argv[ind],
	    o.cfg.db, (long long)hl_store_version(st));
	hl_store_close(st);
	hl_config_free(&o.cfg);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "serve", cmd_serve },
	{ "migrate", cmd_migrate },
	{ "check-config", cmd_check_config },
	{ "token", cmd_token },
	{ "publish", cmd_publish },
	{ "import", cmd_import },
	{ "export", cmd_export },
	{ "backup", cmd_backup },
	{ "key", hl_cmd_key },
	{ "verify", hl_cmd_verify },
	{ "pull", hl_cmd_pull },
	{ "history", hl_cmd_history },
	{ "restore", hl_cmd_restore },
};

int
main(int argc, char **argv)
{
	size_t i;

	/* Before any thread: curl's global init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		errx(1, "curl_global_init failed");
	if (argc < 2)
		usage(1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		usage(0);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	warnx("unknown command \"%s\"", argv[1]);
	usage(1);
}
