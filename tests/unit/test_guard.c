/*
 * test_guard: the connection guard's deadlines and the rate limiter's
 * buckets, on real sockets (a socketpair stands for a client's
 * connection: the guard's shutdown shows as an end of file on the other
 * end).
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard.h"
#include "ratelimit.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* 1 when the peer of fd was shut down (recv gives end of file). */
static int
cut(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void
test_waiting_for_headers_is_cut_at_the_deadline(void **state)
{
	struct hl_guard_opts o = HL_GUARD_OPTS_INIT;
	struct hl_guard *g;
	struct hl_guard_conn *slow, *busy;
	struct hl_err err = HL_ERR_INIT;
	int a[2], b[2];
	unsigned open;
	uint64_t ncut;

	o.header_timeout_ms = 300;
	o.body_timeout_ms = 5000;
	assert_int_equal(hl_guard_new(&g, &o, &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	slow = hl_guard_open(g, a[0]);
	busy = hl_guard_open(g, b[0]);
	assert_non_null(slow);
	assert_non_null(busy);
	hl_guard_body(g, busy);		/* its headers came in time */
	sleep_ms(150);
	assert_false(cut(a[1]));
	sleep_ms(700);
	assert_true(cut(a[1]));
	assert_false(cut(b[1]));
	hl_guard_counts(g, &open, &ncut);
	assert_int_equal(open, 2);
	assert_int_equal(ncut, 1);
	hl_guard_close(g, slow);
	hl_guard_close(g, busy);
	hl_guard_counts(g, &open, &ncut);
	assert_int_equal(open, 0);
	hl_guard_free(g);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void
test_near_the_limit_slow_headers_make_room(void **state)
{
	struct hl_guard_opts o = HL_GUARD_OPTS_INIT;
	struct hl_guard *g;
	struct hl_guard_conn *c[4];
	struct hl_err err = HL_ERR_INIT;
	int sp[4][2], i;

	o.max_conns = 4;
	o.reserve = 1;
	o.pressure_ms = 200;
	assert_int_equal(hl_guard_new(&g, &o, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0,
		    sp[i]), 0);
		c[i] = hl_guard_open(g, sp[i][0]);
	}
	sleep_ms(600);
	/* Three of four used, one kept in reserve: the idle ones go. */
	for (i = 0; i < 3; i++)
		assert_true(cut(sp[i][1]));
	for (i = 0; i < 3; i++) {
		hl_guard_close(g, c[i]);
		close(sp[i][0]);
		close(sp[i][1]);
	}
	hl_guard_free(g);
}

static void
test_a_reserve_not_below_the_limit_is_refused(void **state)
{
	struct hl_guard_opts o = HL_GUARD_OPTS_INIT;
	struct hl_guard *g = NULL;
	struct hl_err err = HL_ERR_INIT;

	o.max_conns = 10;
	o.reserve = 10;
	assert_int_equal(hl_guard_new(&g, &o, &err), HL_EINVAL);
	assert_null(g);
}

static void
test_a_bucket_lets_a_burst_through_then_says_when(void **state)
{
	struct hl_rate *r;
	struct hl_err err = HL_ERR_INIT;
	int i;

	assert_int_equal(hl_rate_new(&r, &err), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(hl_rate_take(r, 'w', "tok", 3, 0.1, 3), 0);
	/* Empty: one token every ten seconds. */
	assert_in_range(hl_rate_take(r, 'w', "tok", 3, 0.1, 3), 1, 10);
	/* Another key, another kind: their own buckets. */
	assert_int_equal(hl_rate_take(r, 'w', "other", 5, 0.1, 3), 0);
	assert_int_equal(hl_rate_take(r, 'r', "tok", 3, 0.1, 3), 0);
	/* No rate: no limit. */
	for (i = 0; i < 100; i++)
		assert_int_equal(hl_rate_take(r, 'x', "tok", 3, 0, 1), 0);
	hl_rate_free(r);
}

static void
test_many_keys_fit_in_the_fixed_table(void **state)
{
	struct hl_rate *r;
	struct hl_err err = HL_ERR_INIT;
	char key[32];
	int i;

	assert_int_equal(hl_rate_new(&r, &err), 0);
	/* Far more keys than slots: memory stays bounded, none fails. */
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(hl_rate_take(r, 'r', key, strlen(key), 1,
		    5), 0);
	}
	hl_rate_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_waiting_for_headers_is_cut_at_the_deadline),
		cmocka_unit_test(test_near_the_limit_slow_headers_make_room),
		cmocka_unit_test(test_a_reserve_not_below_the_limit_is_refused),
		cmocka_unit_test(
		    test_a_bucket_lets_a_burst_through_then_says_when),
		cmocka_unit_test(test_many_keys_fit_in_the_fixed_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
