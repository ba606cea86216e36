#!/bin/sh
# t0233: a plain and a tsv list file hold, for Helios, the patterns
# SmokeDetector's own parsers read in them.  tests/tools/sd_parse_diff.py
# writes both files (1,500 lines each, seeded) with what those parsers
# strip, skip or split on: Python's white space at line ends (ASCII and
# not: no-break and em spaces, U+0085, U+2028, ...), blank and comment
# lines, CRLF ends, tsv lines the parser logs and drops; it quotes
# BasicListParser.parse and TSVDictParser.parse from blacklists.py and
# compares what they return with lists/<id>.json as Helios publishes it,
# and the tsv lines the parser drops with those helios import reports.
# The copies Helios marks in the plain lists (dup_of: what the API refuses
# as a duplicate) must be those BasicListParser.exists() would find, by
# Python's str.lower(): blacklisted_usernames.txt holds every code point
# with a case or that the capital sigma's rule skips, beside spellings that
# lower alike or nearly.  The files must also export back byte for byte.
. tests/lib.sh

T=$(hl_tmp)
for seed in 1 2; do
	d=$T/s$seed
	mkdir -p "$d/in"
	$PY tests/tools/sd_parse_diff.py make "$d/in" $seed 1500
	"$HELIOS" import --db "$d/db.sqlite" "$d/in" >"$d/import.out" 2>&1
	t_is "seed $seed: the files import" "$?" 0
	"$HELIOS" publish --db "$d/db.sqlite" --target "dir:$d/pub" \
	    >/dev/null 2>&1
	$PY tests/tools/sd_parse_diff.py check "$d/in" "$d/pub" \
	    "$d/import.out" >"$d/check.out" 2>&1
	rc=$?
	t_is "seed $seed: Helios's patterns are SmokeDetector's, in order, the tsv lines its parser drops are the ones reported, and the plain copies are those Python's lower() makes" \
	    "$rc $(grep -c 'patterns compared' "$d/check.out")" "0 1"
	t_ok "seed $seed: over a thousand plain and 700 tsv patterns compared, and 20,000 plain copies" \
	    awk '/patterns compared/ && $1 > 1000 && $4 > 700 { ok++ }
		/^blacklist-username:.*copies compared/ && $4 > 20000 { ok++ }
		END { exit ok != 2 }' "$d/check.out"
	"$HELIOS" export --db "$d/db.sqlite" "$d/out" >/dev/null 2>&1
	t_ok "seed $seed: the files export back byte for byte" sh -c \
	    "cmp '$d/in/bad_keywords.txt' '$d/out/bad_keywords.txt' &&
	    cmp '$d/in/watched_keywords.txt' '$d/out/watched_keywords.txt' &&
	    cmp '$d/in/blacklisted_usernames.txt' \
	    '$d/out/blacklisted_usernames.txt'"
done
t_done
