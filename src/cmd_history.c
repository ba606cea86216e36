/*
 * cmd_history: `helios history ID [--at VERSION|DATE] --repo PATH|URL
 * [--branch B] [--json]` prints a list as it was published at a past
 * version, read from the git pages archive (gen/targets/gitarchive.h).
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
		{ "branch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_gitarchive_rev rev;
	struct hl_err e = HL_ERR_INIT;
	const char *repo = NULL, *branch = NULL, *at = NULL;
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
		case 'b': branch = optarg; break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: helios history ID [--at VERSION|DATE]"
			    " --repo PATH|URL [--branch B] [--json]\n");
			return 0;
		default:
			return 1;
		}
	}
	if (optind != argc - 1 || repo == NULL) {
		fprintf(stderr, "usage: helios history ID [--at VERSION|DATE]"
		    " --repo PATH|URL [--branch B] [--json]\n");
		return 1;
	}
	if (at != NULL && parse_at(&version, &when, at) != 0)
		errx(1, "--at: want a version number or a date (YYYY-MM-DD),"
		    " not \"%s\"", at);
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
