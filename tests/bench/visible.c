/*
 * visible: write-to-visible latency of a running daemon.
 *
 *   visible URL TOKEN LIST COUNT MAXSECONDS LABEL
 *
 * First waits until the daemon's published manifest (URL/manifest.json)
 * shows the store's version from /healthz, so that the start-up publish is
 * not measured.  Then, COUNT times or until MAXSECONDS have passed: POSTs
 * a new pattern to URL/blacklists/LIST, takes the version from the 201
 * answer, and polls URL/manifest.json with If-None-Match (as a client
 * does; unchanged polls are 304s) until the manifest names that version or
 * a later one.  The time from the POST's answer to that read is the
 * write-to-visible latency.  Each write waits for the previous one to be
 * visible, so every write is published on its own.  Prints one table row.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct resp {
	char	*data;
	size_t	 len;
	char	 etag[128];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
collect(char *p, size_t size, size_t n, void *payload)
{
	struct resp *r = payload;
	char *nd;

	if ((nd = realloc(r->data, r->len + size * n + 1)) == NULL)
		return 0;
	r->data = nd;
	memcpy(r->data + r->len, p, size * n);
	r->len += size * n;
	r->data[r->len] = '\0';
	return size * n;
}

static size_t
header(char *p, size_t size, size_t n, void *payload)
{
	struct resp *r = payload;
	size_t len = size * n, k;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		p += 5;
		len -= 5;
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		k = len < sizeof(r->etag) - 1 ? len : sizeof(r->etag) - 1;
		memcpy(r->etag, p, k);
		r->etag[k] = '\0';
	}
	return size * n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

/* The integer "version" of a JSON body, or -1. */
static long long
version_of(const struct resp *r)
{
	json_t *j, *v;
	long long ver = -1;

	if (r->data == NULL ||
	    (j = json_loadb(r->data, r->len, 0, NULL)) == NULL)
		return -1;
	if ((v = json_object_get(j, "version")) != NULL &&
	    json_is_integer(v))
		ver = (long long)json_integer_value(v);
	json_decref(j);
	return ver;
}

/*
 * GETs url on h (keep-alive).  With an ETag from an earlier answer, sends
 * If-None-Match and keeps *last on a 304.  Returns the HTTP status.
 */
static long
get(CURL *h, const char *url, struct resp *r, long long *last)
{
	struct curl_slist *hdr = NULL;
	char inm[160];
	long code = 0;

	free(r->data);
	r->data = NULL;
	r->len = 0;
	if (r->etag[0] != '\0') {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", r->etag);
		hdr = curl_slist_append(hdr, inm);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (code == 200 && last != NULL)
		*last = version_of(r);
	return code;
}

static CURL *
handle(struct resp *r)
{
	CURL *h;

	if ((h = curl_easy_init()) == NULL)
		exit(1);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	return h;
}

int
main(int argc, char **argv)
{
	struct resp pr = { NULL, 0, "" }, mr = { NULL, 0, "" };
	struct curl_slist *hdr = NULL;
	CURL *ph, *mh;
	char murl[512], purl[512], hurl[512], auth[256], body[160];
	double *vis, *ack, t0, t1, start, maxs, first;
	long long want, seen = -1;
	long code;
	size_t n = 0, count, i, polls = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: visible URL TOKEN LIST COUNT"
		    " MAXSECONDS LABEL\n");
		return 2;
	}
	count = strtoul(argv[4], NULL, 10);
	maxs = atof(argv[5]);
	if ((vis = calloc(count + 1, sizeof(*vis))) == NULL ||
	    (ack = calloc(count + 1, sizeof(*ack))) == NULL)
		return 1;
	snprintf(murl, sizeof(murl), "%s/manifest.json", argv[1]);
	snprintf(hurl, sizeof(hurl), "%s/healthz", argv[1]);
	snprintf(purl, sizeof(purl), "%s/blacklists/%s", argv[1], argv[3]);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argv[2]);
	curl_global_init(CURL_GLOBAL_ALL);
	ph = handle(&pr);
	mh = handle(&mr);

	/* The start-up publish is not part of the measure. */
	start = now();
	if (get(ph, hurl, &pr, &want) != 200 || want < 0) {
		fprintf(stderr, "visible: %s: no version\n", hurl);
		return 1;
	}
	for (;;) {
		(void)get(mh, murl, &mr, &seen);
		if (seen >= want)
			break;
		if (now() - start > 900) {
			fprintf(stderr, "visible: version %lld never"
			    " published\n", want);
			return 1;
		}
		usleep(20000);
	}
	first = now() - start;

	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	start = now();
	for (i = 0; i < count && now() - start < maxs; i++) {
		snprintf(body, sizeof(body), "{\"pattern\": \"visible-%ld-%zu"
		    "\\\\.example\\\\.org\"}", (long)getpid(), i);
		curl_easy_setopt(ph, CURLOPT_URL, purl);
		curl_easy_setopt(ph, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(ph, CURLOPT_POSTFIELDS, body);
		free(pr.data);
		pr.data = NULL;
		pr.len = 0;
		t0 = now();
		code = 0;
		if (curl_easy_perform(ph) == CURLE_OK)
			curl_easy_getinfo(ph, CURLINFO_RESPONSE_CODE, &code);
		t1 = now();
		if (code != 201 || (want = version_of(&pr)) < 0) {
			fprintf(stderr, "visible: POST answered %ld\n", code);
			break;
		}
		while (seen < want) {
			polls++;
			if (get(mh, murl, &mr, &seen) == 0 ||
			    now() - t1 > 600) {
				fprintf(stderr, "visible: version %lld not"
				    " visible\n", want);
				return 1;
			}
			if (seen < want)
				usleep(500);
		}
		vis[n] = (now() - t1) * 1e3;
		ack[n++] = (t1 - t0) * 1e3;
	}
	qsort(vis, n, sizeof(*vis), cmp_double);
	qsort(ack, n, sizeof(*ack), cmp_double);
	printf("%-14s %7zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.1f\n",
	    argv[6], n, pct(ack, n, 50), pct(vis, n, 50), pct(vis, n, 90),
	    pct(vis, n, 99), n ? vis[n - 1] : 0,
	    n ? (double)polls / (double)n : 0, first);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(ph);
	curl_easy_cleanup(mh);
	free(pr.data);
	free(mr.data);
	free(vis);
	free(ack);
	curl_global_cleanup();
	return 0;
}
