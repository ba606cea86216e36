/*
 * test_store_scan: hl_store_items_each, the bulk read a full publish
 * makes, against a real database file: the same items as hl_store_items,
 * batch by batch, and their strings read into a few reused blocks, not
 * one malloc each.  malloc, calloc, realloc and free are this program's
 * own (counting, then handing over to the C library's), so the test sees
 * how many allocations a scan of a list costs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "testdb.h"

/*
 * A sanitizer build keeps its own allocator (the C library's free of its
 * memory would abort): there nothing is counted, and the test of the
 * count is left out.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifndef SANITIZED
/* Allocations made by any thread since the count was last reset. */
static unsigned long allocs;

extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
extern void	 __libc_free(void *);

void *
malloc(size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}
#endif

#define LIST	"watch-keyword"
#define NITEMS	20000
#define BATCH	1000
#define LONG	(300 * 1024)	/* over one arena block */

static const struct hl_actor alice = { .name = "alice" };

struct fixture {
	char		 path[64];
	struct hl_store	*st;
	struct hl_item	*want;	/* hl_store_items' answer */
	size_t		 nwant;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hl_item *v = calloc(NITEMS, sizeof(*v));
	struct hl_err err = HL_ERR_INIT;
	char val[96], *big;
	size_t i, added;
	int64_t version;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/helios-scan-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	assert_int_equal(hl_store_open(&f->st, f->path, &err), 0);
	for (i = 0; i < NITEMS; i++) {
		snprintf(val, sizeof(val), "scan-%zu-(?:cheap|best)\\.example",
		    i);
		v[i].value = strdup(val);
		v[i].created_at = 1500000000 + (int64_t)i;
		v[i].created_by = strdup(i % 2 ? "tripleee" : "Makyen");
		/* Some with a comment, most without (NULL). */
		if (i % 7 == 0)
			v[i].comment = strdup("a comment, \"quoted\"");
	}
	/* One value longer than an arena block, in the middle of a batch. */
	big = malloc(LONG + 1);
	memset(big, 'x', LONG);
	memcpy(big, "long-", 5);
	big[LONG] = '\0';
	free(v[NITEMS / 2 + BATCH / 2].value);
	v[NITEMS / 2 + BATCH / 2].value = big;
	assert_int_equal(hl_store_import(&added, &version, f->st, LIST, v,
	    NITEMS, &alice, &err), 0);
	assert_int_equal(added, NITEMS);
	hl_items_free(v, NITEMS);
	assert_int_equal(hl_store_items(&f->want, &f->nwant, f->st, LIST, 1,
	    &err), 0);
	assert_int_equal(f->nwant, NITEMS);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	hl_items_free(f->want, f->nwant);
	hl_store_close(f->st);
	hl_testdb_remove(f->path);
	free(f);
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Checks each batch against want; the batches' strings kept to the end,
 * and the batch before still whole during the call after it (the next
 * batch or the end).
 */
struct walk {
	struct fixture		*f;
	size_t			 at;
	size_t			 batches;
	size_t			 ends;
	size_t			 bad;
	const struct hl_item	*prev;
	size_t			 prevn, prevat;
};

static int
check_batch(const struct hl_item *v, size_t n, void *arg)
{
	struct walk *w = arg;
	const struct hl_item *a, *b;
	size_t i;

	for (i = 0; i < w->prevn; i++)
		if (w->prev[i].id != w->f->want[w->prevat + i].id ||
		    !same_str(w->prev[i].value,
		    w->f->want[w->prevat + i].value))
			w->bad++;
	w->prev = v;
	w->prevn = n;
	w->prevat = w->at;
	if (n == 0) {
		w->ends++;
		if (v != NULL || w->ends > 1)
			w->bad++;
		return 0;
	}
	if (w->ends > 0)
		w->bad++;	/* a batch after the end */
	w->batches++;
	if (n > BATCH)
		w->bad++;
	for (i = 0; i < n; i++, w->at++) {
		a = &v[i];
		b = &w->f->want[w->at];
		if (a->id != b->id || a->pos != b->pos ||
		    a->created_at != b->created_at ||
		    a->modified_at != b->modified_at ||
		    !same_str(a->value, b->value) ||
		    !same_str(a->comment, b->comment) ||
		    !same_str(a->created_by, b->created_by) ||
		    !same_str(a->modified_by, b->modified_by) ||
		    !same_str(a->src, b->src) ||
		    !same_str(a->keys, b->keys) ||
		    !same_str(a->origin, b->origin) ||
		    !same_str(a->review, b->review))
			w->bad++;
	}
	/* Every string of the batch still whole once the batch is read. */
	for (i = 0; i < n; i++)
		if (!same_str(v[i].value, w->f->want[w->at - n + i].value))
			w->bad++;
	return 0;
}

/*
 * Batch by batch, the very items hl_store_items gives, long one too; each
 * batch whole until the call after it returns, then one end call.
 */
static void
test_scan_same_items(void **state)
{
	struct fixture *f = *state;
	struct walk w = { f, 0, 0, 0, 0, NULL, 0, 0 };
	struct hl_err err = HL_ERR_INIT;

	assert_int_equal(hl_store_items_each(f->st, LIST, BATCH, check_batch,
	    &w, &err), 0);
	assert_int_equal(w.at, NITEMS);
	assert_int_equal(w.batches, NITEMS / BATCH);
	assert_int_equal(w.ends, 1);
	assert_int_equal(w.bad, 0);
}

#ifndef SANITIZED
static int
count_batch(const struct hl_item *v, size_t n, void *arg)
{
	*(size_t *)arg += n;
	return 0;
}

/*
 * The scan's allocations do not grow with the items: a few per batch,
 * not one per string (strdup'd values, authors and comments would be
 * more than two per item).
 */
static void
test_scan_allocs(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	unsigned long used;
	size_t n = 0;

	/* Once to warm SQLite's own caches, then counted. */
	assert_int_equal(hl_store_items_each(f->st, LIST, BATCH, count_batch,
	    &n, &err), 0);
	n = 0;
	__atomic_store_n(&allocs, 0, __ATOMIC_RELAXED);
	assert_int_equal(hl_store_items_each(f->st, LIST, BATCH, count_batch,
	    &n, &err), 0);
	used = __atomic_load_n(&allocs, __ATOMIC_RELAXED);
	assert_int_equal(n, NITEMS);
	print_message("# %lu allocations to scan %d items\n", used, NITEMS);
	assert_true(used < NITEMS / 10);
}

#endif

/*
 * A callback's error stops the scan and comes back, after the end call;
 * nothing leaks.
 */
struct stop {
	int	calls;
	int	ends;
};

static int
stop_batch(const struct hl_item *v, size_t n, void *arg)
{
	struct stop *s = arg;

	if (n == 0) {
		s->ends++;
		return 0;
	}
	return ++s->calls == 3 ? HL_EIO : 0;
}

static void
test_scan_stops(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct stop s = { 0, 0 };

	assert_int_equal(hl_store_items_each(f->st, LIST, BATCH, stop_batch,
	    &s, &err), HL_EIO);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.ends, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_scan_same_items),
#ifndef SANITIZED
		T(test_scan_allocs),
#endif
		T(test_scan_stops),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
