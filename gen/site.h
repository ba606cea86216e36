/*
 * site: the browsable part of the published tree.  index.html is made
 * from site/index.html, a plain HTML page in which the generator replaces
 * three markers:
 *
 *   <!--helios:lists-->          table rows, one per list, with its count,
 *                                version and download links
 *   <!--helios:version-->        the tree's version
 *   <!--helios:notifications-->  the notifications' version
 *
 * Files under site/assets/ and site/docs/ are published as they are.
 * Without a site directory a bare page with the same table is made, so a
 * tree is always browsable.
 */
#ifndef HL_SITE_H
#define HL_SITE_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "item.h"

struct hl_site_list {
	const struct hl_list	*info;
	const char		*json;
	const char		*text;
};

struct hl_site_file {
	char		*path;	/* "assets/style.css" */
	char		*data;
	size_t		 len;
};

int	hl_site_render(struct hl_buf *out, const char *site_dir,
	    const struct hl_site_list *lists, size_t n, int64_t version,
	    int64_t notif_version, struct hl_err *err);
/*
 * The static files under site_dir/assets and site_dir/docs, sorted by path.
 * An absent directory gives none.  Free with hl_site_files_free.
 */
int	hl_site_files(struct hl_site_file **out, size_t *n,
	    const char *site_dir, struct hl_err *err);
void	hl_site_files_free(struct hl_site_file *v, size_t n);

#endif
