#!/bin/sh
# t0232: the yaml lists as SmokeDetector's own library reads and writes
# them.  Items with comments made of what PyYAML's emitter and resolver
# treat specially (indicators, quotes, words that load as bools, nulls,
# numbers or dates, non-ASCII, white space at the ends, line breaks, long
# lines it folds), with disable, pass and ns lists, are added through the
# daemon's API; the exported files must load with yaml.safe_load to those
# items, and yaml.dump of them must give the files' bytes (what
# SmokeDetector's writer would have written).  Imported yaml files must
# publish, in lists/<id>.json, what yaml.safe_load reads in them, and a
# hand-edited file Helios imports must be one PyYAML loads.
# tests/tools/pyyaml_diff.py makes the items (seeded, so a failure
# repeats) and compares.
. tests/lib.sh

T=$(hl_tmp)
D=$T/daemon
mkdir -p "$D"
t_ok "PyYAML is there to compare with" $PY -c 'import yaml'

hl_daemon_start "$D" || exit 1
$PY tests/tools/pyyaml_diff.py post "$HL_URL" "$HL_ADMIN" 1 300 \
    >"$T/added.json" 2>"$T/post.err"
t_is "900 items added through the API, none refused" \
    "$(tail -1 "$T/post.err")" "0 refused"
hl_daemon_stop
"$HELIOS" export --db "$D/db.sqlite" "$T/x" >/dev/null 2>&1

$PY tests/tools/pyyaml_diff.py check "$T/added.json" "$T/x" >"$T/x.out" 2>&1
rc=$?
t_is "PyYAML reads every item back as it was added, and yaml.dump writes the same bytes" \
    "$rc $(head -c 1500 "$T/x.out")" "0 900 items compared"

# Imported files: what yaml.safe_load reads in each yaml file of the
# samples and of t0230's constructs (comments, "disable:" with no value,
# folded and quoted scalars, hand edits) is what Helios publishes in
# lists/<id>.json: values, comments, and disable and pass as SmokeDetector
# tests them (item.get(...): "disable:" alone is None, not disabled).
for d in "$(hl_samples)" tests/data/roundtrip/*; do
	ls "$d"/*.yml >/dev/null 2>&1 || continue
	w=$T/files/$(basename "$d")
	mkdir -p "$w"
	"$HELIOS" import --db "$w/db.sqlite" "$d" >/dev/null 2>&1
	"$HELIOS" publish --db "$w/db.sqlite" --target "dir:$w/pub" \
	    >/dev/null 2>&1
	$PY tests/tools/pyyaml_diff.py files "$d" "$w/pub" >"$w/out" 2>&1
	t_is "$(basename "$d"): the JSON holds what PyYAML reads in the yaml files" \
	    "$? $(grep -v 'yaml items compared' "$w/out")" "0 "
done

# Hand edits PyYAML and libyaml disagree on: 80 variants of the sample
# files with a tab, a tag, a quote or a '#' put in.  Helios may refuse more
# than SmokeDetector's yaml.safe_load (a clear error, nothing imported),
# never less: each file it imports must load in PyYAML, to the same items.
$PY tests/tools/pyyaml_diff.py mutants "$(hl_samples)" "$T/mut" 3 80
acc=0
bad=0
for d in "$T"/mut/*; do
	"$HELIOS" import --db "$d/db.sqlite" "$d" >/dev/null 2>&1 || continue
	acc=$((acc + 1))
	"$HELIOS" publish --db "$d/db.sqlite" --target "dir:$d/pub" \
	    >/dev/null 2>&1
	$PY tests/tools/pyyaml_diff.py accepted "$d" "$d/pub" \
	    >"$d/out" 2>&1 || { bad=$((bad + 1)); head -1 "$d/out" >&2; }
done
t_is "no variant Helios imports is one PyYAML cannot load or reads otherwise" \
    "$bad" 0
t_ok "... and some were imported ($acc of 80)" test "$acc" -gt 0

# The comparison itself: a file that differs by one quoting is caught.
cp -r "$T/x" "$T/y"
$PY - "$T/y/watched_nses.yml" <<'PYEOF'
import sys
p = sys.argv[1]
s = open(p).read()
# The first one-line comment, its value quoted another way (or, when
# quoted, a space after it): PyYAML reads the same, yaml.dump differs.
for line in s.split("\n"):
    k = line.find("comment: ")
    if k >= 0 and line[k + 9:] and line[k + 9] not in "\"'|>":
        val = line[k + 9:]
        new = line[:k + 9] + "'" + val.replace("'", "''") + "'"
        break
else:
    sys.exit("no plain one-line comment")
open(p, "w").write(s.replace(line + "\n", new + "\n", 1))
PYEOF
t_ok "a comment quoted another way than yaml.dump's is caught" \
    sh -c "! $PY tests/tools/pyyaml_diff.py check '$T/added.json' '$T/y' >'$T/y.out' 2>&1"
t_ok "... naming the file and line" grep -q 'watched_nses.yml line' "$T/y.out"
t_done
