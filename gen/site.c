/*
 * site: index.html and the site's static files (see site.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "site.h"

#define MAX_SITE_FILE	(4 * 1024 * 1024)

static const char fallback[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>Helios lists</title></head><body>\n<h1>Helios lists</h1>\n"
    "<p>Version <!--helios:version--></p>\n<table>\n"
    "<tr><th>List</th><th>Items</th><th>Version</th><th>Files</th></tr>\n"
    "<!--helios:lists--></table>\n</body></html>\n";

static int
read_file(char **data, size_t *len, const char *path, struct hl_err *err)
{
	struct hl_buf b = HL_BUF_INIT;
	FILE *f;
	char chunk[8192];
	size_t n;

	*data = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? HL_ENOTFOUND :
		    hl_err_set(err, HL_EIO, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hl_buf_put(&b, chunk, n) != 0 || b.len > MAX_SITE_FILE) {
			fclose(f);
			hl_buf_free(&b);
			return hl_err_set(err, HL_ETOOBIG, "%s: too large",
			    path);
		}
	fclose(f);
	*data = hl_buf_detach(&b, len);
	return 0;
}

static void
escape(struct hl_buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': hl_buf_puts(b, "&lt;"); break;
		case '>': hl_buf_puts(b, "&gt;"); break;
		case '&': hl_buf_puts(b, "&amp;"); break;
		case '"': hl_buf_puts(b, "&quot;"); break;
		default: hl_buf_putc(b, *s);
		}
}

static void
rows(struct hl_buf *b, const struct hl_site_list *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		hl_buf_puts(b, "<tr><td>");
		escape(b, l[i].info->id);
		hl_buf_puts(b, "<br><small>");
		escape(b, l[i].info->file);
		hl_buf_printf(b, "</small></td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td><a href=\"",
		    (long long)l[i].info->count, (long long)l[i].info->version);
		escape(b, l[i].text);
		hl_buf_puts(b, "\">text</a> <a href=\"");
		escape(b, l[i].json);
		hl_buf_puts(b, "\">json</a></td></tr>\n");
	}
}

int
hl_site_render(struct hl_buf *out, const char *site_dir,
    const struct hl_site_list *lists, size_t n, int64_t version,
    int64_t notif_version, struct hl_err *err)
{
	char path[4096], *tpl = NULL;
	const char *p, *m;
	size_t len;
	int rc = HL_ENOTFOUND;

	if (site_dir != NULL) {
		if (snprintf(path, sizeof(path), "%s/index.html", site_dir) >=
		    (int)sizeof(path))
			return hl_err_set(err, HL_EINVAL, "site path too"
			    " long");
		rc = read_file(&tpl, &len, path, err);
		if (rc != 0 && rc != HL_ENOTFOUND)
			return rc;
	}
	for (p = tpl ? tpl : fallback; (m = strstr(p, "<!--helios:")); ) {
		hl_buf_put(out, p, (size_t)(m - p));
		if (strncmp(m, "<!--helios:lists-->", 19) == 0) {
			rows(out, lists, n);
			p = m + 19;
		} else if (strncmp(m, "<!--helios:version-->", 21) == 0) {
			hl_buf_printf(out, "%lld", (long long)version);
			p = m + 21;
		} else if (strncmp(m, "<!--helios:notifications-->", 27) == 0) {
			hl_buf_printf(out, "%lld", (long long)notif_version);
			p = m + 27;
		} else {
			hl_buf_put(out, m, 11);
			p = m + 11;
		}
	}
	hl_buf_puts(out, p);
	free(tpl);
	return 0;
}

static int
cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct hl_site_file *)a)->path,
	    ((const struct hl_site_file *)b)->path);
}

void
hl_site_files_free(struct hl_site_file *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].data);
	}
	free(v);
}

int
hl_site_files(struct hl_site_file **out, size_t *n, const char *site_dir,
    struct hl_err *err)
{
	static const char *const subdirs[] = { "assets", "docs" };
	struct hl_site_file *v = NULL, *nv;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	char dir[4096], path[4096];
	size_t cnt = 0, k;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (k = 0; site_dir && k < 2 && rc == 0; k++) {
		snprintf(dir, sizeof(dir), "%s/%s", site_dir, subdirs[k]);
		if ((d = opendir(dir)) == NULL)
			continue;
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) >= (int)sizeof(path))
				continue;
			if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
				rc = hl_err_set(err, HL_ENOMEM, "no memory");
				break;
			}
			v = nv;
			memset(&v[cnt], 0, sizeof(v[cnt]));
			if (asprintf(&v[cnt].path, "%s/%s", subdirs[k],
			    de->d_name) < 0) {
				v[cnt].path = NULL;
				rc = hl_err_set(err, HL_ENOMEM, "no memory");
				break;
			}
			cnt++;
			rc = read_file(&v[cnt - 1].data, &v[cnt - 1].len, path,
			    err);
		}
		closedir(d);
	}
	if (rc != 0) {
		hl_site_files_free(v, cnt);
		return rc;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_files);
	*out = v;
	*n = cnt;
	return 0;
}
