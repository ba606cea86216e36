/*
 * cmd_pull: `helios pull`, the command a SmokeDetector instance runs to
 * keep a directory of its list files in step with a published tree.
 *
 * The poll itself is hl_pull_once() (pull.c); this file parses the
 * options, reports each poll in one line, and runs the --watch loop:
 * poll at the interval the manifest suggests (or --interval) with +-10%
 * jitter; after a failure wait 5 s, doubling up to an hour, and never
 * less than a Retry-After the server sent.
 *
 * The whole run, --watch included, holds DIR's lock (hl_pull_lock): two
 * pulls never write one directory at once.
 *
 * Exit status (also in --help and helios.1): 0 up to date, 1 usage,
 * 2 network or server error, 3 integrity (hash, size, gzip), 4 rollback,
 * 5 expired manifest, 6 bad or missing signature, 7 local file error,
 * 8 a file over --max-size, 9 DIR holds files pull did not write (local
 * edits, kept), 10 another pull holds DIR's lock.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "client.h"
#include "fetch.h"
#include "pull.h"

#define BACKOFF_FIRST	5
#define BACKOFF_MAX	3600
#define RETRY_AFTER_MAX	86400
#define DEFAULT_POLL	60

static const char pull_usage[] =
"usage: helios pull [--watch] [--key PUBKEY] [--state FILE] [--interval SECS]\n"
"                   [--full] [--force] [--json] [--max-size BYTES] [--stats]\n"
"                   [-q] URL DIR\n"
"\n"
"Keeps DIR holding SmokeDetector's list files and notifications.json in\n"
"step with the published tree at URL (a directory, file://, http(s)://).\n"
"\n"
"  --watch          keep polling at the manifest's poll_interval\n"
"  --key PUBKEY     require a signature of the manifest to verify with this\n"
"                   Ed25519 public key (PEM), or with any key of this keyring\n"
"                   (PEM keys one after the other) the manifest names\n"
"  --state FILE     the state file (default DIR/.helios-state.json)\n"
"  --interval SECS  poll every SECS seconds instead (with --watch)\n"
"  --full           download changed lists whole, never apply changes\n"
"  --json           also write each list's JSON (watched_keywords.json\n"
"                   beside watched_keywords.txt), a big list assembled from\n"
"                   its segments, every one checked\n"
"  --force          replace files in DIR that pull did not write (local\n"
"                   edits, damage, files there before the first pull)\n"
"  --max-size BYTES refuse a file larger than this (suffix k, M or G;\n"
"                   default 64M)\n"
"  --stats          print requests=N bytes=M after each poll\n"
"  -q               print nothing but errors\n"
"\n"
"Exit status:\n"
"  0  up to date (updated, or nothing changed)\n"
"  1  usage error\n"
"  2  network or server error (unreachable, timeout, HTTP 4xx/5xx)\n"
"  3  integrity error (a hash or size does not match, bad gzip or JSON)\n"
"  4  rollback: the manifest's version is lower than one already seen\n"
"  5  the manifest has expired (the mirror stopped updating)\n"
"  6  no signature of the manifest verifies (--key)\n"
"  7  local error (cannot read or write DIR or the state file)\n"
"  8  a file is larger than --max-size (or manifest.json over 1 MiB)\n"
"  9  a file in DIR is not what pull last wrote (edited, appended to,\n"
"     damaged, or there before the first pull): kept; see --force\n"
"  10 another helios pull is running in DIR\n"
"In every error case the files in DIR are left as they were.  Pull writes\n"
"only SmokeDetector's list files (and with --json their .json), \n"
"notifications.json, .helios-state.json and .helios-lock in DIR; lists it\n"
"does not know are skipped.\n";

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(int status)
{
	fputs(pull_usage, status ? stderr : stdout);
	exit(status);
}

/* Sleeps secs seconds, or until a signal asks to stop. */
static void
nap(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (!stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double
jitter(double secs)
{
	return secs * (0.9 + 0.2 * (double)arc4random_uniform(10001) / 10000);
}

static int
key_ok(const char *path)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "helios pull: %s: %s\n", path,
		    strerror(errno));
		return 0;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL) {
		fprintf(stderr, "helios pull: %s: not a PEM public key\n",
		    path);
		return 0;
	}
	EVP_PKEY_free(k);
	return 1;
}

static void
report(const struct hl_pull_report *rep, const struct hl_err *e,
    const struct hl_fetch_stats *a, const struct hl_fetch_stats *b,
    int quiet, int stats)
{
	if (rep->skipped > 0)
		fprintf(stderr, "helios pull: warning: skipped %zu list%s this"
		    " client does not know: %s\n", rep->skipped,
		    rep->skipped == 1 ? "" : "s", rep->skipped_ids);
	if (rep->status == HL_PULL_OK && rep->fellback > 0)
		fprintf(stderr, "helios pull: warning: %zu .gz file%s missing"
		    " or not the one the manifest names; the file itself was"
		    " taken instead (helios verify names them)\n",
		    rep->fellback, rep->fellback == 1 ? " was" : "s were");
	if (rep->status == HL_PULL_OK && rep->replaced > 0)
		fprintf(stderr, "helios pull: --force: replaced %zu file%s"
		    " that pull had not written\n", rep->replaced,
		    rep->replaced == 1 ? "" : "s");
	if (rep->status != HL_PULL_OK)
		fprintf(stderr, "helios pull: %s (exit %d)\n", e->msg,
		    rep->status);
	else if (quiet)
		;
	else if (rep->unchanged)
		printf("up to date at version %lld\n",
		    (long long)rep->version);
	else
		printf("version %lld -> %lld: %zu list%s patched, %zu file%s"
		    " downloaded, %zu unchanged\n", (long long)rep->from,
		    (long long)rep->version, rep->patched,
		    rep->patched == 1 ? "" : "s", rep->downloaded,
		    rep->downloaded == 1 ? "" : "s", rep->kept);
	if (stats) {
		printf("requests=%llu bytes=%llu",
		    (unsigned long long)(b->requests - a->requests),
		    (unsigned long long)(b->bytes - a->bytes));
		if (rep->reused > 0)
			printf(" reused=%zu", rep->reused);
		printf("\n");
	}
	fflush(stdout);
}

int
hl_cmd_pull(int argc, char **argv)
{
	enum { O_WATCH = 256, O_KEY, O_STATE, O_INTERVAL, O_FULL, O_STATS,
	    O_FORCE, O_MAX_SIZE, O_JSON };
	static const struct option longopts[] = {
		{ "watch", no_argument, NULL, O_WATCH },
		{ "key", required_argument, NULL, O_KEY },
		{ "state", required_argument, NULL, O_STATE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "full", no_argument, NULL, O_FULL },
		{ "stats", no_argument, NULL, O_STATS },
		{ "force", no_argument, NULL, O_FORCE },
		{ "json", no_argument, NULL, O_JSON },
		{ "max-size", required_argument, NULL, O_MAX_SIZE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_pull_opts o = { 0 };
	struct hl_pull_report rep;
	struct hl_fetch_stats a, b;
	struct hl_fetch *f = NULL;
	struct hl_err e = HL_ERR_INIT;
	struct sigaction sa;
	struct stat sb;
	char *end;
	double wait, backoff = 0;
	long interval = 0;
	int ch, watch = 0, stats = 0, quiet = 0, status, lock = -1, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (ch) {
		case O_WATCH:
			watch = 1;
			break;
		case O_KEY:
			o.pubkey = optarg;
			break;
		case O_STATE:
			o.state = optarg;
			break;
		case O_INTERVAL:
			errno = 0;
			interval = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || interval < 1 ||
			    interval > 86400) {
				fprintf(stderr, "helios pull: --interval: 1 to"
				    " 86400 seconds\n");
				usage(1);
			}
			break;
		case O_JSON:
			o.json = 1;
			break;
		case O_FULL:
			o.no_changes = 1;
			break;
		case O_STATS:
			stats = 1;
			break;
		case O_FORCE:
			o.force = 1;
			break;
		case O_MAX_SIZE:
			if (hl_pull_parse_size(&o.max_size, optarg) != 0) {
				fprintf(stderr, "helios pull: --max-size: a"
				    " size such as 67108864, 64M or 1G, at"
				    " most 1T\n");
				usage(1);
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (argc - optind != 2)
		usage(1);
	o.url = argv[optind];
	o.dir = argv[optind + 1];
	if (o.pubkey && !key_ok(o.pubkey))
		return HL_PULL_USAGE;
	if (stat(o.dir, &sb) == -1 && errno == ENOENT &&
	    mkdir(o.dir, 0755) == -1) {
		fprintf(stderr, "helios pull: %s: %s\n", o.dir,
		    strerror(errno));
		return HL_PULL_LOCAL;
	}
	if (stat(o.dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "helios pull: %s: not a directory\n", o.dir);
		return HL_PULL_LOCAL;
	}
	if (hl_fetch_new(&f, o.url, NULL, &e) != 0) {
		fprintf(stderr, "helios pull: %s\n", e.msg);
		return HL_PULL_USAGE;
	}
	if ((rc = hl_pull_lock(&lock, o.dir, &e)) != 0) {
		fprintf(stderr, "helios pull: %s (exit %d)\n", e.msg,
		    rc == HL_EBUSY ? HL_PULL_LOCKED : HL_PULL_LOCAL);
		hl_fetch_free(f);
		return rc == HL_EBUSY ? HL_PULL_LOCKED : HL_PULL_LOCAL;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (watch) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	do {
		hl_err_clear(&e);
		hl_fetch_stats(&a, f);
		hl_pull_once(&rep, f, &o, &e);
		hl_fetch_stats(&b, f);
		report(&rep, &e, &a, &b, quiet, stats);
		status = rep.status;
		if (!watch)
			break;
		if (status == HL_PULL_OK) {
			backoff = 0;
			wait = interval ? interval : rep.poll_interval > 0 ?
			    (double)rep.poll_interval : DEFAULT_POLL;
		} else {
			backoff = backoff == 0 ? BACKOFF_FIRST :
			    backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
			wait = backoff;
		}
		wait = jitter(wait);
		if (rep.retry_after > wait)
			wait = rep.retry_after > RETRY_AFTER_MAX ?
			    RETRY_AFTER_MAX : (double)rep.retry_after;
		nap(wait);
	} while (!stop);
	hl_pull_unlock(lock);
	hl_fetch_free(f);
	return watch && stop ? 0 : status;
}
