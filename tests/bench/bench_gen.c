/*
 * bench_gen: the generator's cost, measured through libhelios.a.
 *
 *   bench_gen DIR SIZE...
 *
 * For each SIZE (e.g. 10000 100000 1000000), makes DIR/gen-SIZE.db with
 * SIZE generated items in watch-keyword (hl_store_import, in batches),
 * unless that file already holds them, then measures:
 *
 *   full:  hl_snap_new + hl_snap_build of the whole tree, from scratch
 *          (median of a few runs);
 *   incr:  one hl_store_item_add to blacklist-keyword, then hl_snap_build
 *          on the warm snapshot, which must not render the big list again
 *          (median of INCR_RUNS).
 *
 * For the largest SIZE it then compares gzip levels 1, 6 and 9: the size
 * and the time of hl_gzip on lists/watch-keyword.txt and .json alone, and
 * a full build with hl_snap_opts.gzip_level = 1 beside the default one.
 *
 * Last, a full publish of the largest SIZE (a new snapshot, its build,
 * and hl_target_publish to a fresh directory) in a child process, for its
 * wall time, CPU time and peak RSS, side by side with `gzip -6` of the
 * same bytes (every file that has a .gz, concatenated), as a ratio.
 *
 * The databases are left in DIR for the other benchmarks.  Figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "buf.h"
#include "err.h"
#include "snapshot.h"
#include "snapsrc.h"
#include "store.h"
#include "target.h"

#define BIG_LIST	"watch-keyword"
#define SMALL_LIST	"blacklist-keyword"
#define BATCH		100000
#define INCR_RUNS	15

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the process: tells the work from waiting for a core. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n ? v[n / 2] : 0;
}

static void __attribute__((noreturn))
die(const char *what, const struct hl_err *e)
{
	fprintf(stderr, "bench_gen: %s: %s\n", what, e->msg);
	exit(1);
}

/* Fills list BIG_LIST of st up to n items. */
static void
populate(struct hl_store *st, size_t n)
{
	struct hl_item *v;
	struct hl_actor who = { .name = "bench" };
	struct hl_list l;
	struct hl_err e = HL_ERR_INIT;
	char val[96];
	size_t i, k, m, added;
	int64_t version;

	if (hl_store_list(&l, st, BIG_LIST, &e) != 0)
		die("list", &e);
	i = (size_t)l.count;
	hl_list_clear(&l);
	if ((v = calloc(BATCH, sizeof(*v))) == NULL)
		exit(1);
	while (i < n) {
		m = n - i < BATCH ? n - i : BATCH;
		for (k = 0; k < m; k++, i++) {
			/* Shaped like the real watched keywords. */
			snprintf(val, sizeof(val),
			    "gen-%zu-(?:cheap|best)[\\W_]*+%s\\.example\\.com",
			    i, i % 3 ? "pills" : "essay");
			v[k].value = strdup(val);
			v[k].created_at = 1500000000 + (int64_t)i;
			v[k].created_by = strdup(i % 2 ? "tripleee" :
			    "Makyen");
		}
		if (hl_store_import(&added, &version, st, BIG_LIST, v, m,
		    &who, &e) != 0)
			die("import", &e);
		for (k = 0; k < m; k++)
			hl_item_clear(&v[k]);
		memset(v, 0, BATCH * sizeof(*v));
	}
	free(v);
}

static const struct hl_file *
find(const struct hl_tree *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

/* One full build from a new snapshot; returns ms, leaves *sp built. */
static double
full_build(struct hl_snap **sp, const struct hl_tree **tree,
    struct hl_store *st, int level)
{
	struct hl_snap_opts o = HL_SNAP_OPTS_INIT;
	struct hl_snap_source src;
	struct hl_err e = HL_ERR_INIT;
	double t0, t1;

	o.gzip_level = level;
	t0 = now_ms();
	if (hl_snap_new(sp, &o, &e) != 0)
		die("snap_new", &e);
	hl_snapsrc_store(&src, st);
	if (hl_snap_build(tree, *sp, &src, &e) != 0)
		die("snap_build", &e);
	t1 = now_ms();
	return t1 - t0;
}

static size_t
tree_bytes(const struct hl_tree *t)
{
	size_t i, b = 0;

	for (i = 0; i < t->n; i++)
		b += t->files[i].len;
	return b;
}

struct row {
	size_t	n;
	double	full;
	double	full_cpu;
	double	full_min;
	double	full_max;
	size_t	bytes;
	size_t	files;
	double	incr;
	double	incr_cpu;
	double	incr_p90;
	double	incr_max;
	int64_t	incr_lists;	/* list renders per incr. build */
	double	import_s;
};

static void
measure(struct row *r, const char *dir, size_t n, int runs)
{
	struct hl_store *st;
	struct hl_snap *s = NULL;
	const struct hl_tree *t;
	struct hl_snap_stats a, b;
	struct hl_snap_source src;
	struct hl_item in, out;
	struct hl_actor who = { .name = "bench" };
	struct hl_err e = HL_ERR_INIT;
	char path[4096], val[96];
	double v[INCR_RUNS], c[INCR_RUNS], t0, c0;
	int64_t version;
	int i;

	memset(r, 0, sizeof(*r));
	r->n = n;
	snprintf(path, sizeof(path), "%s/gen-%zu.db", dir, n);
	if (hl_store_open(&st, path, &e) != 0)
		die(path, &e);
	t0 = now_ms();
	populate(st, n);
	r->import_s = (now_ms() - t0) / 1e3;
	hl_snapsrc_store(&src, st);

	/* A slow build is not repeated: one tells enough. */
	for (i = 0; i < runs && (i == 0 || v[0] < 10000); i++) {
		hl_snap_free(s);
		s = NULL;
		c0 = cpu_ms();
		v[i] = full_build(&s, &t, st, 0);
		c[i] = cpu_ms() - c0;
	}
	runs = i;
	r->bytes = tree_bytes(t);
	r->files = t->n;
	r->full_cpu = median(c, (size_t)runs);
	r->full = median(v, (size_t)runs);	/* the upper one of two */
	r->full_min = v[0];
	r->full_max = v[runs - 1];

	hl_snap_stats(&a, s);
	for (i = 0; i < INCR_RUNS; i++) {
		memset(&in, 0, sizeof(in));
		snprintf(val, sizeof(val), "incr-%ld-%zu-%d\\.example",
		    (long)getpid(), n, i);
		in.value = val;
		if (hl_store_item_add(&out, &version, st, SMALL_LIST, &in,
		    &who, &e) != 0)
			die("item_add", &e);
		hl_item_clear(&out);
		t0 = now_ms();
		c0 = cpu_ms();
		if (hl_snap_build(&t, s, &src, &e) != 0)
			die("snap_build", &e);
		v[i] = now_ms() - t0;
		c[i] = cpu_ms() - c0;
	}
	hl_snap_stats(&b, s);
	r->incr_lists = (b.lists_rendered - a.lists_rendered) / INCR_RUNS;
	r->incr = median(v, INCR_RUNS);
	r->incr_cpu = median(c, INCR_RUNS);
	r->incr_p90 = v[(INCR_RUNS * 9) / 10];
	r->incr_max = v[INCR_RUNS - 1];
	hl_snap_free(s);
	hl_store_close(st);
}

/*
 * gzip levels on the big list: hl_gzip alone on lists/BIG_LIST.txt and
 * .json, at each level, and a full build with hl_snap_opts.gzip_level 1
 * (full6 is the default level's, measured before; a level 9 build of a
 * million items would take longer than the whole benchmark should).
 */
static void
levels(const char *dir, size_t n, double full6)
{
	static const int lv[] = { 1, 6, 9 };
	static const char *const files[] = { "lists/" BIG_LIST ".txt",
	    "lists/" BIG_LIST ".json" };
	struct hl_store *st;
	struct hl_snap *s = NULL;
	const struct hl_tree *t;
	const struct hl_file *f;
	struct hl_buf out = HL_BUF_INIT;
	struct hl_err e = HL_ERR_INIT;
	char path[4096], full[32];
	double ms1, t0, c0, gzms;
	size_t i, k;

	snprintf(path, sizeof(path), "%s/gen-%zu.db", dir, n);
	if (hl_store_open(&st, path, &e) != 0)
		die(path, &e);
	/* The level 1 build also gives the files; timed when affordable. */
	c0 = now_ms();
	(void)full_build(&s, &t, st, 1);
	ms1 = full6 < 20000 ? now_ms() - c0 : -1;
	printf("\ngzip level trade-off, %zu items in %s (hl_gzip alone on"
	    " each file; full build\nwith hl_snap_opts.gzip_level)\n", n,
	    BIG_LIST);
	printf("%-5s %10s  %-20s %11s %11s %7s %9s %8s\n", "level",
	    "full ms", "file", "bytes", "gz bytes", "gz/raw", "gzip ms",
	    "MB/s in");
	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		if (lv[i] == 1 && ms1 >= 0)
			snprintf(full, sizeof(full), "%.1f", ms1);
		else if (lv[i] == 6)
			snprintf(full, sizeof(full), "%.1f", full6);
		else
			snprintf(full, sizeof(full), "-");
		for (k = 0; k < 2; k++) {
			if ((f = find(t, files[k])) == NULL) {
				printf("%-5d %10s  %-20s (not in the tree)\n",
				    lv[i], full, files[k]);
				continue;
			}
			hl_buf_reset(&out);
			t0 = now_ms();
			if (hl_gzip(&out, f->data, f->len, lv[i], &e) != 0)
				die("gzip", &e);
			gzms = now_ms() - t0;
			printf("%-5d %10s  %-20s %11zu %11zu %6.1f%% %9.1f"
			    " %8.1f\n", lv[i], full, files[k] + 6, f->len,
			    out.len, 100.0 * (double)out.len / (double)f->len,
			    gzms, (double)f->len / 1e3 / gzms);
		}
	}
	hl_buf_free(&out);
	hl_snap_free(s);
	hl_store_close(st);
}

/* Is path + ".gz" in the tree (a file the generator compresses)? */
static int
has_gz(const struct hl_tree *t, const char *path)
{
	char gz[4096];

	if (snprintf(gz, sizeof(gz), "%s.gz", path) >= (int)sizeof(gz))
		return 0;
	return find(t, gz) != NULL;
}

static double
tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/*
 * The full publish of n items in a child process, beside gzip -6 of the
 * bytes it compressed: wall, CPU (user + system) and peak RSS of each.
 */
static void
publish_vs_gzip(const char *dir, size_t n)
{
	char db[4096], pub[4096], raw[4096], cmd[8192];
	struct rusage ru;
	double t0, wall, gwall;
	double res[4];
	int fds[2], status;
	pid_t pid;

	snprintf(db, sizeof(db), "%s/gen-%zu.db", dir, n);
	snprintf(pub, sizeof(pub), "dir:%s/pub-%zu", dir, n);
	snprintf(raw, sizeof(raw), "%s/raw-%zu", dir, n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/pub-%zu'", dir, n);
	if (system(cmd) != 0 || pipe(fds) != 0)
		exit(1);
	t0 = now_ms();
	if ((pid = fork()) == 0) {
		struct hl_store *st;
		struct hl_snap *s = NULL;
		struct hl_target *tg;
		const struct hl_tree *t;
		struct hl_err e = HL_ERR_INIT;
		double bytes = 0;
		size_t i;
		FILE *f;

		close(fds[0]);
		if (hl_store_open(&st, db, &e) != 0)
			die(db, &e);
		(void)full_build(&s, &t, st, 0);
		if (hl_target_open(&tg, pub, &e) != 0 ||
		    hl_target_publish(tg, t, &e) != 0)
			die("publish", &e);
		res[0] = now_ms() - t0;
		/* Not timed: the bytes gzip -6 gets, written for it. */
		if ((f = fopen(raw, "wb")) == NULL)
			exit(1);
		for (i = 0; i < t->n; i++)
			if (has_gz(t, t->files[i].path)) {
				fwrite(t->files[i].data, 1, t->files[i].len,
				    f);
				bytes += (double)t->files[i].len;
			}
		fclose(f);
		res[1] = bytes;
		if (write(fds[1], res, 2 * sizeof(double)) < 0)
			exit(1);
		hl_target_close(tg);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], res, 2 * sizeof(double)) !=
	    (ssize_t)(2 * sizeof(double)) || wait4(pid, &status, 0, &ru) < 0)
		exit(1);
	close(fds[0]);
	wall = res[0];
	res[2] = tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime);
	res[3] = (double)ru.ru_maxrss / 1024;
	printf("\nfull publish of %zu items (new snapshot, build, local"
	    " directory target) beside gzip -6\nof the %.1f MB it compressed"
	    " (one file: every file with a .gz)\n", n, res[1] / 1e6);
	printf("%-14s %10s %10s %10s %9s\n", "", "wall ms", "cpu ms",
	    "peak RSS", "wall/gzip");
	snprintf(cmd, sizeof(cmd), "gzip -6 -c '%s' >/dev/null", raw);
	t0 = now_ms();
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		exit(1);
	gwall = now_ms() - t0;
	printf("%-14s %10.0f %10.0f %9.0fM %8.2fx\n", "helios publish",
	    wall, res[2], res[3], wall / gwall);
	printf("%-14s %10.0f %10.0f %9.0fM %8.2fx\n", "gzip -6", gwall,
	    tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime),
	    (double)ru.ru_maxrss / 1024, 1.0);
	printf("(aim: publish wall <= 0.5x gzip -6's, peak RSS < 64 MB, cpu"
	    " above wall: both cores)\n");
	unlink(raw);
}

int
main(int argc, char **argv)
{
	struct row r[8], *base = NULL;
	size_t n, big = 0;
	double bigfull = 0;
	int i, nr = 0;

	if (argc < 3 || argc > 10) {
		fprintf(stderr, "usage: bench_gen DIR SIZE...\n");
		return 2;
	}
	printf("%-8s %8s %9s %9s %9s %9s %6s %10s %8s %8s %8s %8s %5s"
	    " %8s\n", "items", "import s", "full ms", "cpu ms", "min", "max",
	    "files", "tree bytes", "incr ms", "cpu ms", "p90", "max", "lists",
	    "incr/1st");
	for (i = 2; i < argc; i++, nr++) {
		n = strtoul(argv[i], NULL, 10);
		measure(&r[nr], argv[1], n, 5);
		if (base == NULL)
			base = &r[nr];
		if (n > big) {
			big = n;
			bigfull = r[nr].full;
		}
		printf("%-8zu %8.1f %9.1f %9.1f %9.1f %9.1f %6zu %10zu %8.2f"
		    " %8.2f %8.2f %8.2f %5lld %7.2fx\n", n, r[nr].import_s,
		    r[nr].full, r[nr].full_cpu, r[nr].full_min, r[nr].full_max,
		    r[nr].files, r[nr].bytes, r[nr].incr, r[nr].incr_cpu,
		    r[nr].incr_p90, r[nr].incr_max,
		    (long long)r[nr].incr_lists, r[nr].incr / base->incr);
		fflush(stdout);
	}
	printf("(full: hl_snap_new + hl_snap_build at the default gzip level,"
	    " median wall ms, and its\n CPU ms; incr: one item added to %s"
	    " beside the big list, then a build;\n lists: list renders per"
	    " incremental build; incr/1st: against the first size)\n",
	    SMALL_LIST);
	levels(argv[1], big, bigfull);
	publish_vs_gzip(argv[1], big);
	return 0;
}
