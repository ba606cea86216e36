/*
 * store: everything Helios keeps, in one SQLite database.
 *
 * The schema is in the schema/ migrations (applied by hl_store_open).  The database
 * runs in WAL mode with synchronous=FULL and foreign keys on, so a
 * function that returns 0 after a change has made it durable: the daemon
 * acknowledges a write only after that.
 *
 * Every change to a list or to the notifications is one transaction that
 * also appends an audit event; the event's id is the new version, and the
 * list's version column is set to it (DESIGN.md, Versions).
 *
 * A struct hl_store is one connection guarded by a mutex, safe to share
 * between threads.  The publisher opens a second one to read a consistent
 * snapshot (hl_store_read_begin/end) while the API keeps writing.
 *
 * Out-parameters come first; arrays returned through them are owned by the
 * caller and freed with the matching hl_*s_free from item.h.  On error the
 * out-parameters are left empty and the database is unchanged.
 */
#ifndef HL_STORE_H
#define HL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "item.h"

struct hl_store;

/*
 * Opens (creating if needed) the database at path and applies pending
 * migrations.  path may be ":memory:".  HL_EIO on failure.
 */
int	hl_store_open(struct hl_store **out, const char *path,
	    struct hl_err *err);
void	hl_store_close(struct hl_store *st);

/* The highest version committed (0 for a new database). */
int64_t	hl_store_version(struct hl_store *st);

/*
 * The group commit's work since the store was opened: *commits write
 * transactions committed (each one fsync of the WAL) for *changes
 * changes.  changes / commits is how many writers one fsync served.
 */
void	hl_store_stats(uint64_t *commits, uint64_t *changes,
	    struct hl_store *st);

/* Lists, in their display order, with counts and versions. */
int	hl_store_lists(struct hl_list **out, size_t *n, struct hl_store *st,
	    struct hl_err *err);
/*
 * Sets a list's policy (HL_POLICY_*), as the config file says; not an
 * audited change.  HL_ENOTFOUND for an unknown id.
 */
int	hl_store_list_policy_set(struct hl_store *st, const char *list,
	    int policy, struct hl_err *err);
/* One list's description.  HL_ENOTFOUND for an unknown id. */
int	hl_store_list(struct hl_list *out, struct hl_store *st,
	    const char *id, struct hl_err *err);

/*
 * A list's items in file order.  With verbatim 0, the skipped lines kept
 * for round trips are left out.
 */
int	hl_store_items(struct hl_item **out, size_t *n, struct hl_store *st,
	    const char *list, int verbatim, struct hl_err *err);

/*
 * The same items (verbatim lines included), handed to fn in batches of at
 * most batch, in file order, from one statement stepping: a list of any
 * size costs two batches of memory.  The items are the store's; their
 * strings are copied into a few blocks reused from batch to batch, not
 * allocated one by one.  A batch lives until fn returns for the call after
 * it, so that fn may hand it to other threads and return while the next
 * batch is read; that last call is always fn(NULL, 0, arg), once, when no
 * batch follows (the scan ended, failed, or fn returned nonzero): fn lets
 * go of its batches before it returns.  Stops at fn's first nonzero
 * return, which it returns; HL_EIO, HL_ENOMEM.  Called inside
 * hl_store_read_begin/end, all batches see one version.
 */
int	hl_store_items_each(struct hl_store *st, const char *list,
	    size_t batch, int (*fn)(const struct hl_item *v, size_t n,
	    void *arg), void *arg, struct hl_err *err);

/*
 * Adds in->value (with comment, disabled, pass, ns_seq; provenance from
 * who and the clock, or from in->created_* when they are set, as an import
 * does) at the end of list.  On success *out is the stored item and
 * *version the new version.  HL_EEXISTS when the list already holds the
 * value (by hl_item_key): *out is then the existing item.  HL_ENOTFOUND
 * for an unknown list.
 */
int	hl_store_item_add(struct hl_item *out, int64_t *version,
	    struct hl_store *st, const char *list, const struct hl_item *in,
	    const struct hl_actor *who, struct hl_err *err);

/*
 * Removes the item whose key matches value.  *out is the removed item.
 * HL_ENOTFOUND when the list or the value is not there.
 */
int	hl_store_item_del(struct hl_item *out, int64_t *version,
	    struct hl_store *st, const char *list, const char *value,
	    const struct hl_actor *who, struct hl_err *err);

/*
 * The asynchronous forms of hl_store_item_add and hl_store_item_del, for
 * a server that answers when the change is durable without a thread
 * waiting for it.  They queue the change in the group commit and return
 * without waiting for any commit: the store's committer thread, or a
 * writer already leading, commits it.  fn is called exactly once, after
 * the change's COMMIT (or its failure), from the thread that committed
 * it (never the caller, unless it holds the writer already): rc and
 * err as the blocking call returns them, it as its *out (fn may take its
 * fields and clear it), version as its *version.  list, in, value and who
 * must stay valid until fn is called.  Returns 0, or HL_ENOMEM (fn is
 * then never called).
 */
typedef void	(*hl_store_done_fn)(int rc, const struct hl_err *err,
		    struct hl_item *it, int64_t version, void *arg);

int	hl_store_item_add_async(struct hl_store *st, const char *list,
	    const struct hl_item *in, const struct hl_actor *who,
	    hl_store_done_fn fn, void *arg);
int	hl_store_item_del_async(struct hl_store *st, const char *list,
	    const char *value, const struct hl_actor *who,
	    hl_store_done_fn fn, void *arg);

/*
 * Adds many items to list in one transaction, skipping those already there
 * (so importing a file twice changes nothing).  Verbatim items are matched
 * on their text and their position among equal lines.  A duplicate (a
 * value an earlier item of items holds, by hl_item_key) is kept in its
 * place with dup_of set to the first copy's id and is not counted; it is
 * matched on its key and the number of copies before it.  *added counts
 * what was new; *version is the version after (unchanged when nothing
 * was).
 */
int	hl_store_import(size_t *added, int64_t *version, struct hl_store *st,
	    const char *list, const struct hl_item *items, size_t n,
	    const struct hl_actor *who, struct hl_err *err);

/*
 * One change of a batch: op 'a' adds item to list, 'd' deletes the item
 * of item->value (and its copies), each as its own audit event by who (at
 * who.at when set).  rc is set on return: 0, HL_EEXISTS (an add whose
 * value is there) or HL_ENOTFOUND (a delete whose value is not); neither
 * fails the batch.
 */
struct hl_store_change {
	char			 op;
	const char		*list;
	const struct hl_item	*item;
	struct hl_actor		 who;
	int			 rc;
};

/*
 * Applies v[0..n) in one transaction, and sets meta key meta_key to
 * meta_value (when not NULL) in the same one, and meta_key + "_version" to
 * the version after it.  *applied counts the changes
 * made, *version is the version after (0 when none).  On an error the
 * store is unchanged.
 */
int	hl_store_apply(size_t *applied, int64_t *version, struct hl_store *st,
	    struct hl_store_change *v, size_t n, const char *meta_key,
	    const char *meta_value, struct hl_err *err);

/* A meta value (*out malloc'd).  HL_ENOTFOUND when it was never set. */
int	hl_store_meta(char **out, struct hl_store *st, const char *key,
	    struct hl_err *err);

/* hl_store_mirror's options and results. */
struct hl_store_mirror {
	int		 dry_run;	/* in: change nothing */
	struct hl_buf	*diff;		/* in, may be NULL: gets "+ LINE:
					   text" and "- text" lines */
	size_t		 added;		/* out */
	size_t		 removed;	/* out */
	int64_t		 version;	/* out: 0 if nothing changed */
};

/*
 * As hl_store_import, then makes the list equal items: every stored item
 * the file does not hold (by key), or holds in another form, is deleted
 * with an audit event, and items take the file's order.  With dry_run
 * the transaction is rolled back and only the difference is reported.
 */
int	hl_store_mirror(struct hl_store_mirror *m, struct hl_store *st,
	    const char *list, const struct hl_item *items, size_t n,
	    const struct hl_actor *who, struct hl_err *err);

/*
 * Removes the items whose keys match items[i].value from list, in one
 * transaction, one audit event each; values the list does not hold are
 * skipped.  *removed counts the removals, *version is the version after.
 */
int	hl_store_items_del(size_t *removed, int64_t *version,
	    struct hl_store *st, const char *list, const struct hl_item *items,
	    size_t n, const struct hl_actor *who, struct hl_err *err);

/*
 * Restoring from a published archive (helios restore): writes items as
 * they were published, with their provenance and without audit events,
 * and sets the list's version.  token_id is not restored (the tokens are
 * not in the archive).  The database must not hold the list's items yet:
 * HL_ECONFLICT otherwise.
 */
int	hl_store_restore_list(struct hl_store *st, const char *list,
	    const struct hl_item *items, size_t n, int64_t version,
	    struct hl_err *err);
int	hl_store_restore_notifs(struct hl_store *st,
	    const struct hl_notif *v, size_t n, int64_t version,
	    struct hl_err *err);
/*
 * Makes the next change get version + 1.  HL_ECONFLICT if the database
 * is already past version.
 */
int	hl_store_restore_version(struct hl_store *st, int64_t version,
	    struct hl_err *err);

/* Notifications, ordered by id. */
int	hl_store_notifs(struct hl_notif **out, size_t *n, struct hl_store *st,
	    struct hl_err *err);
/* HL_EEXISTS with *out the existing record on a duplicate. */
int	hl_store_notif_add(struct hl_notif *out, int64_t *version,
	    struct hl_store *st, const struct hl_notif *in,
	    const struct hl_actor *who, struct hl_err *err);
/* Matches on (user_id, server, room_id, site).  HL_ENOTFOUND if absent. */
int	hl_store_notif_del(struct hl_notif *out, int64_t *version,
	    struct hl_store *st, const struct hl_notif *key,
	    const struct hl_actor *who, struct hl_err *err);
/* Version of the last change to the notifications (0 if never). */
int64_t	hl_store_notifs_version(struct hl_store *st);

/* Events with version > since, oldest first, at most limit of them. */
int	hl_store_events(struct hl_event **out, size_t *n, struct hl_store *st,
	    int64_t since, size_t limit, struct hl_err *err);

/* Tokens.  Only the SHA-256 of a token is ever stored. */
int	hl_store_token_add(struct hl_token *out, struct hl_store *st,
	    const char *name, const unsigned char hash[32], unsigned scopes,
	    const char *created_by, struct hl_err *err);
/*
 * The valid token with this hash.  HL_EAUTH when none matches or it was
 * revoked (the caller can't tell which, by design).
 */
int	hl_store_token_find(struct hl_token *out, struct hl_store *st,
	    const unsigned char hash[32], struct hl_err *err);
int	hl_store_tokens(struct hl_token **out, size_t *n, struct hl_store *st,
	    struct hl_err *err);
/* HL_ENOTFOUND for an unknown or already revoked id. */
int	hl_store_token_revoke(struct hl_store *st, int64_t id,
	    struct hl_err *err);
/*
 * As hl_store_token_add, and limits the token to lists (comma-separated
 * list ids or fnmatch patterns; NULL: all) until expires_at (0: never).
 * hl_store_token_find refuses a token once it has expired.
 */
int	hl_store_token_add_limited(struct hl_token *out, struct hl_store *st,
	    const char *name, const unsigned char hash[32], unsigned scopes,
	    const char *lists, int64_t expires_at, const char *created_by,
	    struct hl_err *err);
/* Number of valid tokens with the admin scope. */
int64_t	hl_store_admin_count(struct hl_store *st);

/* Publication state of a target (by its URL with secrets removed). */
int	hl_store_target_set(struct hl_store *st, const char *name,
	    int64_t version, const char *error, struct hl_err *err);
struct hl_target_state {
	char	*name;
	int64_t	 version;
	int64_t	 published_at;
	char	*last_error;	/* NULL when the last attempt succeeded */
};
int	hl_store_targets(struct hl_target_state **out, size_t *n,
	    struct hl_store *st, struct hl_err *err);
void	hl_target_states_free(struct hl_target_state *v, size_t n);

/*
 * A read transaction, so that several reads see one version: the
 * publisher's snapshot.  Pairs must not nest.
 */
int	hl_store_read_begin(struct hl_store *st, struct hl_err *err);
void	hl_store_read_end(struct hl_store *st);

/* Writes a consistent copy of the database to path (VACUUM INTO). */
int	hl_store_backup(struct hl_store *st, const char *path,
	    struct hl_err *err);

#endif
