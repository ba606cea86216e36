#!/bin/sh
# t0230: SmokeDetector's files come back byte for byte.  Each directory of
# tests/data/roundtrip/ holds one construct (a folded block scalar, a long
# comment, "- ns: " with its trailing space, duplicates in each format, a
# short tsv line, comments and blank lines, disabled items, key order,
# quoting, hand edits); each, and the real sample files, is imported, then
# exported, published and pulled: all three must be cmp-identical to the
# file read.  A file that could not come back as it is (a lone carriage
# return, yaml in flow style) is refused with its line.  Then through the
# daemon: a new item changes only its own lines, a
# duplicate is refused, a delete removes every copy; and import --mirror
# carries removals (--dry-run only prints them), --strict refuses a line
# SmokeDetector skips.
. tests/lib.sh

T=$(hl_tmp)
RT=tests/data/roundtrip
SAMPLES=$(hl_samples)

list_of() {	# FILE NAME: the list id that keeps it
	case "$1" in
	bad_keywords.txt) echo blacklist-keyword ;;
	blacklisted_websites.txt) echo blacklist-website ;;
	blacklisted_usernames.txt) echo blacklist-username ;;
	blacklisted_numbers.txt) echo blacklist-number ;;
	watched_keywords.txt) echo watch-keyword ;;
	watched_numbers.txt) echo watch-number ;;
	blacklisted_cidrs.yml) echo blacklist-cidr ;;
	watched_cidrs.yml) echo watch-cidr ;;
	blacklisted_nses.yml) echo blacklist-ns ;;
	watched_nses.yml) echo watch-ns ;;
	watched_asns.yml) echo watch-asn ;;
	esac
}
files_of() {	# DIR: the SmokeDetector files in it
	for f in "$1"/*.txt "$1"/*.yml; do
		[ -f "$f" ] && [ -n "$(list_of "$(basename "$f")")" ] &&
		    echo "$f"
	done
}
same_files() {	# SRC DIR: every file of SRC is in DIR, byte for byte
	for f in $(files_of "$1"); do
		cmp "$f" "$2/$(basename "$f")" || return 1
	done
}
same_published() {	# SRC PUB: lists/<id>.<ext> is each file of SRC
	for f in $(files_of "$1"); do
		b=$(basename "$f")
		cmp "$f" "$2/lists/$(list_of "$b").${b##*.}" || return 1
	done
}
sql() {	# DB QUERY: the first column of the first row
	$PY -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}
version() {	# DB: the highest version
	[ -f "$1" ] || { echo 0; return; }
	sql "$1" 'SELECT COALESCE(MAX(version), 0) FROM events'
}

# --- each construct, and the real files --------------------------------
for d in "$RT"/* "$SAMPLES"; do
	what=$(basename "$d")
	[ "$d" = "$SAMPLES" ] && what="the real sample files"
	w=$T/$(basename "$d")
	mkdir -p "$w"
	"$HELIOS" import --db "$w/db.sqlite" "$d" >"$w/import.out" 2>&1
	"$HELIOS" export --db "$w/db.sqlite" "$w/export" >/dev/null 2>&1
	t_ok "$what: export gives back the imported files, cmp-identical" \
	    same_files "$d" "$w/export"
	"$HELIOS" publish --db "$w/db.sqlite" --target "dir:$w/pub" \
	    >"$w/publish.out" 2>&1
	t_ok "$what: the published lists/<id> files are the same bytes" \
	    same_published "$d" "$w/pub"
	"$HELIOS" pull -q "file://$w/pub" "$w/pull" >"$w/pull.out" 2>&1
	t_ok "$what: helios pull writes the same bytes" \
	    same_files "$d" "$w/pull"
	"$HELIOS" import --db "$w/db.sqlite" "$d" >"$w/import2.out" 2>&1
	t_is "$what: importing again adds nothing" \
	    "$(grep -c ': 0 of [0-9]* lines new' "$w/import2.out")" \
	    "$(files_of "$d" | wc -l | tr -d ' ')"
done

# --- what the import reports --------------------------------------------
t_ok "a duplicate is reported with its file, its line and the line it repeats" \
    grep -q 'duplicates//*blacklisted_cidrs.yml:6: kept, a duplicate of line 4: 192.0.2.1' \
    "$T/duplicates/import.out"
t_ok "the tsv duplicate is the exact repeat, not the one in another case" \
    grep -q 'watched_keywords.txt:3: kept, a duplicate of line 1:' \
    "$T/duplicates/import.out"
t_ok "the import counts the duplicates it kept" \
    grep -q 'blacklisted_cidrs.yml: 3 of 3 lines new in blacklist-cidr (1 duplicates' \
    "$T/duplicates/import.out"
t_ok "a tsv line without three fields is reported and kept" \
    grep -q "watched_keywords.txt:3: kept, but SmokeDetector's parser skips" \
    "$T/short-tsv/import.out"
t_is "duplicates are counted once in lists/<id>.json" \
    "$(jq -r '.numItems, (.items | length), ([.items[] | select(.dup_of)] | length)' \
    "$T/duplicates/pub/lists/blacklist-cidr.json" | tr '\n' ' ')" "2 3 1 "
t_is "an item kept as read carries its text in the JSON" \
    "$(jq -r '.items[0].src' "$T/folded/pub/lists/watch-ns.json")" \
    "$(sed -n '4,7p' "$RT/folded/watched_nses.yml")"

# --- --strict -------------------------------------------------------------
mkdir -p "$T/strict"
t_ok "--strict refuses a line SmokeDetector's parser skips" \
    sh -c "! '$HELIOS' import --strict --db '$T/strict/db.sqlite' '$RT/short-tsv' >'$T/strict/out' 2>&1"
t_ok "--strict names the file and line" \
    grep -q 'watched_keywords.txt:3: SmokeDetector' "$T/strict/out"
t_is "--strict imported nothing" "$(version "$T/strict/db.sqlite")" 0

# --- files that could not come back as they are --------------------------
mkdir -p "$T/cr/in" "$T/flow/in"
printf 'one\ntwo\rthree\n' >"$T/cr/in/bad_keywords.txt"
printf "Schema: yaml_cidr\nSchema_version: '2019120601'\nitems: [{ip: 192.0.2.1}]\n" \
    >"$T/flow/in/blacklisted_cidrs.yml"
t_ok "a carriage return inside a line is refused" \
    sh -c "! '$HELIOS' import --db '$T/cr/db.sqlite' '$T/cr/in' >'$T/cr/out' 2>&1"
t_ok "... naming the file and line" \
    grep -q 'bad_keywords.txt:2: a carriage return inside a line' "$T/cr/out"
t_is "... and nothing is imported" "$(version "$T/cr/db.sqlite")" 0
t_ok "yaml items in flow style are refused" \
    sh -c "! '$HELIOS' import --db '$T/flow/db.sqlite' '$T/flow/in' >'$T/flow/out' 2>&1"
t_ok "... naming the file and line" grep -q \
    'blacklisted_cidrs.yml:3: an item that does not stand on lines' \
    "$T/flow/out"
t_is "... and nothing is imported" "$(version "$T/flow/db.sqlite")" 0

# --- through the daemon: only the changed item's lines change ------------
D=$T/daemon
mkdir -p "$D"
"$HELIOS" import --db "$D/db.sqlite" "$RT/folded" "$RT/duplicates/blacklisted_cidrs.yml" \
    "$RT/duplicates/watched_keywords.txt" >/dev/null 2>&1
hl_daemon_start "$D" || exit 1
req() {	# METHOD LIST BODY: the status
	curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $HL_ADMIN" -d "$3" \
	    "$HL_URL/blacklists/$2"
}
t_is "a new name server is added" \
    "$(req POST watch-ns '{"ns": "added.example.com.", "comment": "new"}')" 201
"$HELIOS" export --db "$D/db.sqlite" "$T/after-add" >/dev/null
diff "$RT/folded/watched_nses.yml" "$T/after-add/watched_nses.yml" \
    >"$T/add.diff"
t_is "the file changes by the new item's lines alone" \
    "$(grep '^[<>]' "$T/add.diff")" "> - comment: new
>   ns: added.example.com."
t_is "a value already there twice is refused" \
    "$(req POST blacklist-cidr '{"ip": "192.0.2.1"}')" 409
t_is "a delete of a duplicated value succeeds" \
    "$(req DELETE blacklist-cidr '{"ip": "192.0.2.1"}')" 200
"$HELIOS" export --db "$D/db.sqlite" "$T/after-del" >/dev/null
t_is "the delete removed every copy and nothing else" \
    "$(cat "$T/after-del/blacklisted_cidrs.yml")" "Schema: yaml_cidr
Schema_version: '2019120601'
items:
- ip: 192.0.2.2"
t_is "a tsv pattern in another case is no duplicate" \
    "$(req POST watch-keyword '{"pattern": "ESSAY\\\\W?writing"}')" 201
n=0
while [ "$(jq -r .version "$D/public/manifest.json" 2>/dev/null)" != \
    "$(version "$D/db.sqlite")" ] && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
t_ok "the daemon's published files equal the export" sh -c "
    '$HELIOS' export --db '$D/db.sqlite' '$T/exp-now' >/dev/null &&
    cmp '$T/exp-now/watched_nses.yml' '$D/public/lists/watch-ns.yml' &&
    cmp '$T/exp-now/blacklisted_cidrs.yml' '$D/public/lists/blacklist-cidr.yml' &&
    cmp '$T/exp-now/watched_keywords.txt' '$D/public/lists/watch-keyword.txt'"
t_ok "helios pull from the daemon writes the same bytes" sh -c "
    '$HELIOS' pull -q '$HL_URL' '$T/dpull' &&
    cmp '$T/exp-now/watched_nses.yml' '$T/dpull/watched_nses.yml' &&
    cmp '$T/exp-now/blacklisted_cidrs.yml' '$T/dpull/blacklisted_cidrs.yml' &&
    cmp '$T/exp-now/watched_keywords.txt' '$T/dpull/watched_keywords.txt'"
hl_daemon_stop

# --- import --mirror ------------------------------------------------------
M=$T/mirror
mkdir -p "$M/files"
cp "$RT/comments/bad_keywords.txt" "$RT/folded/watched_nses.yml" "$M/files/"
"$HELIOS" import --db "$M/db.sqlite" "$M/files" >/dev/null 2>&1
# A maintainer removes a line and an item and adds one, in the files.
grep -v '^spam' "$RT/comments/bad_keywords.txt" >"$M/files/bad_keywords.txt"
printf 'new\\W?pattern\n' >>"$M/files/bad_keywords.txt"
sed '8,13d' "$RT/folded/watched_nses.yml" >"$M/files/watched_nses.yml"
"$HELIOS" import --db "$M/db.sqlite" "$M/files" >/dev/null 2>&1
"$HELIOS" export --db "$M/db.sqlite" "$M/plain" >/dev/null
t_ok "a plain re-import only adds: the removed line comes back" \
    grep -q '^spam' "$M/plain/bad_keywords.txt"
v0=$(version "$M/db.sqlite")
"$HELIOS" import --mirror --dry-run --db "$M/db.sqlite" "$M/files" \
    >"$M/dry.out" 2>&1
t_is "--dry-run changes nothing" "$(version "$M/db.sqlite")" "$v0"
t_ok "--dry-run prints the lines that would go" \
    grep -q '^- spam\\W?pills$' "$M/dry.out"
t_ok "--dry-run prints the items that would go" \
    grep -q '^- ns1.literal.example.com. ns2.literal.example.com.' "$M/dry.out"
t_ok "--mirror makes the lists equal the files" sh -c "
    '$HELIOS' import --mirror --db '$M/db.sqlite' '$M/files' >'$M/mirror.out' 2>&1 &&
    '$HELIOS' export --db '$M/db.sqlite' '$M/exp' >/dev/null &&
    cmp '$M/files/bad_keywords.txt' '$M/exp/bad_keywords.txt' &&
    cmp '$M/files/watched_nses.yml' '$M/exp/watched_nses.yml'"
t_ok "the removals are audit events" test "$(sql "$M/db.sqlite" \
    "SELECT COUNT(*) FROM events WHERE op = 'delete'")" -eq 2
t_is "a second --mirror changes nothing" "$(
    v1=$(version "$M/db.sqlite")
    "$HELIOS" import --mirror --db "$M/db.sqlite" "$M/files" >/dev/null 2>&1
    echo $(( $(version "$M/db.sqlite") - v1 )))" 0
t_ok "--dry-run without --mirror is a usage error" \
    sh -c "! '$HELIOS' import --dry-run --db '$M/db.sqlite' '$M/files' 2>/dev/null"

t_done
