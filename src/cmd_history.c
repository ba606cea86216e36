/*
 * cmd_history: `helios history ID [--at VERSION|DATE] --repo PATH|URL
 * [--branch B] [--json]` prints a list as it was published at a past
 * version, read from the git pages archive (gen/targets/gitarchive.h).
 *
 * With --db PATH instead of --repo, the list is rebuilt from the audit
 * log: every add and delete up to the version or date, in order.  After
 * `helios import --git --history` the log begins with SmokeDetector's own
 * past, so this answers for dates before the migration too; the file is
 * rendered from the values (without the comment lines of the time), every
 * copy of a duplicate kept until its own delete.  Events carry no
 * position: an add lands at the end, as it does for the clients.
 *
 * The list's file name comes from that version's manifest, so a list is
 * found even if its text format changed since.  DATE is YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SSZ (UTC): the newest version published by then.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "gitarchive.h"
#include "store.h"
#include "textfmt.h"

/*
 * Which copy of key a delete of rec takes: among the live items at the
 * positions in chain (oldest first), the one rec describes (value, time
 * and author), else the first holding its value, else the first; as the
 * store and the clients match a delete, so every copy of a duplicate is
 * kept until its own delete.  The index into chain, or -1.
 */
static long
delete_target(const struct hl_item *v, json_t *chain, const struct hl_item *rec)
{
	json_t *at;
	size_t k;
	long val = -1;

	json_array_foreach(chain, k, at) {
		const struct hl_item *it = &v[json_integer_value(at)];

		if (strcmp(it->value, rec->value) != 0)
			continue;
		if (it->created_at == rec->created_at && it->created_by &&
		    rec->created_by && strcmp(it->created_by,
		    rec->created_by) == 0)
			return (long)k;
		if (val < 0)
			val = (long)k;
	}
	return val >= 0 ? val : json_array_size(chain) > 0 ? 0 : -1;
}

/* The list as the audit log has it at version (0: any) or date when. */
static int
from_events(const char *db, const char *id, int64_t version, int64_t when,
    int json)
{
	struct hl_store *st = NULL;
	struct hl_list l;
	struct hl_event *ev = NULL;
	struct hl_item *v = NULL, it;
	struct hl_buf out = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	size_t n = 0, cap = 0, nev, i, j;
	int64_t since = 0, last = 0;
	json_t *rec, *index = json_object(), *chain;
	char *key;
	long k;
	int done = 0;

	if (hl_store_open(&st, db, &e) != 0 ||
	    hl_store_list(&l, st, id, &e) != 0)
		errx(1, "%s", e.msg);
	while (!done) {
		if (hl_store_events(&ev, &nev, st, since, 1000, &e) != 0)
			errx(1, "%s", e.msg);
		for (i = 0; i < nev && !done; i++) {
			since = ev[i].version;
			if ((version > 0 && ev[i].version > version) ||
			    (when > 0 && ev[i].at > when)) {
				done = 1;
				break;
			}
			if (strcmp(ev[i].list, id) != 0)
				continue;
			last = ev[i].version;
			if ((rec = json_loads(ev[i].record, 0, NULL)) == NULL ||
			    hl_item_from_json(&it, rec) != 0)
				errx(1, "event %lld: unreadable record",
				    (long long)ev[i].version);
			json_decref(rec);
			if ((key = hl_item_key(l.fmt, ev[i].value)) == NULL)
				errx(1, "out of memory");
			/* Every copy of a key, oldest first. */
			if ((chain = json_object_get(index, key)) == NULL) {
				chain = json_array();
				json_object_set_new(index, key, chain);
			}
			free(key);
			if (strcmp(ev[i].op, "delete") == 0) {
				if ((k = delete_target(v, chain, &it)) >= 0) {
					/* compacted below */
					hl_item_clear(&v[json_integer_value(
					    json_array_get(chain, (size_t)k))]);
					json_array_remove(chain, (size_t)k);
				}
				hl_item_clear(&it);
				continue;
			}
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				if ((v = realloc(v, cap * sizeof(*v))) == NULL)
					errx(1, "out of memory");
			}
			v[n] = it;
			json_array_append_new(chain, json_integer((json_int_t)n));
			n++;
		}
		hl_events_free(ev, nev);
		if (nev < 1000)
			done = 1;
	}
	/* Drop the deleted (cleared) items, keeping the order. */
	for (i = j = 0; i < n; i++)
		if (v[i].value != NULL)
			v[j++] = v[i];
	n = j;
	json_decref(index);
	if (json) {
		json_t *a = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(a, hl_item_json(&v[i], id, l.fmt));
		rec = json_pack("{s:s, s:I, s:o}", "list", id, "version",
		    (json_int_t)last, "items", a);
		json_dumpf(rec, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(rec);
	} else {
		if (hl_textfmt_render(&out, l.fmt, v, n, &e) != 0)
			errx(1, "%s", e.msg);
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	fprintf(stderr, "helios: %s from the audit log, as of version %lld"
	    " (%zu items)\n", id, (long long)last, n);
	hl_buf_free(&out);
	hl_items_free(v, n);
	hl_list_clear(&l);
	hl_store_close(st);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* VERSION or DATE into one of the two bounds; 0 on success. */
static int
parse_at(int64_t *version, int64_t *when, const char *s)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	*version = *when = 0;
	v = strtoll(s, &e, 10);
	if (*s != '\0' && *e == '\0' && v > 0) {
		*version = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
		    *end != '\0')
			return -1;
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 59;
	}
	*when = (int64_t)timegm(&tm);
	return 0;
}

/* The path of list id's file (or its JSON) in a manifest. */
static char *
list_path(const unsigned char *manifest, size_t len, const char *id, int json)
{
	json_t *m, *lists, *l;
	const char *p = NULL;
	char *out = NULL;
	size_t i;

	if ((m = json_loadb((const char *)manifest, len, 0, NULL)) == NULL)
		return NULL;
	lists = json_object_get(m, "lists");
	json_array_foreach(lists, i, l)
		if (strcmp(json_string_value(json_object_get(l, "id")) ?
		    json_string_value(json_object_get(l, "id")) : "", id) == 0)
			p = json_string_value(json_object_get(l,
			    json ? "json" : "text"));
	if (p != NULL)
		out = strdup(p);
	json_decref(m);
	return out;
}

int
hl_cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "repo", required_argument, NULL, 'r' },
		{ "db", required_argument, NULL, 'D' },
		{ "branch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_gitarchive_rev rev;
	struct hl_err e = HL_ERR_INIT;
	const char *repo = NULL, *branch = NULL, *at = NULL, *db = NULL;
	unsigned char *man = NULL, *data = NULL;
	size_t mlen, len;
	int64_t version = 0, when = 0;
	char *path;
	int c, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 'r': repo = optarg; break;
		case 'D': db = optarg; break;
		case 'b': branch = optarg; break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: helios history ID [--at VERSION|DATE]"
			    " --repo PATH|URL | --db PATH [--branch B]"
			    " [--json]\n");
			return 0;
		default:
			return 1;
		}
	}
	if (optind != argc - 1 || (repo == NULL) == (db == NULL)) {
		fprintf(stderr, "usage: helios history ID [--at VERSION|DATE]"
		    " --repo PATH|URL | --db PATH [--branch B] [--json]\n");
		return 1;
	}
	if (at != NULL && parse_at(&version, &when, at) != 0)
		errx(1, "--at: want a version number or a date (YYYY-MM-DD),"
		    " not \"%s\"", at);
	if (db != NULL)
		return from_events(db, argv[optind], version, when, json);
	if (hl_gitarchive_find(&rev, repo, branch, version, when, &e) != 0)
		errx(1, "%s", e.msg);
	if (hl_gitarchive_read(&man, &mlen, repo, branch, "manifest.json",
	    rev.version, 0, &e) != 0)
		errx(1, "%s", e.msg);
	if ((path = list_path(man, mlen, argv[optind], json)) == NULL)
		errx(1, "no list %s at version %lld", argv[optind],
		    (long long)rev.version);
	if (hl_gitarchive_read(&data, &len, repo, branch, path, rev.version,
	    0, &e) != 0)
		errx(1, "%s", e.msg);
	fprintf(stderr, "helios: %s at version %lld (commit %.12s)\n", path,
	    (long long)rev.version, rev.commit);
	fwrite(data, 1, len, stdout);
	free(data);
	free(man);
	free(path);
	return fflush(stdout) == 0 ? 0 : 1;
}
