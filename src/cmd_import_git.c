/*
 * cmd_import_git: `helios import --git PATH`, the migration from
 * SmokeDetector's own repository (gitimport.h replays it).
 *
 *   helios import --git PATH [--rev REV]
 *	The lists as they are at REV (default HEAD), added as a directory
 *	import would add them, each value with the commit that added it
 *	(items' "origin": commit, author, time, subject, requester) and,
 *	outside the tsv lists (which keep their own columns), created_at
 *	and created_by from that commit.
 *   helios import --git PATH --history [--rev REV]
 *	Into an empty database: every commit that changed a list file,
 *	oldest first, becomes the adds and removes it made, as audit events
 *	with the commit's author and time, so the audit log, GET /changes
 *	and the published archive begin with the lists' real past.  The
 *	lists then equal the files at REV byte for byte (comments, order).
 *   helios import --git PATH --sync [--rev REV]
 *	The commits after the last one imported, as changes now; nothing
 *	when nothing changed.  A value that git changes but that Helios
 *	changed too since the last import is a conflict: reported, and left
 *	as Helios has it.
 *
 * Options: --alias FILE=LIST:FORMAT tracks an older name of a list's file
 * (renamed, or before a format change); --dry-run reports and changes
 * nothing; --db and --config as elsewhere.  Problems that are not fatal
 * (a file that did not parse at some commit, a value Helios's checks
 * would refuse) are reported on stderr, never fatal.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "gitimport.h"
#include "store.h"
#include "textfmt.h"

#define BATCH	4096	/* changes per transaction in a replay */

enum { O_GIT = 256, O_REV, O_HISTORY, O_SYNC, O_ALIAS, O_DRY_RUN, O_DB,
	O_CONFIG };

static const struct option opts[] = {
	{ "git", required_argument, NULL, O_GIT },
	{ "rev", required_argument, NULL, O_REV },
	{ "history", no_argument, NULL, O_HISTORY },
	{ "sync", no_argument, NULL, O_SYNC },
	{ "alias", required_argument, NULL, O_ALIAS },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "db", required_argument, NULL, O_DB },
	{ "config", required_argument, NULL, O_CONFIG },
	{ NULL, 0, NULL, 0 }
};

struct run {
	struct hl_store		*st;
	struct hl_list		*lists;
	size_t			 nlists;
	struct hl_gitimport_path paths[64];
	size_t			 npaths;
	int			 dry_run;
	/* A replay's pending batch. */
	struct hl_store_change	 batch[BATCH];
	size_t			 nbatch;
	size_t			 applied, skipped, conflicts;
	/* --sync: the values Helios changed since the last import. */
	char			**touched;
	size_t			 ntouched;
};

static void
usage_git(void)
{
	fprintf(stderr, "usage: helios import --git PATH [--rev REV] "
	    "[--history | --sync]\n\t[--alias FILE=LIST:FORMAT]... "
	    "[--dry-run] [--db PATH] [--config FILE]\n");
	exit(1);
}

static void
alias_add(struct run *r, char *spec)
{
	char *eq = strchr(spec, '='), *colon;
	size_t i;
	int fmt = -1;

	if (eq == NULL || r->npaths == 64)
		errx(1, "--alias %s: want FILE=LIST[:FORMAT]", spec);
	*eq = '\0';
	if ((colon = strchr(eq + 1, ':')) != NULL) {
		*colon = '\0';
		if ((fmt = hl_fmt_parse(colon + 1)) < 0)
			errx(1, "--alias: unknown format %s", colon + 1);
	}
	for (i = 0; i < r->nlists; i++)
		if (strcmp(r->lists[i].id, eq + 1) == 0)
			break;
	if (i == r->nlists)
		errx(1, "--alias: no list %s", eq + 1);
	r->paths[r->npaths].path = spec;
	r->paths[r->npaths].list = r->lists[i].id;
	r->paths[r->npaths++].fmt = fmt >= 0 ? fmt : r->lists[i].fmt;
}

/* The origin of it as JSON, and created_at/by from it (tsv keeps its). */
static void
set_origin(struct hl_item *it, const struct hl_gitimport_origin *o, int fmt)
{
	free(it->origin);
	if ((it->origin = hl_gitimport_origin_json(o)) == NULL)
		errx(1, "out of memory");
	if (fmt == HL_FMT_TSV && it->created_at != 0)
		return;
	it->created_at = o->time;
	free(it->created_by);
	if ((it->created_by = strdup(o->requester ? o->requester :
	    o->author)) == NULL)
		errx(1, "out of memory");
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
touched_key(const char *list, int fmt, const char *value)
{
	char *k, *s;

	if ((k = hl_item_key(fmt, value)) == NULL ||
	    asprintf(&s, "%s\t%s", list, k) < 0)
		errx(1, "out of memory");
	free(k);
	return s;
}

static int
list_fmt(const struct run *r, const char *list)
{
	size_t i;

	for (i = 0; i < r->nlists; i++)
		if (strcmp(r->lists[i].id, list) == 0)
			return r->lists[i].fmt;
	return -1;
}

static void
flush(struct run *r, const char *meta_key, const char *meta_value)
{
	struct hl_err e = HL_ERR_INIT;
	size_t applied, i;
	int64_t v;

	if (!r->dry_run && (r->nbatch > 0 || meta_key != NULL)) {
		if (hl_store_apply(&applied, &v, r->st, r->batch, r->nbatch,
		    meta_key, meta_value, &e) != 0)
			errx(1, "%s", e.msg);
		r->applied += applied;
		r->skipped += r->nbatch - applied;
	} else
		r->applied += r->nbatch;
	for (i = 0; i < r->nbatch; i++) {
		hl_item_clear((struct hl_item *)r->batch[i].item);
		free((struct hl_item *)r->batch[i].item);
		free((char *)r->batch[i].who.name);
	}
	r->nbatch = 0;
}

/* A replayed change: into the batch, unless --sync finds a conflict. */
static int
on_event(const struct hl_gitimport_event *ev, void *payload)
{
	struct run *r = payload;
	struct hl_store_change *c;
	struct hl_item *it;
	char *k;

	if (r->touched != NULL) {
		k = touched_key(ev->list, ev->fmt, ev->item->value);
		if (bsearch(&k, r->touched, r->ntouched, sizeof(*r->touched),
		    key_cmp) != NULL) {
			fprintf(stderr, "conflict: %.12s %s %s %s: changed in"
			    " Helios since the last import; kept as Helios"
			    " has it\n", ev->origin.commit, ev->op == 'a' ?
			    "adds" : "removes", ev->list, ev->item->value);
			r->conflicts++;
			free(k);
			return 0;
		}
		free(k);
	}
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    hl_item_copy(it, ev->item) != 0)
		errx(1, "out of memory");
	set_origin(it, &ev->origin, ev->fmt);
	c = &r->batch[r->nbatch++];
	memset(c, 0, sizeof(*c));
	c->op = ev->op;
	c->list = ev->list;
	c->item = it;
	c->who.at = r->touched != NULL ? 0 : ev->origin.time;
	if ((c->who.name = strdup(ev->origin.author)) == NULL)
		errx(1, "out of memory");
	if (r->nbatch == BATCH)
		flush(r, NULL, NULL);
	return 0;
}

/*
 * The items of list as they are at the end of the replay, with their
 * origins; *n 0 when the list has no file there.  Values Helios's checks
 * would refuse are reported, and kept.
 */
static struct hl_item *
final_items(size_t *n, struct run *r, const struct hl_gitimport *gi,
    const struct hl_list *l)
{
	struct hl_gitimport_origin o;
	struct hl_item *v = NULL;
	struct hl_err e = HL_ERR_INIT;
	const char *data, *path;
	size_t len, i;

	*n = 0;
	if ((data = hl_gitimport_file(&len, &path, gi, l->id)) == NULL)
		return NULL;
	if (hl_textfmt_parse(&v, n, l->fmt, data, len, path, &e) != 0) {
		warnx("%s", e.msg);
		return NULL;
	}
	for (i = 0; i < *n; i++)
		if (!v[i].verbatim && hl_gitimport_origin(&o, gi, l->id,
		    l->fmt, &v[i]) == 0)
			set_origin(&v[i], &o, l->fmt);
	return v;
}

/* The values every event after version since touched, sorted. */
static void
load_touched(struct run *r, int64_t since)
{
	struct hl_event *ev = NULL;
	struct hl_err e = HL_ERR_INIT;
	size_t n, i, cap = 0;
	int fmt;

	for (;;) {
		if (hl_store_events(&ev, &n, r->st, since, 1000, &e) != 0)
			errx(1, "%s", e.msg);
		for (i = 0; i < n; i++) {
			since = ev[i].version;
			if ((fmt = list_fmt(r, ev[i].list)) < 0)
				continue;
			if (r->ntouched == cap) {
				cap = cap ? 2 * cap : 256;
				if ((r->touched = realloc(r->touched,
				    cap * sizeof(*r->touched))) == NULL)
					errx(1, "out of memory");
			}
			r->touched[r->ntouched++] = touched_key(ev[i].list,
			    fmt, ev[i].value);
		}
		hl_events_free(ev, n);
		if (n < 1000)
			break;
	}
	if (r->touched == NULL && (r->touched = calloc(1,
	    sizeof(*r->touched))) == NULL)
		errx(1, "out of memory");
	qsort(r->touched, r->ntouched, sizeof(*r->touched), key_cmp);
}

int
hl_cmd_import_git(int argc, char **argv)
{
	struct run *r;
	struct hl_config cfg;
	struct hl_gitsrc *g = NULL;
	struct hl_gitimport *gi = NULL;
	struct hl_buf report = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	struct hl_actor who = { .name = "import" };
	struct timespec t0, t1;
	char *repo = NULL, *rev = NULL, *since = NULL, *aliases[64];
	char tip[41], *sync_meta = NULL;
	size_t naliases = 0, i, n, added;
	int64_t version, since_version = 0;
	int c, history = 0, sync = 0, dry_run = 0;

	if (hl_config_defaults(&cfg) != 0)
		errx(1, "out of memory");
	for (i = 1; i + 1 < (size_t)argc; i++)
		if (strcmp(argv[i], "--config") == 0 &&
		    hl_config_load(&cfg, argv[i + 1], &e) != 0)
			errx(1, "%s", e.msg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_GIT: repo = optarg; break;
		case O_REV: rev = optarg; break;
		case O_HISTORY: history = 1; break;
		case O_SYNC: sync = 1; break;
		case O_DRY_RUN: dry_run = 1; break;
		case O_CONFIG: break;
		case O_DB:
			if (hl_config_set(&cfg, "db", optarg, &e) != 0)
				errx(1, "%s", e.msg);
			break;
		case O_ALIAS:
			if (naliases == 64)
				errx(1, "too many --alias");
			aliases[naliases++] = optarg;
			break;
		default:
			usage_git();
		}
	}
	if (repo == NULL || optind != argc || (history && sync))
		usage_git();
	if ((r = calloc(1, sizeof(*r))) == NULL)
		errx(1, "out of memory");
	r->dry_run = dry_run;
	if (hl_store_open(&r->st, cfg.db, &e) != 0 ||
	    hl_store_lists(&r->lists, &r->nlists, r->st, &e) != 0)
		errx(1, "%s", e.msg);
	for (i = 0; i < r->nlists && r->npaths < 64; i++) {
		r->paths[r->npaths].path = r->lists[i].file;
		r->paths[r->npaths].list = r->lists[i].id;
		r->paths[r->npaths++].fmt = r->lists[i].fmt;
	}
	for (i = 0; i < naliases; i++)
		alias_add(r, aliases[i]);
	if (hl_gitsrc_open(&g, repo, &e) != 0 ||
	    hl_gitsrc_resolve(tip, g, rev, &e) != 0)
		errx(1, "%s", e.msg);

	if (history && hl_store_version(r->st) != 0)
		errx(1, "--history replays into an empty database; this one"
		    " is at version %lld", (long long)hl_store_version(r->st));
	if (sync) {
		if (hl_store_meta(&sync_meta, r->st, "git_sync", &e) != 0)
			errx(1, "--sync continues an import from git: %s"
			    " (run helios import --git first)", e.msg);
		since = sync_meta;
		if (hl_store_meta(&since, r->st, "git_sync_version",
		    &e) == 0) {
			since_version = strtoll(since, NULL, 10);
			free(since);
		}
		since = sync_meta;
		if (strcmp(since, tip) == 0) {
			printf("%s: up to date at %.12s\n", repo, tip);
			goto out;
		}
		load_touched(r, since_version);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hl_gitimport_run(&gi, g, since, rev, r->paths, r->npaths,
	    history || sync ? on_event : NULL, r, &report, &e) != 0)
		errx(1, "%s", e.msg);
	if (sync)
		flush(r, "git_sync", tip);
	else
		flush(r, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (report.len > 0)
		fprintf(stderr, "%.*s", (int)report.len, report.data);
	if (history || sync)
		printf("%s: %zu commits replayed in %.1f s: %zu changes%s,"
		    " %zu already so, %zu conflicts\n", repo,
		    hl_gitimport_commits(gi),
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, r->applied,
		    dry_run ? " (a dry run: none made)" : "", r->skipped,
		    r->conflicts);
	if (sync)
		goto out;

	/* The files at the tip: order, comments and origins. */
	for (i = 0; i < r->nlists; i++) {
		struct hl_list *l = &r->lists[i];
		struct hl_item *v = final_items(&n, r, gi, l);
		struct hl_store_mirror m;

		if (v == NULL)
			continue;
		memset(&m, 0, sizeof(m));
		m.dry_run = dry_run;
		if (history) {
			if (hl_store_mirror(&m, r->st, l->id, v, n, &who,
			    &e) != 0)
				errx(1, "%s: %s", l->file, e.msg);
			added = m.added;
		} else if (dry_run)
			added = 0;
		else if (hl_store_import(&added, &version, r->st, l->id, v,
		    n, &who, &e) != 0)
			errx(1, "%s: %s", l->file, e.msg);
		printf("%s: %zu items at %.12s, %zu lines new in %s\n",
		    l->file, n, tip, added, l->id);
		hl_items_free(v, n);
	}
	if (!dry_run)
		flush(r, "git_sync", tip);
out:
	hl_gitimport_free(gi);
	hl_gitsrc_close(g);
	for (i = 0; i < r->ntouched; i++)
		free(r->touched[i]);
	free(r->touched);
	free(sync_meta);
	hl_buf_free(&report);
	hl_lists_free(r->lists, r->nlists);
	hl_store_close(r->st);
	free(r);
	hl_config_free(&cfg);
	return 0;
}
