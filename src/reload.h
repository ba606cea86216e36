/*
 * reload: what SIGHUP may change in a running `helios serve`.
 *
 * The config is read again whole (the defaults, the --config files, then
 * the command line's options, as at the start) and checked; a file with
 * an error is refused whole and the old config stays.  Of a good one:
 *
 *   live       log_level, access_log, rate_read, rate_read_burst,
 *              rate_write, rate_write_burst, rate_exempt, header_timeout,
 *              body_timeout, stale_after
 *   restart    everything else (listen, db, public, target, user,
 *              threads, max_connections, sandbox, signing_key, ...):
 *              a change is logged as needing a restart and left as it was
 */
#ifndef HL_RELOAD_H
#define HL_RELOAD_H

#include <stddef.h>

#include "config.h"

/*
 * Writes into buf (len bytes, NUL-terminated, cut short if it must) the
 * keys that differ between cur and next and cannot change live, separated
 * by ", "; "" when none.
 */
void	hl_reload_restart_keys(char *buf, size_t len,
	    const struct hl_config *cur, const struct hl_config *next);

/*
 * Moves the live settings of next into cur (strings change hands; next
 * keeps the others and is freed by the caller).
 */
void	hl_reload_take(struct hl_config *cur, struct hl_config *next);

#endif
