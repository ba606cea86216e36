/*
 * test_store: the SQLite store against real database files.
 */
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
#include <sqlite3.h>

#include "crashvfs.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"

static const struct hl_actor alice = { .name = "alice" };

struct fixture {
	char		 path[64];
	struct hl_store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hl_err err = HL_ERR_INIT;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/helios-store-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	assert_int_equal(hl_store_open(&f->st, f->path, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	hl_store_close(f->st);
	hl_testdb_remove(f->path);
	free(f);
	return 0;
}

static int64_t
add(struct hl_store *st, const char *list, const char *value, int want)
{
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	int64_t v = 0;

	in.value = (char *)value;
	assert_int_equal(hl_store_item_add(&out, &v, st, list, &in, &alice,
	    &err), want);
	hl_item_clear(&out);
	return v;
}

static void
the_eleven_lists_exist_with_their_files_and_formats(void **state)
{
	struct fixture *f = *state;
	struct hl_list *l = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0;

	assert_int_equal(hl_store_lists(&l, &n, f->st, &err), 0);
	assert_int_equal(n, 11);
	assert_string_equal(l[0].id, "blacklist-keyword");
	assert_string_equal(l[0].file, "bad_keywords.txt");
	assert_int_equal(l[4].fmt, HL_FMT_TSV);
	assert_string_equal(l[10].id, "watch-asn");
	assert_int_equal(l[10].fmt, HL_FMT_YAML_ASN);
	hl_lists_free(l, n);
}

static void
each_change_is_the_next_version_and_moves_its_list(void **state)
{
	struct fixture *f = *state;
	struct hl_list l;
	struct hl_err err = HL_ERR_INIT;

	assert_int_equal(hl_store_version(f->st), 0);
	assert_int_equal(add(f->st, "watch-keyword", "a\\.example", 0), 1);
	assert_int_equal(add(f->st, "blacklist-website", "b\\.example", 0), 2);
	assert_int_equal(add(f->st, "watch-keyword", "c\\.example", 0), 3);
	assert_int_equal(hl_store_version(f->st), 3);
	assert_int_equal(hl_store_list(&l, f->st, "watch-keyword", &err), 0);
	assert_int_equal(l.version, 3);
	assert_int_equal(l.count, 2);
	hl_list_clear(&l);
	assert_int_equal(hl_store_list(&l, f->st, "blacklist-website", &err),
	    0);
	assert_int_equal(l.version, 2);
	hl_list_clear(&l);
}

static void
a_duplicate_is_refused_with_the_existing_item_case_insensitively(void **state)
{
	struct fixture *f = *state;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	int64_t v;

	add(f->st, "blacklist-keyword", "Spam\\W?Pills", 0);
	in.value = "spam\\w?pills";
	assert_int_equal(hl_store_item_add(&out, &v, f->st,
	    "blacklist-keyword", &in, &alice, &err), HL_EEXISTS);
	assert_string_equal(out.value, "Spam\\W?Pills");
	assert_int_equal(v, 0);
	hl_item_clear(&out);
	/* Nothing was written: still one version. */
	assert_int_equal(hl_store_version(f->st), 1);
	/* The same value in another list is no duplicate. */
	add(f->st, "watch-keyword", "spam\\w?pills", 0);
	/* IPs compare exactly. */
	add(f->st, "blacklist-cidr", "10.0.0.1", 0);
	add(f->st, "blacklist-cidr", "10.0.0.1", HL_EEXISTS);
}

static void
deleting_returns_the_item_and_writes_an_event(void **state)
{
	struct fixture *f = *state;
	struct hl_item out;
	struct hl_event *ev = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0;
	int64_t v;

	add(f->st, "watch-keyword", "x\\.example", 0);
	/* tsv values compare exactly, as SmokeDetector's remove() does. */
	assert_int_equal(hl_store_item_del(&out, &v, f->st, "watch-keyword",
	    "X\\.EXAMPLE", &alice, &err), HL_ENOTFOUND);
	assert_int_equal(hl_store_item_del(&out, &v, f->st, "watch-keyword",
	    "x\\.example", &alice, &err), 0);
	assert_string_equal(out.value, "x\\.example");
	assert_int_equal(v, 2);
	hl_item_clear(&out);
	assert_int_equal(hl_store_item_del(&out, &v, f->st, "watch-keyword",
	    "x\\.example", &alice, &err), HL_ENOTFOUND);
	{
		struct hl_list l;

		assert_int_equal(hl_store_list(&l, f->st, "watch-keyword",
		    &err), 0);
		assert_int_equal(l.count, 0);
		assert_int_equal(l.version, 2);
		hl_list_clear(&l);
	}
	assert_int_equal(hl_store_events(&ev, &n, f->st, 0, 10, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].op, "add");
	assert_string_equal(ev[1].op, "delete");
	assert_string_equal(ev[1].actor, "alice");
	assert_non_null(strstr(ev[1].record, "x\\\\.example"));
	hl_events_free(ev, n);
}

/* The values of list, in file order, joined by '|'. */
static void
values_are(struct hl_store *st, const char *list, const char *want)
{
	struct hl_item *v = NULL;
	struct hl_err err = HL_ERR_INIT;
	char got[256] = "";
	size_t n = 0, i;

	assert_int_equal(hl_store_items(&v, &n, st, list, 0, &err), 0);
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		    i ? "|" : "", v[i].value);
	hl_items_free(v, n);
	assert_string_equal(got, want);
}

static void
a_blacklisted_value_leaves_the_watchlists_in_the_same_change(void **state)
{
	struct fixture *f = *state;
	struct hl_item item = { .value = "spam\\.example" };
	struct hl_event *ev = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, added;
	int64_t v;

	add(f->st, "watch-keyword", "spam\\.example", 0);
	add(f->st, "watch-keyword", "other\\.example", 0);
	add(f->st, "watch-number", "5550100", 0);
	/* Three events: the add, then the delete, which the version names. */
	assert_int_equal(add(f->st, "blacklist-keyword", "spam\\.example", 0),
	    5);
	values_are(f->st, "watch-keyword", "other\\.example");
	assert_int_equal(hl_store_events(&ev, &n, f->st, 3, 10, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].op, "add");
	assert_string_equal(ev[0].list, "blacklist-keyword");
	assert_string_equal(ev[1].op, "delete");
	assert_string_equal(ev[1].list, "watch-keyword");
	assert_string_equal(ev[1].actor, "alice");
	hl_events_free(ev, n);
	/* Every blacklist clears both watchlists; nothing watched, no event. */
	assert_int_equal(add(f->st, "blacklist-number", "5550100", 0), 7);
	values_are(f->st, "watch-number", "");
	assert_int_equal(add(f->st, "blacklist-website", "new\\.example", 0),
	    8);
	/* A watchlist or an import clears nothing. */
	add(f->st, "watch-keyword", "spam\\.example", 0);
	add(f->st, "blacklist-username", "x", 0);
	add(f->st, "watch-keyword", "x", 0);
	values_are(f->st, "blacklist-username", "x");
	item.value = "other\\.example";
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", &item, 1, &alice, &err), 0);
	assert_int_equal(added, 1);
	values_are(f->st, "watch-keyword", "other\\.example|spam\\.example|x");
}

static void
an_unknown_list_is_not_found_and_changes_nothing(void **state)
{
	struct fixture *f = *state;

	add(f->st, "no-such-list", "x", HL_ENOTFOUND);
	assert_int_equal(hl_store_version(f->st), 0);
}

static void
import_keeps_order_and_verbatim_lines_and_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct hl_item in[4] = { { 0 } }, *out = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t added, n = 0;
	int64_t v;

	in[0].value = "# a comment";
	in[0].verbatim = 1;
	in[1].value = "first";
	in[2].value = "# a comment";
	in[2].verbatim = 1;
	in[3].value = "second";
	in[3].created_at = 1494568775;
	in[3].created_by = "tripleee";
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", in, 4, &alice, &err), 0);
	assert_int_equal(added, 4);
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", in, 4, &alice, &err), 0);
	assert_int_equal(added, 0);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    1, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(out[0].value, "# a comment");
	assert_true(out[0].verbatim);
	assert_string_equal(out[3].value, "second");
	assert_int_equal(out[3].created_at, 1494568775);
	assert_string_equal(out[3].created_by, "tripleee");
	hl_items_free(out, n);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    0, &err), 0);
	assert_int_equal(n, 2);
	hl_items_free(out, n);
}

static void
duplicates_are_kept_in_place_counted_once_and_deleted_together(void **state)
{
	struct fixture *f = *state;
	struct hl_item in[4] = { { 0 } }, *out = NULL, it, got;
	struct hl_list l;
	struct hl_err err = HL_ERR_INIT;
	size_t added, n = 0;
	int64_t v;

	/* blacklisted_cidrs.yml with the same ip twice. */
	in[0].value = "192.0.2.1";
	in[1].value = "192.0.2.2";
	in[2].value = "192.0.2.1";
	in[2].comment = "again";
	in[3].value = "192.0.2.3";
	assert_int_equal(hl_store_import(&added, &v, f->st, "blacklist-cidr",
	    in, 4, &alice, &err), 0);
	assert_int_equal(added, 4);
	assert_int_equal(hl_store_list(&l, f->st, "blacklist-cidr", &err), 0);
	assert_int_equal(l.count, 3);
	hl_list_clear(&l);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-cidr", 0,
	    &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].dup_of, 0);
	assert_int_equal(out[2].dup_of, out[0].id);
	assert_string_equal(out[2].comment, "again");
	hl_items_free(out, n);
	/* Importing again matches the copy too. */
	assert_int_equal(hl_store_import(&added, &v, f->st, "blacklist-cidr",
	    in, 4, &alice, &err), 0);
	assert_int_equal(added, 0);
	/* The API refuses a new one... */
	memset(&it, 0, sizeof(it));
	it.value = "192.0.2.1";
	assert_int_equal(hl_store_item_add(&got, &v, f->st,
	    "blacklist-cidr", &it, &alice, &err), HL_EEXISTS);
	hl_item_clear(&got);
	/* ...and a delete removes every copy. */
	assert_int_equal(hl_store_item_del(&it, &v, f->st, "blacklist-cidr",
	    "192.0.2.1", &alice, &err), 0);
	hl_item_clear(&it);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-cidr", 1,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].value, "192.0.2.2");
	assert_string_equal(out[1].value, "192.0.2.3");
	hl_items_free(out, n);
	assert_int_equal(hl_store_list(&l, f->st, "blacklist-cidr", &err), 0);
	assert_int_equal(l.count, 2);
	hl_list_clear(&l);
}

static void
duplicates_follow_each_format_s_rule(void **state)
{
	struct fixture *f = *state;
	struct hl_item in[2] = { { 0 } }, *out = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t added, n = 0;
	int64_t v;

	in[0].value = "(?-i:AbC)";
	in[1].value = "(?-i:aBc)";
	assert_int_equal(hl_store_import(&added, &v, f->st, "watch-keyword",
	    in, 2, &alice, &err), 0);
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", in, 2, &alice, &err), 0);
	assert_int_equal(hl_store_items(&out, &n, f->st, "watch-keyword", 0,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].dup_of, 0);
	hl_items_free(out, n);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    0, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].dup_of, out[0].id);
	hl_items_free(out, n);
}

static void
a_mirror_removes_what_the_file_lost_and_a_dry_run_changes_nothing(
    void **state)
{
	struct fixture *f = *state;
	struct hl_item in[3] = { { 0 } }, *out = NULL;
	struct hl_store_mirror m = { 0 };
	struct hl_buf diff = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	size_t added, n = 0;
	int64_t v, before;

	in[0].value = "one";
	in[1].value = "two";
	in[2].value = "three";
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", in, 3, &alice, &err), 0);
	/* The file loses "two" and gains "four" at its start. */
	in[1].value = "three";
	in[2].value = "one";
	in[0].value = "four";
	in[0].line = 1;
	before = hl_store_version(f->st);
	m.dry_run = 1;
	m.diff = &diff;
	assert_int_equal(hl_store_mirror(&m, f->st, "blacklist-keyword", in,
	    3, &alice, &err), 0);
	assert_int_equal(m.added, 1);
	assert_int_equal(m.removed, 1);
	assert_int_equal(m.version, 0);
	assert_string_equal(diff.data, "+ 1: four\n- two\n");
	assert_int_equal(hl_store_version(f->st), before);
	memset(&m, 0, sizeof(m));
	assert_int_equal(hl_store_mirror(&m, f->st, "blacklist-keyword", in,
	    3, &alice, &err), 0);
	assert_int_equal(m.removed, 1);
	assert_int_equal(hl_store_version(f->st), before + 2);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    1, &err), 0);
	assert_int_equal(n, 3);
	/* The file's order. */
	assert_string_equal(out[0].value, "four");
	assert_string_equal(out[1].value, "three");
	assert_string_equal(out[2].value, "one");
	hl_items_free(out, n);
	hl_buf_free(&diff);
}

static void
a_mirror_that_replaces_a_first_copy_keeps_its_copies_linked(void **state)
{
	struct fixture *f = *state;
	struct hl_item in[2] = { { 0 } }, *out = NULL, it;
	struct hl_store_mirror m = { 0 };
	struct hl_err err = HL_ERR_INIT;
	size_t added, n = 0;
	int64_t v;

	in[0].value = "192.0.2.9";
	in[0].comment = "first";
	in[1].value = "192.0.2.9";
	assert_int_equal(hl_store_import(&added, &v, f->st, "watch-cidr",
	    in, 2, &alice, &err), 0);
	/* The first copy's comment changed in the file. */
	in[0].comment = "changed";
	assert_int_equal(hl_store_mirror(&m, f->st, "watch-cidr", in, 2,
	    &alice, &err), 0);
	assert_int_equal(m.added, 1);
	assert_int_equal(m.removed, 1);
	assert_int_equal(hl_store_items(&out, &n, f->st, "watch-cidr", 0,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].comment, "changed");
	assert_int_equal(out[1].dup_of, out[0].id);
	hl_items_free(out, n);
	assert_int_equal(hl_store_item_del(&it, &v, f->st, "watch-cidr",
	    "192.0.2.9", &alice, &err), 0);
	hl_item_clear(&it);
	assert_int_equal(hl_store_items(&out, &n, f->st, "watch-cidr", 1,
	    &err), 0);
	assert_int_equal(n, 0);
	hl_items_free(out, n);
}

static void
notifications_are_unique_on_four_fields(void **state)
{
	struct fixture *f = *state;
	struct hl_notif in = { 0 }, out;
	struct hl_notif *all = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0;
	int64_t v;

	in.user_id = 12345;
	in.server = "stackexchange.com";
	in.room_id = 11540;
	in.site = "stackoverflow.com";
	assert_int_equal(hl_store_notif_add(&out, &v, f->st, &in, &alice,
	    &err), 0);
	assert_int_equal(v, 1);
	hl_notif_clear(&out);
	in.always_ping = 1;
	assert_int_equal(hl_store_notif_add(&out, &v, f->st, &in, &alice,
	    &err), HL_EEXISTS);
	assert_int_equal(out.always_ping, 0);
	hl_notif_clear(&out);
	assert_int_equal(hl_store_notifs_version(f->st), 1);
	in.site = "superuser.com";
	assert_int_equal(hl_store_notif_add(&out, &v, f->st, &in, &alice,
	    &err), 0);
	hl_notif_clear(&out);
	assert_int_equal(hl_store_notifs(&all, &n, f->st, &err), 0);
	assert_int_equal(n, 2);
	hl_notifs_free(all, n);
	assert_int_equal(hl_store_notif_del(&out, &v, f->st, &in, &alice,
	    &err), 0);
	assert_int_equal(v, 3);
	hl_notif_clear(&out);
	assert_int_equal(hl_store_notif_del(&out, &v, f->st, &in, &alice,
	    &err), HL_ENOTFOUND);
}

static void
tokens_are_found_by_hash_until_revoked(void **state)
{
	struct fixture *f = *state;
	unsigned char h[32], other[32];
	struct hl_token t, *all = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0;

	memset(h, 7, sizeof(h));
	memset(other, 8, sizeof(other));
	assert_int_equal(hl_store_token_add(&t, f->st, "smokey", h,
	    HL_SCOPE_WRITE, "test", &err), 0);
	hl_token_clear(&t);
	assert_int_equal(hl_store_admin_count(f->st), 0);
	assert_int_equal(hl_store_token_find(&t, f->st, h, &err), 0);
	assert_string_equal(t.name, "smokey");
	assert_int_equal(t.scopes, HL_SCOPE_WRITE);
	assert_int_equal(hl_store_token_revoke(f->st, t.id, &err), 0);
	assert_int_equal(hl_store_token_revoke(f->st, t.id, &err),
	    HL_ENOTFOUND);
	hl_token_clear(&t);
	assert_int_equal(hl_store_token_find(&t, f->st, h, &err), HL_EAUTH);
	assert_int_equal(hl_store_token_find(&t, f->st, other, &err),
	    HL_EAUTH);
	assert_int_equal(hl_store_tokens(&all, &n, f->st, &err), 0);
	assert_int_equal(n, 1);
	assert_true(all[0].revoked_at > 0);
	hl_tokens_free(all, n);
}

static void
only_the_hash_of_a_token_is_stored(void **state)
{
	struct fixture *f = *state;
	unsigned char h[32];
	struct hl_token t;
	struct hl_err err = HL_ERR_INIT;
	sqlite3 *db;
	sqlite3_stmt *s;

	memset(h, 0xab, sizeof(h));
	assert_int_equal(hl_store_token_add(&t, f->st, "x", h, HL_SCOPE_ADMIN,
	    "test", &err), 0);
	hl_token_clear(&t);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM tokens", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(s, 0), 32);
	assert_memory_equal(sqlite3_column_blob(s, 0), h, 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
a_committed_write_is_in_the_file_for_a_new_connection(void **state)
{
	struct fixture *f = *state;
	struct hl_store *st2;
	struct hl_err err = HL_ERR_INIT;
	sqlite3 *db;
	sqlite3_stmt *s;

	char p[80], *buf;
	FILE *fp;
	long sz;
	static const char v[] = "\\+1 555 0100";

	add(f->st, "watch-number", v, 0);
	/*
	 * The value's bytes are in the WAL file itself, not only in the
	 * connection's page cache (that the file reached the disk is
	 * test_store_crash's part).
	 */
	snprintf(p, sizeof(p), "%s-wal", f->path);
	assert_non_null(fp = fopen(p, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((sz = ftell(fp)) > 0);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)sz));
	assert_int_equal(fread(buf, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	assert_non_null(memmem(buf, (size_t)sz, v, sizeof(v) - 1));
	free(buf);
	/* And another connection sees it. */
	assert_int_equal(hl_store_open(&st2, f->path, &err), 0);
	assert_int_equal(hl_store_version(st2), 1);
	hl_store_close(st2);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
reopening_applies_no_migration_twice(void **state)
{
	struct fixture *f = *state;
	struct hl_store *st2;
	struct hl_err err = HL_ERR_INIT;
	struct hl_list *l = NULL;
	size_t n = 0;

	add(f->st, "watch-asn", "3223", 0);
	assert_int_equal(hl_store_open(&st2, f->path, &err), 0);
	assert_int_equal(hl_store_lists(&l, &n, st2, &err), 0);
	assert_int_equal(n, 11);
	hl_lists_free(l, n);
	assert_int_equal(hl_store_version(st2), 1);
	hl_store_close(st2);
}

/* Runs sql on the database file at path, outside the store. */
static void
sql_on(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int
count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
plain_duplicates_compare_case_in_unicode_as_python_lowers(void **state)
{
	struct fixture *f = *state;

	add(f->st, "blacklist-keyword", "caf\xc3\xa9", 0);
	add(f->st, "blacklist-keyword", "CAF\xc3\x89", HL_EEXISTS);
	/* ΑΣ lowers to ας (a final sigma), which ασ is not. */
	add(f->st, "blacklist-keyword", "\xce\xb1\xcf\x83", 0);
	add(f->st, "blacklist-keyword", "\xce\x91\xce\xa3", 0);
	add(f->st, "blacklist-keyword", "\xce\xb1\xcf\x82", HL_EEXISTS);
	/* tsv patterns still compare exactly. */
	add(f->st, "watch-keyword", "caf\xc3\xa9", 0);
	add(f->st, "watch-keyword", "CAF\xc3\x89", 0);
}

/*
 * A database from before migration 5 holds "CAF\xc3\x89" beside "caf\xc3\xa9"
 * (its keys lowered ASCII only): opening it makes the later one a copy,
 * with a delete and an add in the log, once.
 */
static void
an_older_database_s_plain_keys_are_made_again_in_unicode(void **state)
{
	struct fixture *f = *state;
	struct hl_item in[4] = { { 0 } }, *out = NULL, it;
	struct hl_err err = HL_ERR_INIT;
	struct hl_list l;
	size_t added, n = 0;
	int64_t v;

	in[0].value = "Spam";
	in[1].value = "caf\xc3\xa9";
	in[2].value = "CAF\xc3\x89";
	in[3].value = "spam";
	assert_int_equal(hl_store_import(&added, &v, f->st,
	    "blacklist-keyword", in, 4, &alice, &err), 0);
	assert_int_equal(v, 4);
	hl_store_close(f->st);
	/* What the version before this one wrote: SQLite's lower() is ASCII. */
	sql_on(f->path, "UPDATE items SET vkey = lower(value), dup_of = NULL"
	    " WHERE value <> 'spam';"
	    "UPDATE lists SET count = 3 WHERE id = 'blacklist-keyword';"
	    "ALTER TABLE lists DROP COLUMN clears;"	/* migration 6's */
	    "PRAGMA user_version = 4;");
	assert_int_equal(count_rows(f->path, "SELECT count(DISTINCT vkey)"
	    " FROM items"), 4);

	assert_int_equal(hl_store_open(&f->st, f->path, &err), 0);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    0, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].dup_of, 0);
	assert_int_equal(out[1].dup_of, 0);
	assert_int_equal(out[2].dup_of, out[1].id);
	assert_int_equal(out[3].dup_of, out[0].id);
	hl_items_free(out, n);
	assert_int_equal(hl_store_list(&l, f->st, "blacklist-keyword", &err),
	    0);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.version, 6);
	hl_list_clear(&l);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events"
	    " WHERE actor = 'migration' AND value = 'CAF\xc3\x89' AND"
	    " ((op = 'delete' AND json_extract(record, '$.dup_of') IS NULL) OR"
	    " (op = 'add' AND json_extract(record, '$.dup_of') > 0))"), 2);
	/* Only once. */
	hl_store_close(f->st);
	assert_int_equal(hl_store_open(&f->st, f->path, &err), 0);
	assert_int_equal(hl_store_version(f->st), 6);
	/* A delete by either spelling takes both, as a new database would. */
	assert_int_equal(hl_store_item_del(&it, &v, f->st, "blacklist-keyword",
	    "CAF\xc3\x89", &alice, &err), 0);
	assert_string_equal(it.value, "caf\xc3\xa9");
	hl_item_clear(&it);
	assert_int_equal(hl_store_items(&out, &n, f->st, "blacklist-keyword",
	    0, &err), 0);
	assert_int_equal(n, 2);
	hl_items_free(out, n);
}

static void
target_state_keeps_the_last_good_version_on_failure(void **state)
{
	struct fixture *f = *state;
	struct hl_target_state *t = NULL;
	struct hl_err err = HL_ERR_INIT;
	size_t n = 0, i;

	assert_int_equal(hl_store_target_set(f->st, "dir:x", 7, NULL, &err),
	    0);
	assert_int_equal(hl_store_target_set(f->st, "dir:x", 0,
	    "disk full", &err), 0);
	assert_int_equal(hl_store_targets(&t, &n, f->st, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].version, 7);
	assert_string_equal(t[0].last_error, "disk full");
	hl_target_states_free(t, n);

	/* Again, through the same (cached) statements: a success clears
	   the error; another target has its own row. */
	assert_int_equal(hl_store_target_set(f->st, "dir:x", 8, NULL, &err),
	    0);
	assert_int_equal(hl_store_target_set(f->st, "s3:y", 0, "refused",
	    &err), 0);
	assert_int_equal(hl_store_targets(&t, &n, f->st, &err), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, "dir:x") == 0) {
			assert_int_equal(t[i].version, 8);
			assert_null(t[i].last_error);
		} else {
			assert_string_equal(t[i].name, "s3:y");
			assert_int_equal(t[i].version, 0);
			assert_string_equal(t[i].last_error, "refused");
		}
	hl_target_states_free(t, n);
}

static void
a_backup_is_a_consistent_database(void **state)
{
	struct fixture *f = *state;
	struct hl_store *st2;
	struct hl_err err = HL_ERR_INIT;
	char path[80];

	add(f->st, "watch-keyword", "backed\\.up", 0);
	snprintf(path, sizeof(path), "%s.bak", f->path);
	unlink(path);
	assert_int_equal(hl_store_backup(f->st, path, &err), 0);
	assert_int_equal(hl_store_open(&st2, path, &err), 0);
	assert_int_equal(hl_store_version(st2), 1);
	hl_store_close(st2);
	unlink(path);
}

/* A writer in its own thread; done is set once its write is answered. */
struct bg {
	pthread_t	 th;
	struct hl_store	*st;
	char		 value[32];
	int		 started;
	int		 done;
	int		 rc;
};

static void *
bg_add(void *arg)
{
	struct bg *b = arg;
	struct hl_item in = { 0 }, out;
	struct hl_err err = HL_ERR_INIT;
	int64_t v;
	int rc;

	in.value = b->value;
	__atomic_store_n(&b->started, 1, __ATOMIC_SEQ_CST);
	rc = hl_store_item_add(&out, &v, b->st, "watch-keyword", &in, &alice,
	    &err);
	hl_item_clear(&out);
	b->rc = rc;
	__atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Waits up to ms for *flag; its value then. */
static int
wait_flag(int *flag, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (; ms > 0 && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); ms -= 10)
		nanosleep(&ts, NULL);
	return __atomic_load_n(flag, __ATOMIC_SEQ_CST);
}

static void
a_write_does_not_wait_for_a_snapshot_being_read(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct bg b = { .st = f->st, .value = "during\\.snapshot" };
	int done;

	assert_int_equal(hl_store_read_begin(f->st, &err), 0);
	pthread_create(&b.th, NULL, bg_add, &b);
	done = wait_flag(&b.done, 5000);
	/* The snapshot still sees the database as it was. */
	assert_int_equal(hl_store_version(f->st), 0);
	hl_store_read_end(f->st);
	pthread_join(b.th, NULL);
	if (!done)
		fail_msg("the write waited for the snapshot to end");
	assert_int_equal(b.rc, 0);
	assert_int_equal(hl_store_version(f->st), 1);
}

/* Holds the write transaction open until *release. */
static int
hold(struct hl_store *st, void *arg, struct hl_err *err)
{
	int *flags = arg;

	__atomic_store_n(&flags[0], 1, __ATOMIC_SEQ_CST);
	wait_flag(&flags[1], 10000);
	return 0;
}

static void *
bg_hold(void *arg)
{
	struct hl_err err = HL_ERR_INIT;
	struct hl_store **stp = arg;

	(void)hl_store__run(stp[0], hold, stp[1], &err);
	return NULL;
}

/* What a request reads first: its token, then its list. */
static void *
bg_read(void *arg)
{
	struct bg *b = arg;
	struct hl_err err = HL_ERR_INIT;
	struct hl_list l;
	struct hl_token t;
	unsigned char hash[32] = { 1 };

	b->rc = hl_store_token_find(&t, b->st, hash, &err) == HL_EAUTH &&
	    hl_store_list(&l, b->st, "watch-keyword", &err) == 0 ? 0 : -1;
	if (b->rc == 0)
		hl_list_clear(&l);
	__atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
reads_do_not_wait_for_a_commit_and_waiting_writers_share_the_next(
    void **state)
{
	struct fixture *f = *state;
	struct bg b[7], r = { .st = f->st };
	uint64_t c0, n0, c1, n1;
	int flags[2] = { 0, 0 }, i, read;
	void *arg[2] = { f->st, flags };
	pthread_t th;

	hl_store_stats(&c0, &n0, f->st);
	pthread_create(&th, NULL, bg_hold, arg);
	assert_true(wait_flag(&flags[0], 5000));
	/* The writer is mid-commit: reads answer at once all the same. */
	pthread_create(&r.th, NULL, bg_read, &r);
	read = wait_flag(&r.done, 3000);
	/* Writers that come meanwhile queue, and share one commit. */
	for (i = 0; i < 7; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].st = f->st;
		snprintf(b[i].value, sizeof(b[i].value), "queued-%d", i);
		pthread_create(&b[i].th, NULL, bg_add, &b[i]);
	}
	for (i = 0; i < 7; i++)
		assert_true(wait_flag(&b[i].started, 5000));
	usleep(300 * 1000);
	__atomic_store_n(&flags[1], 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	pthread_join(r.th, NULL);
	if (!read)
		fail_msg("a read waited for the commit under way");
	assert_int_equal(r.rc, 0);
	for (i = 0; i < 7; i++) {
		pthread_join(b[i].th, NULL);
		assert_int_equal(b[i].rc, 0);
	}
	hl_store_stats(&c1, &n1, f->st);
	assert_int_equal(n1 - n0, 8);
	if (c1 - c0 > 2)
		fail_msg("8 changes took %llu commits, want 2",
		    (unsigned long long)(c1 - c0));
}

/*
 * Statement journals, sorts and temporary tables stay in memory
 * (temp_store = MEMORY): the daemon's sandbox lets SQLite open no file
 * outside the database's directory.  crashvfs counts each temporary file
 * SQLite opens through an import of 20,000 items, their deletion in one
 * change, and reads.
 */
static void
sqlite_opens_no_temporary_file(void **state)
{
	struct fixture *f = *state;
	struct hl_err err = HL_ERR_INIT;
	struct hl_store *st;
	struct hl_item *in, *out = NULL;
	char path[80], (*val)[24];
	size_t i, n = 20000, added = 0, removed = 0, got = 0;
	int64_t v = 0;

	assert_int_equal(hl_crashvfs_register(), SQLITE_OK);
	hl_crashvfs_reset();
	(void)snprintf(path, sizeof(path), "%s-temp", f->path);
	assert_int_equal(hl_store_open(&st, path, &err), 0);
	in = calloc(n, sizeof(*in));
	val = calloc(n, sizeof(*val));
	assert_true(in != NULL && val != NULL);
	for (i = 0; i < n; i++) {
		(void)snprintf(val[i], sizeof(val[i]), "spam-%05zu\\.example",
		    (i * 7919) % n);
		in[i].value = val[i];
	}
	assert_int_equal(hl_store_import(&added, &v, st, "watch-keyword", in,
	    n, &alice, &err), 0);
	assert_int_equal(added, n);
	assert_int_equal(hl_store_items(&out, &got, st, "watch-keyword", 0,
	    &err), 0);
	assert_int_equal(got, n);
	hl_items_free(out, got);
	assert_int_equal(hl_store_items_del(&removed, &v, st, "watch-keyword",
	    in, n, &alice, &err), 0);
	assert_int_equal(removed, n);
	hl_store_close(st);
	printf("# temporary files opened: %ld\n",
	    hl_crashvfs_count(HL_CRASHVFS_TEMP));
	assert_int_equal(hl_crashvfs_count(HL_CRASHVFS_TEMP), 0);
	free(in);
	free(val);
	(void)snprintf(path, sizeof(path), "rm -f %s-temp*", f->path);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(the_eleven_lists_exist_with_their_files_and_formats),
		T(each_change_is_the_next_version_and_moves_its_list),
		T(a_duplicate_is_refused_with_the_existing_item_case_insensitively),
		T(deleting_returns_the_item_and_writes_an_event),
		T(a_blacklisted_value_leaves_the_watchlists_in_the_same_change),
		T(an_unknown_list_is_not_found_and_changes_nothing),
		T(import_keeps_order_and_verbatim_lines_and_is_idempotent),
		T(duplicates_are_kept_in_place_counted_once_and_deleted_together),
		T(duplicates_follow_each_format_s_rule),
		T(a_mirror_removes_what_the_file_lost_and_a_dry_run_changes_nothing),
		T(a_mirror_that_replaces_a_first_copy_keeps_its_copies_linked),
		T(notifications_are_unique_on_four_fields),
		T(tokens_are_found_by_hash_until_revoked),
		T(only_the_hash_of_a_token_is_stored),
		T(a_committed_write_is_in_the_file_for_a_new_connection),
		T(reopening_applies_no_migration_twice),
		T(plain_duplicates_compare_case_in_unicode_as_python_lowers),
		T(an_older_database_s_plain_keys_are_made_again_in_unicode),
		T(target_state_keeps_the_last_good_version_on_failure),
		T(a_backup_is_a_consistent_database),
		T(a_write_does_not_wait_for_a_snapshot_being_read),
		T(reads_do_not_wait_for_a_commit_and_waiting_writers_share_the_next),
		T(sqlite_opens_no_temporary_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
