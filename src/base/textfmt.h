/*
 * textfmt: SmokeDetector's list files, read into items and written back
 * byte for byte.
 *
 * The three formats (enum hl_fmt in item.h) and the exact bytes each
 * produces are described at the top of textfmt.c.  Parsing then rendering
 * a file gives back the same bytes (items keep the text they were read
 * from where rendering would differ, in src; comments and skipped lines
 * are verbatim items).  A file that could not be written back as it is (a
 * yaml file in flow style, a carriage return inside a line) is refused
 * with HL_EINVAL instead; see textfmt.c.
 */
#ifndef HL_TEXTFMT_H
#define HL_TEXTFMT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "item.h"

/* The only yaml schema version SmokeDetector writes (and Helios accepts). */
#define HL_TEXTFMT_SCHEMA_VERSION	"2019120601"

/*
 * Parses len bytes of a file of format fmt into items, in file order
 * (pos 0, 1, 2, ...).  filename is used in messages only.
 *
 * plain: one item a line, value the line rstripped.  Lines that
 *   SmokeDetector skips (empty after rstrip, or starting with '#') become
 *   items with verbatim HL_VERBATIM_LINE.
 * tsv: value the third field, created_at the first (a decimal integer),
 *   created_by the second, of the line rstripped.  Lines SmokeDetector
 *   skips (only white space, or white space then '#') become
 *   HL_VERBATIM_LINE items; lines its parser rejects (not three fields) or
 *   ignores (a pattern starting with '#') HL_VERBATIM_SKIPPED items.
 * yaml: value is ip, asn, or the ns names joined by one space (ns_seq 1
 *   when written as a sequence); comment, disabled, pass as written.  The
 *   lines between items are HL_VERBATIM_LINE items, a header yaml.dump
 *   would not write one HL_VERBATIM_HEAD item.
 *
 * Every item's src is the text it was read from when rendering it alone
 * would not give that text back, else NULL; line is its first line.  A
 * file whose last line lacks its '\n' comes back without it.  An empty
 * file has no items (*out NULL, *n 0).
 *
 * On success *out is owned by the caller (free with hl_items_free()).
 * On error returns HL_EINVAL ("FILENAME:LINE: what is wrong") or
 * HL_ENOMEM, and *out is NULL, *n 0.
 */
int	hl_textfmt_parse(struct hl_item **out, size_t *n, int fmt,
	    const char *data, size_t len, const char *filename,
	    struct hl_err *err);

/*
 * Appends the file of format fmt holding items[0..n) in the order given
 * to out; an item with src is written as src (with a '\n' added when it
 * has none and is not last), a verbatim item as its value.  A value that cannot
 * be written in the format (a '\n' in a plain pattern, a tab in a tsv
 * field, an item without a value) is HL_EINVAL naming the item's index.
 * On error (HL_EINVAL, HL_ENOMEM) out holds what it held before.
 */
int	hl_textfmt_render(struct hl_buf *out, int fmt,
	    const struct hl_item *items, size_t n, struct hl_err *err);

#endif
