/*
 * config: defaults, file and options (see config.h for the format).
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>

#include "config.h"
#include "http.h"
#include "review.h"
#include "log.h"

static int
set_str(char **dst, const char *v, struct hl_err *err)
{
	char *p;

	if ((p = strdup(v)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	free(*dst);
	*dst = p;
	return 0;
}

static int
set_int(int64_t *dst, const char *key, const char *v, int64_t min,
    int64_t max, struct hl_err *err)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return hl_err_set(err, HL_EINVAL, "%s: want a number from"
		    " %lld to %lld, not \"%s\"", key, (long long)min,
		    (long long)max, v);
	*dst = n;
	return 0;
}

/*
 * access_log: words in any order, at most one of each kind: the format
 * (text, json) and how many requests get a line (full, off, sample N:
 * one in N).  "json", "off", "json sample 100".
 */
static int
set_access_log(struct hl_config *c, const char *v, struct hl_err *err)
{
	char buf[128], *w, *save = NULL;
	int64_t n;
	int fmt = 0, how = 0, json = c->access_log_json;
	int64_t sample = c->access_log_sample;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return hl_err_set(err, HL_EINVAL, "access_log: too long");
	for (w = strtok_r(buf, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if ((strcmp(w, "text") == 0 || strcmp(w, "json") == 0) &&
		    !fmt++)
			json = strcmp(w, "json") == 0;
		else if ((strcmp(w, "full") == 0 || strcmp(w, "off") == 0) &&
		    !how++)
			sample = strcmp(w, "full") == 0 ? 1 : 0;
		else if (strcmp(w, "sample") == 0 && !how++) {
			if ((w = strtok_r(NULL, " \t", &save)) == NULL ||
			    set_int(&n, "access_log sample", w, 1, 1000000000,
			    err) != 0)
				return hl_err_set(err, HL_EINVAL, "access_log:"
				    " want sample N, N from 1 to 1000000000");
			sample = n;
		} else
			return hl_err_set(err, HL_EINVAL, "access_log: want"
			    " text or json, and full, off or sample N, not"
			    " \"%s\"", v);
	}
	if (!fmt && !how)
		return hl_err_set(err, HL_EINVAL, "access_log: want text or"
		    " json, and full, off or sample N");
	c->access_log_json = json;
	c->access_log_sample = sample;
	return 0;
}

int
hl_config_defaults(struct hl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->manifest_ttl = 7 * 24 * 3600;
	c->signing_overlap = 7 * 24 * 3600;
	c->poll_interval = 60;
	c->threads = HL_HTTP_THREADS;
	c->mass_share = 5;
	c->mass_items = 100;
	c->max_conns = 1000;
	c->max_conns_per_ip = 64;
	c->conn_reserve = 100;
	c->header_timeout = 10;
	c->body_timeout = 30;
	c->idle_timeout = 30;
	c->rate_read = 100;
	c->rate_read_burst = 200;
	c->rate_write = 60;
	c->rate_write_burst = 30;
	c->stale_after = 600;
	c->public_check_interval = 300;
	c->sandbox = HL_SANDBOX_AUTO;
	c->log_level = HL_LOG_INFO;
	c->access_log_sample = 1;
	if ((c->listen = strdup("127.0.0.1:8080")) == NULL ||
	    (c->db = strdup("var/helios.sqlite")) == NULL ||
	    (c->profile = strdup("prod")) == NULL ||
	    (c->public_dir = strdup("var/public")) == NULL ||
	    (c->admin_token_file = strdup("var/admin.token")) == NULL ||
	    (c->site_dir = strdup("site")) == NULL ||
	    (c->rate_exempt = strdup("127.0.0.1 ::1")) == NULL)
		return HL_ENOMEM;
	return 0;
}

/* The operations keys (config.h): public copies, purges, webhooks. */

static int
http_url(const char *v)
{
	return (strncmp(v, "http://", 7) == 0 && v[7] != '\0') ||
	    (strncmp(v, "https://", 8) == 0 && v[8] != '\0');
}

/* The entry of target, made when missing. */
static struct hl_config_watch *
watch_entry(struct hl_config *c, const char *target, size_t n,
    struct hl_err *err)
{
	struct hl_config_watch *w;
	int i;

	for (i = 0; i < c->nwatch; i++)
		if (strlen(c->watch[i].target) == n &&
		    strncmp(c->watch[i].target, target, n) == 0)
			return &c->watch[i];
	if (c->nwatch == HL_CONFIG_MAX_TARGETS + 1) {
		hl_err_set(err, HL_EINVAL, "at most %d targets",
		    HL_CONFIG_MAX_TARGETS + 1);
		return NULL;
	}
	w = &c->watch[c->nwatch];
	if ((w->target = strndup(target, n)) == NULL) {
		hl_err_set(err, HL_ENOMEM, "out of memory");
		return NULL;
	}
	c->nwatch++;
	return w;
}

/*
 * Sets public_url, public_check_interval, purge, webhook or
 * webhook_secret.  1 when key is none of them.
 */
static int
set_ops(struct hl_config *c, const char *key, const char *v,
    struct hl_err *err)
{
	struct hl_config_watch *w;
	const char *a, *b;
	size_t n, m;
	int rc;

	if (strcmp(key, "public_check_interval") == 0)
		return set_int(&c->public_check_interval, key, v, 1, 86400,
		    err);
	if (strcmp(key, "webhook") == 0) {
		if (!http_url(v) || strpbrk(v, " \t") != NULL)
			return hl_err_set(err, HL_EINVAL, "webhook: want an"
			    " http(s) URL");
		if (c->nwebhooks == HL_CONFIG_MAX_WEBHOOKS)
			return hl_err_set(err, HL_EINVAL, "webhook: at most"
			    " %d", HL_CONFIG_MAX_WEBHOOKS);
		if ((rc = set_str(&c->webhooks[c->nwebhooks], v, err)) != 0)
			return rc;
		c->nwebhooks++;
		return 0;
	}
	if (strcmp(key, "webhook_secret") == 0) {
		/* The value is never echoed: it might be the secret. */
		if ((strncmp(v, "file:", 5) != 0 || v[5] == '\0') &&
		    (strncmp(v, "env:", 4) != 0 || v[4] == '\0'))
			return hl_err_set(err, HL_EINVAL, "webhook_secret:"
			    " want file:PATH or env:NAME, never the secret"
			    " itself");
		return set_str(&c->webhook_secret, v, err);
	}
	if (strcmp(key, "public_url") != 0 && strcmp(key, "purge") != 0)
		return 1;
	/* TARGET first, then the rest. */
	n = strcspn(v, " \t");
	a = v + n + strspn(v + n, " \t");
	if (n == 0 || *a == '\0')
		return hl_err_set(err, HL_EINVAL, "%s: want TARGET %s", key,
		    strcmp(key, "purge") == 0 ? "METHOD URL" : "URL");
	if (strcmp(key, "public_url") == 0) {
		if (!http_url(a) || strpbrk(a, " \t") != NULL)
			return hl_err_set(err, HL_EINVAL, "public_url: want"
			    " TARGET and an http(s) URL");
		if ((w = watch_entry(c, v, n, err)) == NULL)
			return err->code;
		return set_str(&w->public_url, a, err);
	}
	m = strcspn(a, " \t");
	b = a + m + strspn(a + m, " \t");
	if (m == 0 || m > 16 || strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != m ||
	    !http_url(b) || strpbrk(b, " \t") != NULL)
		return hl_err_set(err, HL_EINVAL, "purge: want TARGET, a"
		    " method (PURGE, POST...) and an http(s) URL");
	if ((w = watch_entry(c, v, n, err)) == NULL)
		return err->code;
	free(w->purge_method);
	if ((w->purge_method = strndup(a, m)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	return set_str(&w->purge_url, b, err);
}

const struct hl_config_watch *
hl_config_watch_for(const struct hl_config *c, const char *target)
{
	int i;

	for (i = 0; i < c->nwatch; i++)
		if (strcmp(c->watch[i].target, target) == 0)
			return &c->watch[i];
	return NULL;
}

int
hl_config_set(struct hl_config *c, const char *key, const char *v,
    struct hl_err *err)
{
	int64_t n;
	int rc;

	if ((rc = set_ops(c, key, v, err)) != 1)
		return rc;

	if (strcmp(key, "listen") == 0)
		return set_str(&c->listen, v, err);
	if (strcmp(key, "db") == 0)
		return set_str(&c->db, v, err);
	if (strcmp(key, "public") == 0)
		return set_str(&c->public_dir, v, err);
	if (strcmp(key, "admin_token_file") == 0)
		return set_str(&c->admin_token_file, v, err);
	if (strcmp(key, "signing_key") == 0)
		return set_str(&c->signing_key, v, err);
	if (strcmp(key, "signing_overlap") == 0)
		return hl_review_duration(&c->signing_overlap, v) == 0 ? 0 :
		    hl_err_set(err, HL_EINVAL, "signing_overlap: want a"
		    " duration such as 7d, 12h or 3600s, not \"%s\"", v);
	if (strcmp(key, "site") == 0)
		return set_str(&c->site_dir, v, err);
	if (strcmp(key, "git_author_name") == 0)
		return set_str(&c->git_author_name, v, err);
	if (strcmp(key, "git_author_email") == 0)
		return set_str(&c->git_author_email, v, err);
	if (strcmp(key, "review_lists") == 0)
		return set_str(&c->review_lists, v, err);
	if (strcmp(key, "ham_corpus") == 0)
		return set_str(&c->ham_corpus, v, err);
	if (strcmp(key, "self_approve") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return hl_err_set(err, HL_EINVAL, "self_approve: want"
			    " yes or no, not \"%s\"", v);
		c->self_approve = strcmp(v, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "write_checks") == 0) {
		if (strcmp(v, "full") != 0 && strcmp(v, "gates") != 0)
			return hl_err_set(err, HL_EINVAL, "write_checks: want"
			    " full or gates, not \"%s\"", v);
		c->full_checks = strcmp(v, "full") == 0;
		return 0;
	}
	if (strcmp(key, "mass_change_share") == 0)
		return set_int(&c->mass_share, key, v, 0, 100, err);
	if (strcmp(key, "mass_change_items") == 0)
		return set_int(&c->mass_items, key, v, 0, INT32_MAX, err);
	if (strcmp(key, "profile") == 0) {
		if (strcmp(v, "dev") != 0 && strcmp(v, "prod") != 0)
			return hl_err_set(err, HL_EINVAL, "profile: want dev"
			    " or prod, not \"%s\"", v);
		return set_str(&c->profile, v, err);
	}
	if (strcmp(key, "target") == 0) {
		if (c->ntargets == HL_CONFIG_MAX_TARGETS)
			return hl_err_set(err, HL_EINVAL, "target: at most"
			    " %d targets", HL_CONFIG_MAX_TARGETS);
		if ((rc = set_str(&c->targets[c->ntargets], v, err)) != 0)
			return rc;
		c->ntargets++;
		return 0;
	}
	if (strcmp(key, "manifest_ttl") == 0)
		return set_int(&c->manifest_ttl, key, v, 4, 365 * 86400, err);
	if (strcmp(key, "poll_interval") == 0)
		return set_int(&c->poll_interval, key, v, 1, 86400, err);
	if (strcmp(key, "max_connections") == 0)
		return set_int(&c->max_conns, key, v, 16, 100000, err);
	if (strcmp(key, "max_connections_per_ip") == 0)
		return set_int(&c->max_conns_per_ip, key, v, 1, 100000, err);
	if (strcmp(key, "connection_reserve") == 0)
		return set_int(&c->conn_reserve, key, v, 1, 99999, err);
	if (strcmp(key, "header_timeout") == 0)
		return set_int(&c->header_timeout, key, v, 1, 3600, err);
	if (strcmp(key, "body_timeout") == 0)
		return set_int(&c->body_timeout, key, v, 1, 3600, err);
	if (strcmp(key, "idle_timeout") == 0)
		return set_int(&c->idle_timeout, key, v, 1, 3600, err);
	if (strcmp(key, "rate_read") == 0)
		return set_int(&c->rate_read, key, v, 0, 1000000, err);
	if (strcmp(key, "rate_read_burst") == 0)
		return set_int(&c->rate_read_burst, key, v, 1, 1000000, err);
	if (strcmp(key, "rate_write") == 0)
		return set_int(&c->rate_write, key, v, 0, 1000000, err);
	if (strcmp(key, "rate_write_burst") == 0)
		return set_int(&c->rate_write_burst, key, v, 1, 1000000,
		    err);
	if (strcmp(key, "rate_exempt") == 0)
		return set_str(&c->rate_exempt, strcmp(v, "none") == 0 ? "" :
		    v, err);
	if (strcmp(key, "stale_after") == 0)
		return set_int(&c->stale_after, key, v, 1, 365 * 86400, err);
	if (strcmp(key, "notifications") == 0) {
		if (strcmp(v, "public") != 0 && strcmp(v, "private") != 0)
			return hl_err_set(err, HL_EINVAL, "notifications: want"
			    " public or private, not \"%s\"", v);
		c->notifications_private = strcmp(v, "private") == 0;
		return 0;
	}
	if (strcmp(key, "user") == 0)
		return set_str(&c->user, v, err);
	if (strcmp(key, "sandbox") == 0) {
		if (strcmp(v, "auto") == 0)
			c->sandbox = HL_SANDBOX_AUTO;
		else if (strcmp(v, "strict") == 0)
			c->sandbox = HL_SANDBOX_STRICT;
		else if (strcmp(v, "off") == 0)
			c->sandbox = HL_SANDBOX_OFF;
		else
			return hl_err_set(err, HL_EINVAL, "sandbox: want"
			    " auto, strict or off, not \"%s\"", v);
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (strcmp(v, "warning") == 0)
			c->log_level = HL_LOG_WARNING;
		else if (strcmp(v, "info") == 0)
			c->log_level = HL_LOG_INFO;
		else if (strcmp(v, "debug") == 0)
			c->log_level = HL_LOG_DEBUG;
		else
			return hl_err_set(err, HL_EINVAL, "log_level: want"
			    " warning, info or debug, not \"%s\"", v);
		return 0;
	}
	if (strcmp(key, "access_log") == 0)
		return set_access_log(c, v, err);
	if (strcmp(key, "threads") == 0) {
		if ((rc = set_int(&n, key, v, 1, 64, err)) != 0)
			return rc;
		c->threads = (int)n;
		return 0;
	}
	return hl_err_set(err, HL_EINVAL, "unknown setting \"%s\"", key);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
hl_config_load(struct hl_config *c, const char *path, struct hl_err *err)
{
	FILE *f;
	char line[4096], *k, *v, *eq;
	int lineno = 0, rc = 0;
	struct hl_err e = HL_ERR_INIT;

	if ((f = fopen(path, "r")) == NULL)
		return hl_err_set(err, HL_EIO, "%s: %s", path,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = hl_err_set(err, HL_EINVAL, "%s:%d: line too"
			    " long", path, lineno);
			break;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			rc = hl_err_set(err, HL_EINVAL, "%s:%d: want"
			    " key = value", path, lineno);
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if ((rc = hl_config_set(c, k, v, &e)) != 0) {
			hl_err_set(err, rc, "%s:%d: %s", path, lineno, e.msg);
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Whether host (no brackets) is a loopback address or name. */
static int
loopback_host(const char *host)
{
	unsigned char a[16];

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return 0;
}

/* Each public_url and purge names a target; webhooks have a secret. */
static int
check_ops(const struct hl_config *c, struct hl_err *err)
{
	const char *t;
	int i, k, found;

	for (i = 0; i < c->nwatch; i++) {
		t = c->watch[i].target;
		found = strcmp(t, "public") == 0 && c->public_dir != NULL &&
		    *c->public_dir != '\0';
		for (k = 0; k < c->ntargets && !found; k++)
			found = strcmp(c->targets[k], t) == 0;
		if (!found)
			return hl_err_set(err, HL_EINVAL, "public_url, purge:"
			    " no target \"%.100s\" (want \"public\" or a"
			    " target's URL)", t);
	}
	if (c->nwebhooks > 0 && c->webhook_secret == NULL)
		return hl_err_set(err, HL_EINVAL, "webhook: needs a"
		    " webhook_secret");
	return 0;
}

int
hl_config_check(const struct hl_config *c, struct hl_err *err)
{
	char host[256], word[64];
	const char *colon, *p;
	unsigned char a[16];
	size_t n;

	if (c->conn_reserve >= c->max_conns)
		return hl_err_set(err, HL_EINVAL, "connection_reserve (%lld)"
		    " must be below max_connections (%lld)",
		    (long long)c->conn_reserve, (long long)c->max_conns);
	if (c->listen == NULL || (colon = strrchr(c->listen, ':')) == NULL ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		return hl_err_set(err, HL_EINVAL, "listen: want HOST:PORT,"
		    " not \"%s\"", c->listen ? c->listen : "");
	n = (size_t)(colon - c->listen);
	p = c->listen;
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return hl_err_set(err, HL_EINVAL, "listen: too long");
	memcpy(host, p, n);
	host[n] = '\0';
	if (strcmp(c->profile, "dev") == 0 && !loopback_host(host))
		return hl_err_set(err, HL_EINVAL, "profile dev: listen on a"
		    " loopback address, not %s", c->listen);
	for (p = c->rate_exempt; p != NULL && *p != '\0'; p += n) {
		p += strspn(p, " ,\t");
		if ((n = strcspn(p, " ,\t")) == 0)
			break;
		if (n >= sizeof(word))
			return hl_err_set(err, HL_EINVAL, "rate_exempt: bad"
			    " address");
		memcpy(word, p, n);
		word[n] = '\0';
		if (inet_pton(AF_INET, word, a) != 1 &&
		    inet_pton(AF_INET6, word, a) != 1)
			return hl_err_set(err, HL_EINVAL, "rate_exempt: \"%s\""
			    " is no IP address", word);
	}
	if (c->user != NULL && *c->user != '\0' && getpwnam(c->user) == NULL)
		return hl_err_set(err, HL_EINVAL, "user: no user \"%s\"",
		    c->user);
	return check_ops(c, err);
}

void
hl_config_free(struct hl_config *c)
{
	int i;

	free(c->listen);
	free(c->db);
	free(c->profile);
	free(c->public_dir);
	free(c->admin_token_file);
	free(c->signing_key);
	free(c->site_dir);
	free(c->git_author_name);
	free(c->git_author_email);
	free(c->review_lists);
	free(c->ham_corpus);
	free(c->rate_exempt);
	free(c->user);
	for (i = 0; i < c->ntargets; i++)
		free(c->targets[i]);
	for (i = 0; i < c->nwatch; i++) {
		free(c->watch[i].target);
		free(c->watch[i].public_url);
		free(c->watch[i].purge_method);
		free(c->watch[i].purge_url);
	}
	for (i = 0; i < c->nwebhooks; i++)
		free(c->webhooks[i]);
	free(c->webhook_secret);
	memset(c, 0, sizeof(*c));
}

int
hl_config_list_match(const char *set, const char *id)
{
	char pat[128];
	const char *p, *e;
	size_t n;

	for (p = set; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		while (*p == ' ' || *p == ',')
			p++;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(pat))
			continue;
		memcpy(pat, p, n);
		pat[n] = '\0';
		if (fnmatch(pat, id, 0) == 0)
			return 1;
	}
	return 0;
}
