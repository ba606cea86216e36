/*
 * fuzz_manifest: libFuzzer target for what the pull client (client/) reads
 * from a mirror before anything else: manifest.json and changes.json, by
 * hl_pull_manifest_parse and hl_pull_changes_parse.  A mirror is anyone's,
 * so besides not crashing, what a parse accepts must keep pull.h's
 * promises, checked here on their own terms:
 *
 *   - every path and object is inside the tree: relative, no empty, "."
 *     or ".." name, no backslash;
 *   - a list's file is a plain name, its text one of the files, and the
 *     name pull writes (local) one of this client's, in its format;
 *   - change segments are sorted, from >= 1 and to >= from.
 *
 * Input layout: a first byte 'c' is changes.json, anything else is
 * manifest.json; the rest is the document.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pull.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what, const char *s)
{
	fprintf(stderr, "fuzz_manifest: accepted %s \"%s\"\n", what,
	    s ? s : "(null)");
	abort();
}

static void
inside(const char *what, const char *p)
{
	const char *s, *e;

	if (p == NULL || *p == '\0' || *p == '/' || strchr(p, '\\') != NULL)
		broken(what, p);
	for (s = p; ; s = e + 1) {
		e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		if (e == s || (e - s == 1 && s[0] == '.') ||
		    (e - s == 2 && s[0] == '.' && s[1] == '.'))
			broken(what, p);
		if (*e == '\0')
			break;
	}
}

static void
file_ok(const struct hl_pull_file *f)
{
	inside("a path", f->id.path);
	if (f->id.object != NULL)
		inside("an object", f->id.object);
	if (f->id.bytes < 0)
		broken("a negative size for", f->id.path);
	if (!f->has_gz)
		return;
	inside("a gzip path", f->gz.path);
	if (f->gz.object != NULL)
		inside("a gzip object", f->gz.object);
	if (f->gz.bytes < 0)
		broken("a negative size for", f->gz.path);
}

static void
manifest(const uint8_t *data, size_t size)
{
	struct hl_pull_manifest m = { 0 };
	struct hl_err err = HL_ERR_INIT;
	const struct hl_pull_list *l;
	const char *known;
	size_t i;
	int fmt;

	if (hl_pull_manifest_parse(&m, data, size, &err) != 0) {
		if (m.files != NULL || m.lists != NULL)
			broken("nothing, yet kept", "files or lists");
		return;
	}
	for (i = 0; i < m.nfiles; i++)
		file_ok(&m.files[i]);
	for (i = 0; i < m.nlists; i++) {
		l = &m.lists[i];
		if (l->id == NULL || l->file == NULL || *l->file == '\0' ||
		    strchr(l->file, '/') != NULL || l->file[0] == '.')
			broken("a list file", l->file);
		if (hl_pull_manifest_file(&m, l->text) == NULL)
			broken("a list text not among the files", l->text);
		known = hl_pull_known_file(l->id, &fmt);
		if (l->local != NULL && (known == NULL ||
		    strcmp(l->local, known) != 0 || l->fmt != fmt))
			broken("a local name", l->local);
	}
	hl_pull_manifest_clear(&m);
}

static void
changes(const uint8_t *data, size_t size)
{
	struct hl_pull_changes c = { 0 };
	struct hl_err err = HL_ERR_INIT;
	size_t i;

	if (hl_pull_changes_parse(&c, data, size, &err) != 0)
		return;
	for (i = 0; i < c.nsegs; i++) {
		file_ok(&c.segs[i].f);
		if (c.segs[i].from < 1 || c.segs[i].to < c.segs[i].from ||
		    (i > 0 && c.segs[i].from < c.segs[i - 1].from))
			broken("a segment", c.segs[i].f.id.path);
	}
	hl_pull_changes_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 'c')
		changes(data + 1, size - 1);
	else
		manifest(data + 1, size - 1);
	return 0;
}
