/*
 * config: the settings of `helios serve` and `helios publish`, from
 * defaults, then a config file, then command-line options, in that order.
 *
 * The file is lines of `key = value`; `#` starts a comment; a key that may
 * repeat (target) adds one value per line.  Secrets never go here: S3 and
 * git credentials come from the environment or from files readable only by
 * their owner (see the targets).  Example:
 *
 *   listen = 127.0.0.1:8080
 *   db = /var/lib/helios/helios.sqlite
 *   profile = prod
 *   public = /var/lib/helios/public
 *   target = s3://lists/helios?endpoint=https://s3.example.net&region=eu-1
 *   target = git+https://git.example.net/org/lists.git#gh-pages
 *   manifest_ttl = 604800
 *   signing_key = /etc/helios/manifest.key
 *   signing_overlap = 7d
 *   git_author_name = Helios
 *   git_author_email = helios@example.net
 *   review_lists = blacklist-*, watch-keyword
 *   self_approve = no
 *   ham_corpus = /etc/helios/ham.txt
 *   write_checks = gates
 *   mass_change_share = 5
 *   mass_change_items = 100
 *
 * signing_overlap is how long `helios key rotate` has the previous key
 * sign beside the new one (a duration: 7d, 12h, 3600s; signer.h).
 *
 * review_lists names the lists (ids or fnmatch patterns, comma-separated)
 * whose policy is review: a write by a token without approve becomes a
 * proposal.  The others are direct.  self_approve lets a requester approve
 * their own proposal.  ham_corpus is legitimate text, one document a
 * line, that the checks match new patterns against.  write_checks = full
 * runs the covered and ham checks on direct writes too (proposals always
 * get them; by default a direct write runs the publish gates alone, and
 * the full checks when it asks: see checks.h).  A change that would
 * remove more than mass_change_share percent or mass_change_items items
 * of a list, or empty it, is held for an admin (see README.md).
 *
 * Keys of `helios serve` against strangers (defaults shown):
 *
 *   max_connections = 1000        all clients at once
 *   max_connections_per_ip = 64   from one address
 *   connection_reserve = 100      the last places, kept for clients that
 *                                 send their request at once
 *   header_timeout = 10           seconds to send the headers (from the
 *                                 connection, or from the last answer)
 *   body_timeout = 30             seconds to send the body
 *   idle_timeout = 30             seconds without progress
 *   rate_read = 100               requests per second from one address
 *   rate_read_burst = 200
 *   rate_write = 60               writes per minute from one address, and
 *   rate_write_burst = 30         again per token
 *   rate_exempt = 127.0.0.1 ::1   addresses without rate limits ("none":
 *                                 none)
 *   stale_after = 600             seconds a target may lag the store
 *                                 before /healthz answers 503
 *   notifications = public        or private: not published, and
 *                                 GET /notifications needs a token
 *   user = helios                 the user to run as after binding
 *   access_log = text             or json (one object per line); and
 *                                 full, off or sample N (one request in
 *                                 N, and every 5xx): "json sample 100"
 *
 * Operations: the public copies, webhooks, CDN purges.  TARGET is
 * "public" (the public directory) or a target's URL as its `target`
 * line gives it; each key may appear once per target.
 *
 *   public_url = TARGET URL       where readers fetch that target's tree;
 *                                 its manifest is checked after each
 *                                 publish and every public_check_interval
 *   public_check_interval = 300   seconds between checks of a public copy
 *   purge = TARGET METHOD URL     a CDN purge per changed file after each
 *                                 publish; URL may hold {path}, {version}
 *                                 and {url} (public URL + path)
 *   webhook = URL                 may repeat (at most 8)
 *   webhook_secret = file:PATH    or env:NAME: the HMAC key of webhooks
 *
 * Keys of the process itself:
 *
 *   sandbox = auto                strict: refuse to start without
 *                                 Landlock and the syscall filter; off:
 *                                 neither (see sandbox.h)
 *   log_level = info              or debug, or warning (no access lines)
 *
 * SIGHUP reads the file again (reload.h): what can change live does, the
 * rest is logged as needing a restart.
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stdint.h>

#include "err.h"

#define HL_CONFIG_MAX_TARGETS 8
#define HL_CONFIG_MAX_WEBHOOKS 8

/* A target's public URL and CDN purge (see above); NULL when unset. */
struct hl_config_watch {
	char	*target;		/* "public" or a target's URL */
	char	*public_url;
	char	*purge_method;
	char	*purge_url;
};

enum { HL_SANDBOX_AUTO, HL_SANDBOX_STRICT, HL_SANDBOX_OFF };

struct hl_config {
	char	*listen;		/* ADDR:PORT */
	char	*db;			/* SQLite path */
	char	*profile;		/* "dev" or "prod" */
	char	*public_dir;		/* local target, served at / */
	char	*targets[HL_CONFIG_MAX_TARGETS];
	int	 ntargets;
	char	*admin_token_file;	/* first admin token written here */
	char	*signing_key;		/* Ed25519 private key (PEM), optional */
	int64_t	 signing_overlap;	/* seconds, for helios key rotate */
	char	*site_dir;		/* the site/ sources */
	char	*git_author_name;	/* commits of git targets */
	char	*git_author_email;
	int64_t	 manifest_ttl;		/* seconds until a manifest expires */
	int64_t	 poll_interval;		/* seconds clients should wait */
	int	 threads;		/* HTTP worker threads */
	char	*review_lists;		/* lists under review, or NULL */
	int	 self_approve;		/* a requester may approve */
	char	*ham_corpus;		/* known-good text, or NULL */
	int	 full_checks;		/* write_checks = full */
	int64_t	 mass_share;		/* percent of a list */
	int64_t	 mass_items;		/* items */
	/* Against strangers (see above); seconds, counts. */
	int64_t	 max_conns;
	int64_t	 max_conns_per_ip;
	int64_t	 conn_reserve;
	int64_t	 header_timeout;
	int64_t	 body_timeout;
	int64_t	 idle_timeout;
	int64_t	 rate_read;
	int64_t	 rate_read_burst;
	int64_t	 rate_write;
	int64_t	 rate_write_burst;
	char	*rate_exempt;		/* addresses, space-separated */
	int64_t	 stale_after;
	int	 notifications_private;
	char	*user;			/* run as, after binding; NULL: stay */
	int	 sandbox;		/* HL_SANDBOX_* */
	int	 log_level;		/* HL_LOG_* (log.h) */
	int	 access_log_json;
	int64_t	 access_log_sample;	/* 0: off, 1: full, N: one in N */
	/* Operations (see above). */
	struct hl_config_watch watch[HL_CONFIG_MAX_TARGETS + 1];
	int	 nwatch;
	int64_t	 public_check_interval;
	char	*webhooks[HL_CONFIG_MAX_WEBHOOKS];
	int	 nwebhooks;
	char	*webhook_secret;	/* "file:PATH" or "env:NAME" */
};

/*
 * The public URL and purge of a target: "public" or its URL as written;
 * NULL when it has none.  Borrowed from c.
 */
const struct hl_config_watch *hl_config_watch_for(const struct hl_config *c,
	    const char *target);

/*
 * 1 when id matches one of the comma-separated fnmatch patterns of set
 * (spaces around them ignored); 0 when set is NULL or none matches.
 */
int	hl_config_list_match(const char *set, const char *id);

/* Fills c with the defaults (var/helios.sqlite, var/public, ...). */
int	hl_config_defaults(struct hl_config *c);
/*
 * Reads the file at path over what c holds.  HL_EIO if it can't be read,
 * HL_EINVAL with "path:line: ..." for an unknown key or a bad value.
 */
int	hl_config_load(struct hl_config *c, const char *path,
	    struct hl_err *err);
/* Sets one key as the file would (used for command-line options). */
int	hl_config_set(struct hl_config *c, const char *key, const char *value,
	    struct hl_err *err);
/*
 * Checks what one key alone cannot: the reserve below max_connections,
 * rate_exempt's addresses, the user, a listen address of HOST:PORT (on
 * loopback for the dev profile), public_url and purge naming a target,
 * webhooks with a secret.  HL_EINVAL with what is wrong.
 */
int	hl_config_check(const struct hl_config *c, struct hl_err *err);
void	hl_config_free(struct hl_config *c);

#endif
