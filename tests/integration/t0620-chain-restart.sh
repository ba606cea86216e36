#!/bin/sh
# t0620: the manifests' hash chain goes on across a daemon restart on
# every kind of target.  One daemon publishes to its directory, to an S3
# server (s3rver, SigV4) and to a git pages branch over smart HTTP; a
# write, a restart, another write; then the first manifest after the
# restart names the last one before it as "previous" on each target, and
# helios verify --chain walks each chain back through objects/ to its
# start (for git, through the trees of the branch's commits).  Then verify --chain reports a broken link and a bad argument.
. tests/lib.sh
D=$(hl_tmp)

set -- $(sh tests/tools/s3rver.sh start "$D/s3" 0 helios)
S3_PORT=${1:-0}
S3_PID=${2:-}
t_ok "the S3 test server starts" test "$S3_PORT" -gt 0
GIT_PORT=$(sh tests/tools/git-http.sh start "$D/git" pages secret)
t_ok "the git HTTP server starts" test -n "$GIT_PORT"
cleanup_all() {
	[ -n "$S3_PID" ] && sh tests/tools/s3rver.sh stop "$S3_PID"
	sh tests/tools/git-http.sh stop "$D/git"
	hl_cleanup
}
trap cleanup_all EXIT

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN HELIOS_S3_CREDENTIALS
export HELIOS_GIT_USERNAME=pages HELIOS_GIT_PASSWORD=secret
export HELIOS_GIT_CACHE="$D/git-cache"
S3="s3://helios/pub/?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1"
BUCKET=http://127.0.0.1:$S3_PORT/helios/pub
GIT="git+http://127.0.0.1:$GIT_PORT/pages.git#gh-pages"
BARE=$D/git/root/pages.git

# published: every target has published the store's version (and at
# least once since the start).
published() {
	n=0
	while [ $n -lt 300 ]; do
		curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
h = json.load(sys.stdin)
t = h.get("targets", [])
ok = len(t) == 3 and all(x["version"] >= h["version"] and
    x["expires_at"] > 0 and x["error"] is None for x in t)
sys.exit(0 if ok else 1)' && return 0
		n=$((n + 1))
		sleep 0.1
	done
	curl -s "$HL_URL/healthz"
	return 1
}
write() {	# PATTERN
	curl -sf -o /dev/null -X POST -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d "{\"pattern\":\"$1\"}" "$HL_URL/blacklists/watch-keyword"
}
# The three manifests as published now, into DIR.
manifests() {
	mkdir -p "$1"
	cp "$D/public/manifest.json" "$1/dir"
	curl -sf "$BUCKET/manifest.json" -o "$1/s3"
	git --git-dir="$BARE" show gh-pages:manifest.json >"$1/git"
}
previous() {	# FILE: its "previous"
	$PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["previous"])' "$1"
}

hl_daemon_start "$D" --target "$S3" --target "$GIT" || exit 1
t_ok "the daemon publishes to its directory, the bucket and git" published
t_ok "a pattern is added" write 'chain-one\\.example'
t_ok "the change is published to the three targets" published
manifests "$D/before"
t_ok "the daemon stops cleanly" hl_daemon_stop

hl_daemon_start "$D" --target "$S3" --target "$GIT" || exit 1
t_ok "the restarted daemon publishes to the three targets" published
manifests "$D/after"
for k in dir s3 git; do
	t_is "$k: the first manifest after the restart names the last one" \
	    "$(previous "$D/after/$k")" \
	    "$(sha256sum <"$D/before/$k" | cut -d' ' -f1)"
done
t_ok "a second pattern is added" write 'chain-two\\.example'
t_ok "the second change is published to the three targets" published
t_ok "the daemon stops cleanly again" hl_daemon_stop

# Four manifests on each target: at the first start (no "previous"), the
# first change, the restart, the second change.  A commit's tree holds the
# object copy of its own manifest only: the branch's history holds the
# chain, so the git side is checked on every commit's tree laid in one
# directory, oldest first.
mkdir "$D/hist"
for c in $(git --git-dir="$BARE" rev-list --reverse gh-pages); do
	git --git-dir="$BARE" archive "$c" | tar -x -C "$D/hist"
done
t_is "the pages branch has a commit per manifest" \
    "$(git --git-dir="$BARE" rev-list --count gh-pages)" 4
for k in dir s3 git; do
	case $k in
	dir)	where=$D/public ;;
	s3)	where=$BUCKET ;;
	git)	where=$D/hist ;;
	esac
	"$HELIOS" verify --chain 10 "$where" >"$D/out.$k" 2>&1
	t_is "$k: helios verify --chain passes" "$?" 0
	t_is "$k: the chain goes back through the restart to its start" \
	    "$(grep '^chain:' "$D/out.$k")" \
	    "chain: 4 manifests, back to version 0, the start of the chain"
done
"$HELIOS" verify --chain 2 "$D/public" >"$D/out" 2>&1
t_is "verify --chain 2 follows two links" "$(grep '^chain:' "$D/out")" \
    "chain: 3 manifests, back to version 1"

# A link that does not hold what its name says breaks the chain.
cp -a "$D/public" "$D/bad"
obj=objects/$(previous "$D/after/dir")
printf ' ' >>"$D/bad/$obj"
"$HELIOS" verify --chain 10 "$D/bad" >"$D/out" 2>&1
t_is "verify --chain exits 3 when a manifest of the chain was changed" \
    "$?" 3
t_ok "the message names the object of the chain" \
    grep -q "chain: $obj: sha256" "$D/out"
rm -f "$D/bad/$obj"
"$HELIOS" verify --chain 10 "$D/bad" >"$D/out" 2>&1
t_is "verify --chain exits 3 when a manifest of the chain is missing" \
    "$?" 3
t_ok "the message says it is missing" grep -q "chain: $obj.*missing" "$D/out"
"$HELIOS" verify "$D/bad" >/dev/null 2>&1
t_is "without --chain the same tree passes" "$?" 0
"$HELIOS" verify --chain 0 "$D/public" >"$D/out" 2>&1
t_is "verify --chain 0 is a usage error" "$?" 1
t_ok "it says what --chain wants" grep -q -- "--chain: want" "$D/out"
t_done
