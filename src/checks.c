/*
 * checks: the automatic checks of a new list value (see checks.h for what
 * each one means and the shape of its result).
 *
 * The per-list cache holds each item's duplicate key and, for a pattern
 * list, its compiled PCRE2 code (NULL for one PCRE2 can't compile even
 * with validate.c's stand-ins: such an item is counted as skipped).  The
 * candidate is compiled twice: once as validate.c compiles it (for the
 * matches and the limits), once more with PCRE2_AUTO_CALLOUT and without
 * start-up optimizations to count the steps a match takes (the "work"
 * reported; over HL_CHECKS_MATCH_LIMIT it is a gate as well).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "checks.h"
#include "store.h"
#include "validate.h"

/* Entries named in "covered.by" and "ham.examples". */
#define MAX_SHOWN	5
/* Bytes of a ham line shown in an example. */
#define EXAMPLE_BYTES	120
/* Runs of one character in the adversarial inputs. */
#define RUN		28

struct lcache {
	char		*id;
	int64_t		 version;
	int64_t		 count;
	size_t		 n;
	int64_t		*ids;
	char		**values;
	char		**keys;
	pcre2_code	**codes;	/* NULL for a list of literals */
	size_t		 skipped;
};

struct hl_checks {
	pthread_mutex_t	 mu;
	char		*ham;		/* the corpus, NUL-terminated */
	size_t		*lines;		/* start offsets, nlines + 1 */
	size_t		 nlines;
	struct lcache	*lists;
	size_t		 nlists;
	pcre2_match_context *mctx;	/* read-only once made */
};

static const char *const probes[] = {
	"hello", "The quick brown fox jumps over the lazy dog.", "12345",
	"x", "Lorem ipsum dolor sit amet", "https://stackoverflow.com/q/1",
	"How do I sort an array in Python?",
	"\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "de",	/* Unicode */
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "foo_bar(baz);", "   ",
	"user@example.com", "+1 (555) 010-9999", "<p>Thanks!</p>", "A",
	"zzzz",
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
lcache_clear(struct lcache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->values[i]);
		free(c->keys[i]);
		if (c->codes != NULL)
			pcre2_code_free(c->codes[i]);
	}
	free(c->ids);
	free(c->values);
	free(c->keys);
	free(c->codes);
	c->ids = NULL;
	c->values = c->keys = NULL;
	c->codes = NULL;
	c->n = c->skipped = 0;
	c->version = -1;
}

static int
load_ham(struct hl_checks *ck, const char *path, struct hl_err *err)
{
	FILE *f;
	char *p;
	size_t len = 0, cap = 0, n, i, k;

	if ((f = fopen(path, "rb")) == NULL)
		return hl_err_set(err, HL_EIO, "ham_corpus %s: %s", path,
		    strerror(errno));
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((p = realloc(ck->ham, cap + 1)) == NULL) {
				fclose(f);
				return hl_err_set(err, HL_ENOMEM,
				    "out of memory");
			}
			ck->ham = p;
		}
		n = fread(ck->ham + len, 1, cap - len, f);
		len += n;
		if (len > HL_CHECKS_HAM_MAX) {
			fclose(f);
			return hl_err_set(err, HL_ETOOBIG, "ham_corpus %s is"
			    " over %d bytes", path, HL_CHECKS_HAM_MAX);
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		return hl_err_set(err, HL_EIO, "ham_corpus %s: read error",
		    path);
	}
	fclose(f);
	ck->ham[len] = '\0';
	for (i = 0, n = 0; i < len; i++)
		n += ck->ham[i] == '\n';
	if ((ck->lines = calloc(n + 2, sizeof(*ck->lines))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	/* lines[k] is the start of line k; a line ends before its '\n'. */
	for (i = 0, k = 0; i < len; i++)
		if (i == 0 || ck->ham[i - 1] == '\n')
			ck->lines[k++] = i;
	ck->nlines = k;
	ck->lines[k] = len + 1;
	return 0;
}

int
hl_checks_new(struct hl_checks **out, const char *ham_corpus,
    struct hl_err *err)
{
	struct hl_checks *ck;
	int rc;

	*out = NULL;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutex_init(&ck->mu, NULL);
	ck->mctx = pcre2_match_context_create(NULL);
	if (ck->mctx == NULL) {
		hl_checks_free(ck);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	pcre2_set_match_limit(ck->mctx, HL_CHECKS_MATCH_LIMIT);
	pcre2_set_depth_limit(ck->mctx, HL_CHECKS_DEPTH_LIMIT);
	if (ham_corpus != NULL && *ham_corpus != '\0' &&
	    (rc = load_ham(ck, ham_corpus, err)) != 0) {
		hl_checks_free(ck);
		return rc;
	}
	*out = ck;
	return 0;
}

void
hl_checks_free(struct hl_checks *ck)
{
	size_t i;

	if (ck == NULL)
		return;
	for (i = 0; i < ck->nlists; i++) {
		lcache_clear(&ck->lists[i]);
		free(ck->lists[i].id);
	}
	free(ck->lists);
	free(ck->ham);
	free(ck->lines);
	pcre2_match_context_free(ck->mctx);
	pthread_mutex_destroy(&ck->mu);
	free(ck);
}

size_t
hl_checks_ham_lines(const struct hl_checks *ck)
{
	return ck->nlines;
}

static int
is_regex_list(const struct hl_list *l)
{
	return (l->fmt == HL_FMT_PLAIN || l->fmt == HL_FMT_TSV) &&
	    strcmp(l->id, "blacklist-number") != 0 &&
	    strcmp(l->id, "watch-number") != 0;
}

/* An item id and where its compiled code is in the old cache. */
struct idx {
	int64_t	 id;
	size_t	 i;
};

static int
idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Takes the compiled code of item id from the old cache c (sorted index
 * ix of n entries), or NULL when it was not there: an item's value never
 * changes under its id, so only new items are compiled again.
 */
static pcre2_code *
take_code(struct lcache *c, struct idx *ix, size_t n, int64_t id)
{
	struct idx key = { id, 0 }, *hit;
	pcre2_code *code;

	if (ix == NULL || c->codes == NULL)
		return NULL;
	hit = bsearch(&key, ix, n, sizeof(*ix), idx_cmp);
	if (hit == NULL)
		return NULL;
	code = c->codes[hit->i];
	c->codes[hit->i] = NULL;
	return code;
}

/* Adds one item at the end of c (the arrays grow by one). */
static int
cache_append(struct lcache *c, int fmt, int64_t id, const char *value)
{
	void *p;

	if ((p = realloc(c->ids, (c->n + 1) * sizeof(*c->ids))) == NULL)
		return -1;
	c->ids = p;
	if ((p = realloc(c->values, (c->n + 1) * sizeof(*c->values))) == NULL)
		return -1;
	c->values = p;
	if ((p = realloc(c->keys, (c->n + 1) * sizeof(*c->keys))) == NULL)
		return -1;
	c->keys = p;
	if (c->codes != NULL) {
		if ((p = realloc(c->codes, (c->n + 1) *
		    sizeof(*c->codes))) == NULL)
			return -1;
		c->codes = p;
		c->codes[c->n] = NULL;
	}
	c->ids[c->n] = id;
	c->values[c->n] = strdup(value);
	c->keys[c->n] = hl_item_key(fmt, value);
	if (c->values[c->n] == NULL || c->keys[c->n] == NULL) {
		free(c->values[c->n]);
		free(c->keys[c->n]);
		return -1;
	}
	if (c->codes != NULL && hl_validate_compile(&c->codes[c->n], NULL,
	    value, NULL) != 0)
		c->skipped++;
	c->n++;
	return 0;
}

/* Removes item id from c; -1 when it is not there. */
static int
cache_remove(struct lcache *c, int64_t id)
{
	size_t i, k;

	for (i = c->n; i-- > 0;)
		if (c->ids[i] == id)
			break;
	if (i == (size_t)-1)
		return -1;
	free(c->values[i]);
	free(c->keys[i]);
	if (c->codes != NULL)
		pcre2_code_free(c->codes[i]);
	k = c->n - i - 1;
	memmove(&c->ids[i], &c->ids[i + 1], k * sizeof(*c->ids));
	memmove(&c->values[i], &c->values[i + 1], k * sizeof(*c->values));
	memmove(&c->keys[i], &c->keys[i + 1], k * sizeof(*c->keys));
	if (c->codes != NULL)
		memmove(&c->codes[i], &c->codes[i + 1], k * sizeof(*c->codes));
	c->n--;
	return 0;
}

/*
 * Brings a filled cache up to l's version from the audit events since
 * (at most 256 of them), so a write to a big list costs its own change.
 * -1: read the list in full instead (the cache may be half-updated).
 */
static int
cache_update(struct lcache *c, struct hl_store *st, const struct hl_list *l)
{
	struct hl_event *ev = NULL;
	json_t *r;
	size_t n = 0, i;
	int ok = 1;

	if (c->version < 0 || l->version - c->version > 256 ||
	    hl_store_events(&ev, &n, st, c->version, 256, NULL) != 0)
		return -1;
	if (n == 256 && ev[n - 1].version < l->version)
		ok = 0;
	for (i = 0; ok && i < n && ev[i].version <= l->version; i++) {
		if (strcmp(ev[i].list, l->id) != 0)
			continue;
		r = json_loads(ev[i].record, 0, NULL);
		if (r == NULL || json_is_true(json_object_get(r, "verbatim")))
			ok = r != NULL;
		else if (strcmp(ev[i].op, "add") == 0)
			ok = cache_append(c, l->fmt, json_integer_value(
			    json_object_get(r, "id")), ev[i].value) == 0;
		else
			ok = cache_remove(c, json_integer_value(
			    json_object_get(r, "id"))) == 0;
		json_decref(r);
	}
	hl_events_free(ev, n);
	if (!ok || (int64_t)c->n != l->count)
		return -1;
	c->version = l->version;
	c->count = l->count;
	return 0;
}

/* The cache of l, filled for its current version. */
static int
cache_get(struct lcache **out, struct hl_checks *ck, struct hl_store *st,
    const struct hl_list *l, struct hl_err *err)
{
	struct lcache *c = NULL, *p, old;
	struct hl_item *items = NULL;
	struct idx *ix = NULL;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < ck->nlists; i++)
		if (strcmp(ck->lists[i].id, l->id) == 0)
			c = &ck->lists[i];
	if (c == NULL) {
		p = realloc(ck->lists, (ck->nlists + 1) * sizeof(*p));
		if (p == NULL)
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		ck->lists = p;
		c = &ck->lists[ck->nlists];
		memset(c, 0, sizeof(*c));
		c->version = -1;
		if ((c->id = strdup(l->id)) == NULL)
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		ck->nlists++;
	}
	*out = c;
	if (c->version == l->version && c->count == l->count)
		return 0;
	if (cache_update(c, st, l) == 0)
		return 0;
	if ((rc = hl_store_items(&items, &n, st, l->id, 0, err)) != 0)
		return rc;
	/* Keep the old codes aside, indexed by item id, for reuse. */
	old = *c;
	memset(c, 0, sizeof(*c));
	c->id = old.id;
	c->version = -1;
	old.id = NULL;
	if (old.codes != NULL &&
	    (ix = calloc(old.n + 1, sizeof(*ix))) != NULL) {
		for (i = 0; i < old.n; i++) {
			ix[i].id = old.ids[i];
			ix[i].i = i;
		}
		qsort(ix, old.n, sizeof(*ix), idx_cmp);
	}
	c->ids = calloc(n + 1, sizeof(*c->ids));
	c->values = calloc(n + 1, sizeof(*c->values));
	c->keys = calloc(n + 1, sizeof(*c->keys));
	if (is_regex_list(l))
		c->codes = calloc(n + 1, sizeof(*c->codes));
	if (c->ids == NULL || c->values == NULL || c->keys == NULL ||
	    (is_regex_list(l) && c->codes == NULL)) {
		hl_items_free(items, n);
		lcache_clear(c);
		lcache_clear(&old);
		free(ix);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		c->ids[i] = items[i].id;
		c->values[i] = items[i].value;
		items[i].value = NULL;
		c->keys[i] = hl_item_key(l->fmt, c->values[i]);
		c->n++;
		if (c->keys[i] == NULL) {
			hl_items_free(items, n);
			lcache_clear(c);
			lcache_clear(&old);
			free(ix);
			return hl_err_set(err, HL_ENOMEM, "out of memory");
		}
		if (c->codes != NULL &&
		    (c->codes[i] = take_code(&old, ix, old.n, c->ids[i])) ==
		    NULL && hl_validate_compile(&c->codes[i], NULL,
		    c->values[i], NULL) != 0)
			c->skipped++;
	}
	hl_items_free(items, n);
	lcache_clear(&old);
	free(ix);
	c->version = l->version;
	c->count = l->count;
	return 0;
}

/* An IP network: address bytes, prefix bits, family. */
static int
parse_cidr(const char *v, unsigned char bin[16], unsigned *bits, int *v6)
{
	char addr[64];
	const char *slash = strchr(v, '/');
	size_t alen = slash ? (size_t)(slash - v) : strlen(v);

	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	*v6 = strchr(addr, ':') != NULL;
	if (inet_pton(*v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return -1;
	*bits = slash ? (unsigned)strtoul(slash + 1, NULL, 10) :
	    (*v6 ? 128u : 32u);
	return 0;
}

/* 1 when network a (abits) holds b (bbits). */
static int
cidr_holds(const unsigned char *a, unsigned abits, const unsigned char *b,
    unsigned bbits)
{
	unsigned i, full = abits / 8, rest = abits % 8;

	if (abits > bbits)
		return 0;
	for (i = 0; i < full; i++)
		if (a[i] != b[i])
			return 0;
	if (rest != 0 && ((a[full] ^ b[full]) & (0xff00u >> rest) & 0xff))
		return 0;
	return 1;
}

static json_t *
check_covered(struct lcache *c, const struct hl_list *l, const char *value,
    struct hl_checks *ck, pcre2_match_data *md)
{
	json_t *by = json_array(), *o;
	unsigned char nb[16], ib[16];
	unsigned nbits = 0, ibits;
	char *key = hl_item_key(l->fmt, value);
	const char *how;
	size_t i, hits = 0;
	int nv6 = 0, iv6, cidr = 0;

	if (l->fmt == HL_FMT_YAML_CIDR)
		cidr = parse_cidr(value, nb, &nbits, &nv6) == 0;
	for (i = 0; key != NULL && by != NULL && i < c->n; i++) {
		how = NULL;
		if (strcmp(c->keys[i], key) == 0)
			how = "duplicate";
		else if (c->codes != NULL && c->codes[i] != NULL &&
		    pcre2_match(c->codes[i], (PCRE2_SPTR)value,
		    PCRE2_ZERO_TERMINATED, 0, 0, md, ck->mctx) >= 0)
			how = "matches";
		else if (cidr && parse_cidr(c->values[i], ib, &ibits,
		    &iv6) == 0 && iv6 == nv6 && cidr_holds(ib, ibits, nb,
		    nbits))
			how = "contains";
		if (how == NULL)
			continue;
		if (hits++ < MAX_SHOWN)
			json_array_append_new(by, json_pack("{s:I, s:s, s:s}",
			    "id", (json_int_t)c->ids[i], "value",
			    c->values[i], "how", how));
	}
	free(key);
	o = json_pack("{s:b, s:o, s:I, s:I, s:I}", "ok", hits == 0, "by", by,
	    "count", (json_int_t)hits, "checked", (json_int_t)c->n,
	    "skipped", (json_int_t)c->skipped);
	return o;
}

static json_t *
check_broad(int *gate, pcre2_code *code, struct hl_checks *ck,
    pcre2_match_data *md)
{
	size_t i, hits = 0;
	int empty;

	empty = pcre2_match(code, (PCRE2_SPTR)"", 0, 0, 0, md,
	    ck->mctx) >= 0;
	for (i = 0; i < NPROBES; i++)
		hits += pcre2_match(code, (PCRE2_SPTR)probes[i],
		    PCRE2_ZERO_TERMINATED, 0, 0, md, ck->mctx) >= 0;
	*gate = empty || hits * 100 >= HL_CHECKS_BROAD_SHARE * NPROBES;
	return json_pack("{s:b, s:b, s:I, s:I}", "ok", !*gate,
	    "matches_empty", empty, "probes", (json_int_t)NPROBES,
	    "probes_matched", (json_int_t)hits);
}

/* The callout of the counting compile: one step each. */
static int
count_step(pcre2_callout_block *cb, void *arg)
{
	uint64_t *n = arg;

	(void)cb;
	return ++*n > (uint64_t)HL_CHECKS_MATCH_LIMIT ?
	    PCRE2_ERROR_CALLOUT : 0;
}

/*
 * The adversarial inputs: RUN copies of a character, then '!' (which
 * fails most anchored or repeated matches, forcing a backtrack); once
 * for each of a fixed set of characters and of the first ASCII letters
 * and digits of the pattern; and two-character alternations.
 */
static size_t
inputs(char (*in)[2 * RUN + 2], size_t max, const char *value)
{
	static const char fixed[] = "a1 x.-_";
	char seen[128] = { 0 };
	const char *p;
	size_t n = 0, i;

	for (p = fixed; *p != '\0' && n < max; p++) {
		memset(in[n], *p, RUN);
		strcpy(in[n] + RUN, "!");
		seen[(unsigned char)*p] = 1;
		n++;
	}
	for (p = value; *p != '\0' && n < max; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if (ch >= 128 || seen[ch] || !((ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9')))
			continue;
		seen[ch] = 1;
		memset(in[n], ch, RUN);
		strcpy(in[n] + RUN, "!");
		n++;
	}
	for (i = 0; i < RUN && n < max; i += 2)
		memcpy(in[n] + i, "ab", 2);
	if (n < max)
		strcpy(in[n++] + RUN, "!");
	return n;
}

static json_t *
check_backtracking(int *gate, pcre2_code *code, const char *value,
    struct hl_checks *ck, pcre2_match_data *md)
{
	char in[40][2 * RUN + 2];
	pcre2_code *counted = NULL;
	pcre2_match_context *cctx = NULL;
	uint32_t opts = 0;
	uint64_t steps, worst = 0;
	size_t n, i, wi = 0;
	int rc, ec, measured = 0;
	PCRE2_SIZE eoff;
	json_t *o;

	memset(in, 0, sizeof(in));
	n = inputs(in, sizeof(in) / sizeof(in[0]), value);
	*gate = 0;
	if (pcre2_pattern_info(code, PCRE2_INFO_ARGOPTIONS, &opts) == 0 &&
	    (counted = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED,
	    opts | PCRE2_AUTO_CALLOUT | PCRE2_NO_START_OPTIMIZE, &ec, &eoff,
	    NULL)) != NULL &&
	    (cctx = pcre2_match_context_create(NULL)) != NULL)
		measured = 1;
	for (i = 0; i < n; i++) {
		rc = pcre2_match(code, (PCRE2_SPTR)in[i],
		    PCRE2_ZERO_TERMINATED, 0, 0, md, ck->mctx);
		if (rc == PCRE2_ERROR_MATCHLIMIT ||
		    rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_HEAPLIMIT) {
			if (!*gate)
				wi = i;
			*gate = 1;
		}
		if (!measured)
			continue;
		steps = 0;
		pcre2_set_callout(cctx, count_step, &steps);
		(void)pcre2_match(counted, (PCRE2_SPTR)in[i],
		    PCRE2_ZERO_TERMINATED, 0, 0, md, cctx);
		if (steps > worst) {
			worst = steps;
			if (!*gate)
				wi = i;
		}
		/*
		 * Without PCRE2's start-up optimizations (a required
		 * character absent from the input ends the match at once)
		 * the work is what an engine without them, such as Python's,
		 * may do: over the limit is a gate too.
		 */
		if (steps > HL_CHECKS_MATCH_LIMIT)
			*gate = 1;
	}
	o = json_pack("{s:b, s:s, s:I, s:I}", "ok", !*gate,
	    "worst_input", in[wi], "limit", (json_int_t)HL_CHECKS_MATCH_LIMIT,
	    "depth_limit", (json_int_t)HL_CHECKS_DEPTH_LIMIT);
	if (o != NULL)
		json_object_set_new(o, "work", measured ?
		    json_integer((json_int_t)worst) : json_null());
	pcre2_code_free(counted);
	pcre2_match_context_free(cctx);
	return o;
}

/* Cuts s to at most max bytes on a UTF-8 character boundary. */
static json_t *
example(const char *s, size_t len, size_t line)
{
	json_t *t;

	if (len > EXAMPLE_BYTES)
		len = EXAMPLE_BYTES;
	while ((t = json_stringn(s, len)) == NULL && len > 0)
		len--;
	return json_pack("{s:I, s:o}", "line", (json_int_t)line + 1,
	    "text", t ? t : json_string(""));
}

static json_t *
check_ham(pcre2_code *code, struct hl_checks *ck, pcre2_match_data *md)
{
	json_t *ex = json_array();
	size_t i, hits = 0, s, e;

	if (ck->nlines == 0) {
		json_decref(ex);
		return json_pack("{s:b, s:I, s:I, s:n}", "ok", 1, "lines",
		    (json_int_t)0, "matched", (json_int_t)0, "examples");
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	for (i = 0; i < ck->nlines; i++) {
		s = ck->lines[i];
		e = ck->lines[i + 1] - 1;
		if (pcre2_match(code, (PCRE2_SPTR)ck->ham + s, e - s, 0, 0,
		    md, ck->mctx) < 0)
			continue;
		if (hits++ < MAX_SHOWN && ex != NULL)
			json_array_append_new(ex, example(ck->ham + s, e - s,
			    i));
	}
	return json_pack("{s:b, s:I, s:I, s:o}", "ok", hits == 0,
	    "lines", (json_int_t)ck->nlines, "matched", (json_int_t)hits,
	    "examples", ex ? ex : json_array());
}

/* The covered check, under the lock that guards the per-list caches. */
static int
run_covered(json_t *o, struct hl_checks *ck, struct hl_store *st,
    const struct hl_list *l, const char *value, pcre2_match_data *md,
    struct hl_err *err)
{
	struct timespec t0;
	struct lcache *c = NULL;
	json_t *cov;
	double load;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&ck->mu);
	if ((rc = cache_get(&c, ck, st, l, err)) != 0) {
		pthread_mutex_unlock(&ck->mu);
		return rc;
	}
	load = ms_since(&t0);
	cov = check_covered(c, l, value, ck, md);
	pthread_mutex_unlock(&ck->mu);
	json_object_set_new(o, "covered", cov);
	json_object_set_new(cov, "load_ms", json_real(load));
	json_object_set_new(cov, "ms", json_real(ms_since(&t0)));
	return 0;
}

static int
run(json_t *o, const char **gate, struct hl_checks *ck, struct hl_store *st,
    const struct hl_list *l, const char *value, int full,
    pcre2_match_data *md, struct hl_err *err)
{
	struct hl_err e2 = HL_ERR_INIT;
	struct timespec t0;
	pcre2_code *code = NULL;
	char *note = NULL;
	unsigned char bin[16];
	unsigned bits;
	int rc, g, v6;

	if (full && (rc = run_covered(o, ck, st, l, value, md, err)) != 0)
		return rc;
	if (l->fmt == HL_FMT_YAML_CIDR && parse_cidr(value, bin, &bits,
	    &v6) == 0) {
		g = bits < (v6 ? 16u : 8u);
		json_object_set_new(o, "broad", json_pack("{s:b, s:I}", "ok",
		    !g, "prefix", (json_int_t)bits));
		if (g)
			*gate = "broad";
	}
	if (!is_regex_list(l))
		return 0;
	if (hl_validate_compile(&code, &note, value, &e2) != 0) {
		json_object_set_new(o, "compile", json_pack("{s:b, s:s}",
		    "ok", 0, "error", e2.msg));
		return 0;
	}
	json_object_set_new(o, "compile", json_pack("{s:b, s:s, s:o}", "ok",
	    1, "engine", "pcre2", "regex_only", note ? json_string(note) :
	    json_null()));
	free(note);
	json_object_set_new(o, "broad", check_broad(&g, code, ck, md));
	if (g)
		*gate = "broad";
	json_object_set_new(o, "backtracking", check_backtracking(&g, code,
	    value, ck, md));
	if (g && *gate == NULL)
		*gate = "backtracking";
	if (full) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		json_object_set_new(o, "ham", check_ham(code, ck, md));
		json_object_set_new(json_object_get(o, "ham"), "ms",
		    json_real(ms_since(&t0)));
	}
	pcre2_code_free(code);
	return 0;
}

int
hl_checks_run(json_t **out, const char **gate, struct hl_checks *ck,
    struct hl_store *st, const struct hl_list *l, const char *value,
    enum hl_checks_level level, struct hl_err *err)
{
	struct timespec t0;
	pcre2_match_data *md;
	json_t *o, *gates;
	int rc;

	*out = NULL;
	*gate = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	md = pcre2_match_data_create(1, NULL);
	if (md == NULL || (o = json_object()) == NULL) {
		pcre2_match_data_free(md);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if ((gates = json_array()) == NULL) {
		pcre2_match_data_free(md);
		json_decref(o);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	rc = run(o, gate, ck, st, l, value, level == HL_CHECKS_FULL, md, err);
	pcre2_match_data_free(md);
	if (rc != 0) {
		json_decref(o);
		json_decref(gates);
		return rc;
	}
	{
		json_t *b = json_object_get(o, "broad");
		json_t *k = json_object_get(o, "backtracking");

		if (b != NULL && !json_is_true(json_object_get(b, "ok")))
			json_array_append_new(gates, json_string("broad"));
		if (k != NULL && !json_is_true(json_object_get(k, "ok")))
			json_array_append_new(gates,
			    json_string("backtracking"));
	}
	json_object_set_new(o, "gates", gates);
	json_object_set_new(o, "level", json_string(level == HL_CHECKS_FULL ?
	    "full" : "gates"));
	json_object_set_new(o, "ms", json_real(ms_since(&t0)));
	*out = o;
	return 0;
}
