/*
 * reload: the live and restart-only settings (see reload.h).
 */
#include <stdio.h>
#include <string.h>

#include "reload.h"

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) != (b == NULL);
	return strcmp(a, b) != 0;
}

static void
add(char *buf, size_t len, const char *key)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", key);
}

void
hl_reload_restart_keys(char *buf, size_t len, const struct hl_config *a,
    const struct hl_config *b)
{
	int i, targets;

	if (len == 0)
		return;
	buf[0] = '\0';
#define S(f, key) if (str_differ(a->f, b->f)) add(buf, len, key)
#define N(f, key) if (a->f != b->f) add(buf, len, key)
	S(listen, "listen");
	S(db, "db");
	S(profile, "profile");
	S(public_dir, "public");
	targets = a->ntargets != b->ntargets;
	for (i = 0; !targets && i < a->ntargets; i++)
		targets = str_differ(a->targets[i], b->targets[i]);
	if (targets)
		add(buf, len, "target");
	S(admin_token_file, "admin_token_file");
	S(signing_key, "signing_key");
	S(site_dir, "site");
	S(git_author_name, "git_author_name");
	S(git_author_email, "git_author_email");
	N(manifest_ttl, "manifest_ttl");
	N(poll_interval, "poll_interval");
	N(threads, "threads");
	S(review_lists, "review_lists");
	N(self_approve, "self_approve");
	S(ham_corpus, "ham_corpus");
	N(mass_share, "mass_change_share");
	N(mass_items, "mass_change_items");
	N(max_conns, "max_connections");
	N(max_conns_per_ip, "max_connections_per_ip");
	N(conn_reserve, "connection_reserve");
	N(idle_timeout, "idle_timeout");
	N(notifications_private, "notifications");
	S(user, "user");
	N(sandbox, "sandbox");
	N(signing_overlap, "signing_overlap");
	N(full_checks, "write_checks");
	N(public_check_interval, "public_check_interval");
	S(webhook_secret, "webhook_secret");
	targets = a->nwatch != b->nwatch;
	for (i = 0; !targets && i < a->nwatch; i++)
		targets = str_differ(a->watch[i].target, b->watch[i].target) ||
		    str_differ(a->watch[i].public_url,
		    b->watch[i].public_url) ||
		    str_differ(a->watch[i].purge_method,
		    b->watch[i].purge_method) ||
		    str_differ(a->watch[i].purge_url, b->watch[i].purge_url);
	if (targets)
		add(buf, len, "public_url/purge");
	targets = a->nwebhooks != b->nwebhooks;
	for (i = 0; !targets && i < a->nwebhooks; i++)
		targets = str_differ(a->webhooks[i], b->webhooks[i]);
	if (targets)
		add(buf, len, "webhook");
#undef S
#undef N
}

void
hl_reload_take(struct hl_config *cur, struct hl_config *next)
{
	char *s;

	cur->log_level = next->log_level;
	cur->access_log_json = next->access_log_json;
	cur->access_log_sample = next->access_log_sample;
	cur->rate_read = next->rate_read;
	cur->rate_read_burst = next->rate_read_burst;
	cur->rate_write = next->rate_write;
	cur->rate_write_burst = next->rate_write_burst;
	cur->header_timeout = next->header_timeout;
	cur->body_timeout = next->body_timeout;
	cur->stale_after = next->stale_after;
	s = cur->rate_exempt;
	cur->rate_exempt = next->rate_exempt;
	next->rate_exempt = s;
}
