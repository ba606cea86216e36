#!/bin/sh
# Mutation testing: does the suite catch a broken behaviour?  Each entry
# of tests/mutate/mutations.txt breaks one line (or a few) of the code;
# this script applies it to a copy of the tree, builds, runs the tests
# the entry names, and prints "caught" (some test failed) or "survived"
# (all passed: a behaviour no test guards), then a total.  An entry whose
# text is not in its file exactly once, or whose mutant does not build,
# is an "error": the list must stay in step with the code.
#
#   sh tests/mutate/run.sh [REGEX]     only entries whose name matches
#                                      (Python re.search)
#   make mutate                        all of them
#
# Exit status 1 when any mutation survived or was an error.  The working
# tree is never touched: the tree (tracked and untracked files, not the
# ignored ones) is copied to a temporary directory, built once, and each
# mutant is an edit there, undone after its tests.
#
# Format of mutations.txt: records separated by blank lines; '#' lines
# are comments.  A line that starts with none of the keys continues the
# field above it (a find or repl of several lines).
#
#   name: store-synchronous-off   a short name, unique
#   file: src/store/store.c       the file to change
#   find: synchronous = FULL      a fixed string found exactly once
#   repl: synchronous = OFF       what it becomes
#   test: test_store_crash        tests/run.sh PATTERNs, space-separated;
#                                 caught when any of them fails
FILTER=${1:-}
TIMEOUT=${HELIOS_MUTATE_TIMEOUT:-900}
W=$(mktemp -d /tmp/helios-mutate.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# The records, one directory each: name, file, find, repl, test.
$PY - tests/mutate/mutations.txt "$W/m" "$FILTER" <<'PYEOF' || exit 1
import os, re, sys
src, out, filt = sys.argv[1:4]
recs, cur, key, bad = [], {}, None, 0
for ln in open(src, encoding="utf-8").read().split("\n") + [""]:
    if ln.startswith("#"):
        continue
    if ln.strip() == "":
        if cur:
            recs.append(cur)
        cur, key = {}, None
        continue
    k, sep, v = ln.partition(": ")
    if sep and k in ("name", "file", "find", "repl", "test"):
        key = k
        cur[k] = v
    elif key in ("find", "repl"):
        cur[key] += "\n" + ln
    else:
        print(f"mutations.txt: stray line: {ln!r}")
        bad = 1
names = set()
for i, r in enumerate(recs):
    miss = [k for k in ("name", "file", "find", "repl", "test") if k not in r]
    if miss or r.get("name") in names:
        print(f"mutations.txt: entry {i + 1} ({r.get('name')}): "
              f"{'missing ' + ', '.join(miss) if miss else 'name used twice'}")
        bad = 1
        continue
    names.add(r["name"])
    if not re.search(filt, r["name"]):
        continue
    d = os.path.join(out, "%03d" % i)
    os.makedirs(d)
    for k, v in r.items():
        open(os.path.join(d, k), "w", encoding="utf-8").write(v)
sys.exit(bad)
PYEOF

mkdir "$W/tree"
git ls-files -co --exclude-standard -z |
    xargs -0 -I{} cp --parents -P {} "$W/tree/" 2>/dev/null
[ -e node_modules ] && ln -s "$(readlink -f node_modules)" "$W/tree/node_modules"
cd "$W/tree" || exit 1
echo "# building the unmutated tree in $W/tree"
if ! make -s -j2 units CFLAGS="-O2 -g" >"$W/build.log" 2>&1; then
	tail -20 "$W/build.log"
	echo "the unmutated tree does not build"
	exit 1
fi

# mutate DIR: applies the record in DIR; exit 2 when its find is not in
# its file exactly once.
mutate() {
	$PY - "$1" <<'PYEOF'
import sys
d = sys.argv[1]
r = {k: open(f"{d}/{k}", encoding="utf-8").read()
     for k in ("name", "file", "find", "repl")}
s = open(r["file"], encoding="utf-8").read()
n = s.count(r["find"])
if n != 1:
    print(f"# {r['name']}: its find is in {r['file']} {n} times, want 1")
    sys.exit(2)
open(r["file"], "w", encoding="utf-8").write(s.replace(r["find"], r["repl"]))
PYEOF
}

caught=0 survived=0 errors=0 n=0
t0=$(date +%s)
for d in "$W"/m/*; do
	[ -d "$d" ] || continue
	name=$(cat "$d/name") file=$(cat "$d/file") tests=$(cat "$d/test")
	n=$((n + 1))
	s0=$(date +%s)
	applied=0
	if ! cp -p "$file" "$W/orig" || ! mutate "$d"; then
		res=error
	elif applied=1 && ! make -s -j2 units CFLAGS="-O2 -g" >"$W/m.log" 2>&1; then
		res=error
		echo "# $name: the mutant does not build"
		grep -m3 error "$W/m.log" | sed 's/^/#   /'
	else
		res=survived
		for p in $tests; do
			if ! timeout "$TIMEOUT" sh tests/run.sh build "$p" \
			    >"$W/t.log" 2>&1; then
				res=caught
				# A pattern that names no test catches nothing.
				grep -q '^not ok - no part matches' "$W/t.log" &&
				    res=error
				break
			fi
		done
	fi
	if [ $applied = 1 ]; then
		cp -p "$W/orig" "$file"
		touch "$file"
	fi
	case $res in
	caught) caught=$((caught + 1)) ;;
	survived) survived=$((survived + 1)) ;;
	*) errors=$((errors + 1)) ;;
	esac
	printf '%-8s %-36s %-24s %4ss\n' "$res" "$name" "$tests" \
	    "$(($(date +%s) - s0))"
done
echo "$n mutations: $caught caught, $survived survived, $errors errors" \
    "($(($(date +%s) - t0)) s)"
[ "$survived" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$n" -gt 0 ]
