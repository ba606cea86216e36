#!/bin/sh
# t0400: publish SmokeDetector's sample lists to an S3-compatible server
# (@20minutes/s3rver 5, which checks SigV4 signatures) beside a local
# directory, and check the bucket as clients would: every object is byte
# for byte the directory's file, with the right headers, awscli lists the
# same keys, and helios verify accepts the bucket over HTTP.  After one
# changed pattern only the changed files go up; wrong credentials fail
# at once without showing the secret.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
PUB=$T/public

S=$(hl_samples)
t_ok "the sample files are there" \
    test -f "${S:-/nonexistent}/bad_keywords.txt"

set -- $(sh tests/tools/s3rver.sh start "$T/s3" 0 helios)
S3_PORT=${1:-0}
S3_PID=${2:-}
t_ok "the S3 test server starts" test "$S3_PORT" -gt 0
# the proxy prints its port on its first line; wait for it
$PY tests/tools/s3fault.py "$S3_PORT" </dev/null >"$T/proxy.port" \
    2>"$T/proxy.log" &
PX_PID=$!
n=0
while [ ! -s "$T/proxy.port" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
PX_PORT=$(cat "$T/proxy.port")
t_ok "the fault proxy starts" test -n "$PX_PORT"
cleanup_s3() {
	kill "$PX_PID" 2>/dev/null
	[ -n "$S3_PID" ] && sh tests/tools/s3rver.sh stop "$S3_PID"
	hl_cleanup
}
trap cleanup_s3 EXIT

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN HELIOS_S3_CREDENTIALS
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
BUCKET_URL=http://127.0.0.1:$S3_PORT/helios/pub
TARGET="s3://helios/pub?endpoint=http://127.0.0.1:$PX_PORT&region=us-east-1"
AWS="aws --endpoint-url http://127.0.0.1:$S3_PORT --region us-east-1"
stats() { curl -s "http://127.0.0.1:$PX_PORT/__fault/$1"; }

# same_as_dir: every file under $PUB is the object of the same key.  The
# manifests and their object copies may differ: each target builds its
# own tree, and its manifest says when.  Dot names are the directory
# target's own (temporary files, .spares/), not the tree's.
same_as_dir() {
	(cd "$PUB" && find . -type f | grep -v '/\.' | sed 's|^\./||' | grep -v '^manifest') |
	    while read -r f; do
		case $f in
		objects/*) grep -q '"generated_at":' "$PUB/$f" && continue ;;
		esac
		k=$($PY -c 'import sys, urllib.parse as u
print(u.quote(sys.argv[1]))' "$f")
		curl -sf "$BUCKET_URL/$k" -o "$T/obj" ||
		    { echo "missing $f"; exit 1; }
		cmp -s "$T/obj" "$PUB/$f" || { echo "differs: $f"; exit 1; }
	done
}

"$HELIOS" import --db "$DB" "$S" >/dev/null 2>&1
t_ok "helios publish writes the directory and the bucket" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB" --target "$TARGET"
t_ok "every file of the directory is in the bucket, byte for byte" \
    same_as_dir
t_is "awscli lists as many objects as the directory has files" \
    "$($AWS s3 ls s3://helios/pub/ --recursive | wc -l)" \
    "$(find "$PUB" -type f | grep -v '/\.' | wc -l)"

# headers: .gz as stored, classes' Cache-Control
GZ=$(cd "$PUB" && ls lists/*.gz | head -1)
curl -s -o /dev/null -D "$T/h" -H 'Accept-Encoding: gzip' "$BUCKET_URL/$GZ"
t_is "a .gz is served as application/gzip" \
    "$(sed -n 's/^Content-Type: *//ip' "$T/h" | tr -d '\r')" \
    "application/gzip"
t_is "a .gz is served without Content-Encoding" \
    "$(grep -ci '^content-encoding' "$T/h")" "0"
curl -s -o /dev/null -D "$T/h" "$BUCKET_URL/manifest.json"
t_is "the manifest must be revalidated" \
    "$(sed -n 's/^Cache-Control: *//ip' "$T/h" | tr -d '\r')" "no-cache"
OBJ=$(cd "$PUB" && ls objects/ | grep '\.gz$' | head -1)
curl -s -o /dev/null -D "$T/h" "$BUCKET_URL/objects/$OBJ"
t_ok "objects are immutable" grep -qi '^cache-control:.*immutable' "$T/h"
t_ok "helios verify accepts the bucket over HTTP" \
    "$HELIOS" verify "$BUCKET_URL/"
t_ok "helios pull syncs a directory from the bucket" \
    "$HELIOS" pull -q "$BUCKET_URL/" "$T/pulled"
"$HELIOS" export --db "$DB" "$T/exported" >/dev/null
same_as_export() {
	for f in "$T"/exported/*; do
		cmp -s "$f" "$T/pulled/$(basename "$f")" ||
		    { echo "differs: $(basename "$f")"; return 1; }
	done
}
t_ok "the pulled files are byte-identical to helios export" same_as_export

# one changed pattern: only the files that changed go up
cp -R "$PUB" "$T/before"
cp "$S/watched_keywords.txt" "$T/watched_keywords.txt"
printf '1700000000\tt0400\tt0400-new-pattern\n' >>"$T/watched_keywords.txt"
"$HELIOS" import --db "$DB" --list watch-keyword "$T/watched_keywords.txt" \
    >/dev/null 2>&1
stats reset >/dev/null
t_ok "helios publish after one changed pattern succeeds" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB" --target "$TARGET"
(cd "$PUB" && find . -type f | grep -v '/\.' | sort | while read -r f; do
	cmp -s "$f" "$T/before/$f" || echo "$f"; done) >"$T/changed"
CHANGED=$(wc -l <"$T/changed")
sed 's/^/# changed: /' "$T/changed"
PUTS=$(stats stats | sed -n 's/.* puts=\([0-9]*\).*/\1/p')
REQS=$(stats stats | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
BYTES=$(stats stats | sed -n 's/.*put_bytes=\([0-9]*\).*/\1/p')
# Each new content's bytes go up once: the objects, the change segments
# and the manifest; a list, index.html, ... is a server-side copy of its
# object.
ONCE=$(cd "$PUB" && grep -E '^\./(objects|changes|manifest)' "$T/changed" |
    xargs cat | wc -c)
ALL=$(cd "$PUB" && xargs cat <"$T/changed" | wc -c)
echo "# one changed pattern: $CHANGED files changed, $REQS requests," \
    "$PUTS PUTs, $BYTES bytes up ($ALL bytes changed)," \
    "$(find "$PUB" -type f | grep -v '/\.' | wc -l) files in the tree"
t_ok "the changed pattern changed some files" test "$CHANGED" -gt 0
t_is "only the changed files are written" "$PUTS" "$CHANGED"
# (within 1%: the bucket's manifest is built apart from the directory's.)
t_ok "each changed content is uploaded once ($BYTES bytes, $ONCE new)" \
    test "$BYTES" -le $((ONCE + ONCE / 100))
t_ok "the bucket holds the new tree" same_as_dir
mver() { $PY -c 'import json, sys; print(json.load(sys.stdin)["version"])'; }
t_is "the bucket's manifest names the new version" \
    "$(curl -s "$BUCKET_URL/manifest.json" | mver)" \
    "$(mver <"$PUB/manifest.json")"
t_ok "helios verify accepts the new bucket" "$HELIOS" verify "$BUCKET_URL/"
t_ok "a second pull from the bucket takes the change" \
    "$HELIOS" pull -q "$BUCKET_URL/" "$T/pulled"
rm -rf "$T/exported"
"$HELIOS" export --db "$DB" "$T/exported" >/dev/null
t_ok "and the pulled files are again those of helios export" same_as_export

AWS_SECRET_ACCESS_KEY=wrong-t0400-secret "$HELIOS" publish --db "$DB" \
    --target "$TARGET" >"$T/bad.out" 2>&1
t_is "a wrong secret makes publish fail" "$?" "1"
t_ok "the error names SignatureDoesNotMatch" \
    grep -q SignatureDoesNotMatch "$T/bad.out"
t_is "the error does not show the secret" \
    "$(grep -c wrong-t0400-secret "$T/bad.out")" "0"

t_done
