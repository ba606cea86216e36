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
 *          (median of INCR_RUNS);
 *   app:   one hl_store_item_add to watch-keyword itself, then a build:
 *          the generator's share of a new pattern's way to the public
 *          tree (median of INCR_RUNS, wall and CPU).
 *
 * For the largest SIZE it then compares gzip levels 1, 6 and 9: the size
 * and the time of hl_gzip on lists/watch-keyword.txt and .json alone, and
 * a full build with hl_snap_opts.gzip_level = 1 beside the default one.
 *
 * Last, a full publish of the largest SIZE (a new snapshot, its build,
 * and hl_target_publish to a fresh directory) in a process of its own,
 * for its wall time, CPU time and peak RSS, side by side with `gzip -6`
 * of the same bytes (every distinct file that has a .gz, concatenated),
 * as a ratio.
 *
 * The databases are left in DIR for the other benchmarks.  Figures only;
 * with BENCH_SUMMARY set, the publish's also go to run.sh's summary page.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

extern char **environ;

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
	double	app;		/* an append to the big list, then a build */
	double	app_cpu;
	double	import_s;
};

/*
 * INCR_RUNS times: one new item (named after tag, n and the run) in list,
 * then a build of the warm snapshot s; its wall ms into v, CPU ms into c.
 */
static void
add_and_build(double *v, double *c, struct hl_store *st, struct hl_snap *s,
    struct hl_snap_source *src, const char *list, const char *tag, size_t n)
{
	const struct hl_tree *t;
	struct hl_item in, out;
	struct hl_actor who = { .name = "bench" };
	struct hl_err e = HL_ERR_INIT;
	char val[96];
	double t0, c0;
	int64_t version;
	int i;

	for (i = 0; i < INCR_RUNS; i++) {
		memset(&in, 0, sizeof(in));
		snprintf(val, sizeof(val), "%s-%ld-%zu-%d\\.example", tag,
		    (long)getpid(), n, i);
		in.value = val;
		if (hl_store_item_add(&out, &version, st, list, &in, &who,
		    &e) != 0)
			die("item_add", &e);
		hl_item_clear(&out);
		t0 = now_ms();
		c0 = cpu_ms();
		if (hl_snap_build(&t, s, src, &e) != 0)
			die("snap_build", &e);
		v[i] = now_ms() - t0;
		c[i] = cpu_ms() - c0;
	}
}

static void
measure(struct row *r, const char *dir, size_t n, int runs)
{
	struct hl_store *st;
	struct hl_snap *s = NULL;
	const struct hl_tree *t;
	struct hl_snap_stats a, b;
	struct hl_snap_source src;
	struct hl_err e = HL_ERR_INIT;
	char path[4096];
	double v[INCR_RUNS], c[INCR_RUNS], t0, c0;
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
	add_and_build(v, c, st, s, &src, SMALL_LIST, "incr", n);
	hl_snap_stats(&b, s);
	r->incr_lists = (b.lists_rendered - a.lists_rendered) / INCR_RUNS;
	r->incr = median(v, INCR_RUNS);
	r->incr_cpu = median(c, INCR_RUNS);
	r->incr_p90 = v[(INCR_RUNS * 9) / 10];
	r->incr_max = v[INCR_RUNS - 1];
	add_and_build(v, c, st, s, &src, BIG_LIST, "app", n);
	r->app = median(v, INCR_RUNS);
	r->app_cpu = median(c, INCR_RUNS);
	hl_snap_free(s);
	hl_store_close(st);
}

/* hl_file_each's callbacks: to a buffer, to a FILE. */
static int
to_buf(const void *p, size_t n, void *arg)
{
	return hl_buf_put(arg, p, n) != 0 ? HL_ENOMEM : 0;
}

static int
to_stdio(const void *p, size_t n, void *arg)
{
	return fwrite(p, 1, n, arg) == n ? 0 : HL_EIO;
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
	struct hl_buf out = HL_BUF_INIT, raw = HL_BUF_INIT;
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
			hl_buf_reset(&raw);
			/* A spooled file (tree.h) is read first, untimed. */
			if (hl_file_each(f, to_buf, &raw, &e) != 0)
				die("read", &e);
			t0 = now_ms();
			if (hl_gzip(&out, raw.data, raw.len, lv[i], &e) != 0)
				die("gzip", &e);
			gzms = now_ms() - t0;
			printf("%-5d %10s  %-20s %11zu %11zu %6.1f%% %9.1f"
			    " %8.1f\n", lv[i], full, files[k] + 6, f->len,
			    out.len, 100.0 * (double)out.len / (double)f->len,
			    gzms, (double)f->len / 1e3 / gzms);
		}
	}
	hl_buf_free(&out);
	hl_buf_free(&raw);
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

/*
 * bench_gen --publish DB URL RAW: the publish measured by publish_vs_gzip,
 * in a process of its own (exec'd, so its peak RSS is its own): a full
 * build and hl_target_publish to URL, then the bytes it compressed (each
 * distinct file that has a .gz, once) written to RAW for gzip -6.
 * Prints "wall_ms raw_bytes cpu_ms" (cpu: all threads', the build and
 * the writes alone, as wall).
 */
static int
publish_child(const char *db, const char *url, const char *raw)
{
	struct hl_store *st;
	struct hl_snap *s = NULL;
	struct hl_target *tg;
	const struct hl_tree *t;
	struct hl_err e = HL_ERR_INIT;
	double t0 = now_ms(), c0 = cpu_ms(), wall, cpu, bytes = 0;
	size_t i, k;
	FILE *f;

	if (hl_store_open(&st, db, &e) != 0)
		die(db, &e);
	(void)full_build(&s, &t, st, 0);
	if (hl_target_open(&tg, url, &e) != 0 ||
	    hl_target_publish(tg, t, &e) != 0)
		die("publish", &e);
	wall = now_ms() - t0;
	cpu = cpu_ms() - c0;
	if ((f = fopen(raw, "wb")) == NULL)
		return 1;
	for (i = 0; i < t->n; i++) {
		if (!has_gz(t, t->files[i].path))
			continue;
		/* An object and its mutable copy: the same bytes, once. */
		for (k = 0; k < i; k++)
			if (strcmp(t->files[k].sha256, t->files[i].sha256) ==
			    0 && has_gz(t, t->files[k].path))
				break;
		if (k < i)
			continue;
		if (hl_file_each(&t->files[i], to_stdio, f, &e) != 0)
			die("raw", &e);
		bytes += (double)t->files[i].len;
	}
	fclose(f);
	printf("%.1f %.0f %.1f\n", wall, bytes, cpu);
	hl_target_close(tg);
	hl_snap_free(s);	/* and its spool, 290 MB at 1M items */
	hl_store_close(st);
	return 0;
}

/*
 * Runs argv (stdin from in, stdout to out) under /usr/bin/time, which
 * forks it from a small process: its peak RSS is then its own, not this
 * big process's (Linux keeps a process's high-water RSS across exec).
 * Sets *cpu (user + system ms) and *rss (MB); returns the wall ms.
 */
static double
run(double *cpu, double *rss, char *const argv[], const char *in,
    const char *out, const char *tf)
{
	posix_spawn_file_actions_t fa;
	char *tv[16];
	double t0 = now_ms(), wall, u, sy, m;
	pid_t pid;
	int status, k = 0;
	FILE *f;

	tv[k++] = "/usr/bin/time";
	tv[k++] = "-f";
	tv[k++] = "%U %S %M";
	tv[k++] = "-o";
	tv[k++] = (char *)tf;
	while (*argv != NULL && k < 15)
		tv[k++] = *argv++;
	tv[k] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (in != NULL)
		posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT |
	    O_TRUNC, 0644);
	if (posix_spawn(&pid, tv[0], &fa, NULL, tv, environ) != 0 ||
	    waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_gen: %s failed\n", tv[5]);
		exit(1);
	}
	wall = now_ms() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if ((f = fopen(tf, "r")) == NULL ||
	    fscanf(f, "%lf %lf %lf", &u, &sy, &m) != 3)
		exit(1);
	fclose(f);
	*cpu = (u + sy) * 1e3;
	*rss = m / 1024;
	return wall;
}

/* The 1-minute load average: other work on the same cores. */
static double
load1(void)
{
	double l = -1;
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* One figure for run.sh's summary page, to the file $BENCH_SUMMARY names. */
static void
fact(const char *key, double v)
{
	const char *path = getenv("BENCH_SUMMARY");
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "gen.%s\t%.1f\n", key, v);
	fclose(f);
}

/*
 * The full publish of n items in a process of its own, beside gzip -6 of
 * the bytes it compressed: wall, CPU (user + system) and peak RSS of each.
 */
static void
publish_vs_gzip(const char *self, const char *dir, size_t n)
{
	char db[4096], pub[4096], raw[4096], res[4096], tf[4096];
	char cmd[8192];
	char *pargv[] = { (char *)self, "--publish", db, pub, raw, NULL };
	char *gargv[] = { "gzip", "-6", "-c", NULL };
	double wall = 0, bytes = 0, bcpu = 0, gwall, cpu, rss, gcpu, grss;
	FILE *f;

	snprintf(db, sizeof(db), "%s/gen-%zu.db", dir, n);
	snprintf(pub, sizeof(pub), "dir:%s/pub-%zu", dir, n);
	snprintf(raw, sizeof(raw), "%s/raw-%zu", dir, n);
	snprintf(res, sizeof(res), "%s/res-%zu", dir, n);
	snprintf(tf, sizeof(tf), "%s/time-%zu", dir, n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/pub-%zu'", dir, n);
	if (system(cmd) != 0)
		exit(1);
	(void)run(&cpu, &rss, pargv, NULL, res, tf);
	if ((f = fopen(res, "r")) == NULL || fscanf(f, "%lf %lf %lf", &wall,
	    &bytes, &bcpu) != 3)
		exit(1);
	fclose(f);
	gwall = run(&gcpu, &grss, gargv, raw, "/dev/null", tf);
	printf("\nfull publish of %zu items (new snapshot, build, local"
	    " directory target) beside gzip -6\nof the %.1f MB it compressed"
	    " (one file: every distinct file with a .gz)\n", n, bytes / 1e6);
	printf("%-14s %10s %10s %10s %9s\n", "", "wall ms", "cpu ms",
	    "peak RSS", "wall/gzip");
	printf("%-14s %10.0f %10.0f %9.0fM %8.2fx\n", "helios publish",
	    wall, bcpu, rss, wall / gwall);
	printf("%-14s %10.0f %10.0f %9.0fM %8.2fx\n", "gzip -6", gwall,
	    gcpu, grss, 1.0);
	printf("(publish wall and cpu: the build and the writes, not the"
	    " process's start and exit\n (its whole cpu: %.0f ms);"
	    " load %.2f; aim: wall <= 0.5x gzip -6's, peak RSS < 64 MB,\n"
	    " cpu above wall: both cores)\n", cpu, load1());
	fact("publish.items", (double)n);
	fact("publish.wall_ms", wall);
	fact("publish.cpu_ms", bcpu);
	fact("publish.rss_mb", rss);
	fact("gzip.wall_ms", gwall);
	fact("gzip.rss_mb", grss);
	unlink(raw);
	unlink(res);
	unlink(tf);
}

int
main(int argc, char **argv)
{
	struct row r[8], *base = NULL;
	size_t n, big = 0;
	double bigfull = 0;
	int i, nr = 0;

	if (argc == 5 && strcmp(argv[1], "--publish") == 0)
		return publish_child(argv[2], argv[3], argv[4]);
	if (argc < 3 || argc > 10) {
		fprintf(stderr, "usage: bench_gen DIR SIZE...\n");
		return 2;
	}
	printf("%-8s %8s %9s %9s %9s %9s %6s %10s %8s %8s %8s %8s %5s"
	    " %8s %8s %8s\n", "items", "import s", "full ms", "cpu ms", "min",
	    "max", "files", "tree bytes", "incr ms", "cpu ms", "p90", "max",
	    "lists", "incr/1st", "app ms", "cpu ms");
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
		    " %8.2f %8.2f %8.2f %5lld %7.2fx %8.2f %8.2f\n", n,
		    r[nr].import_s, r[nr].full, r[nr].full_cpu, r[nr].full_min,
		    r[nr].full_max, r[nr].files, r[nr].bytes, r[nr].incr,
		    r[nr].incr_cpu, r[nr].incr_p90, r[nr].incr_max,
		    (long long)r[nr].incr_lists, r[nr].incr / base->incr,
		    r[nr].app, r[nr].app_cpu);
		fflush(stdout);
	}
	printf("(full: hl_snap_new + hl_snap_build at the default gzip level,"
	    " median wall ms, and its\n CPU ms; incr: one item added to %s"
	    " beside the big list, then a build;\n lists: list renders per"
	    " incremental build; incr/1st: against the first size; app: one"
	    " item\n added to %s itself, then a build)\n", SMALL_LIST,
	    BIG_LIST);
	levels(argv[1], big, bigfull);
	publish_vs_gzip(argv[0], argv[1], big);
	return 0;
}
