/*
 * test_gitstream: the TCP stream under the git targets' http(s)
 * (gen/targets/gitstream.c), against real sockets on 127.0.0.1 made here:
 * a listener whose connections are accepted and driven by the test, or
 * left unanswered (the kernel completes the handshake of a listening
 * socket's backlog, so a client connects and then hears nothing: a server
 * that hangs).  And a git target publishing to such a server: it fails
 * with a timeout instead of hanging (an alarm ends the binary if not).
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
#include "tree.h"

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
	static const char *bad[] = { "abc", "50", "600001", "-1", "100ms",
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
test_a_git_target_whose_server_hangs_fails_instead_of_waiting(
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
		    test_a_git_target_whose_server_hangs_fails_instead_of_waiting),
	};

	git_libgit2_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
