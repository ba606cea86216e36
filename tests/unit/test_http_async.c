/*
 * test_http_async: writes that wait for their commit hold no HTTP thread.
 * The real server (hl_http_start, 2 threads) over a real store whose
 * syncs are slowed (crashvfs), driven with libcurl from a thread per
 * request: concurrent writes share commits, a static file and /healthz
 * are answered while writes wait, a client that leaves while its write
 * waits loses nothing else, and a stop with writes waiting answers them
 * and keeps every acknowledged one.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "auth.h"
#include "crashvfs.h"
#include "http.h"
#include "static.h"
#include "store.h"

#define NWRITES		8
#define NSHARE		12
#define LIST		"watch-keyword"

struct fx {
	char		 dir[64];
	char		 db[128];
	struct hl_store	*st;
	struct hl_static *site;
	struct hl_http	*h;
	int		 port;
	char		 auth[HL_AUTH_TOKEN_LEN + 32];
};

/* One request made from a thread of its own. */
struct call {
	struct fx	*f;
	const char	*method;
	char		 path[128];
	char		 body[128];
	long		 status;	/* 0: no answer */
	double		 ms;
	pthread_t	 th;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void
do_call(struct call *c)
{
	struct curl_slist *hdr = NULL;
	char url[256];
	double t0 = now_ms();
	CURL *e;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", c->f->port,
	    c->path);
	e = curl_easy_init();
	assert_non_null(e);
	hdr = curl_slist_append(hdr, c->f->auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	if (c->body[0] != '\0')
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	c->status = 0;
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
	c->ms = now_ms() - t0;
	curl_slist_free_all(hdr);
	curl_easy_cleanup(e);
}

static void *
call_thread(void *arg)
{
	do_call(arg);
	return NULL;
}

static void
start_post(struct call *c, struct fx *f, const char *value)
{
	c->f = f;
	c->method = "POST";
	snprintf(c->path, sizeof(c->path), "/blacklists/" LIST);
	snprintf(c->body, sizeof(c->body), "{\"pattern\":\"%s\"}", value);
	assert_int_equal(pthread_create(&c->th, NULL, call_thread, c), 0);
}

static long
get(struct fx *f, const char *path, double *ms)
{
	struct call c = { .f = f, .method = "GET" };

	snprintf(c.path, sizeof(c.path), "%s", path);
	do_call(&c);
	*ms = c.ms;
	return c.status;
}

static void
start_server(struct fx *f)
{
	struct hl_http_opts o = HL_HTTP_OPTS_INIT;
	struct hl_err err = HL_ERR_INIT;

	o.listen = "127.0.0.1:0";
	o.store = f->st;
	o.site = f->site;
	o.threads = 2;
	o.rate_exempt = "127.0.0.1";
	assert_int_equal(hl_http_start(&f->h, &o, &err), 0);
	f->port = hl_http_port(f->h);
}

static int
setup(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_token t = { 0 };
	unsigned char hash[32];
	char tok[HL_AUTH_TOKEN_LEN + 1], path[192];
	struct fx *f;
	FILE *fp;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hl-async-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/helios.db", f->dir);
	snprintf(path, sizeof(path), "%s/site", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/site/hello.txt", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("hello\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/site", f->dir);
	assert_int_equal(hl_static_new(&f->site, path, &err), 0);
	assert_int_equal(hl_crashvfs_register(), SQLITE_OK);
	hl_crashvfs_reset();
	assert_int_equal(hl_store_open(&f->st, f->db, &err), 0);
	assert_int_equal(hl_auth_token_new(tok, &err), 0);
	hl_auth_token_hash(hash, tok);
	assert_int_equal(hl_store_token_add(&t, f->st, "root", hash,
	    HL_SCOPE_ADMIN, "test", &err), 0);
	hl_token_clear(&t);
	snprintf(f->auth, sizeof(f->auth), "Authorization: Bearer %s", tok);
	start_server(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	hl_crashvfs_sync_delay(0);
	hl_http_stop(f->h);
	hl_store_close(f->st);
	hl_static_free(f->site);
	hl_crashvfs_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Whether the list holds value now. */
static int
holds(struct hl_store *st, const char *value)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_item *v = NULL;
	size_t n = 0, i;
	int found = 0;

	assert_int_equal(hl_store_items(&v, &n, st, LIST, 0, &err), 0);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].value, value) == 0)
			found = 1;
	hl_items_free(v, n);
	return found;
}

/*
 * Twelve concurrent writes on two threads: every one is acknowledged and
 * stored, in far fewer commits than writes.  A write that held its
 * thread until its commit would let at most two share one: six commits
 * at least.
 */
static void
writes_on_two_threads_share_commits(void **state)
{
	struct fx *f = *state;
	struct call c[NSHARE];
	uint64_t commits0, commits1, changes0, changes1;
	char value[64];
	int i;

	hl_crashvfs_sync_delay(150);
	hl_store_stats(&commits0, &changes0, f->st);
	for (i = 0; i < NSHARE; i++) {
		snprintf(value, sizeof(value), "share-example%d", i);
		start_post(&c[i], f, value);
	}
	for (i = 0; i < NSHARE; i++)
		pthread_join(c[i].th, NULL);
	hl_crashvfs_sync_delay(0);
	hl_store_stats(&commits1, &changes1, f->st);
	for (i = 0; i < NSHARE; i++) {
		assert_int_equal(c[i].status, 201);
		snprintf(value, sizeof(value), "share-example%d", i);
		assert_true(holds(f->st, value));
	}
	/* The token's last use may be recorded too. */
	assert_true(changes1 - changes0 >= NSHARE);
	printf("# %d writes, %d commits\n", NSHARE,
	    (int)(commits1 - commits0));
	if (commits1 - commits0 > NSHARE / 3)
		fail_msg("%d writes took %d commits on 2 threads", NSHARE,
		    (int)(commits1 - commits0));
}

/*
 * While eight writes wait for slow commits, a static file and /healthz
 * are answered well within one commit's time.
 */
static void
reads_are_answered_while_writes_wait(void **state)
{
	struct fx *f = *state;
	struct call c[NWRITES];
	char value[64];
	double ms_file, ms_health;
	long st_file, st_health;
	int i;

	hl_crashvfs_sync_delay(600);
	for (i = 0; i < NWRITES; i++) {
		snprintf(value, sizeof(value), "wait-example%d", i);
		start_post(&c[i], f, value);
	}
	usleep(150 * 1000);
	st_file = get(f, "/hello.txt", &ms_file);
	st_health = get(f, "/healthz", &ms_health);
	for (i = 0; i < NWRITES; i++)
		pthread_join(c[i].th, NULL);
	hl_crashvfs_sync_delay(0);
	assert_int_equal(st_file, 200);
	assert_int_equal(st_health, 200);
	for (i = 0; i < NWRITES; i++)
		assert_int_equal(c[i].status, 201);
	if (ms_file > 300 || ms_health > 300)
		fail_msg("a static GET took %.0f ms and /healthz %.0f ms while"
		    " writes waited (a commit takes 600 ms)", ms_file,
		    ms_health);
}

/* Sends a POST on a raw socket and returns the socket, unread. */
static int
raw_post(struct fx *f, const char *value)
{
	struct sockaddr_in sa;
	char body[128], req[1024];
	int fd, n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)f->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(body, sizeof(body), "{\"pattern\":\"%s\"}", value);
	n = snprintf(req, sizeof(req), "POST /blacklists/" LIST " HTTP/1.1\r\n"
	    "Host: x\r\n%s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", f->auth, strlen(body), body);
	assert_int_equal(send(fd, req, (size_t)n, 0), n);
	return fd;
}

/*
 * A client that goes away while its write waits for a commit: the write
 * is still made, the others are answered, the server goes on serving.
 */
static void
a_client_that_leaves_while_waiting_harms_nothing(void **state)
{
	struct fx *f = *state;
	struct call first, after;
	double ms;
	int fd, i;

	hl_crashvfs_sync_delay(400);
	start_post(&first, f, "lead-example");
	usleep(100 * 1000);
	fd = raw_post(f, "gone-example");
	start_post(&after, f, "after-example");
	usleep(100 * 1000);
	close(fd);
	pthread_join(first.th, NULL);
	pthread_join(after.th, NULL);
	hl_crashvfs_sync_delay(0);
	assert_int_equal(first.status, 201);
	assert_int_equal(after.status, 201);
	for (i = 0; i < 50 && !holds(f->st, "gone-example"); i++)
		usleep(100 * 1000);
	assert_true(holds(f->st, "gone-example"));
	assert_int_equal(get(f, "/healthz", &ms), 200);
}

/*
 * A stop while writes wait for a slow commit: it returns, every write
 * acknowledged 201 is in the store after a reopen, and the others got no
 * answer rather than a wrong one.
 */
static void
a_stop_with_writes_waiting_keeps_every_acknowledged_one(void **state)
{
	struct fx *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct call c[NWRITES];
	char value[64];
	double t0;
	int i, acked = 0;

	hl_crashvfs_sync_delay(300);
	for (i = 0; i < NWRITES; i++) {
		snprintf(value, sizeof(value), "stop-example%d", i);
		start_post(&c[i], f, value);
	}
	usleep(150 * 1000);
	t0 = now_ms();
	hl_http_stop(f->h);
	f->h = NULL;
	if (now_ms() - t0 > 8000)
		fail_msg("the stop took %.0f ms", now_ms() - t0);
	for (i = 0; i < NWRITES; i++)
		pthread_join(c[i].th, NULL);
	hl_crashvfs_sync_delay(0);
	hl_store_close(f->st);
	assert_int_equal(hl_store_open(&f->st, f->db, &err), 0);
	for (i = 0; i < NWRITES; i++) {
		assert_true(c[i].status == 201 || c[i].status == 0);
		snprintf(value, sizeof(value), "stop-example%d", i);
		if (c[i].status == 201) {
			acked++;
			assert_true(holds(f->st, value));
		}
	}
	assert_true(acked > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    writes_on_two_threads_share_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    reads_are_answered_while_writes_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_client_that_leaves_while_waiting_harms_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    a_stop_with_writes_waiting_keeps_every_acknowledged_one,
		    setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
