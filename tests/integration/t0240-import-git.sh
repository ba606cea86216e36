#!/bin/sh
# helios import --git: a SmokeDetector-like repository made here (several
# authors, bot commits, a rename, a txt-to-yaml format change, duplicates,
# a bad tsv line, a yaml file broken for one commit, a merge) is imported
# at a revision, replayed whole (--history), and followed (--sync).
. tests/lib.sh
D=$(hl_tmp)
R=$D/sd
git init -q -b master "$R"
n=0
commit() {	# AUTHOR SUBJECT: commits everything at time 1600000000 + 1000n
	n=$((n + 1))
	t=$((1600000000 + 1000 * n))
	(cd "$R" && git add -A && GIT_AUTHOR_NAME="$1" \
	    GIT_AUTHOR_EMAIL=a@example.com GIT_AUTHOR_DATE="@$t +0000" \
	    GIT_COMMITTER_NAME=c GIT_COMMITTER_EMAIL=c@example.com \
	    GIT_COMMITTER_DATE="@$t +0000" git commit -q -m "$2")
}
cd_r() { (cd "$R" && "$@"); }

printf '# keywords\nbuy pills\ncheap loans\n' >"$R/bad_keywords.txt"
printf '1500000000\talice\tspam\\.example\n' >"$R/watched_keywords.txt"
printf '10.0.0.1\n10.0.0.2\n' >"$R/watched_cidrs.txt"
commit Alice "first lists"
printf 'buy pills\n' >>"$R/bad_keywords.txt"	# a duplicate
printf 'casino\n' >>"$R/bad_keywords.txt"
commit SmokeDetector "Auto blacklist of casino by Bob"
printf '1500000100\tcarol\tloans?\\.example\n1500000200\tbroken line\n' \
    >>"$R/watched_keywords.txt"
commit Carol "watch loans, and a line cut short"
# The format change: watched_cidrs.txt becomes watched_cidrs.yml.
cd_r git rm -q watched_cidrs.txt
cat >"$R/watched_cidrs.yml" <<'EOF'
Schema: yaml_cidr
Schema_version: '2019120601'
items:
- ip: 10.0.0.1
- comment: new one
  ip: 10.0.0.3
EOF
commit Dave "cidrs to yaml"
cp "$R/watched_cidrs.yml" "$D/good.yml"
printf 'items: [\n' >"$R/watched_cidrs.yml"
commit Erin "broken yaml"
cp "$D/good.yml" "$R/watched_cidrs.yml"
commit Erin "yaml fixed"
cd_r git checkout -q -b side
sed -i 's/^cheap loans$/cheap loanz/' "$R/bad_keywords.txt"
commit Frank "side: loanz"
cd_r git checkout -q master
printf '1500000300\tgina\tgina\\.example\n' >>"$R/watched_keywords.txt"
commit Gina "watch gina"
(cd "$R" && GIT_AUTHOR_NAME=Hank GIT_AUTHOR_EMAIL=h@example.com \
    GIT_AUTHOR_DATE="@1600100000 +0000" GIT_COMMITTER_NAME=c \
    GIT_COMMITTER_EMAIL=c@example.com \
    GIT_COMMITTER_DATE="@1600100000 +0000" \
    git merge -q --no-ff -m "Merge side" side)
MID=$(cd_r git rev-parse HEAD)
files="bad_keywords.txt watched_keywords.txt watched_cidrs.yml"
ALIAS="--alias watched_cidrs.txt=watch-cidr:plain"

# Import at a revision: the export equals the files at that revision.
"$HELIOS" import --db "$D/a.db" --git "$R" --rev "$MID" $ALIAS \
    >"$D/a.out" 2>&1
t_ok "import --git at a revision succeeds" grep -q 'bad_keywords.txt' \
    "$D/a.out"
"$HELIOS" export --db "$D/a.db" "$D/a" >/dev/null
for f in $files; do
	cd_r git show "$MID:$f" >"$D/want.$f"
	t_ok "import at a revision: $f equals the file there" \
	    cmp "$D/want.$f" "$D/a/$f"
done
origin() {	# DB LIST VALUE: the item's origin JSON
	sqlite3 "$1" "SELECT origin FROM items WHERE list_id = '$2'
	    AND value = '$3' AND verbatim = 0 AND dup_of IS NULL"
}
blame() {	# FILE LINE: the commit git blame --first-parent gives
	cd_r git blame --root --first-parent -l -s -L "$2,$2" "$MID" -- "$1" |
	    cut -c1-40
}
t_is "casino's origin is the commit git blame names" \
    "$(origin "$D/a.db" blacklist-keyword casino |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["commit"])')" \
    "$(blame bad_keywords.txt 5)"
t_is "a bot commit's requester is the item's author" \
    "$(sqlite3 "$D/a.db" "SELECT created_by || ' ' || created_at FROM
    items WHERE value = 'casino'")" "Bob 1600002000"
t_is "the merged edit's origin is the merge (first parent)" \
    "$(origin "$D/a.db" blacklist-keyword 'cheap loanz' |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["subject"])')" \
    "Merge side"
t_is "a value that moved from .txt to .yml keeps its first commit" \
    "$(origin "$D/a.db" watch-cidr 10.0.0.1 |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["subject"])')" \
    "first lists"
"$HELIOS" publish --db "$D/a.db" --target "dir:$D/pub" >/dev/null 2>&1
t_ok "the origin is published in the list's JSON" $PY -c "
import json, sys
items = json.load(open('$D/pub/lists/blacklist-keyword.json'))['items']
o = [i for i in items if i['text_pattern'] == 'casino'][0]['origin']
assert o['subject'] == 'Auto blacklist of casino by Bob', o
assert o['requester'] == 'Bob' and len(o['commit']) == 40, o"
t_is "tsv items keep their own time and user" \
    "$(sqlite3 "$D/a.db" "SELECT created_by || ' ' || created_at FROM
    items WHERE value = 'loans?\\.example'")" "carol 1500000100"

# The whole history as events, oldest first, with authors and times.
"$HELIOS" import --db "$D/h.db" --git "$R" --rev "$MID" --history $ALIAS \
    >"$D/h.out" 2>"$D/h.err"
t_ok "the broken yaml commit is reported, not fatal" \
    grep -q 'watched_cidrs.yml: does not parse' "$D/h.err"
ev() { sqlite3 "$D/h.db" "$1"; }
t_is "one event per value added or removed, in history order" \
    "$(ev "SELECT op || ' ' || list_id || ' ' || value || ' ' || actor ||
    ' ' || at FROM events WHERE actor != 'import' ORDER BY version" |
    tr '\n' '|')" \
"add blacklist-keyword buy pills Alice 1600001000|\
add blacklist-keyword cheap loans Alice 1600001000|\
add watch-keyword spam\\.example Alice 1600001000|\
add watch-cidr 10.0.0.1 Alice 1600001000|\
add watch-cidr 10.0.0.2 Alice 1600001000|\
add blacklist-keyword casino SmokeDetector 1600002000|\
add watch-keyword loans?\\.example Carol 1600003000|\
delete watch-cidr 10.0.0.2 Dave 1600004000|\
add watch-cidr 10.0.0.3 Dave 1600004000|\
add watch-keyword gina\\.example Gina 1600008000|\
delete blacklist-keyword cheap loans Hank 1600100000|\
add blacklist-keyword cheap loanz Hank 1600100000|"
"$HELIOS" export --db "$D/h.db" "$D/h" >/dev/null
for f in $files; do
	t_ok "after the replay $f equals the file at the revision" \
	    cmp "$D/want.$f" "$D/h/$f"
done
# helios history --db answers for dates before the migration.
"$HELIOS" history blacklist-keyword --db "$D/h.db" \
    --at 2020-09-13T13:00:00Z >"$D/past" 2>/dev/null
t_is "history at a date before the migration: the list of that day" \
    "$(tr '\n' '|' <"$D/past")" "buy pills|cheap loans|casino|"
"$HELIOS" history watch-cidr --db "$D/h.db" --json --at 7 \
    >"$D/past.json" 2>/dev/null || true
t_ok "history --at a version gives its items as JSON" \
    $PY -c "import json,sys; d=json.load(open('$D/past.json'))
assert [i['ip'] for i in d['items']] == ['10.0.0.1', '10.0.0.2'], d"
t_ok "a replay into a database that holds data is refused" \
    sh -c "! '$HELIOS' import --db '$D/h.db' --git '$R' --history \
    $ALIAS 2>/dev/null"

# --sync: what git did since, once; then nothing.
printf 'both\n' >>"$R/bad_keywords.txt"
commit Ivan "add both"
v0=$(sqlite3 "$D/a.db" "SELECT COALESCE(MAX(version), 0) FROM events")
"$HELIOS" import --db "$D/a.db" --git "$R" --sync $ALIAS >"$D/s1" 2>&1
t_ok "a sync applies the commits since the last import" \
    grep -q '1 commits replayed.*1 changes' "$D/s1"
v1=$(sqlite3 "$D/a.db" "SELECT COALESCE(MAX(version), 0) FROM events")
"$HELIOS" import --db "$D/a.db" --git "$R" --sync $ALIAS >"$D/s2" 2>&1
v2=$(sqlite3 "$D/a.db" "SELECT COALESCE(MAX(version), 0) FROM events")
t_is "a second sync in a row changes nothing" "$((v1 - v0)) $v2" "1 $v1"
t_ok "and says it is up to date" grep -q 'up to date' "$D/s2"

# A removal in git of a value Helios has not touched since is applied.
sed -i '/^casino$/d' "$R/bad_keywords.txt"
commit Kim "remove casino"
"$HELIOS" import --db "$D/a.db" --git "$R" --sync $ALIAS >"$D/s2b" 2>&1
t_ok "a sync applies a removal of an imported value, with no conflict" \
    sh -c "grep -q '1 changes.* 0 conflicts' '$D/s2b' &&
    test -z \"\$(sqlite3 '$D/a.db' \"SELECT 1 FROM items WHERE
    value = 'casino'\")\""

# A conflict: Helios adds a value that git adds and then removes again.
mkdir -p "$D/d"
hl_daemon_start "$D/d" --db "$D/a.db" || exit 1
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $HL_ADMIN" -H 'Content-Type: application/json' \
    -d '{"pattern": "fresh"}' "$HL_URL/blacklists/blacklist-keyword")
t_is "Helios adds a value" "$code" 201
hl_daemon_stop
printf 'fresh\nthird\n' >>"$R/bad_keywords.txt"
commit Judy "add fresh and third"
sed -i '/^fresh$/d' "$R/bad_keywords.txt"
commit Judy "remove fresh"
"$HELIOS" import --db "$D/a.db" --git "$R" --sync $ALIAS >"$D/s3" 2>&1
t_ok "a value changed on both sides is reported as a conflict" \
    grep -q 'conflict: .* removes blacklist-keyword fresh' "$D/s3"
t_is "git does not remove what Helios added; the rest is applied" \
    "$(sqlite3 "$D/a.db" "SELECT group_concat(value, ',') FROM items
    WHERE list_id = 'blacklist-keyword' AND value IN ('fresh', 'third')
    ORDER BY value")" "fresh,third"
t_done
