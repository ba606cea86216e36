/*
 * test_par: the build's second thread (gen/par.h): a piece handed to it
 * runs on another thread than the caller's and its result comes back at
 * the join; without a worker, or while the worker is busy, the piece runs
 * in the caller; a piece runs once, however soon the worker is done; the
 * worker is kept from one piece to the next and stopped by hl_par_free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <cmocka.h>

#include "par.h"

struct piece {
	pthread_t	 ran_on;
	char		 name[16];
	int		 rc;
};

static int
piece(void *arg)
{
	struct piece *p = arg;

	p->ran_on = pthread_self();
	(void)pthread_getname_np(p->ran_on, p->name, sizeof(p->name));
	return p->rc;
}

static void
a_piece_runs_on_the_worker_and_its_result_comes_back(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_par *par = NULL;
	struct hl_par_job j;
	struct piece a = { .rc = 7 }, b = { .rc = 0 };

	(void)state;
	assert_int_equal(hl_par_new(&par, &err), 0);
	hl_par_start(par, &j, piece, &a);
	assert_int_equal(hl_par_join(par, &j), 7);
	assert_false(pthread_equal(a.ran_on, pthread_self()));
	assert_string_equal(a.name, "hl-par");
	/* the same worker again */
	hl_par_start(par, &j, piece, &b);
	assert_int_equal(hl_par_join(par, &j), 0);
	assert_true(pthread_equal(a.ran_on, b.ran_on));
	hl_par_free(par);
}

static int
count(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	return 0;
}

/* However soon the worker is done, a piece runs once: never again here. */
static void
each_piece_runs_once(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_par *par = NULL;
	struct hl_par_job j;
	int runs = 0, k;

	(void)state;
	assert_int_equal(hl_par_new(&par, &err), 0);
	for (k = 0; k < 5000; k++) {
		hl_par_start(par, &j, count, &runs);
		assert_int_equal(hl_par_join(par, &j), 0);
	}
	assert_int_equal(__atomic_load_n(&runs, __ATOMIC_RELAXED), 5000);
	hl_par_free(par);
}

static int
nested(void *arg)
{
	struct hl_par *par = arg;
	struct hl_par_job j;
	struct piece p = { .rc = 3 };

	/* The worker is busy (with this): the piece runs here. */
	hl_par_start(par, &j, piece, &p);
	if (!pthread_equal(p.ran_on, pthread_self()))
		return -1;
	return hl_par_join(par, &j);
}

static int open_gate;

/* Waits until the test opens the gate. */
static int
gate(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&open_gate, __ATOMIC_ACQUIRE))
		sched_yield();
	return 11;
}

static void
without_a_worker_the_piece_runs_in_the_caller(void **state)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_par *par = NULL;
	struct hl_par_job j, k;
	struct piece a = { .rc = 5 };

	(void)state;
	hl_par_start(NULL, &j, piece, &a);
	assert_true(pthread_equal(a.ran_on, pthread_self()));
	assert_int_equal(hl_par_join(NULL, &j), 5);
	assert_int_equal(hl_par_new(&par, &err), 0);
	hl_par_start(par, &j, nested, par);
	assert_int_equal(hl_par_join(par, &j), 3);
	/* a piece handed while one is out (held at a gate) runs here */
	hl_par_start(par, &j, gate, NULL);
	hl_par_start(par, &k, piece, &a);
	assert_true(pthread_equal(a.ran_on, pthread_self()));
	assert_int_equal(hl_par_join(par, &k), 5);
	__atomic_store_n(&open_gate, 1, __ATOMIC_RELEASE);
	assert_int_equal(hl_par_join(par, &j), 11);
	hl_par_free(par);
	hl_par_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_piece_runs_on_the_worker_and_its_result_comes_back),
		cmocka_unit_test(each_piece_runs_once),
		cmocka_unit_test(without_a_worker_the_piece_runs_in_the_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
