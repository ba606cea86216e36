/*
 * cmd_key: the keys that sign manifest.json.
 *
 *   helios key generate FILE
 *	makes a new Ed25519 signing key: FILE (PEM private key, mode 0600)
 *	and FILE.pub (its PEM public key, what clients put in their
 *	keyring), and prints the key id the manifest will name.
 *   helios key rotate --config FILE [--overlap DURATION]
 *	starts a rotation of the config's signing_key (signer.h): a new key
 *	takes its place, the old one is kept as signing_key.previous, and
 *	both sign every manifest until the overlap (signing_overlap, 7d by
 *	default) ends.  A running daemon takes it up at its next publish.
 *   helios key retire --config FILE [--force]
 *	removes the previous key once the overlap has ended.
 *   helios key status --config FILE
 *	says which keys sign now.
 *
 * None of them writes over an existing file.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "keyring.h"
#include "review.h"
#include "signer.h"

static const char key_usage[] =
"usage: helios key generate FILE\n"
"       helios key rotate --config FILE [--overlap DURATION]\n"
"       helios key retire --config FILE [--force]\n"
"       helios key status --config FILE\n";

static void
usage(int status)
{
	fputs(key_usage, status ? stderr : stdout);
	exit(status);
}

/* "2026-12-09 01:00:00 UTC" */
static const char *
utc(char buf[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
	return buf;
}

static int
generate(int argc, char **argv)
{
	struct hl_err e = HL_ERR_INIT;
	char id[HL_KEYRING_ID_LEN + 1];

	if (argc != 3 || argv[2][0] == '-')
		usage(1);
	if (hl_keyring_generate(argv[2], id, &e) != 0)
		errx(1, "%s", e.msg);
	printf("private key: %s\npublic key: %s.pub\nkey id: %s\n", argv[2],
	    argv[2], id);
	return 0;
}

/*
 * Options of rotate, retire and status: the config's signing_key, and
 * the overlap (the config's, unless --overlap) or --force.
 */
static void
opts(struct hl_config *c, int64_t *overlap, int *force, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_err e = HL_ERR_INIT;
	const char *config = NULL, *ov = NULL;
	int ch;

	*force = 0;
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'o':
			if (strcmp(argv[1], "rotate") != 0)
				usage(1);
			ov = optarg;
			break;
		case 'f':
			if (strcmp(argv[1], "retire") != 0)
				usage(1);
			*force = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(1);
		}
	}
	if (config == NULL || optind != argc - 1)
		usage(1);
	if (hl_config_defaults(c) != 0)
		errx(1, "out of memory");
	if (hl_config_load(c, config, &e) != 0)
		errx(1, "%s", e.msg);
	*overlap = c->signing_overlap;
	if (ov != NULL && hl_review_duration(overlap, ov) != 0)
		errx(1, "--overlap: want a duration such as 7d, 12h or 3600s,"
		    " not \"%s\"", ov);
	if (c->signing_key == NULL || *c->signing_key == '\0')
		errx(1, "%s sets no signing_key, so there is no key to %s:"
		    " make one with `helios key generate FILE` and set"
		    " signing_key = FILE", config, argv[1]);
}

static int
rotate(int argc, char **argv)
{
	struct hl_config c;
	struct hl_signer_rotation r;
	struct hl_err e = HL_ERR_INIT;
	char t[32];
	int64_t overlap;
	int force;

	opts(&c, &overlap, &force, argc, argv);
	if (hl_signer_rotate(&r, c.signing_key, (int64_t)time(NULL), overlap,
	    &e) != 0)
		errx(1, "cannot rotate %s: %s", c.signing_key, e.msg);
	printf("new private key: %s\n"
	    "new public key: %s.pub\n"
	    "key id: %s\n"
	    "previous key: %s.previous (%s.previous.pub)\n"
	    "previous key id: %s\n"
	    "overlap until: %lld (%s)\n",
	    c.signing_key, c.signing_key, r.current, c.signing_key,
	    c.signing_key, r.previous, (long long)r.overlap_until,
	    utc(t, r.overlap_until));
	fprintf(stderr,
	    "helios key rotate: a running daemon signs every manifest with"
	    " both keys\nfrom its next publish (within seconds) until %s.\n"
	    "Give clients the new public key now: a keyring (helios pull"
	    " --key)\nholding either key verifies every manifest meanwhile."
	    "  After the overlap\nkey %s signs nothing; then remove it with"
	    " `helios key retire`.\n", t, r.previous);
	hl_config_free(&c);
	return 0;
}

static int
retire(int argc, char **argv)
{
	struct hl_config c;
	struct hl_signer_rotation r;
	struct hl_err e = HL_ERR_INIT;
	int64_t overlap;
	int force, rc;

	opts(&c, &overlap, &force, argc, argv);
	rc = hl_signer_retire(&r, c.signing_key, (int64_t)time(NULL), force,
	    &e);
	if (rc == HL_EBUSY)
		errx(1, "%s; --force retires it now, and clients whose keyring"
		    " lacks the new key then fail", e.msg);
	if (rc != 0)
		errx(1, "%s", e.msg);
	printf("retired key %s: %s.previous, %s.previous.pub and %s.rotation"
	    " removed; key %s signs alone\n", r.previous, c.signing_key,
	    c.signing_key, c.signing_key, r.current);
	hl_config_free(&c);
	return 0;
}

static int
status(int argc, char **argv)
{
	struct hl_config c;
	struct hl_signer *s = NULL;
	struct hl_signer_rotation r;
	struct hl_err e = HL_ERR_INIT;
	char ids[HL_SIGNER_MAX][HL_KEYRING_ID_LEN + 1], t[32], u[32];
	int64_t overlap, now = (int64_t)time(NULL);
	size_t n, i;
	int force, rc;

	opts(&c, &overlap, &force, argc, argv);
	if (hl_signer_open(&s, c.signing_key, &e) != 0)
		errx(1, "%s", e.msg);
	n = hl_signer_ids(ids, s, now);
	printf("signing now:");
	for (i = 0; i < n; i++)
		printf(" %s", ids[i]);
	printf("\n");
	rc = hl_signer_rotation(&r, c.signing_key, &e);
	if (rc == 0)
		printf("rotation from %s to %s began %s; overlap %s %s\n",
		    r.previous, r.current, utc(t, r.started_at),
		    now < r.overlap_until ? "until" : "ended",
		    utc(u, r.overlap_until));
	else if (rc != HL_ENOTFOUND)
		errx(1, "%s", e.msg);
	hl_signer_free(s);
	hl_config_free(&c);
	return 0;
}

int
hl_cmd_key(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		usage(0);
	if (argc < 2)
		usage(1);
	if (strcmp(argv[1], "generate") == 0)
		return generate(argc, argv);
	if (strcmp(argv[1], "rotate") == 0)
		return rotate(argc, argv);
	if (strcmp(argv[1], "retire") == 0)
		return retire(argc, argv);
	if (strcmp(argv[1], "status") == 0)
		return status(argc, argv);
	usage(1);
	return 1;
}
