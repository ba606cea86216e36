#!/bin/sh
# Replaying SmokeDetector's list history: `helios import --git --history`
# over a synthetic repository of COMMITS list commits (tests/bench/
# sd_repo.py, made once and kept under the build directory), side by side
# with git itself walking the same first-parent history with its patches
# (`git log --first-parent -p`), which is the least any replay must read.
#
#   sh tests/bench/gitimport.sh HELIOS BENCH_DIR [COMMITS] [BASE]
HELIOS=$1
BB=$2
N=${3:-20000}
BASE=${4:-2000}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
R=$BB/sd-repo-$N-$BASE
if [ ! -d "$R" ]; then
	t0=$(date +%s)
	git init -q --bare "$R.tmp" &&
	    $PY tests/bench/sd_repo.py "$N" "$BASE" |
	    git -C "$R.tmp" fast-import --quiet &&
	    git -C "$R.tmp" gc -q && mv "$R.tmp" "$R" || exit 1
	echo "(made the repository in $(($(date +%s) - t0)) s, kept in $R)"
fi
size=$(git -C "$R" cat-file -s HEAD:watched_keywords.txt)
lines=$(git -C "$R" show HEAD:watched_keywords.txt | wc -l)
printf '| %-44s | %10s |\n' measure "median of 3"
printf '|%s|%s|\n' "----------------------------------------------" \
    "------------"
med() { sort -n | sed -n 2p; }
secs() {	# CMD...: wall seconds
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
D=$(mktemp -d)
h=$(for i in 1 2 3; do rm -f "$D/db"*; secs "$HELIOS" import --db "$D/db" \
    --git "$R" --history; done | med)
d=$(for i in 1 2 3; do rm -f "$D/db"*; secs "$HELIOS" import --db "$D/db" \
    --git "$R" --history --dry-run; done | med)
g=$(for i in 1 2 3; do secs sh -c "git -C '$R' log --first-parent -p \
    --format=%H -- watched_keywords.txt bad_keywords.txt \
    blacklisted_websites.txt | wc -c"; done | med)
ev=$(sqlite3 "$D/db" "SELECT count(*) FROM events")
printf '| %-44s | %8.2f s |\n' "helios import --git --history ($N commits)" \
    "$h" "  the same, --dry-run (no database writes)" "$d" \
    "  git log --first-parent -p of the same" "$g"
echo "ratio helios/git log: $(echo "scale=2; $h / $g" | bc)x;" \
    "$ev events; watched_keywords.txt at the tip: $lines lines, $size bytes"
rm -rf "$D"
