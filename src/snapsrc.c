/*
 * snapsrc: the store's reads behind the generator's callbacks (see
 * snapsrc.h).  Each callback is one store call; the payload is the
 * struct hl_store.
 */
#include "proposals.h"
#include "snapsrc.h"

static int
src_begin(void *payload, struct hl_err *err)
{
	return hl_store_read_begin(payload, err);
}

static void
src_end(void *payload)
{
	hl_store_read_end(payload);
}

static int64_t
src_version(void *payload)
{
	return hl_store_version(payload);
}

static int
src_lists(struct hl_list **out, size_t *n, void *payload,
    struct hl_err *err)
{
	return hl_store_lists(out, n, payload, err);
}

static int
src_items(struct hl_item **out, size_t *n, void *payload, const char *list,
    struct hl_err *err)
{
	return hl_store_items(out, n, payload, list, 1, err);
}

static int
src_items_each(void *payload, const char *list, size_t batch,
    int (*fn)(const struct hl_item *v, size_t n, void *arg), void *arg,
    struct hl_err *err)
{
	return hl_store_items_each(payload, list, batch, fn, arg, err);
}

static int
src_events(struct hl_event **out, size_t *n, void *payload, int64_t since,
    size_t limit, struct hl_err *err)
{
	return hl_store_events(out, n, payload, since, limit, err);
}

static int
src_notifs(struct hl_notif **out, size_t *n, void *payload,
    struct hl_err *err)
{
	return hl_store_notifs(out, n, payload, err);
}

static int64_t
src_notifs_version(void *payload)
{
	return hl_store_notifs_version(payload);
}

static int
src_proposals(json_t **out, void *payload, size_t limit, struct hl_err *err)
{
	struct hl_proposal *v = NULL;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	if ((rc = hl_store_proposals(&v, &n, payload, "pending", NULL, limit,
	    err)) != 0)
		return rc;
	if ((*out = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(*out, hl_proposal_json(&v[i]));
	hl_proposals_free(v, n);
	return *out != NULL ? 0 : hl_err_set(err, HL_ENOMEM, "out of memory");
}

static int64_t
src_proposals_version(void *payload)
{
	return hl_store_proposals_version(payload);
}

void
hl_snapsrc_store(struct hl_snap_source *out, struct hl_store *st)
{
	*out = (struct hl_snap_source){
		.payload = st,
		.begin = src_begin,
		.end = src_end,
		.version = src_version,
		.lists = src_lists,
		.items = src_items,
		.items_each = src_items_each,
		.events = src_events,
		.notifs = src_notifs,
		.notifs_version = src_notifs_version,
		.proposals = src_proposals,
		.proposals_version = src_proposals_version,
	};
}
