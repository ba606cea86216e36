#!/bin/sh
# t0318: a big list's JSON is published as an index of content-addressed
# segments: the index and every segment follow their schemas, each
# segment is named by its hash, helios pull --json assembles the list
# (the items the segments hold, in order), a one-item change adds one
# segment object, and a tampered segment is refused with exit 3 and
# nothing written in DIR; a segment's gzip that is stale (made by another
# compressor) or missing gives way to its identity object.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
PUB=$T/public
DIR=$T/dir
AJV="node tests/tools/ajv-validate.js"
S=$(hl_samples)
t_ok "the sample files are there" test -f "${S:-/nonexistent}/bad_keywords.txt"

# The samples, with watched_keywords.txt grown to 3000 more patterns.
mkdir -p "$T/src" "$DIR"
cp "$S"/* "$T/src/"
$PY -c '
import sys
with open(sys.argv[1], "a") as f:
    for i in range(3000):
        f.write("%d\tbig\tbig-%d\\.example\n" % (1500000000 + i, i))
with open(sys.argv[2], "a") as f:
    for i in range(2500):
        f.write("site-%d\\.example\\.com\n" % i)' \
    "$T/src/watched_keywords.txt" "$T/src/blacklisted_websites.txt"
t_ok "helios import reads the grown files" "$HELIOS" import --db "$DB" "$T/src"
t_ok "helios publish writes the tree" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB"

IDX=$PUB/lists/watch-keyword.json
t_is "the big list's JSON is an index: segments, no items" \
    "$(jq -r '[has("items"), (.segments | length > 1)] | @tsv' "$IDX")" \
    "false	true"
t_is "a small list stays whole" \
    "$(jq -r 'has("items")' "$PUB/lists/blacklist-keyword.json")" "true"
t_ok "the index follows schema/list.schema.json" \
    $AJV schema/list.schema.json "$IDX" "$PUB"/lists/*.json
segs() {	# the segment objects the index names, one a line
	jq -r '.segments[].sha256' "$IDX" | sed "s|^|$PUB/objects/|"
}
t_ok "every segment follows schema/list-segment.schema.json" \
    $AJV schema/list-segment.schema.json $(segs)
bad=0
for f in $(segs); do
	[ "$(sha256sum <"$f" | cut -c1-64)" = "${f##*/}" ] || bad=1
	[ "$(gunzip -c "$f.gz" | sha256sum | cut -c1-64)" = "${f##*/}" ] || bad=1
done
t_is "every segment and its .gz hold the bytes its name hashes" "$bad" 0
t_is "the segments hold numItems items" \
    "$(cat $(segs) | jq -s '[.[].items | length] | add')" \
    "$(jq .numItems "$IDX")"

t_ok "helios verify checks the tree, segments included" \
    "$HELIOS" verify "$PUB"
t_ok "helios pull --json pulls the tree" \
    "$HELIOS" pull -q --json "$PUB" "$DIR"
t_ok "the text file is SmokeDetector's, whole" \
    cmp "$DIR/watched_keywords.txt" "$PUB/lists/watch-keyword.txt"
t_is "watched_keywords.json holds the segments' items, in order" \
    "$(jq -c '.items[]' "$DIR/watched_keywords.json" | sha256sum)" \
    "$(cat $(segs) | jq -c '.items[]' | sha256sum)"
t_is "... and the index's other fields" \
    "$(jq -c 'del(.items)' "$DIR/watched_keywords.json")" \
    "$(jq -c 'del(.segments)' "$IDX")"
t_ok "a small list's JSON is the published bytes" \
    cmp "$DIR/bad_keywords.json" "$PUB/lists/blacklist-keyword.json"

pyjson() {	# OUT: helios_client.py's watch-keyword JSON, to OUT
	mkdir -p "$T/py"
	$PY -c '
import json, sys
sys.path.insert(0, "site/docs")
import helios_client as hc
s = hc.ListSync("file://" + sys.argv[1] + "/", sys.argv[2])
try:
    doc = s.fetch_list_json("watch-keyword")
except hc.IntegrityError as e:
    print("IntegrityError:", e, file=sys.stderr)
    sys.exit(3)
json.dump(doc, open(sys.argv[3], "w"), sort_keys=True, separators=(",", ":"))
' "$PUB" "$T/py" "$1"
}
t_ok "helios_client.py assembles the list" pyjson "$T/py.json"
t_is "... the same document as helios pull --json" \
    "$(jq -cS . "$T/py.json" | sha256sum)" \
    "$(jq -cS . "$DIR/watched_keywords.json" | sha256sum)"

# One more pattern: one new segment object; the others stay.
segs | sort >"$T/segs.1"
printf '1600000000\tbig\tone-more\\.example\n' >>"$T/src/watched_keywords.txt"
"$HELIOS" import --db "$DB" "$T/src" >/dev/null
"$HELIOS" publish --db "$DB" --target "dir:$PUB" >/dev/null
segs | sort >"$T/segs.2"
t_is "a one-item change makes one new segment" \
    "$(comm -13 "$T/segs.1" "$T/segs.2" | wc -l)" 1

# A git pages archive restores the big list with its provenance.
git init -q --bare "$T/pages.git"
t_ok "the tree goes to a git pages target" "$HELIOS" publish --db "$DB" \
    --target "git+file://$T/pages.git#gh-pages"
t_ok "helios restore reads the big list back from its segments" \
    "$HELIOS" restore --from-git "$T/pages.git" --branch gh-pages \
    --db "$T/restored.sqlite"
prov() {	# DB: blacklist-website's provenance, in file order
	$PY -c 'import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select value, created_at,"
    " created_by from items where list_id = ? and value like ?"
    " order by pos", ("blacklist-website", "site-%")).fetchall()
assert len(rows) == 2500, len(rows)
for r in rows:
    print(*r)' "$1" | sha256sum
}
t_is "... with each item's provenance (a plain list's is in its JSON alone)" \
    "$(prov "$T/restored.sqlite")" "$(prov "$DB")"

# Tamper with the new segment (both its copies), then pull.
new=$(comm -13 "$T/segs.1" "$T/segs.2")
cp "$new" "$T/good"
cp "$new.gz" "$T/good.gz"
sed 's/one-more/one-MORE/' "$new" >"$T/bad"
cp "$T/bad" "$new"
gzip -n <"$T/bad" >"$new.gz"
(cd "$DIR" && sha256sum * .helios-state.json) >"$T/before"
"$HELIOS" pull -q --json "$PUB" "$DIR" 2>"$T/err"
t_is "a tampered segment: exit 3 (integrity)" "$?" 3
(cd "$DIR" && sha256sum * .helios-state.json) >"$T/after"
t_ok "... and nothing in DIR changed" cmp "$T/before" "$T/after"
t_is "... and no temporary file is left" \
    "$(ls -A "$DIR" | grep -c helios-tmp)" 0
t_is "helios verify finds the tampered segment (exit 3)" \
    "$("$HELIOS" verify "$PUB" >/dev/null 2>&1; echo $?)" 3
pyjson "$T/py2.json" 2>/dev/null
t_is "helios_client.py refuses the tampered segment (IntegrityError)" "$?" 3

# After a change, pull --json takes the segments that did not change from
# the file it wrote, each checked against its hash; a local edit or a
# crafted state costs a download, never a wrong byte.
cp "$T/good" "$new"

# A gzip of the same segment that another compressor made (other bytes,
# the same content: a mirror that kept an older build's), then none:
# pull and helios_client.py take the identity object instead, checked.
gzip -1 -n -c "$T/good" >"$new.gz"
t_ok "a stale gzip of the segment: other bytes, the same content" \
    sh -c "! cmp -s '$new.gz' '$T/good.gz' && gunzip -c '$new.gz' |
    cmp -s - '$T/good'"
assembled() {	# DIR: its watched_keywords.json holds the segments' items
	[ "$(jq -c '.items[]' "$1/watched_keywords.json" | sha256sum)" = \
	    "$(cat $(segs) | jq -c '.items[]' | sha256sum)" ]
}
for gz in stale missing; do
	[ $gz = missing ] && rm "$new.gz"
	rm -rf "$T/fb"
	mkdir -p "$T/fb"
	"$HELIOS" pull -q --json "$PUB" "$T/fb" 2>"$T/fb.err"
	t_is "a $gz gzip: pull --json falls back to the identity object" \
	    "$?" 0
	t_ok "... and warns that it did, once" \
	    grep -q "warning: 1 .gz file was missing" "$T/fb.err"
	t_ok "... and assembles the list" assembled "$T/fb"
	pyjson "$T/py3.json"
	t_is "a $gz gzip: helios_client.py falls back too" "$?" 0
	t_is "... the same document" "$(jq -cS . "$T/py3.json" | sha256sum)" \
	    "$(jq -cS . "$T/fb/watched_keywords.json" | sha256sum)"
	t_is "helios verify reports the $gz gzip (exit 3)" \
	    "$("$HELIOS" verify "$PUB" >/dev/null 2>&1; echo $?)" 3
done
cp "$T/good.gz" "$new.gz"
t_ok "with its gzip back, verify passes" "$HELIOS" verify "$PUB"
D2=$T/d2
mkdir -p "$D2"
"$HELIOS" pull -q --json "$PUB" "$D2"
change() {	# PATTERN: one more watched keyword, published
	printf '1600000001\tbig\t%s\\.example\n' "$1" \
	    >>"$T/src/watched_keywords.txt"
	"$HELIOS" import --db "$DB" "$T/src" >/dev/null
	"$HELIOS" publish --db "$DB" --target "dir:$PUB" >/dev/null
}
reused() {	# the reused= of a pull --json --stats into D2
	"$HELIOS" pull -q --json --stats "$PUB" "$D2" |
	    sed -n 's/.*reused=\([0-9]*\).*/\1/p'
}
fresh() {	# cmp D2's JSON with a pull into an empty directory
	rm -rf "$T/fresh"
	mkdir -p "$T/fresh"
	"$HELIOS" pull -q --json "$PUB" "$T/fresh" &&
	    cmp "$D2/watched_keywords.json" "$T/fresh/watched_keywords.json"
}
nsegs() { jq '.segments | length' "$IDX"; }
change two-more
t_is "a one-item change: every segment but the new one is taken from DIR" \
    "$(reused)" "$(( $(nsegs) - 1 ))"
t_ok "... and the JSON is the one a fresh pull writes" fresh
sed -i 's/big-7\\\\.example/big-7\\\\.examplX/' "$D2/watched_keywords.json"
t_ok "(the local JSON was edited)" grep -q 'examplX' "$D2/watched_keywords.json"
change three-more
t_is "a segment edited in DIR is downloaded again" \
    "$(reused)" "$(( $(nsegs) - 2 ))"
t_ok "... and the JSON is the one a fresh pull writes" fresh
$PY - "$D2/.helios-state.json" <<'PY'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
for seg in s["lists"]["watch-keyword"]["json_segments"]:
    seg[1] = 0
json.dump(s, open(p, "w"))
PY
change four-more
t_is "a state pointing every segment elsewhere: nothing is taken" \
    "$(reused)" ""
t_ok "... and the JSON is the one a fresh pull writes" fresh
t_done
