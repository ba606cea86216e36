#!/bin/sh
# The git pages target end to end: publish to a bare repository by path,
# clone it, read past versions back with `helios history`, and rebuild a
# database from the archive with `helios restore --from-git`.
. tests/lib.sh
S=$(hl_samples)
D=$(hl_tmp)
git init -q --bare "$D/pages.git"
G="git+file://$D/pages.git#gh-pages"
export HELIOS_GIT_CACHE="$D/cache"

"$HELIOS" import --db "$D/db.sqlite" "$S" >/dev/null
printf 'git_author_name = Pages Bot\ngit_author_email = pages@example.net\n' \
    >"$D/helios.conf"
t_ok "helios publish writes a first version to the pages branch" \
    "$HELIOS" publish --config "$D/helios.conf" --db "$D/db.sqlite" \
    --target "$G"
t_is "the commit's author comes from the config file" \
    "$(git --git-dir="$D/pages.git" log -1 --format='%an <%ae>' gh-pages)" \
    "Pages Bot <pages@example.net>"
git clone -q -b gh-pages "$D/pages.git" "$D/clone"
t_ok "a plain git clone of the branch has .nojekyll and the manifest" \
    test -f "$D/clone/.nojekyll" -a -f "$D/clone/manifest.json"
t_ok "helios verify passes on the clone" "$HELIOS" verify "$D/clone"
t_ok "the clone's watch-keyword file is the sample file" \
    cmp "$D/clone/lists/watch-keyword.txt" "$S/watched_keywords.txt"

# The daemon publishes each change to the public dir and to git.
hl_daemon_start "$D" --target "$G" || exit 1
health_min() {	# the lowest version the targets (directory, git) hold
	curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
print(min(t["version"] for t in json.load(sys.stdin)["targets"]))'
}
# Waits until every target has published version $1: the git archive, and
# the directory the expected list below is read from, which publishes on
# its own and may come later.
wait_all() {
	n=0
	while :; do
		# An empty or odd reply is not done: wait on, up to 15 s.
		g=$(health_min)
		case "$g$1" in
		''|*[!0-9]*) ;;
		*) [ "$g" -ge "$1" ] && return 0 ;;
		esac
		n=$((n + 1)); [ $n -gt 300 ] && return 1; sleep 0.05
	done
}
versions=""
i=1
while [ $i -le 12 ]; do
	body=$(curl -s -X POST -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d "{\"pattern\":\"history-$i\\\\.example\"}" \
	    "$HL_URL/blacklists/watch-keyword")
	v=$(printf "%s" "$body" | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
	wait_all "$v" || break
	# What the list was at v, as the daemon's own tree shows it now.
	curl -s "$HL_URL/lists/watch-keyword.txt" >"$D/expect.$v"
	versions="$versions $v"
	i=$((i + 1))
done
t_is "twelve changes were published to git" "$(echo $versions | wc -w)" 12
ok=0
for v in $(echo $versions | tr ' ' '\n' | sed -n '1p;5p;12p'); do
	"$HELIOS" history watch-keyword --at "$v" --repo "$D/pages.git" \
	    >"$D/got.$v" 2>/dev/null && cmp -s "$D/got.$v" "$D/expect.$v" &&
	    ok=$((ok + 1))
done
t_is "helios history reads three past versions back exactly" "$ok" 3
first=$(echo $versions | cut -d' ' -f1)
"$HELIOS" history watch-keyword --at "$first" --repo "$G" >"$D/got.url" 2>/dev/null
t_ok "helios history takes the target's URL as well" \
    cmp "$D/got.url" "$D/expect.$first"
log=$(git --git-dir="$D/pages.git" log -1 --format=%B gh-pages)
t_ok "each commit message names the version and the change" \
    sh -c "echo '$log' | grep -q '^v[0-9]*: +1 watch-keyword (by admin)'"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop

t_ok "helios restore builds a new database from the archive" \
    "$HELIOS" restore --from-git "$D/pages.git" --db "$D/restored.sqlite"
"$HELIOS" export --db "$D/db.sqlite" "$D/exp1" >/dev/null
"$HELIOS" export --db "$D/restored.sqlite" "$D/exp2" >/dev/null
t_ok "a restore then an export gives the same files" diff -r "$D/exp1" "$D/exp2"
t_is "the restored database is at the archive's version" \
    "$("$HELIOS" migrate --db "$D/restored.sqlite" | sed 's/.*version //')" \
    "$("$HELIOS" migrate --db "$D/db.sqlite" | sed 's/.*version //')"
t_ok "restoring over a database that holds data is refused" \
    sh -c "! '$HELIOS' restore --from-git '$D/pages.git' --db '$D/db.sqlite' 2>/dev/null"
t_done
