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
 *   git_author_name = Helios
 *   git_author_email = helios@example.net
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stdint.h>

#include "err.h"

#define HL_CONFIG_MAX_TARGETS 8

struct hl_config {
	char	*listen;		/* ADDR:PORT */
	char	*db;			/* SQLite path */
	char	*profile;		/* "dev" or "prod" */
	char	*public_dir;		/* local target, served at / */
	char	*targets[HL_CONFIG_MAX_TARGETS];
	int	 ntargets;
	char	*admin_token_file;	/* first admin token written here */
	char	*signing_key;		/* Ed25519 private key (PEM), optional */
	char	*site_dir;		/* the site/ sources */
	char	*git_author_name;	/* commits of git targets */
	char	*git_author_email;
	int64_t	 manifest_ttl;		/* seconds until a manifest expires */
	int64_t	 poll_interval;		/* seconds clients should wait */
	int	 threads;		/* HTTP worker threads */
};

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
void	hl_config_free(struct hl_config *c);

#endif
