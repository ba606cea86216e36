/*
 * gitimport: SmokeDetector's list history, replayed from its git
 * repository (gitsrc.h) into list items and change events.
 *
 * Each tracked file belongs to a list and has a format.  The current files
 * are the lists' own (bad_keywords.txt, ...); older names and formats
 * (a file that was renamed, or was a .txt before it became a .yml) are
 * added as aliases.  A commit that changes tracked files becomes, per
 * list, the values it added and removed:
 *
 *   - plain and tsv files: the lines it added and removed, each parsed
 *     as one line of the format;
 *   - yaml files: the items of the file before and after, compared;
 *
 * counted per value (by hl_item_key): a value is added when its first
 * copy appears and removed when its last copy goes, so duplicates make no
 * events, and a value that moves between two files of one list in one
 * commit (a rename, a format change) is neither removed nor added and
 * keeps its origin.  A file that does not parse at some commit (a yaml
 * file broken at the time) is reported and skipped: the list keeps its
 * previous state until the file parses again.
 *
 * The origin of a value is the commit that added it: its id, author, time
 * and subject, and the requester that SmokeDetector's bot commits name
 * ("Auto blacklist of example.com by SomeUser").
 */
#ifndef HL_GITIMPORT_H
#define HL_GITIMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "gitsrc.h"
#include "item.h"

/* A tracked file: its path in the repository, its list and format. */
struct hl_gitimport_path {
	const char	*path;
	const char	*list;
	int		 fmt;		/* enum hl_fmt */
};

/* What a value's commit says of it. */
struct hl_gitimport_origin {
	const char	*commit;	/* hex id */
	const char	*author;
	const char	*subject;
	const char	*requester;	/* from a bot commit's subject, or
					   NULL */
	int64_t		 time;
};

/* One change: op 'a' (added) or 'd' (removed) of item in list. */
struct hl_gitimport_event {
	char				 op;
	const char			*list;
	int				 fmt;
	const struct hl_item		*item;
	struct hl_gitimport_origin	 origin;	/* of the commit */
};

/*
 * Called for each change, in history order; a commit's removals come
 * before its additions.  A non-zero return stops the replay.
 */
typedef int (*hl_gitimport_cb)(const struct hl_gitimport_event *ev,
    void *payload);

struct hl_gitimport;

/*
 * Replays the first-parent history of rev (NULL: HEAD) after since (a
 * commit id; NULL: from the first commit) over paths[0..n).  cb may be
 * NULL (only the final state is wanted).  Problems that are not fatal
 * (a file that did not parse at a commit) are appended to report, one
 * line each, when it is not NULL.
 */
int	hl_gitimport_run(struct hl_gitimport **out, struct hl_gitsrc *g,
	    const char *since, const char *rev,
	    const struct hl_gitimport_path *paths, size_t n,
	    hl_gitimport_cb cb, void *payload, struct hl_buf *report,
	    struct hl_err *err);
void	hl_gitimport_free(struct hl_gitimport *gi);

/* The number of commits that changed a tracked file, and of events. */
size_t	hl_gitimport_commits(const struct hl_gitimport *gi);
size_t	hl_gitimport_events(const struct hl_gitimport *gi);

/*
 * The origin of value in list as of the end of the replay (the commit
 * that last added it), or -1 when the replay did not see it added (it was
 * there before since).  Borrowed until hl_gitimport_free.
 */
int	hl_gitimport_origin(struct hl_gitimport_origin *out,
	    const struct hl_gitimport *gi, const char *list, int fmt,
	    const struct hl_item *it);

/*
 * The bytes of the file of list as of the end of the replay: the first
 * path of the list (in paths[] order) that exists.  NULL when none does.
 */
const char *hl_gitimport_file(size_t *len, const char **path,
	    const struct hl_gitimport *gi, const char *list);

/*
 * The origin as a JSON object's text ({"commit": ..., "author": ...,
 * "time": ..., "subject": ..., "requester": ...}), malloc'd; NULL when out
 * of memory.
 */
char	*hl_gitimport_origin_json(const struct hl_gitimport_origin *o);

#endif
