#!/bin/sh
# t0781: a lost server rebuilt from an S3 target alone (helios restore
# --from-s3, signed GETs as the target's own, against s3rver 5, which
# checks SigV4 signatures).  A tampered copy of the tree in the bucket and
# wrong credentials are refused without writing a database; then the
# daemon runs on the restored database: the same exports, the versions go
# on upward, and clients pulling the bucket across the loss never fail or
# step back.
. tests/lib.sh
. tests/tools/restore-scenario.sh
D=$(hl_tmp)

set -- $(sh tests/tools/s3rver.sh start "$D/s3" 0 helios)
S3_PORT=${1:-0}
S3_PID=${2:-}
t_ok "the S3 test server starts" test "$S3_PORT" -gt 0
cleanup_s3() {
	[ -n "$S3_PID" ] && sh tests/tools/s3rver.sh stop "$S3_PID"
	hl_cleanup
}
trap cleanup_s3 EXIT

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN HELIOS_S3_CREDENTIALS
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
EP="endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1"
TARGET="s3://helios/pub?$EP"
MIRROR=http://127.0.0.1:$S3_PORT/helios/pub

t_ok "the server publishes the samples and five changes to the bucket" \
    rs_publish "$TARGET" s3 "$MIRROR"
t_is "two clients pulled the bucket, before and after the changes" \
    "$RS_PULLS" "0 $RS_V0, 0 $RS_V"
t_ok "the server is lost: its database and public directory are gone" \
    rs_lose

# A copy under another prefix of what a restore reads (the manifest and
# the objects/ copies of the lists and notifications), with one list's
# bytes changed.
s3put() {	# KEY FILE: a signed PUT, as curl signs it
	curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT \
	    --data-binary @"$2" "http://127.0.0.1:$S3_PORT/helios/$1" >/dev/null
}
curl -sf "$MIRROR/manifest.json" -o "$D/manifest.json"
$PY -c '
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["path"].startswith("lists/") or f["path"] == "notifications.json":
        print(f["path"], f["object"])' "$D/manifest.json" >"$D/objects"
s3put bad/manifest.json "$D/manifest.json"
while read -r path obj; do
	curl -sf "$MIRROR/$obj" -o "$D/obj"
	[ "$path" = lists/watch-keyword.txt ] && sed -i '5s/^/X/' "$D/obj"
	s3put "bad/$obj" "$D/obj"
done <"$D/objects"
refused() {	# MESSAGE RESTORE-ARGS...: fails, says MESSAGE, writes no db
	m=$1; shift
	! "$HELIOS" restore "$@" --db "$D/db.sqlite" 2>"$D/err" &&
	    grep -q "$m" "$D/err" && grep -q "nothing was written" "$D/err" &&
	    ! ls "$D"/db.sqlite* 2>/dev/null
}
t_ok "a list whose bytes were changed in the bucket is refused" \
    refused "watch-keyword.txt does not match the manifest" \
    --from-s3 "s3://helios/bad?$EP"
t_ok "wrong credentials are refused, without showing the secret" \
    sh -c "AWS_SECRET_ACCESS_KEY=wrong-secret-5e3 '$HELIOS' restore \
    --from-s3 '$TARGET' --db '$D/db.sqlite' 2>'$D/err'; test \$? -ne 0 &&
    grep -q 'HTTP 403' '$D/err' && ! grep -q wrong-secret '$D/err' &&
    ! ls '$D'/db.sqlite* 2>/dev/null"
t_ok "a prefix that holds no tree is refused" \
    refused "HTTP 404" --from-s3 "helios/nothing?$EP"

"$HELIOS" restore --from-s3 "helios/pub?$EP" --db "$D/db.sqlite" \
    >"$D/restore.out" 2>&1
t_ok "the server is restored from the bucket (BUCKET/PREFIX form)" \
    grep -q "restored version $RS_V from" "$D/restore.out"
rs_check s3 "$TARGET" "$MIRROR"
t_done
