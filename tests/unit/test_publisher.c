/*
 * test_publisher: when the publisher's worker (src/publisher.c) rests
 * between publishes.  A real store in a temporary directory and a real
 * local directory target; changes are made from the publisher's own
 * begin/end hook, so that each lands at a known point of a publish: while
 * it built (before its files are written), or after its files were written
 * (as a writer that waits to see its last change makes the next).  The
 * worker rests after the first kind, or after more than one of the second
 * (a stream of writes); it publishes one change of the second kind at
 * once.  Either way every change is published.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "publisher.h"
#include "store.h"
#include "testdb.h"

/* When the hook makes its changes: at a publish's begin or end. */
enum when { NEVER, AT_BEGIN, AT_END };

struct fx {
	char			 dir[64];
	char			 db[128];
	char			 url[160];
	struct hl_store		*st;
	struct hl_publisher	*p;
	pthread_mutex_t		 mu;
	/* Under mu: */
	enum when		 when;
	int			 count;		/* changes the hook makes */
	int64_t			 made;		/* the last one's version */
};

/* Adds one pattern; returns its version. */
static int64_t
add_one(struct hl_store *st, const char *value)
{
	struct hl_item in, out;
	struct hl_actor who = { .name = "test" };
	struct hl_err err = HL_ERR_INIT;
	int64_t version = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.value = (char *)value;
	if (hl_store_item_add(&out, &version, st, "watch-keyword", &in, &who,
	    &err) != 0)
		fail_msg("add %s: %s", value, err.msg);
	hl_item_clear(&out);
	return version;
}

/* The publisher's hook: makes f->count changes at the armed point. */
static void
hook(void *payload, int begin)
{
	struct fx *f = payload;
	char value[64];
	int64_t v = 0;
	int i;

	pthread_mutex_lock(&f->mu);
	if (f->when == (begin ? AT_BEGIN : AT_END)) {
		f->when = NEVER;
		for (i = 0; i < f->count; i++) {
			snprintf(value, sizeof(value), "%s-%d\\.example",
			    begin ? "built" : "written", i);
			v = add_one(f->st, value);
		}
		f->made = v;
		hl_publisher_notify(f->p, v);
	}
	pthread_mutex_unlock(&f->mu);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hl_err err = HL_ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/helios-publisher.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
	snprintf(f->url, sizeof(f->url), "dir:%s/public", f->dir);
	assert_int_equal(hl_store_open(&f->st, f->db, &err), 0);
	pthread_mutex_init(&f->mu, NULL);
	(void)add_one(f->st, "first\\.example");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hl_publisher_stop(f->p);
	hl_store_close(f->st);
	pthread_mutex_destroy(&f->mu);
	hl_testdb_rmtree(f->dir);
	free(f);
	return 0;
}

static void
start(struct fx *f)
{
	struct hl_publisher_opts o;
	struct hl_snap_opts snap = HL_SNAP_OPTS_INIT;
	const char *targets[1] = { f->url };
	struct hl_err err = HL_ERR_INIT;

	memset(&o, 0, sizeof(o));
	o.db = f->db;
	o.targets = targets;
	o.ntargets = 1;
	o.snap = snap;
	o.publishing = hook;
	o.publishing_payload = f;
	pthread_mutex_lock(&f->mu);	/* the hook waits for f->p */
	if (hl_publisher_start(&f->p, &o, &err) != 0) {
		pthread_mutex_unlock(&f->mu);
		fail_msg("start: %s", err.msg);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Waits up to 20 s for every target to hold version v or later. */
static void
wait_published(struct fx *f, int64_t v)
{
	struct timespec ms = { 0, 5 * 1000 * 1000 };
	int i;

	for (i = 0; i < 4000 && hl_publisher_version(f->p) < v; i++)
		nanosleep(&ms, NULL);
	assert_true(hl_publisher_version(f->p) >= v);
}

/* The member name of the first target in the publisher's health. */
static int64_t
health_count(struct fx *f, const char *name)
{
	json_t *obj = json_object(), *t;
	int64_t n;

	assert_non_null(obj);
	hl_publisher_health(f->p, obj);
	t = json_array_get(json_object_get(obj, "targets"), 0);
	assert_non_null(json_object_get(t, name));
	n = (int64_t)json_integer_value(json_object_get(t, name));
	json_decref(obj);
	return n;
}

/* Arms the hook for count changes, then makes one that starts a publish. */
static int64_t
change_with_hook(struct fx *f, enum when when, int count)
{
	int64_t v, made;

	wait_published(f, hl_store_version(f->st));
	pthread_mutex_lock(&f->mu);
	f->when = when;
	f->count = count;
	pthread_mutex_unlock(&f->mu);
	v = add_one(f->st, "starts\\.example");
	hl_publisher_notify(f->p, v);
	/* v is published after its hooks ran: the hook has made its own. */
	wait_published(f, v);
	pthread_mutex_lock(&f->mu);
	made = f->made;
	pthread_mutex_unlock(&f->mu);
	assert_true(made > v);
	return made;
}

/*
 * Starts the publisher, makes count changes at when of the publish of one
 * more, and waits for all to be published, in three publishes (the first
 * at start): returns how often the worker rested.
 */
static int64_t
rests_after(struct fx *f, enum when when, int count)
{
	start(f);
	wait_published(f, change_with_hook(f, when, count));
	assert_int_equal(health_count(f, "publishes"), 3);
	return health_count(f, "rests");
}

static void
test_a_change_made_after_the_files_were_written_is_published_at_once(
    void **state)
{
	assert_int_equal(rests_after(*state, AT_END, 1), 0);
}

static void
test_two_changes_made_after_the_files_were_written_make_it_rest(
    void **state)
{
	assert_int_equal(rests_after(*state, AT_END, 2), 1);
}

static void
test_a_change_made_before_the_files_were_written_makes_it_rest(
    void **state)
{
	assert_int_equal(rests_after(*state, AT_BEGIN, 1), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_change_made_after_the_files_were_written_is_published_at_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_two_changes_made_after_the_files_were_written_make_it_rest,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_change_made_before_the_files_were_written_makes_it_rest,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
