/*
 * test_gitstream: the TCP stream under the git targets' http(s)
 * (gen/targets/gitstream.c), against real sockets on 127.0.0.1 made here:
 * a listener whose connections are accepted and driven by the test, or
 * left unanswered (the kernel completes the handshake of a listening
 * socket's backlog, so a client connects and then hears nothing: a server
 * that hangs).  And a git target publishing to such a server: it fails
 * with a timeout instead of hanging (an alarm ends the binary if not);
 * and one publishing over https, through the TLS libgit2 puts on this
 * stream, to nginx + git-http-backend (tests/tools/git-http.sh with
 * GIT_HTTP_TLS=1, its self-signed certificate trusted by SSL_CERT_FILE).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
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
#include <git2.h>

#include "err.h"
#include "gitstream.h"
#include "pub_git.h"
#include "testgit.h"
#include "tree.h"

/* The https server of the group: its directory and port. */
static char	tls_dir[] = "/tmp/hl-gitstream-tls-XXXXXX";
static char	tls_port[16];

/* Runs a shell command; its first line of output in out (may be NULL). */
static int
run(char *out, size_t n, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL) {
		out[0] = '\0';
		if (fgets(out, (int)n, p) != NULL)
			out[strcspn(out, "\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return st;
}

/*
 * Starts the https git server before any git target opens: libgit2
 * reads SSL_CERT_FILE once.
 */
static int
group_setup(void **state)
{
	char path[256];

	(void)state;
	if (mkdtemp(tls_dir) == NULL ||
	    run(tls_port, sizeof(tls_port), "GIT_HTTP_TLS=1 sh %s start %s "
	    "alice s3cret", hl_testgit_server(), tls_dir) != 0 ||
	    tls_port[0] == '\0')
		return -1;
	(void)snprintf(path, sizeof(path), "%s/tls.crt", tls_dir);
	setenv("SSL_CERT_FILE", path, 1);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unsetenv("SSL_CERT_FILE");
	return run(NULL, 0, "sh %s stop %s; rm -rf %s", hl_testgit_server(),
	    tls_dir,
	    tls_dir) == 0 ? 0 : -1;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A listening socket on a free port of 127.0.0.1; *port its number. */
static int
listener(char *port, size_t n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	(void)snprintf(port, n, "%u", ntohs(a.sin_port));
	return fd;
}

static int
port_of(int fd, int peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &len) :
	    getsockname(fd, (struct sockaddr *)&a, &len)) != 0 ||
	    a.sin_family != AF_INET)
		return -1;
	return ntohs(a.sin_port);
}

/* The descriptor of this process whose local port is the peer of srv. */
static int
client_fd(int srv)
{
	int fd, want = port_of(srv, 1);

	for (fd = 3; fd < 1024; fd++)
		if (fd != srv && port_of(fd, 0) == want)
			return fd;
	return -1;
}

static git_stream *
connected(const char *port, int ms)
{
	git_stream *s = NULL;

	hl_gitstream_set_timeout(ms);
	assert_int_equal(hl_gitstream_new(&s, "127.0.0.1", port), 0);
	assert_int_equal(s->connect(s), 0);
	return s;
}

static const char *
last_error(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "";
}

static void
test_a_connection_has_nodelay_and_carries_bytes_both_ways(void **state)
{
	char port[16], buf[64];
	git_stream *s;
	int l, srv, fd, v = 0;
	socklen_t len = sizeof(v);
	ssize_t n;

	(void)state;
	l = listener(port, sizeof(port));
	s = connected(port, 5000);
	srv = accept(l, NULL, NULL);
	assert_true(srv >= 0);
	fd = client_fd(srv);
	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len),
	    0);
	assert_int_not_equal(v, 0);

	assert_int_equal(s->write(s, "hello", 5, 0), 5);
	assert_int_equal(recv(srv, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(send(srv, "world!", 6, 0), 6);
	n = s->read(s, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "world!", 6);
	close(srv);
	assert_int_equal(s->read(s, buf, sizeof(buf)), 0);	/* EOF */
	assert_int_equal(s->close(s), 0);
	s->free(s);
	close(l);
}

static void
test_a_server_that_never_answers_times_a_read_out(void **state)
{
	char port[16], buf[64];
	git_stream *s;
	double t0, took;
	int l;

	(void)state;
	l = listener(port, sizeof(port));	/* never accepts */
	s = connected(port, 300);
	assert_int_equal(s->write(s, "GET / HTTP/1.1\r\n\r\n", 18, 0), 18);
	t0 = now_ms();
	assert_int_equal(s->read(s, buf, sizeof(buf)), -1);
	took = now_ms() - t0;
	assert_non_null(strstr(last_error(), "timed out"));
	assert_non_null(strstr(last_error(), port));
	assert_true(took >= 250);
	assert_true(took < 10000);
	s->free(s);
	close(l);
}

static void
test_a_peer_that_never_reads_times_a_write_out(void **state)
{
	enum { BIG = 64 * 1024 * 1024 };
	char port[16];
	git_stream *s;
	char *big;
	int l, srv;

	(void)state;
	l = listener(port, sizeof(port));
	s = connected(port, 300);
	srv = accept(l, NULL, NULL);		/* accepted, never read */
	assert_true(srv >= 0);
	big = calloc(1, BIG);
	assert_non_null(big);
	assert_int_equal(s->write(s, big, BIG, 0), -1);
	assert_non_null(strstr(last_error(), "timed out"));
	free(big);
	s->free(s);
	close(srv);
	close(l);
}

static void
test_a_refused_connection_names_the_server(void **state)
{
	char port[16];
	git_stream *s = NULL;
	int l;

	(void)state;
	l = listener(port, sizeof(port));
	close(l);				/* nothing listens now */
	hl_gitstream_set_timeout(5000);
	assert_int_equal(hl_gitstream_new(&s, "127.0.0.1", port), 0);
	assert_int_equal(s->connect(s), -1);
	assert_non_null(strstr(last_error(), "127.0.0.1"));
	assert_non_null(strstr(last_error(), "refused"));
	s->free(s);
}

static void
test_the_limit_comes_from_the_environment_and_is_checked(void **state)
{
	static const char *bad[] = { "abc", "50", "3600001", "-1", "100ms",
	    "99999999999999999999" };
	struct hl_err err = HL_ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("HELIOS_GIT_TIMEOUT_MS", bad[i], 1);
		assert_int_equal(hl_gitstream_timeout_env(&err), HL_EINVAL);
		assert_non_null(strstr(err.msg, "HELIOS_GIT_TIMEOUT_MS"));
	}
	setenv("HELIOS_GIT_TIMEOUT_MS", "2500", 1);
	assert_int_equal(hl_gitstream_timeout_env(&err), 0);
	unsetenv("HELIOS_GIT_TIMEOUT_MS");
	assert_int_equal(hl_gitstream_timeout_env(&err), 0);
}

/* A git target over http to a server that takes the connection and
 * never answers: the publish fails with the timeout, well before the
 * alarm that would end this binary (libgit2's own stream waits for
 * ever). */
static void
test_a_git_target_whose_server_hangs_fails(
    void **state)
{
	char port[16], url[128], cmd[64], dir[] = "/tmp/hl-gitstream-XXXXXX";
	struct hl_pub_git *g = NULL;
	struct hl_err err = HL_ERR_INIT;
	struct hl_file f = { 0 };
	struct hl_tree t;
	double t0;
	int l, rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("HELIOS_GIT_CACHE", dir, 1);
	setenv("HELIOS_GIT_TIMEOUT_MS", "400", 1);
	l = listener(port, sizeof(port));
	(void)snprintf(url, sizeof(url), "git+http://127.0.0.1:%s/p.git",
	    port);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	memset(&t, 0, sizeof(t));
	f.path = "lists/a.txt";
	f.data = (const unsigned char *)"x\n";
	f.len = 2;
	memset(f.sha256, '0', 64);
	f.content_type = "text/plain; charset=utf-8";
	t.files = &f;
	t.n = 1;
	t.version = 1;
	t.summary = "v1: +1 a";
	(void)alarm(60);
	t0 = now_ms();
	rc = hl_pub_git_publish(g, &t, &err);
	(void)alarm(0);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err.msg, "timed out"));
	assert_true(now_ms() - t0 < 30000);
	hl_pub_git_close(g);
	close(l);
	unsetenv("HELIOS_GIT_TIMEOUT_MS");
	unsetenv("HELIOS_GIT_CACHE");
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
put_file(struct hl_file *f, struct hl_tree *t, const char *data,
    int64_t version)
{
	memset(f, 0, sizeof(*f));
	f->path = "lists/watch-keyword.txt";
	f->data = (const unsigned char *)data;
	f->len = strlen(data);
	memset(f->sha256, 'a' + (int)(version % 6), 64);
	f->content_type = "text/plain; charset=utf-8";
	memset(t, 0, sizeof(*t));
	t->files = f;
	t->n = 1;
	t->version = version;
	t->summary = "a change";
}

/* Two publishes over https (the second a thin pack), read back by git. */
static void
test_a_git_target_publishes_over_https(void **state)
{
	static char big[256 * 1024];
	char url[160], got[64], path[96];
	char cache[] = "/tmp/hl-gitstream-c-XXXXXX";
	FILE *fp;
	struct hl_pub_git *g = NULL;
	struct hl_err err = HL_ERR_INIT;
	struct hl_file f;
	struct hl_tree t;
	uint32_t x = 7;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(cache));
	setenv("HELIOS_GIT_CACHE", cache, 1);
	setenv("HELIOS_GIT_USERNAME", "alice", 1);
	setenv("HELIOS_GIT_PASSWORD", "s3cret", 1);
	for (i = 0; i + 1 < sizeof(big); i++) {	/* deflates poorly */
		x = x * 1103515245 + 12345;
		big[i] = i % 32 == 31 ? '\n' : (char)('a' + (x >> 16) % 26);
	}
	(void)snprintf(url, sizeof(url),
	    "git+https://localhost:%s/pages.git#gh-pages", tls_port);
	assert_int_equal(hl_pub_git_open(&g, url, &err), 0);
	put_file(&f, &t, big, 1);
	if (hl_pub_git_publish(g, &t, &err) != 0)
		fail_msg("publish over https: %s", err.msg);
	memcpy(big + 1000, "changed-line", 12);
	put_file(&f, &t, big, 2);
	if (hl_pub_git_publish(g, &t, &err) != 0)
		fail_msg("second publish over https: %s", err.msg);
	hl_pub_git_close(g);
	(void)snprintf(path, sizeof(path), "%s/want", cache);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(big, 1, strlen(big), fp), strlen(big));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(run(NULL, 0, "git --git-dir=%s/root/pages.git show "
	    "gh-pages:lists/watch-keyword.txt | cmp -s - %s", tls_dir, path),
	    0);
	assert_int_equal(run(got, sizeof(got), "git --git-dir=%s/root/"
	    "pages.git rev-list --count gh-pages", tls_dir), 0);
	assert_string_equal(got, "2");
	unsetenv("HELIOS_GIT_USERNAME");
	unsetenv("HELIOS_GIT_PASSWORD");
	unsetenv("HELIOS_GIT_CACHE");
	assert_int_equal(run(NULL, 0, "rm -rf %s", cache), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_a_connection_has_nodelay_and_carries_bytes_both_ways),
		cmocka_unit_test(
		    test_a_server_that_never_answers_times_a_read_out),
		cmocka_unit_test(
		    test_a_peer_that_never_reads_times_a_write_out),
		cmocka_unit_test(test_a_refused_connection_names_the_server),
		cmocka_unit_test(
		    test_the_limit_comes_from_the_environment_and_is_checked),
		cmocka_unit_test(
		    test_a_git_target_whose_server_hangs_fails),
		cmocka_unit_test(test_a_git_target_publishes_over_https),
	};

	git_libgit2_init();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
