/*
 * tree: the cache classes and content types of published files (see
 * tree.h).  The daemon's static server, the S3 target and the manifest all
 * take them from here, so every target serves a file the same way.
 */
#include <string.h>

#include "tree.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *
hl_tree_cache_control(int cache)
{
	switch (cache) {
	case HL_CACHE_IMMUTABLE:
		return "public, max-age=31536000, immutable";
	case HL_CACHE_REVALIDATE:
		return "no-cache";
	default:
		return "public, max-age=60";
	}
}

const char *
hl_tree_content_type(const char *path)
{
	if (ends_with(path, ".gz"))
		return "application/gzip";
	if (ends_with(path, ".json"))
		return "application/json; charset=utf-8";
	if (ends_with(path, ".txt") || ends_with(path, ".yml") ||
	    ends_with(path, ".yaml") || ends_with(path, ".py") ||
	    ends_with(path, ".md"))
		return "text/plain; charset=utf-8";
	if (ends_with(path, ".html"))
		return "text/html; charset=utf-8";
	if (ends_with(path, ".css"))
		return "text/css; charset=utf-8";
	if (ends_with(path, ".js") || ends_with(path, ".mjs"))
		return "text/javascript; charset=utf-8";
	if (ends_with(path, ".map"))
		return "application/json; charset=utf-8";
	if (ends_with(path, ".xml"))
		return "application/atom+xml; charset=utf-8";
	if (ends_with(path, ".svg"))
		return "image/svg+xml";
	if (ends_with(path, ".png"))
		return "image/png";
	if (ends_with(path, ".ico"))
		return "image/x-icon";
	if (ends_with(path, ".woff2"))
		return "font/woff2";
	return "application/octet-stream";
}

int
hl_tree_cache_class(const char *path)
{
	if (strncmp(path, "objects/", 8) == 0 ||
	    strncmp(path, "changes/", 8) == 0)
		return HL_CACHE_IMMUTABLE;
	if (strcmp(path, "manifest.json") == 0 ||
	    strncmp(path, "manifest.json.", 14) == 0)
		return HL_CACHE_REVALIDATE;
	return HL_CACHE_SHORT;
}
