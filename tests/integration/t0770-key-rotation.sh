#!/bin/sh
# t0770: the manifest's signing key is rotated while clients poll.  A client
# whose keyring holds the old and the new key never fails verification; a
# client holding only the old key fails with exit 6 once the daemon signs
# with the new one; a manifest naming a key its keyring lacks is refused
# even when another key of the ring would verify it.
. tests/lib.sh

SAMPLES=$(hl_samples)
T=$(hl_tmp)
HL_CLEAN="$HL_CLEAN $T"
D=$T/d
POLL_PID=""
stop_poller() {
	[ -n "$POLL_PID" ] && kill "$POLL_PID" 2>/dev/null &&
	    wait "$POLL_PID" 2>/dev/null
	POLL_PID=""
}
trap 'stop_poller; hl_daemon_stop; hl_cleanup' EXIT

key_id() {	# MANIFEST: its key_id, or nothing
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("key_id", ""))' "$1"
}
version_of() {	# MANIFEST
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$1"
}
wait_key() {	# ID: waits until the published manifest names key ID
	n=0
	while [ "$(key_id "$D/public/manifest.json" 2>/dev/null)" != "$1" ]; do
		n=$((n + 1)); [ $n -gt 100 ] && return 1; sleep 0.1
	done
}
post() {	# LIST PATTERN
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -d "{\"pattern\": \"$2\"}" "$HL_URL/blacklists/$1"
}

mkdir -p "$D"
"$HELIOS" key generate "$T/a.key" >"$T/gen.out"
t_is "key generate exits 0" "$?" 0
t_ok "the private key is PEM Ed25519 and mode 0600" sh -c "
	test \"\$(stat -c %a '$T/a.key')\" = 600 &&
	openssl pkey -in '$T/a.key' -noout -text | grep -q ED25519"
A=$(sed -n 's/^key id: //p' "$T/gen.out")
t_ok "it prints the key id: 16 hex of the SHA-256 of the raw public key" \
    test "$A" = "$(openssl pkey -pubin -in "$T/a.key.pub" -outform DER |
    tail -c 32 | sha256sum | cut -c1-16)"
"$HELIOS" key generate "$T/a.key" >/dev/null 2>"$T/gen.err"
t_is "key generate never writes over a key" "$?" 1
"$HELIOS" key generate "$T/b.key" >"$T/gen.out"
B=$(sed -n 's/^key id: //p' "$T/gen.out")
cat "$T/a.key.pub" "$T/b.key.pub" >"$T/ring.pem"

"$HELIOS" import --db "$D/db.sqlite" "$SAMPLES" >"$T/import.log" 2>&1
printf 'signing_key = %s\n' "$T/a.key" >"$T/a.conf"
printf 'signing_key = %s\n' "$T/b.key" >"$T/b.conf"
hl_daemon_start "$D" --config "$T/a.conf" || exit 1
t_ok "the daemon signs with key A and the manifest names it" wait_key "$A"
t_ok "a client with the keyring {A, B} pulls" \
    "$HELIOS" pull -q --key "$T/ring.pem" "$HL_URL" "$T/ring"
t_ok "a client with A alone pulls" \
    "$HELIOS" pull -q --key "$T/a.key.pub" "$HL_URL" "$T/onlya"
t_ok "verify passes with the keyring" \
    "$HELIOS" verify --key "$T/ring.pem" "$HL_URL"

# The keyring client polls all through the rotation; each exit status is
# kept (a refused connection while the daemon restarts is 4, not 6).
URL=$HL_URL
(
	while :; do
		"$HELIOS" pull -q --key "$T/ring.pem" "$URL" "$T/ring" \
		    >>"$T/poll.log" 2>&1
		echo $? >>"$T/poll.rc"
		sleep 0.1
	done
) &
POLL_PID=$!
sleep 1
t_is "an item is added before the rotation" "$(post blacklist-website before-rotation-example)" 201
sleep 1
hl_daemon_stop
"$HELIOS" serve --config "$T/b.conf" --listen "127.0.0.1:$HL_PORT" \
    --db "$D/db.sqlite" --public "$D/public" \
    --admin-token-file "$D/admin.token" -d >>"$D/daemon.log" 2>&1 &
HL_PID=$!
hl_wait_http "$HL_URL/healthz"
t_ok "after the restart the manifest names key B" wait_key "$B"
V0=$(version_of "$D/public/manifest.json")
t_is "an item is added after the rotation" "$(post blacklist-website after-rotation-example)" 201
# The answer comes before the publish: the version that holds the item.
n=0
while [ "$(version_of "$D/public/manifest.json")" = "$V0" ] && [ $n -lt 100 ]; do
	n=$((n + 1)); sleep 0.1
done
V=$(version_of "$D/public/manifest.json")
n=0
while [ "$(version_of "$T/ring/.helios-state.json" 2>/dev/null)" != "$V" ] &&
    [ $n -lt 100 ]; do
	n=$((n + 1)); sleep 0.1
done
sleep 0.5
stop_poller
t_is "the keyring client reached the version signed by B" \
    "$(version_of "$T/ring/.helios-state.json" 2>/dev/null)" "$V"
t_ok "the keyring client has the item added after the rotation" \
    grep -q 'after-rotation' "$T/ring/blacklisted_websites.txt"
t_ok "the keyring client polled many times" \
    test "$(grep -c . "$T/poll.rc")" -ge 5
t_ok "and never failed verification (no exit 6)" sh -c \
    "! grep -qx 6 '$T/poll.rc' && ! grep -q 'signature' '$T/poll.log'"

"$HELIOS" pull --key "$T/a.key.pub" "$HL_URL" "$T/onlya" >"$T/out" 2>&1
t_is "a client with A alone fails with exit 6 after the rotation" "$?" 6
t_ok "and says the keyring lacks the manifest's key" \
    grep -q "names key $B, which keyring" "$T/out"
"$HELIOS" verify --key "$T/a.key.pub" "$HL_URL" >"$T/out" 2>&1
t_is "verify with A alone exits 6 after the rotation" "$?" 6
t_ok "verify with the keyring passes after the rotation" \
    "$HELIOS" verify --key "$T/ring.pem" "$HL_URL"

# A tree signed with A whose manifest names another key: A would verify
# the bytes, but the manifest says A did not sign it.
cp -r "$D/public" "$T/forged"
python3 - "$T/forged/manifest.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["key_id"] = "0123456789abcdef"
open(p, "w").write(json.dumps(m, sort_keys=True, separators=(",", ":")) + "\n")
PY
openssl pkeyutl -sign -rawin -inkey "$T/a.key" -in "$T/forged/manifest.json" \
    -out "$T/forged/manifest.json.sig"
"$HELIOS" verify --key "$T/ring.pem" "$T/forged" >"$T/out" 2>&1
t_is "a manifest naming a key id not in the keyring is refused (exit 6)" "$?" 6
t_ok "naming the missing key id" grep -q "0123456789abcdef" "$T/out"
"$HELIOS" pull --key "$T/ring.pem" "file://$T/forged" "$T/forged-pull" \
    >"$T/out" 2>&1
t_is "pull refuses it too (exit 6)" "$?" 6
t_ok "and writes no list file" sh -c "! ls '$T/forged-pull'/*.txt 2>/dev/null"

sed 's/"key_id":"[0-9a-f]*",//' "$T/forged/manifest.json" >"$T/forged/m2"
mv "$T/forged/m2" "$T/forged/manifest.json"
openssl pkeyutl -sign -rawin -inkey "$T/a.key" -in "$T/forged/manifest.json" \
    -out "$T/forged/manifest.json.sig"
t_ok "a manifest naming no key verifies with any key of the ring" \
    "$HELIOS" verify --key "$T/ring.pem" "$T/forged"

hl_daemon_stop
t_done
