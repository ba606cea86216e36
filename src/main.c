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
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth.h"
#include "client.h"
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "publisher.h"
#include "static.h"
#include "store.h"
#include "textfmt.h"
#include "validate.h"

static const char synopsis[] =
"usage: helios serve [--config FILE] [--listen ADDR:PORT] [--db PATH]\n"
"                    [--profile dev|prod] [--public DIR] [--target URL]...\n"
"                    [--admin-token-file FILE] [-dv]\n"
"       helios migrate [--db PATH]\n"
"       helios token create NAME [--scope admin,write] [--db PATH]\n"
"       helios token list [--db PATH]\n"
"       helios token revoke ID [--db PATH]\n"
"       helios publish [--config FILE] [--db PATH] [--target URL]...\n"
"       helios verify [--key PUBKEY] [--chain N] DIR|URL\n"
"       helios import [--db PATH] [--list ID FILE]... [FILE|DIR]...\n"
"       helios export [--db PATH] DIR\n"
"       helios backup [--db PATH] FILE\n"
"       helios pull [--watch] [--key PUBKEY] [--state FILE]\n"
"                   [--interval SECS] [--full] [--stats] [-q] URL DIR\n"
"       helios history ID [--at VERSION|DATE] --repo PATH|URL [--branch B]\n"
"       helios restore --from-git PATH|URL [--branch B] [--db PATH]\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(synopsis, status ? stderr : stdout);
	exit(status);
}

/* Options shared by the store-using subcommands. */
enum {
	OPT_CONFIG = 256, OPT_LISTEN, OPT_DB, OPT_PROFILE, OPT_PUBLIC,
	OPT_TARGET, OPT_ADMIN_FILE, OPT_SCOPE, OPT_LIST,
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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	struct hl_config	 cfg;
	int			 debug;
	int			 verbose;
	char			*scope;
	char			*lists[64];	/* --list ID FILE pairs */
	char			*list_files[64];
	int			 nlists;
};

static void
cfg_set(struct hl_config *c, const char *key, const char *v)
{
	struct hl_err e = HL_ERR_INIT;

	if (hl_config_set(c, key, v, &e) != 0)
		errx(1, "%s", e.msg);
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
	for (i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "--config") == 0 &&
		    hl_config_load(&o->cfg, argv[i + 1], &e) != 0)
			errx(1, "%s", e.msg);
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, long_opts,
	    NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			break;
		case OPT_LISTEN: cfg_set(&o->cfg, "listen", optarg); break;
		case OPT_DB: cfg_set(&o->cfg, "db", optarg); break;
		case OPT_PROFILE: cfg_set(&o->cfg, "profile", optarg); break;
		case OPT_PUBLIC: cfg_set(&o->cfg, "public", optarg); break;
		case OPT_TARGET: cfg_set(&o->cfg, "target", optarg); break;
		case OPT_ADMIN_FILE:
			cfg_set(&o->cfg, "admin_token_file", optarg);
			break;
		case OPT_SCOPE:
			o->scope = optarg;
			break;
		case OPT_LIST:
			if (optind >= argc || o->nlists == 64)
				usage(1);
			o->lists[o->nlists] = optarg;
			o->list_files[o->nlists++] = argv[optind++];
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
    const char *by, char secret[65])
{
	unsigned char hash[32];
	struct hl_token t;
	struct hl_err e = HL_ERR_INIT;
	int64_t id;

	if (hl_auth_token_new(secret, &e) != 0)
		errx(1, "%s", e.msg);
	hl_auth_token_hash(hash, secret);
	if (hl_store_token_add(&t, st, name, hash, scopes, by, &e) != 0)
		errx(1, "%s", e.msg);
	id = t.id;
	hl_token_clear(&t);
	return id;
}

/*
 * On a database without an admin token, makes one, prints it once and
 * writes it to file, readable by its owner only.
 */
static void
first_admin(struct hl_store *st, const char *file)
{
	char secret[65];
	int fd;

	if (hl_store_admin_count(st) > 0)
		return;
	mint(st, "admin", HL_SCOPE_ADMIN | HL_SCOPE_WRITE | HL_SCOPE_APPROVE,
	    "helios serve", secret);
	make_parent(file);
	(void)unlink(file);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, secret, 64) != 64 || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0)
		err(1, "%s", file);
	close(fd);
	printf("helios: created the first admin token; it is shown once and"
	    " kept in %s (mode 0600):\n%s\n", file, secret);
	fflush(stdout);
	explicit_bzero(secret, sizeof(secret));
}

struct serve_ctx {
	struct hl_publisher	*pub;
};

static void
on_change(int64_t version, void *payload)
{
	struct serve_ctx *c = payload;

	hl_publisher_notify(c->pub, version);
}

static void
on_health(json_t *obj, void *payload)
{
	struct serve_ctx *c = payload;

	hl_publisher_health(c->pub, obj);
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

	*s = init;
	s->manifest_ttl = c->manifest_ttl;
	s->poll_interval = c->poll_interval;
	s->site_dir = c->site_dir;
	s->signing_key = c->signing_key;
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
	struct serve_ctx ctx = { NULL };
	struct hl_err e = HL_ERR_INIT;
	const char *targets[HL_CONFIG_MAX_TARGETS + 1];
	char dirbuf[PATH_MAX + 8];
	sigset_t set;
	int sig;

	if (parse_opts(&o, argc, argv) != argc)
		usage(1);
	hl_log_init(o.debug || isatty(STDERR_FILENO), o.verbose);
	/* Threads inherit this mask; the main thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	st = open_store(o.cfg.db);
	first_admin(st, o.cfg.admin_token_file);

	memset(&po, 0, sizeof(po));
	po.db = o.cfg.db;
	po.targets = targets;
	po.ntargets = all_targets(targets, dirbuf, sizeof(dirbuf), &o.cfg);
	snap_opts(&po.snap, &o.cfg);
	if (hl_publisher_start(&ctx.pub, &po, &e) != 0)
		hl_fatalx("publisher: %s", e.msg);
	if (o.cfg.public_dir != NULL && *o.cfg.public_dir != '\0' &&
	    hl_static_new(&site, o.cfg.public_dir, &e) != 0)
		hl_fatalx("%s", e.msg);

	ho.listen = o.cfg.listen;
	ho.store = st;
	ho.site = site;
	ho.dev_profile = strcmp(o.cfg.profile, "dev") == 0;
	ho.threads = (unsigned)o.cfg.threads;
	ho.on_change = on_change;
	ho.health = on_health;
	ho.payload = &ctx;
	if (hl_http_start(&http, &ho, &e) != 0)
		hl_fatalx("%s", e.msg);
	hl_log_info("helios serving http://%s/ (api and public tree), db %s,"
	    " profile %s, %zu target(s)", o.cfg.listen, o.cfg.db,
	    o.cfg.profile, po.ntargets);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
	}
	hl_log_info("signal %d: shutting down", sig);
	hl_http_stop(http);
	hl_publisher_stop(ctx.pub);
	hl_static_free(site);
	hl_store_close(st);
	hl_config_free(&o.cfg);
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
	size_t n = 0, i;
	long long id;
	int ind;

	if (argc < 2)
		usage(1);
	ind = parse_opts(&o, argc - 1, argv + 1) + 1;
	if (strcmp(argv[1], "create") == 0 && ind == argc - 1) {
		if (o.scope && hl_scopes_parse(&scopes, o.scope) != 0)
			errx(1, "--scope: want a list of admin, write,"
			    " approve");
		st = open_store(o.cfg.db);
		id = mint(st, argv[ind], scopes, "helios token create",
		    secret);
		hl_scopes_format(sc, sizeof(sc), scopes);
		printf("token %lld (%s, %s), shown once:\n%s\n", id,
		    argv[ind], sc, secret);
		explicit_bzero(secret, sizeof(secret));
	} else if (strcmp(argv[1], "list") == 0 && ind == argc) {
		st = open_store(o.cfg.db);
		if (hl_store_tokens(&v, &n, st, &e) != 0)
			errx(1, "%s", e.msg);
		printf("%-6s %-24s %-20s %s\n", "ID", "NAME", "SCOPES",
		    "STATE");
		for (i = 0; i < n; i++) {
			hl_scopes_format(sc, sizeof(sc), v[i].scopes);
			printf("%-6lld %-24s %-20s %s\n", (long long)v[i].id,
			    v[i].name, sc, v[i].revoked_at ? "revoked" :
			    "valid");
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
};

/* Parses and checks one file; exits with file:line on any error. */
static void
import_parse(struct import_file *f, struct hl_store *st)
{
	struct hl_buf b = HL_BUF_INIT;
	struct hl_list l;
	struct hl_err e = HL_ERR_INIT;
	char *note = NULL;
	size_t i;

	if (hl_store_list(&l, st, f->list, &e) != 0)
		errx(1, "%s: %s", f->path, e.msg);
	if (read_all(&b, f->path) != 0)
		err(1, "%s", f->path);
	if (hl_textfmt_parse(&f->items, &f->n, l.fmt, b.data ? b.data : "",
	    b.len, f->path, &e) != 0)
		errx(1, "%s", e.msg);
	for (i = 0; i < f->n; i++) {
		if (f->items[i].verbatim)
			continue;
		if (hl_validate_list_value(&note, l.id, l.fmt, f->items[i].value,
		    &e) != 0)
			errx(1, "%s: %s %lld: %s", f->path,
			    hl_fmt_is_yaml(l.fmt) ? "item" : "line",
			    (long long)f->items[i].pos + 1, e.msg);
		free(note);
		note = NULL;
	}
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

static int
cmd_import(int argc, char **argv)
{
	struct opts o;
	struct hl_store *st;
	struct hl_list *lists = NULL;
	struct import_file files[128];
	struct hl_actor who = { 0, "import" };
	struct hl_err e = HL_ERR_INIT;
	struct dirent *de;
	struct stat sb;
	char path[PATH_MAX];
	size_t nl = 0, nf = 0, i, added;
	int64_t version;
	DIR *d;
	int ind, k;

	ind = parse_opts_mode(&o, argc, argv, "+dhv");
	if (ind == argc && o.nlists == 0)
		usage(1);
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
	/* Everything is parsed and checked before anything is written. */
	for (i = 0; i < nf; i++)
		import_parse(&files[i], st);
	for (i = 0; i < nf; i++) {
		if (hl_store_import(&added, &version, st, files[i].list,
		    files[i].items, files[i].n, &who, &e) != 0)
			errx(1, "%s: %s", files[i].path, e.msg);
		printf("%s: %zu of %zu lines new in %s\n", files[i].path,
		    added, files[i].n, files[i].list);
		hl_items_free(files[i].items, files[i].n);
		free(files[i].list);
		free(files[i].path);
	}
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
	{ "token", cmd_token },
	{ "publish", cmd_publish },
	{ "import", cmd_import },
	{ "export", cmd_export },
	{ "backup", cmd_backup },
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
