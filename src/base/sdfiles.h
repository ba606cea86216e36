/*
 * sdfiles: SmokeDetector's eleven list files, by list id: the names its
 * blacklists.py opens, at the top of its repository, and their formats
 * (the table of DESIGN.md and schema/0001-init.sql).
 *
 * A fixed table on purpose: the client writes only these names whatever a
 * mirror's manifest says, and the git target's SmokeDetector layout
 * writes only these paths into SmokeDetector's own tree.
 */
#ifndef HL_SDFILES_H
#define HL_SDFILES_H

/*
 * The file of list id ("watch-keyword" -> "watched_keywords.txt") and,
 * when fmt is not NULL, its format (enum hl_fmt); NULL for any other id.
 */
const char	*hl_sdfile_name(const char *id, int *fmt);

/* The i-th list id of the table, i from 0; NULL past the last. */
const char	*hl_sdfile_id(unsigned i);

#endif
