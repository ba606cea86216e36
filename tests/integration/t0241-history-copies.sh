#!/bin/sh
# t0241: `helios history --db` rebuilds a list from the audit log with
# every copy of a duplicate: a tsv pattern on two lines by different people
# comes back as two lines, and when the second goes, the one that went is
# the one missing, at each version.  (When the first goes, an import makes
# the second the first again: a delete and an add, and the add lands at
# the list's end, as it does for the clients; events carry no position.)
. tests/lib.sh
D=$(hl_tmp)
mkdir -p "$D/in"

L1='1494568775	tripleee	essayssos\.com'
L2='1494592807	ArtOfCode	essayssos\.com'
L3='1494592899	Makyen	other\.example'
printf '%s\n%s\n%s\n' "$L1" "$L2" "$L3" >"$D/in/watched_keywords.txt"
t_ok "a tsv file with one pattern on two lines imports" \
    "$HELIOS" import --db "$D/db.sqlite" "$D/in"
v1=$(sqlite3 "$D/db.sqlite" "SELECT max(version) FROM events")
# The second copy goes from the file; a mirror import deletes that line.
printf '%s\n%s\n' "$L1" "$L3" >"$D/in/watched_keywords.txt"
t_ok "the second copy is removed by a mirror import" \
    "$HELIOS" import --db "$D/db.sqlite" --mirror --confirm "copy gone" \
    "$D/in"

hist() {	# [--at V]: the list from the audit log, as lines joined by |
	"$HELIOS" history watch-keyword --db "$D/db.sqlite" "$@" \
	    2>/dev/null | tr '\n' '|'
}
t_is "at the import, both copies are there, each with its own user" \
    "$(hist --at "$v1")" "$L1|$L2|$L3|"
t_is "after the delete, the copy that went is the one missing" \
    "$(hist)" "$L1|$L3|"
mkdir "$D/out"
"$HELIOS" export --db "$D/db.sqlite" "$D/out" >/dev/null
t_is "the audit log's list is the exported file" \
    "$(hist)" "$(tr '\n' '|' <"$D/out/watched_keywords.txt")"
t_done
