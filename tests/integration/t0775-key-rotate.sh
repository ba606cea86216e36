#!/bin/sh
# t0775: `helios key rotate` against the running daemon, while three clients
# poll: helios pull with the old key alone, helios pull with the new key
# alone, and the Python client with a keyring of both.  The daemon takes the
# new key up without a restart and signs every manifest with both keys for
# the overlap, so no client fails verification then; after it only the new
# key signs, the old-key client is refused and writes nothing.  Rotating
# refuses without a key, during a rotation and over a file; retiring
# refuses during the overlap.
. tests/lib.sh

SAMPLES=$(hl_samples)
T=$(hl_tmp)
HL_CLEAN="$HL_CLEAN $T"
D=$T/d
K=$T/keys/manifest.key
OVERLAP=20
PIDS=""
stop_pollers() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=""
}
trap 'stop_pollers; hl_daemon_stop; hl_cleanup' EXIT

field() {	# FILE KEY: a top-level field of a JSON file (lists joined)
	"$PY" -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
print(" ".join(v) if isinstance(v, list) else v)' "$1" "$2"
}
wait_ids() {	# IDS: waits until the published manifest's key_ids are IDS
	n=0
	while [ "$(field "$D/public/manifest.json" key_ids 2>/dev/null)" != \
	    "$1" ]; do
		n=$((n + 1)); [ $n -gt 150 ] && return 1; sleep 0.1
	done
}
wait_has() {	# DIR PATTERN: waits until DIR's websites list holds PATTERN
	n=0
	while ! grep -q "$2" "$1/blacklisted_websites.txt" 2>/dev/null; do
		n=$((n + 1)); [ $n -gt 150 ] && return 1; sleep 0.1
	done
}
post() {	# PATTERN
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -d "{\"pattern\": \"$1\"}" "$HL_URL/blacklists/blacklist-website"
}
poll() {	# NAME CMD...: runs CMD again and again; "START END RC" lines
	name=$1; shift
	(
		while :; do
			s=$(date +%s.%N)
			"$@" >>"$T/$name.out" 2>&1
			rc=$?
			echo "$s $(date +%s.%N) $rc" >>"$T/$name.log"
			sleep 0.1
		done
	) &
	PIDS="$PIDS $!"
}

mkdir -p "$D" "$T/keys" "$T/py" "$T/py-old"
printf 'public = %s/public\n' "$D" >"$T/nokey.conf"
"$HELIOS" key rotate --config "$T/nokey.conf" >"$T/out" 2>&1
t_is "rotate refuses when the config names no signing key" "$?" 1
t_ok "saying so and how to make one" \
    grep -q "sets no signing_key.*helios key generate" "$T/out"
printf 'signing_key = %s\n' "$K" >"$T/helios.conf"
"$HELIOS" key rotate --config "$T/helios.conf" >"$T/out" 2>&1
t_is "rotate refuses when the signing key file is missing" "$?" 1
t_ok "and makes no file" test -z "$(ls "$T/keys")"

"$HELIOS" key generate "$K" >"$T/gen.out"
A=$(sed -n 's/^key id: //p' "$T/gen.out")
cp "$K.pub" "$T/old.pem"
"$HELIOS" import --db "$D/db.sqlite" "$SAMPLES" >"$T/import.log" 2>&1
hl_daemon_start "$D" --config "$T/helios.conf" || exit 1
DAEMON=$HL_PID
t_ok "the daemon signs with key A alone" wait_ids "$A"
t_ok "a client with A alone pulls" \
    "$HELIOS" pull -q --key "$T/old.pem" "$HL_URL" "$T/old"
poll old "$HELIOS" pull -q --key "$T/old.pem" "$HL_URL" "$T/old"
t_is "an item is added before the rotation" "$(post before-rotation-example)" 201
t_ok "the old-key client gets it" wait_has "$T/old" before-rotation

"$HELIOS" key rotate --config "$T/helios.conf" --overlap ${OVERLAP}s \
    >"$T/rotate.out" 2>"$T/rotate.err"
t_is "key rotate exits 0" "$?" 0
B=$(sed -n 's/^key id: //p' "$T/rotate.out")
UNTIL=$(sed -n 's/^overlap until: \([0-9]*\).*/\1/p' "$T/rotate.out")
t_ok "it prints the new key id: the SHA-256 of the new public key" \
    test "$B" = "$(openssl pkey -pubin -in "$K.pub" -outform DER |
    tail -c 32 | sha256sum | cut -c1-16)"
t_ok "and the previous key id, A's" grep -qx "previous key id: $A" \
    "$T/rotate.out"
t_ok "and when the overlap ends" test "$UNTIL" -gt "$(date +%s)"
t_ok "the new and the previous private key are mode 0600" sh -c "
	test \"\$(stat -c %a '$K')\" = 600 &&
	test \"\$(stat -c %a '$K.previous')\" = 600"
t_ok "the previous key is A, kept byte for byte" cmp "$T/old.pem" \
    "$K.previous.pub"
cp "$K.pub" "$T/new.pem"
cat "$T/old.pem" "$T/new.pem" >"$T/ring.pem"

sum_keys() { sha256sum "$T/keys/"* >"$1"; }
sum_keys "$T/keys.sum"
"$HELIOS" key rotate --config "$T/helios.conf" >"$T/out" 2>&1
t_is "a second rotation during the first is refused" "$?" 1
t_ok "saying the first is not retired" grep -q "not retired" "$T/out"
"$HELIOS" key retire --config "$T/helios.conf" >"$T/out" 2>&1
t_is "retire is refused during the overlap" "$?" 1
t_ok "saying how long the overlap lasts" grep -q "overlap lasts" "$T/out"
sum_keys "$T/keys.sum2"
t_ok "and neither changed a key file" cmp "$T/keys.sum" "$T/keys.sum2"

t_ok "the running daemon signs with A and B, without a restart" \
    wait_ids "$A $B"
t_ok "it is the same daemon process" kill -0 "$DAEMON"
t_is "manifest.json.sig is still A's (key_id)" \
    "$(field "$D/public/manifest.json" key_id)" "$A"
t_ok "and verifies with openssl and A's public key" \
    openssl pkeyutl -verify -pubin -inkey "$T/old.pem" -rawin \
    -in "$D/public/manifest.json" -sigfile "$D/public/manifest.json.sig"
MSHA=$(sha256sum "$D/public/manifest.json" | cut -c1-64)
t_is "objects/<manifest sha256>.sigs holds both signatures" \
    "$("$PY" -c 'import json,sys; print(" ".join(e["key_id"] for e in json.load(open(sys.argv[1]))))' \
    "$D/public/objects/$MSHA.sigs")" "$A $B"

poll new "$HELIOS" pull -q --key "$T/new.pem" "$HL_URL" "$T/new"
poll py "$PY" site/docs/helios_client.py -q --key "$T/ring.pem" "$HL_URL" \
    "$T/py"
t_is "an item is added during the overlap" "$(post during-one-example)" 201
t_is "and another" "$(post during-two-example)" 201
t_ok "the old-key client gets them" wait_has "$T/old" during-two
t_ok "the new-key client gets them" wait_has "$T/new" during-two
t_ok "the Python keyring client gets them" wait_has "$T/py" during-two
t_ok "all before the overlap ended (else this test is too slow)" \
    sh -c "echo $((UNTIL - $(date +%s))) s left; test $(date +%s) -lt $UNTIL"

# The overlap ends: the daemon signs again, with B alone, unprompted.
t_ok "after the overlap the daemon signs with B alone" sh -c "
	while [ \$(date +%s) -le $UNTIL ]; do sleep 0.2; done"
wait_ids "$B"
t_is "the manifest names B alone" \
    "$(field "$D/public/manifest.json" key_ids)" "$B"
t_is "an item is added after the overlap" "$(post after-overlap-example)" 201
t_ok "the new-key client gets it" wait_has "$T/new" after-overlap
t_ok "the Python keyring client gets it" wait_has "$T/py" after-overlap
sleep 0.5
stop_pollers

t_ok "each client polled many times" sh -c "
	wc -l '$T/old.log' '$T/new.log' '$T/py.log' &&
	test \$(grep -c . '$T/old.log') -ge 10 &&
	test \$(grep -c . '$T/new.log') -ge 10 &&
	test \$(grep -c . '$T/py.log') -ge 3"
t_ok "the new-key client never failed" awk '$3 != 0 { exit 1 }' \
    "$T/new.log"
t_ok "nor did the Python keyring client" awk '$3 != 0 { exit 1 }' \
    "$T/py.log"
t_ok "the old-key client never failed before the overlap ended" awk \
    -v u="$UNTIL" '$2 < u && $3 != 0 { exit 1 } $2 < u { n++ }
    END { exit n < 10 }' "$T/old.log"
t_ok "and failed verification (6) after it" awk -v u="$UNTIL" \
    '$1 > u && $3 == 6 { n++ } END { exit n < 1 }' "$T/old.log"

(cd "$T/old" && find . -type f | sort | xargs sha256sum) >"$T/old.sum"
"$HELIOS" pull --key "$T/old.pem" "$HL_URL" "$T/old" >"$T/out" 2>&1
t_is "a pull with A alone is refused after the overlap (exit 6)" "$?" 6
t_ok "saying the manifest names B, which its keyring lacks" \
    grep -q "names key $B, which keyring" "$T/out"
(cd "$T/old" && find . -type f | sort | xargs sha256sum) >"$T/old.sum2"
t_ok "and writes nothing" cmp "$T/old.sum" "$T/old.sum2"
t_ok "the old-key directory lacks the item added after the overlap" \
    sh -c "! grep -q after-overlap '$T/old/blacklisted_websites.txt'"
"$HELIOS" verify --key "$T/old.pem" "$HL_URL" >"$T/out" 2>&1
t_is "verify with A alone exits 6" "$?" 6
t_ok "verify with B alone passes" "$HELIOS" verify --key "$T/new.pem" \
    "$HL_URL"
"$PY" site/docs/helios_client.py -q --key "$T/old.pem" "$HL_URL" \
    "$T/py-old" >"$T/out" 2>&1
t_is "the Python client with A alone is refused (exit 6)" "$?" 6
t_ok "and writes no list file" sh -c "! ls '$T/py-old'/*.txt 2>/dev/null"

"$HELIOS" key retire --config "$T/helios.conf" >"$T/out" 2>&1
t_is "retire after the overlap exits 0" "$?" 0
t_ok "and removes the previous key and the rotation" sh -c "
	! test -e '$K.previous' && ! test -e '$K.previous.pub' &&
	! test -e '$K.rotation' && test -e '$K'"
t_is "status names B alone" \
    "$("$HELIOS" key status --config "$T/helios.conf")" "signing now: $B"
echo stray >"$K.previous"
"$HELIOS" key rotate --config "$T/helios.conf" >"$T/out" 2>&1
t_is "rotate never writes over a file (a stray K.previous)" "$?" 1
t_is "which is left as it was" "$(cat "$K.previous")" stray
t_ok "nor is the current key changed" cmp "$K.pub" "$T/new.pem"
t_is "an item is added after the retirement" "$(post retired-example)" 201
# The answer comes before the publish: pull until it shows (10 s at most).
t_ok "the new-key client still pulls it" sh -c "
	for i in \$(seq 50); do
		'$HELIOS' pull -q --key '$T/new.pem' '$HL_URL' '$T/new' ||
		    exit 1
		grep -q retired-example '$T/new/blacklisted_websites.txt' &&
		    exit 0
		sleep 0.2
	done; exit 1"
t_ok "the daemon logged no publish failure" sh -c \
    "! grep -qi 'retry in\|signing key' '$D/daemon.log'"

hl_daemon_stop
t_done
