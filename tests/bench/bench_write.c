/*
 * bench_write: acknowledged durable writes per second and POST latency
 * against a running daemon.
 *
 *   bench_write [--fsync DIR] URL TOKEN LIST SECONDS CLIENTS...
 *
 * For each CLIENTS count (e.g. "1 8"), that many threads each open their
 * own libcurl easy handle (one keep-alive connection) and POST distinct
 * patterns to URL/blacklists/LIST for SECONDS seconds.  A write counts
 * when the daemon answers 201, which it does only once the change is
 * durable.  Prints one table row per CLIENTS count: writes, errors,
 * writes/s and the latency percentiles of every request, then the
 * throughput ratio of each row to the first, and the changes per commit
 * (helios_store_changes_total / helios_store_commits_total of /metrics
 * over the row: how many writers one fsync served).  With --fsync, the first
 * row is the disk's own bound, measured in DIR (the database's directory)
 * for SECONDS: one thread appending 100 bytes and calling fdatasync(), as
 * a commit that waits for nobody would; the ratios are then against it.
 * Figures, no assertions; with BENCH_SUMMARY set, the p50s, the rates and
 * the changes per commit also go to the file it names (fact()), from
 * which run.sh takes its medians and its summary page.
 */
#include <fcntl.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct worker {
	pthread_t	 th;
	const char	*url;
	const char	*token;
	int		 id;
	int		 round;
	double		 deadline;	/* CLOCK_MONOTONIC seconds */
	double		*lat;		/* ms, one per request */
	size_t		 n;
	size_t		 cap;
	size_t		 ok;
	size_t		 errors;
	long		 last_code;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
discard(char *p, size_t size, size_t n, void *payload)
{
	return size * n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int
post(CURL *h, struct worker *w, long i, double *ms)
{
	char body[160];
	long code = 0;
	double t0;

	snprintf(body, sizeof(body),
	    "{\"pattern\": \"bench-write-%ld-%d-%d-%ld\\\\.example\\\\.com\"}",
	    (long)getpid(), w->round, w->id, i);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	t0 = now();
	if (curl_easy_perform(h) != CURLE_OK)
		code = -1;
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	*ms = (now() - t0) * 1e3;
	w->last_code = code;
	return code == 201 ? 0 : -1;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct curl_slist *hdr = NULL;
	char url[512], auth[256];
	double ms, *nv;
	long i;
	CURL *h;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	snprintf(url, sizeof(url), "%s", w->url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w->token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	/* Two unmeasured requests open the connection and warm the path. */
	for (i = 0; i < 2; i++)
		(void)post(h, w, -1 - i, &ms);
	for (i = 0; now() < w->deadline; i++) {
		if (post(h, w, i, &ms) == 0)
			w->ok++;
		else
			w->errors++;
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1024;
			if ((nv = realloc(w->lat, w->cap * sizeof(*nv))) ==
			    NULL)
				break;
			w->lat = nv;
		}
		w->lat[w->n++] = ms;
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

static size_t
keep(char *p, size_t size, size_t n, void *payload)
{
	char *b = payload;
	size_t have = strlen(b), add = size * n;

	if (add > 65535 - have)
		add = 65535 - have;
	memcpy(b + have, p, add);
	b[have + add] = '\0';
	return size * n;
}

/*
 * The daemon's group commit counters from base/metrics: *commits and
 * *changes, both -1 when they cannot be read.
 */
#define C_KEY	"\nhelios_store_commits_total "
#define N_KEY	"\nhelios_store_changes_total "

static void
commits_read(const char *base, double *commits, double *changes)
{
	static char body[65536];
	char url[512], *p;
	CURL *h;

	*commits = *changes = -1;
	body[0] = '\0';
	snprintf(url, sizeof(url), "%s/metrics", base);
	if ((h = curl_easy_init()) == NULL)
		return;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK) {
		if ((p = strstr(body, C_KEY)) != NULL)
			*commits = atof(p + strlen(C_KEY));
		if ((p = strstr(body, N_KEY)) != NULL)
			*changes = atof(p + strlen(N_KEY));
	}
	curl_easy_cleanup(h);
}

/*
 * One figure for run.sh's summary page: appends "KEY.C.what<TAB>v" to the
 * file $BENCH_SUMMARY names, KEY being $BENCH_KEY (default "write") and C
 * the clients count, or "fsync" for c == 0.
 */
static void
fact(int c, const char *what, double v)
{
	const char *path = getenv("BENCH_SUMMARY"), *key = getenv("BENCH_KEY");
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
		return;
	if (c == 0)
		fprintf(f, "%s.fsync.%s\t%.3f\n", key ? key : "write", what, v);
	else
		fprintf(f, "%s.%d.%s\t%.3f\n", key ? key : "write", c, what, v);
	fclose(f);
}

/* The fsync bound row: appends and fdatasync()s in dir for secs. */
static double
fsync_row(const char *dir, double secs)
{
	char path[4096], line[100];
	double t0, t, *lat = NULL, *nv, rate, mean = 0;
	size_t n = 0, cap = 0, i;
	int fd;

	snprintf(path, sizeof(path), "%s/bench-fsync.tmp", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
	    0600)) < 0) {
		perror(path);
		return 0;
	}
	memset(line, 'x', sizeof(line));
	t0 = now();
	while (now() < t0 + secs) {
		t = now();
		if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line) ||
		    fdatasync(fd) != 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nv = realloc(lat, cap * sizeof(*nv))) == NULL)
				break;
			lat = nv;
		}
		lat[n++] = (now() - t) * 1e3;
	}
	rate = (double)n / (now() - t0);
	close(fd);
	unlink(path);
	qsort(lat, n, sizeof(*lat), cmp_double);
	for (i = 0; i < n; i++)
		mean += lat[i];
	mean = n ? mean / (double)n : 0;
	printf("%-8s %8zu %7d %10.1f %8.2f %8.2f %8.2f %8.2f %8.2f"
	    " %6.2fx %8.2f\n", "fsync", n, 0, rate, pct(lat, n, 50),
	    pct(lat, n, 90), pct(lat, n, 99), n ? lat[n - 1] : 0, mean, 1.0,
	    1.0);
	fflush(stdout);
	fact(0, "p50", pct(lat, n, 50));
	fact(0, "rate", rate);
	free(lat);
	return rate;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	double secs, t0, el, *all, first = 0, rate, mean;
	double c0, n0, c1, n1, per;
	size_t n, ok, errors, i;
	char url[512];
	const char *fsdir = NULL;
	long last;
	int a, c, k;

	if (argc > 2 && strcmp(argv[1], "--fsync") == 0) {
		fsdir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 6) {
		fprintf(stderr, "usage: bench_write [--fsync DIR] URL TOKEN"
		    " LIST SECONDS CLIENTS...\n");
		return 2;
	}
	secs = atof(argv[4]);
	snprintf(url, sizeof(url), "%s/blacklists/%s", argv[1], argv[3]);
	curl_global_init(CURL_GLOBAL_ALL);
	printf("%-8s %8s %7s %10s %8s %8s %8s %8s %8s %7s %8s\n",
	    "clients", "writes", "errors", "writes/s", "p50 ms", "p90 ms",
	    "p99 ms", "max ms", "mean ms", "ratio", "w/fsync");
	if (fsdir != NULL)
		first = fsync_row(fsdir, secs);
	for (a = 5; a < argc; a++) {
		c = atoi(argv[a]);
		if (c < 1 || (w = calloc((size_t)c, sizeof(*w))) == NULL)
			return 2;
		commits_read(argv[1], &c0, &n0);
		t0 = now();
		for (k = 0; k < c; k++) {
			w[k].url = url;
			w[k].token = argv[2];
			w[k].id = k;
			w[k].round = a;
			w[k].deadline = t0 + secs;
			pthread_create(&w[k].th, NULL, run, &w[k]);
		}
		for (k = 0; k < c; k++)
			pthread_join(w[k].th, NULL);
		el = now() - t0;
		commits_read(argv[1], &c1, &n1);
		n = ok = errors = 0;
		last = 0;
		for (k = 0; k < c; k++) {
			n += w[k].n;
			ok += w[k].ok;
			errors += w[k].errors;
			if (w[k].errors)
				last = w[k].last_code;
		}
		if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
			return 2;
		n = 0;
		for (k = 0; k < c; k++) {
			memcpy(all + n, w[k].lat, w[k].n * sizeof(*all));
			n += w[k].n;
			free(w[k].lat);
		}
		qsort(all, n, sizeof(*all), cmp_double);
		rate = (double)ok / el;
		if (a == 5 && fsdir == NULL)
			first = rate;
		for (mean = 0, i = 0; i < n; i++)
			mean += all[i];
		mean = n ? mean / (double)n : 0;
		per = c0 >= 0 && c1 > c0 ? (n1 - n0) / (c1 - c0) : 0;
		printf("%-8d %8zu %7zu %10.1f %8.2f %8.2f %8.2f %8.2f %8.2f"
		    " %6.2fx %8.2f\n", c, ok, errors, rate, pct(all, n, 50),
		    pct(all, n, 90), pct(all, n, 99), n ? all[n - 1] : 0, mean,
		    first > 0 ? rate / first : 0, per);
		fact(c, "p50", pct(all, n, 50));
		fact(c, "rate", rate);
		if (per > 0)
			fact(c, "per_commit", per);
		if (errors)
			printf("  (%zu errors; last HTTP status %ld)\n",
			    errors, last);
		fflush(stdout);
		free(all);
		free(w);
	}
	curl_global_cleanup();
	return 0;
}
