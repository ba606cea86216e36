#!/bin/sh
# t0610: helios verify checks a published tree, from a directory and over
# HTTP, and names every file that does not match its manifest.
. tests/lib.sh

SAMPLES=$(hl_samples)
T=$(hl_tmp)
PUB=$T/public

"$HELIOS" import --db "$T/db.sqlite" "$SAMPLES" >"$T/import.log" 2>&1
openssl genpkey -algorithm ed25519 -out "$T/sign.pem" 2>/dev/null
openssl pkey -in "$T/sign.pem" -pubout -out "$T/sign.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 2>/dev/null |
    openssl pkey -pubout -out "$T/other.pub" 2>/dev/null
printf 'signing_key = %s\n' "$T/sign.pem" >"$T/helios.conf"
t_ok "a signed tree is published from the sample lists" \
    "$HELIOS" publish --config "$T/helios.conf" --db "$T/db.sqlite" \
    --target "dir:$PUB"

t_ok "verify passes on the tree just published" "$HELIOS" verify "$PUB"
t_ok "verify passes with the signing key's public half" \
    "$HELIOS" verify --key "$T/sign.pub" "$PUB"
"$HELIOS" verify --key "$T/other.pub" "$PUB" >"$T/out" 2>&1
t_is "verify with another key exits 6" "$?" 6
t_ok "verify with another key says the signature does not verify" \
    grep -q "signature" "$T/out"

# helios pull --key must act on the signature's verdict.
"$HELIOS" pull --key "$T/other.pub" "$PUB" "$T/wk" >"$T/out" 2>&1
t_is "pull with another key exits 6" "$?" 6
t_is "and writes no list and no state" "$(ls -A "$T/wk" | tr '\n' ' ')" \
    ".helios-lock "
t_ok "pull with the signing key's public half succeeds" \
    "$HELIOS" pull -q --key "$T/sign.pub" "$PUB" "$T/wk"
(cd "$T/wk" && cat $(ls -A | sort) | sha256sum) >"$T/wk.sum"
"$HELIOS" pull --key "$T/other.pub" "$PUB" "$T/wk" >"$T/out" 2>&1
t_is "then a pull of the same tree with another key exits 6" "$?" 6
t_is "and leaves the files and state as they were" \
    "$(cd "$T/wk" && cat $(ls -A | sort) | sha256sum)" "$(cat "$T/wk.sum")"

# Every check must be able to fail: copy the tree, break one thing each.
break_copy() {
	rm -rf "$T/bad"
	cp -a "$PUB" "$T/bad"
}

break_copy
python3 - "$T/bad/lists/blacklist-keyword.txt" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x20
open(p, "wb").write(b)
EOF
"$HELIOS" verify "$T/bad" >"$T/out" 2>&1
t_is "verify fails when one byte of a list changed" "$?" 3
t_ok "the message names the list file" \
    grep -q "lists/blacklist-keyword.txt: sha256" "$T/out"
t_is "only that file is reported" \
    "$(grep -c 'helios verify: lists/' "$T/out")" 1

break_copy
f=lists/watch-keyword.txt.gz
size=$(wc -c <"$T/bad/$f")
head -c $((size - 10)) "$PUB/$f" >"$T/bad/$f"
"$HELIOS" verify "$T/bad" >"$T/out" 2>&1
t_is "verify fails on a truncated .gz" "$?" 3
t_ok "the message names the .gz file" grep -q "$f: " "$T/out"

break_copy
obj=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print([f["object"] for f in m["files"] if f["path"].endswith(".yml")][0])
' "$PUB/manifest.json")
rm "$T/bad/$obj"
"$HELIOS" verify "$T/bad" >"$T/out" 2>&1
t_is "verify fails when an object copy is missing" "$?" 3
t_ok "the message names the object" grep -q "$obj: missing" "$T/out"

break_copy
seg=$(ls "$T/bad/changes" | grep -v gz | head -1)
printf ' ' >>"$T/bad/changes/$seg"
"$HELIOS" verify "$T/bad" >"$T/out" 2>&1
t_is "verify fails when a change segment changed" "$?" 3
t_ok "the message names the segment" grep -q "changes/$seg: " "$T/out"

break_copy
gz=$(ls "$T/bad/changes" | grep 'gz$' | tail -1)
printf 'not gzip' >"$T/bad/changes/$gz"
"$HELIOS" verify "$T/bad" >"$T/out" 2>&1
t_is "verify fails when a segment's .gz is replaced" "$?" 3

"$HELIOS" verify "$T/nowhere" >"$T/out" 2>&1
t_is "verify of a directory with no manifest exits 2" "$?" 2

# Over HTTP: the daemon publishes the same store and serves it at /.
mkdir -p "$T/d"
cp "$T/db.sqlite" "$T/d/db.sqlite"
hl_daemon_start "$T/d" || exit 1
n=0
while ! [ -f "$T/d/public/manifest.json" ] && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
"$HELIOS" verify "$HL_URL" >"$T/out" 2>&1
rc=$?
t_is "verify passes over HTTP against the daemon" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/out" | head -5
t_ok "verify over HTTP checked the change segments" \
    grep -q "[1-9][0-9]* change segments" "$T/out"
hl_daemon_stop

"$HELIOS" verify "$HL_URL" >"$T/out" 2>&1
t_is "verify against a server that is down exits 2" "$?" 2

t_done
