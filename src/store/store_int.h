/*
 * store_int: what the files of src/store share beyond store.h; not for
 * use outside this folder.
 *
 * hl_store__run runs fn inside the group commit (store.c): in a write
 * transaction, under a savepoint of its own, with the store's mutex held.
 * fn returns 0 or an HL_E* code with a message in err; on an error its
 * changes are rolled back and hl_store__run returns the code.  Within fn,
 * hl_store__item_add / _del / __event make audited changes as the public
 * functions do, in fn's transaction.
 */
#ifndef HL_STORE_INT_H
#define HL_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* The meta key prefix and event list name of the proposals. */
#define HL_STORE_PROPOSALS	"proposals"

int	hl_store__run(struct hl_store *st, int (*fn)(struct hl_store *,
	    void *, struct hl_err *), void *arg, struct hl_err *err);
int	hl_store__item_add(struct hl_item *out, int64_t *version,
	    struct hl_store *st, const char *list, const struct hl_item *in,
	    const struct hl_actor *who, struct hl_err *err);
int	hl_store__item_del(struct hl_item *out, int64_t *version,
	    struct hl_store *st, const char *list, const char *value,
	    const struct hl_actor *who, struct hl_err *err);
int	hl_store__event(int64_t *version, struct hl_store *st,
	    const char *op, const char *list, const char *value,
	    json_t *record, const struct hl_actor *who, struct hl_err *err);
sqlite3	*hl_store__db(struct hl_store *st);
/*
 * An SQLite error as HL_EIO with what failed, or HL_ENOSPC when the
 * database's disk is full; a column as a malloc'd string (NULL for NULL);
 * a string bound as text, or NULL.
 */
int	hl_store__dberr(struct hl_err *err, struct hl_store *st,
	    const char *what);
char	*hl_store__col_str(sqlite3_stmt *s, int i);
void	hl_store__bind_str(sqlite3_stmt *s, int i, const char *v);
void	hl_store__lock(struct hl_store *st);
void	hl_store__unlock(struct hl_store *st);

#endif
