/*
 * target: opens a target by the scheme of its URL and forwards to its
 * kind's operations (see target.h).  The name kept for logs, /healthz and
 * the store is the URL without user information or query secrets.
 */
#include <stdlib.h>
#include <string.h>

#include "target.h"

struct hl_target {
	const struct hl_target_ops	*ops;
	void				*state;
	char				*name;
};

/* The URL with any "user:password@" removed. */
static char *
public_name(const char *url)
{
	const char *s, *at, *slash;
	char *out;

	if ((s = strstr(url, "://")) == NULL)
		return strdup(url);
	s += 3;
	slash = s + strcspn(s, "/?#");
	at = memchr(s, '@', (size_t)(slash - s));
	if (at == NULL)
		return strdup(url);
	if ((out = malloc(strlen(url) + 1)) == NULL)
		return NULL;
	memcpy(out, url, (size_t)(s - url));
	strcpy(out + (s - url), at + 1);
	return out;
}

int
hl_target_open(struct hl_target **out, const char *url, struct hl_err *err)
{
	const struct hl_target_ops *ops;
	struct hl_target *t;
	int rc;

	*out = NULL;
	if (strncmp(url, "s3://", 5) == 0)
		ops = &hl_pub_s3_ops;
	else if (strncmp(url, "git+", 4) == 0)
		ops = &hl_pub_git_ops;
	else if (strncmp(url, "dir:", 4) == 0 || strstr(url, "://") == NULL)
		ops = &hl_pub_dir_ops;
	else
		return hl_err_set(err, HL_EINVAL, "target %s: unknown kind"
		    " (want dir:PATH, s3://... or git+...)", url);
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = public_name(url)) == NULL) {
		free(t);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	t->ops = ops;
	if ((rc = ops->open(&t->state, url, err)) != 0) {
		free(t->name);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int
hl_target_publish(struct hl_target *t, const struct hl_tree *tree,
    struct hl_err *err)
{
	return t->ops->publish(t->state, tree, err);
}

void
hl_target_stage(struct hl_target *t, const struct hl_file *files, size_t n)
{
	if (t->ops->stage != NULL)
		t->ops->stage(t->state, files, n);
}

int
hl_target_manifest(struct hl_buf *out, struct hl_target *t,
    struct hl_err *err)
{
	return t->ops->manifest(out, t->state, err);
}

const char *
hl_target_name(const struct hl_target *t)
{
	return t->name;
}

const char *
hl_target_kind(const struct hl_target *t)
{
	return t->ops->kind;
}

void
hl_target_close(struct hl_target *t)
{
	if (t == NULL)
		return;
	t->ops->close(t->state);
	free(t->name);
	free(t);
}
