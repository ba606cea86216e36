#!/bin/sh
# The git target's SmokeDetector layout: Helios publishes the eleven list
# files into SmokeDetector's own repository, at their own names, on top of
# whatever the branch holds, so instances that still `git pull` keep
# working during the cut-over.  Right after an import from that repository
# the first publish changes nothing.
. tests/lib.sh
D=$(hl_tmp)
S=$(hl_samples) || { echo "not ok 1 - no sample lists"; exit 1; }
git init -q -b master "$D/work"
cp "$S"/*.txt "$S"/*.yml "$D/work/"
printf 'def find_spam():\n    pass\n' >"$D/work/findspam.py"
(cd "$D/work" && git add -A && git -c user.name=Sd -c user.email=s@e \
    commit -q -m "SmokeDetector as it is")
git clone -q --bare "$D/work" "$D/sd.git"
T="git+file://$D/sd.git?layout=smokedetector#master"
tip() { git -C "$D/sd.git" rev-parse master; }

"$HELIOS" import --db "$D/db.sqlite" --git "$D/sd.git" >/dev/null 2>&1
t0=$(tip)
"$HELIOS" publish --db "$D/db.sqlite" --target "$T" >"$D/p1" 2>&1
t_ok "the first publish after an import succeeds" true
t_is "it leaves the list files as they are: no new commit" "$(tip)" "$t0"
t_ok "and adds no list file the branch does not have" \
    sh -c "! git -C '$D/sd.git' ls-tree --name-only master |
    grep -q watched_cidrs.yml"

# A new pattern: one commit that changes watched_keywords.txt alone.
mkdir -p "$D/d"
hl_daemon_start "$D/d" --db "$D/db.sqlite" || exit 1
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $HL_ADMIN" -H 'Content-Type: application/json' \
    -d '{"pattern": "t0245-layout\\.example"}' \
    "$HL_URL/blacklists/watch-keyword")
t_is "a pattern is added" "$code" 201
hl_daemon_stop
"$HELIOS" publish --db "$D/db.sqlite" --target "$T" >"$D/p2" 2>&1 ||
    cat "$D/p2"
t_is "the next publish changes SmokeDetector's own file and nothing else" \
    "$(git -C "$D/sd.git" diff --name-only "$t0" master)" \
    "watched_keywords.txt"
t_is "the change is one added line" \
    "$(git -C "$D/sd.git" diff "$t0" master -- watched_keywords.txt |
    grep -c '^[-+][^-+]')" 1
t_ok "the code beside the lists is untouched" \
    sh -c "git -C '$D/sd.git' show master:findspam.py | grep -q find_spam"
t_ok "no published tree is written into SmokeDetector's repository" \
    sh -c "! git -C '$D/sd.git' ls-tree --name-only master |
    grep -qE '^(manifest.json|lists|objects)$'"

# Someone else commits to the branch: Helios builds on top, never over.
git clone -q "$D/sd.git" "$D/other"
printf '# more\n' >>"$D/other/findspam.py"
(cd "$D/other" && git -c user.name=Dev -c user.email=d@e commit -qam \
    "a code change" && git push -q origin master)
theirs=$(tip)
hl_daemon_start "$D/d" --db "$D/db.sqlite" || exit 1
curl -s -o /dev/null -X POST -H "Authorization: Bearer $HL_ADMIN" \
    -H 'Content-Type: application/json' \
    -d '{"pattern": "t0245-second\\.example"}' \
    "$HL_URL/blacklists/watch-keyword"
hl_daemon_stop
"$HELIOS" publish --db "$D/db.sqlite" --target "$T" >"$D/p3" 2>&1 ||
    cat "$D/p3"
t_is "a publish after another person's commit builds on it" \
    "$(git -C "$D/sd.git" rev-parse master~1)" "$theirs"
t_ok "and keeps their change" \
    sh -c "git -C '$D/sd.git' show master:findspam.py | grep -q '# more'"
git -C "$D/sd.git" show master:watched_keywords.txt >"$D/wk"
t_ok "the file SmokeDetector reads holds the new pattern" \
    grep -q 't0245-second' "$D/wk"
"$HELIOS" export --db "$D/db.sqlite" "$D/export" >/dev/null
t_ok "and equals what helios export writes" cmp "$D/wk" \
    "$D/export/watched_keywords.txt"
t_done
