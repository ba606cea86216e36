#!/bin/sh
# t0780: a lost server rebuilt from a directory target alone, read as a
# local copy (helios restore --from-dir) and through nginx serving it
# (--from-url).  The server signs its manifests; the restore checks the
# signature with --key and every file's sha256 against the manifest, and
# refuses a tampered copy without writing a database.  Then the daemon
# runs on the restored database: the same exports, the versions go on
# upward, and clients pulling across the loss never fail or step back.
. tests/lib.sh
. tests/tools/restore-scenario.sh
D=$(hl_tmp)
mkdir -p "$D/www"

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
		root $D/www;
	}"
WWW=http://127.0.0.1:$NG_PORT
MIRROR=$WWW/mirror
t_ok "nginx starts" hl_wait_http "$WWW/"

"$HELIOS" key generate "$D/key" >/dev/null
"$HELIOS" key generate "$D/other" >/dev/null
printf 'signing_key = %s\n' "$D/key" >"$D/helios.conf"
RS_SERVE_ARGS="--config $D/helios.conf"
t_ok "the server publishes the samples and five changes to a directory" \
    rs_publish "dir:$D/www/mirror" dir "$MIRROR"
t_is "two clients pulled through nginx, before and after the changes" \
    "$RS_PULLS" "0 $RS_V0, 0 $RS_V"
t_ok "the server is lost: its database and public directory are gone" \
    rs_lose

# Tampered copies: one whose manifest names another sha256 for a list,
# one whose list bytes (and their objects/ copy) were changed.
cp -r "$D/www/mirror" "$D/www/badhash"
$PY - "$D/www/badhash/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for f in m["files"]:
    if f["path"] == "lists/watch-keyword.txt":
        f["sha256"] = "0" * 64
open(sys.argv[1], "w").write(json.dumps(m, sort_keys=True, separators=(",", ":")))
EOF
cp -r "$D/www/mirror" "$D/www/badbytes"
obj=$($PY -c 'import json,sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["path"] == "lists/watch-keyword.txt": print(f["object"])' \
    "$D/www/mirror/manifest.json")
for f in lists/watch-keyword.txt "$obj"; do
	sed -i '5s/^/X/' "$D/www/badbytes/$f"
done
refused() {	# MESSAGE RESTORE-ARGS...: fails, says MESSAGE, writes no db
	m=$1; shift
	! "$HELIOS" restore "$@" --db "$D/db.sqlite" 2>"$D/err" &&
	    grep -q "$m" "$D/err" && grep -q "nothing was written" "$D/err" &&
	    ! ls "$D"/db.sqlite* 2>/dev/null
}
t_ok "a manifest naming a wrong hash is refused, and no database written" \
    refused "watch-keyword.txt does not match the manifest" \
    --from-url "$WWW/badhash"
t_ok "a list whose bytes were changed is refused the same way" \
    refused "watch-keyword.txt does not match the manifest" \
    --from-dir "$D/www/badbytes"
t_ok "with --key, the edited manifest's signature is refused" \
    refused "signature" --from-dir "$D/www/badhash" --key "$D/key.pub"
t_ok "with another key than the server's, the restore is refused" \
    refused "" --from-url "$MIRROR" --key "$D/other.pub"
t_ok "a mirror that does not exist is refused" \
    refused "404" --from-url "$WWW/nothing"

t_ok "a restore from the local copy, signature checked, succeeds" \
    "$HELIOS" restore --from-dir "$D/www/mirror" --key "$D/key.pub" \
    --db "$D/copy.sqlite"
"$HELIOS" export --db "$D/copy.sqlite" "$D/exp.copy" >/dev/null
t_ok "and exports the same files" diff -r "$D/exp.before" "$D/exp.copy"
over() {	# a restore into copy.sqlite, which holds data now
	! "$HELIOS" restore --from-dir "$D/www/mirror" --db "$D/copy.sqlite" \
	    2>"$D/err" && grep -q "not a new database (version $RS_V)" "$D/err"
}
t_ok "restoring over a database that holds data is refused" over
t_ok "--force replaces it" "$HELIOS" restore --from-dir "$D/www/mirror" \
    --force --db "$D/copy.sqlite"

"$HELIOS" restore --from-url "$MIRROR" --key "$D/key.pub" \
    --db "$D/db.sqlite" >"$D/restore.out" 2>&1
t_ok "the server is restored from the nginx mirror, signature checked" \
    grep -q "restored version $RS_V .*signature verified" "$D/restore.out"
t_ok "the restore says how to mint tokens again" \
    grep -q "helios token create" "$D/restore.out"
rs_check dir "dir:$D/www/mirror" "$MIRROR"
t_done
