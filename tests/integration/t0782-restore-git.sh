#!/bin/sh
# t0782: a lost server rebuilt from a git pages target alone, over smart
# HTTP with basic auth (nginx in front of git-http-backend), into an empty
# fetch cache as a new machine would have.  A commit whose list does not
# match its manifest is refused without writing a database; then the
# daemon runs on the restored database: the same exports, the versions go
# on upward, and clients pulling the server's public tree (nginx) across
# the loss never fail or step back.
. tests/lib.sh
. tests/tools/restore-scenario.sh
D=$(hl_tmp)

port=$(sh tests/tools/git-http.sh start "$D/git" pages s3cret)
t_ok "the git HTTP server starts" test -n "$port"
cleanup_git() {
	sh tests/tools/git-http.sh stop "$D/git"
	hl_cleanup
}
trap cleanup_git EXIT
export HELIOS_GIT_USERNAME=pages HELIOS_GIT_PASSWORD=s3cret
export HELIOS_GIT_CACHE="$D/cache"
REPO=http://127.0.0.1:$port/pages.git
TARGET=git+$REPO#gh-pages

NG_PORT=$(hl_port)
hl_nginx_start "$D/nginx" "
	access_log off;
	types {
		application/json json;
		text/plain txt yml;
		application/gzip gz;
	}
	server {
		listen 127.0.0.1:$NG_PORT;
		root $D/public;
	}"
MIRROR=http://127.0.0.1:$NG_PORT
t_ok "nginx starts" hl_wait_http "$MIRROR/"

t_ok "the server publishes the samples and five changes to git" \
    rs_publish "$TARGET" git "$MIRROR"
t_is "two clients pulled the server's tree, before and after the changes" \
    "$RS_PULLS" "0 $RS_V0, 0 $RS_V"
t_ok "the server is lost: its database, public directory and git cache" \
    rs_lose
rm -rf "$D/cache"

# A branch whose newest commit, made to look like one of helios's, holds
# a list (and its objects/ copy) that its manifest does not name.
git clone -q -b gh-pages "$D/git/root/pages.git" "$D/work" 2>/dev/null
obj=$($PY -c 'import json,sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["path"] == "lists/watch-keyword.txt": print(f["object"])' \
    "$D/work/manifest.json")
for f in lists/watch-keyword.txt "$obj"; do
	sed -i '5s/^/X/' "$D/work/$f"
done
git -C "$D/work" -c user.name=x -c user.email=x@example.net commit -qam \
    "v$((RS_V + 1)): +1 watch-keyword

Helios-Version: $((RS_V + 1))"
git -C "$D/work" push -q origin HEAD:refs/heads/tampered 2>/dev/null
refused() {	# MESSAGE RESTORE-ARGS...: fails, says MESSAGE, writes no db
	m=$1; shift
	! "$HELIOS" restore "$@" --db "$D/db.sqlite" 2>"$D/err" &&
	    grep -q "$m" "$D/err" && grep -q "nothing was written" "$D/err" &&
	    ! ls "$D"/db.sqlite* 2>/dev/null
}
t_ok "a commit whose list does not match its manifest is refused" \
    refused "watch-keyword.txt does not match the manifest" \
    --from-git "git+$REPO" --branch tampered
t_ok "wrong credentials are refused" \
    sh -c "HELIOS_GIT_PASSWORD=wrong '$HELIOS' restore --from-git \
    '$TARGET' --db '$D/db.sqlite' 2>/dev/null; test \$? -ne 0 &&
    ! ls '$D'/db.sqlite* 2>/dev/null"

HELIOS_GIT_CACHE="$D/cache.restore" "$HELIOS" restore --from-git "$TARGET" \
    --db "$D/db.sqlite" >"$D/restore.out" 2>&1
t_ok "the server is restored from the pages branch over HTTP" \
    grep -q "restored version $RS_V from .*commit" "$D/restore.out"
rs_check git "$TARGET" "$MIRROR"
t_done
