#!/bin/sh
# t0310: import SmokeDetector's sample files, publish them to a directory,
# and check the tree as a client would: the manifest and the other JSON
# files follow their schemas (ajv), every .gz is sound, every file has the
# size and hashes the manifest gives, the text lists are byte for byte the
# sample files, and publishing an unchanged database again changes no file
# but the manifest.  Importing twice changes nothing, export gives back the
# samples, and a line that can't be imported is reported with its file and
# line, with nothing imported.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
PUB=$T/public
SCHEMA=schema
AJV="node tests/tools/ajv-validate.js"

S=$(hl_samples)
t_ok "the sample files are there" test -f "${S:-/nonexistent}/bad_keywords.txt"
t_ok "helios is built" test -x "$HELIOS"
if [ "$T_FAIL" -ne 0 ]; then
	t_done
	exit 1
fi

# version DB: the store's version
version() {
	"$HELIOS" migrate --db "$1" | sed -n 's/.*version \([0-9]*\)$/\1/p'
}

t_ok "helios import reads every sample file" \
    "$HELIOS" import --db "$DB" "$S"
V1=$(version "$DB")
t_ok "the import made a version" test "${V1:-0}" -gt 0
"$HELIOS" import --db "$DB" "$S" >"$T/import2.out" 2>&1
t_is "importing the same files again changes nothing" "$(version "$DB")" "$V1"
nfiles=$(ls "$S" | grep -cE '\.(txt|yml)$')
t_is "the second import reports each of the $nfiles sample files" \
    "$(grep -c ' lines new' "$T/import2.out")" "$nfiles"
t_is "the second import says no line of any file was new" \
    "$(grep -c ': 0 of [1-9][0-9]* lines new' "$T/import2.out")" "$nfiles"

t_ok "helios publish writes the tree to a directory" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB"
t_ok "the manifest is there" test -s "$PUB/manifest.json"

# --- schemas ------------------------------------------------------------
t_ok "manifest.json follows schema/manifest.schema.json" \
    $AJV "$SCHEMA/manifest.schema.json" "$PUB/manifest.json"
# shellcheck disable=SC2046
t_ok "every lists/<id>.json follows schema/list.schema.json" \
    $AJV "$SCHEMA/list.schema.json" $(ls "$PUB"/lists/*.json)
# shellcheck disable=SC2046
t_ok "changes.json and every change segment follow the changes schema" \
    $AJV "$SCHEMA/changes.schema.json" "$PUB/changes.json" \
    $(ls "$PUB"/changes/*.json)

# A manifest the schema must refuse: the test of the test.
$PY - "$PUB/manifest.json" "$T/bad-manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["files"][0]["etag"] = m["files"][0]["sha256"]
json.dump(m, open(sys.argv[2], "w"))
EOF
t_ok "the schema refuses a manifest whose ETag is not a quoted MD5" \
    sh -c "! $AJV $SCHEMA/manifest.schema.json $T/bad-manifest.json"

# --- the files against the manifest -------------------------------------
# expected_sums: "sha256  path" for every file and object the manifest
# names (identity and gz), and for every change segment changes.json names
expected_sums() {
	$PY - "$PUB" <<'EOF'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
for f in m["files"]:
    for r in (f, f["gz"]):
        print("%s  %s" % (r["sha256"], r["path"]))
        print("%s  %s" % (r["sha256"], r["object"]))
c = json.load(open(d + "/changes.json"))
for s in c["segments"]:
    for r in (s, s["gz"]):
        print("%s  %s" % (r["sha256"], r["path"]))
EOF
}
expected_sums >"$T/sums"
t_ok "the manifest names files" test "$(wc -l <"$T/sums")" -gt 40
t_ok "sha256sum of every file is what the manifest says" \
    sh -c "cd '$PUB' && sha256sum --quiet -c '$T/sums'"

sizes_and_etags() {
	$PY - "$PUB" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
bad = 0
for f in m["files"]:
    for r in (f, f["gz"]):
        for p in (r["path"], r["object"]):
            b = open(os.path.join(d, p), "rb").read()
            if len(b) != r["bytes"]:
                print("%s: %d bytes, manifest says %d" % (p, len(b), r["bytes"]))
                bad = 1
            etag = '"%s"' % hashlib.md5(b).hexdigest()
            if etag != r["etag"]:
                print("%s: ETag %s, MD5 %s" % (p, r["etag"], etag))
                bad = 1
    if f["object"] != "objects/" + f["sha256"] or \
       f["gz"]["object"] != f["object"] + ".gz" or \
       f["gz"]["path"] != f["path"] + ".gz":
        print("%s: object names do not follow the hash" % f["path"])
        bad = 1
for l in m["lists"]:
    j = json.load(open(os.path.join(d, l["json"])))
    if j["numItems"] != l["count"] or len(j["items"]) != l["count"] or \
       j["list"] != l["id"] or j["version"] != l["version"]:
        print("%s: count or version differs from the manifest" % l["json"])
        bad = 1
    if any(i["type"] != l["id"] for i in j["items"]):
        print("%s: an item of another list" % l["json"])
        bad = 1
sys.exit(bad)
EOF
}
t_ok "every file has the size and MD5 ETag the manifest says" \
    sizes_and_etags

gz_ok() {
	(cd "$PUB" && find . -name '*.gz' | sort) >"$T/gz"
	[ "$(wc -l <"$T/gz")" -gt 40 ] || { echo "too few .gz files"; return 1; }
	# shellcheck disable=SC2046
	(cd "$PUB" && gunzip -t $(cat "$T/gz")) || return 1
	$PY - "$PUB" "$T/gz" <<'EOF2'
import gzip, sys
d, bad = sys.argv[1], 0
for g in open(sys.argv[2]).read().split():
    if gzip.decompress(open(d + "/" + g, "rb").read()) != \
       open(d + "/" + g[:-3], "rb").read():
        print("%s: not the gzip of %s" % (g, g[:-3]))
        bad = 1
sys.exit(bad)
EOF2
}
t_ok "every .gz passes gunzip -t and decompresses to its identity file" \
    gz_ok

# lists/<id>.<txt|yml> is the sample file of that list, byte for byte
cat >"$T/lists.py" <<'EOF'
import json, sys
for l in json.load(open(sys.argv[1]))["lists"]:
    print(l["text"], l["file"])
EOF
same_as_samples() {
	$PY "$T/lists.py" "$PUB/manifest.json" >"$T/lists"
	rc=0
	n=0
	while read -r text file; do
		[ -f "$S/$file" ] || continue
		n=$((n + 1))
		cmp "$S/$file" "$PUB/$text" || rc=1
	done <"$T/lists"
	[ $n -ge 10 ] || { echo "only $n lists compared"; rc=1; }
	return $rc
}
t_ok "every published text list is byte-identical to its sample file" \
    same_as_samples

t_ok "helios verify accepts the tree" "$HELIOS" verify "$PUB"

# --- publishing again ---------------------------------------------------
cp -a "$PUB" "$T/first"
OLD_SHA=$(sha256sum "$PUB/manifest.json" | cut -d' ' -f1)
sleep 1		# so that a time stamp in a file would show
t_ok "a second publish of the unchanged database succeeds" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB"
NEW_SHA=$(sha256sum "$PUB/manifest.json" | cut -d' ' -f1)
# (Dot names are the target's own: temporary files, .spares/.)
t_ok "it gives the same bytes for every file but manifest.json and its gzip" \
    diff -r -x manifest.json -x manifest.json.gz -x "$NEW_SHA" -x '.*' \
    "$T/first" "$PUB"
t_ok "and no file more or fewer but the new manifest's object copy" \
    sh -c "cd '$T/first' && (find . -type f | grep -v '/\.';
        echo ./objects/$NEW_SHA) | sort >'$T/f1' &&
        cd '$PUB' && find . -type f | grep -v '/\.' | sort >'$T/f2' &&
        test -s '$T/f2' && cmp '$T/f1' '$T/f2'"
t_ok "the object copy holds the new manifest's bytes" \
    cmp "$PUB/manifest.json" "$PUB/objects/$NEW_SHA"
manifest_field() {	# FILE KEY
	$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
t_is "the new manifest has the same version" \
    "$(manifest_field "$PUB/manifest.json" version)" \
    "$(manifest_field "$T/first/manifest.json" version)"
t_is "the new manifest names the old one as previous" \
    "$(manifest_field "$PUB/manifest.json" previous)" "$OLD_SHA"
t_ok "the new manifest follows the schema" \
    $AJV "$SCHEMA/manifest.schema.json" "$PUB/manifest.json"
t_ok "the new manifest expires in the future" \
    test "$(manifest_field "$PUB/manifest.json" expires_at)" -gt "$(date +%s)"

# --- export -------------------------------------------------------------
t_ok "helios export writes the lists" "$HELIOS" export --db "$DB" "$T/export"
export_same() {
	rc=0
	for f in "$S"/*.txt "$S"/*.yml; do
		cmp "$f" "$T/export/$(basename "$f")" || rc=1
	done
	return $rc
}
t_ok "export gives back every sample file byte for byte" export_same

# --- a line that can't be imported --------------------------------------
mkdir "$T/bad"
cp "$S/bad_keywords.txt" "$S/watched_keywords.txt" "$T/bad/"
sed '30s/.*/broken(regex/' "$S/bad_keywords.txt" >"$T/bad/bad_keywords.txt"
"$HELIOS" import --db "$T/bad.sqlite" "$T/bad" >"$T/bad.out" 2>&1
rc=$?
t_ok "an import with a bad line fails" test $rc -ne 0
t_ok "it names the file and the line" \
    grep -E 'bad_keywords\.txt(: line |:)30([^0-9]|$)' "$T/bad.out"
t_is "and nothing is imported, from any file" "$(version "$T/bad.sqlite")" 0

printf '1494568775\ttripleee\n' >"$T/bad/watched_numbers.txt"
"$HELIOS" import --strict --db "$DB" "$T/bad/watched_numbers.txt" \
    >"$T/bad2.out" 2>&1
rc=$?
t_ok "with --strict, a tsv line with two fields fails the import" \
    test $rc -ne 0
t_ok "it names the file and line 1" \
    grep -E 'watched_numbers\.txt(: line |:)1([^0-9]|$)' "$T/bad2.out"
t_is "and the database is unchanged" "$(version "$DB")" "$V1"

# --- a corrupted tree ---------------------------------------------------
f=$(cd "$PUB" && ls lists/*.txt | head -1)
sha=$(sha256sum "$PUB/$f" | cut -d' ' -f1)
t_is "a list file and its object copy are one file on disk (written once)" \
    "$(stat -c %i "$PUB/$f")" "$(stat -c %i "$PUB/objects/$sha")"
printf 'x' >>"$PUB/$f"
t_ok "helios verify refuses a tree with a changed file" \
    sh -c "! '$HELIOS' verify '$PUB' >/dev/null 2>&1"
t_done
