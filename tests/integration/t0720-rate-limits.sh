#!/bin/sh
# Rate limits: per address and per token, 429 with Retry-After, set in the
# config file, writes limited far below reads.  Each case comes from its
# own loopback address (curl --interface), so the buckets start full.
. tests/lib.sh
D=$(hl_tmp)
cat >"$D/helios.conf" <<CONF
rate_exempt = none
rate_read = 1
rate_read_burst = 10
rate_write = 6
rate_write_burst = 3
CONF
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
# post FROM TOKEN PATTERN: prints the status
post() {
	curl -s -o "$D/body" -D "$D/head" -w '%{http_code}' \
	    --interface "$1" -X POST -H "Authorization: Bearer $2" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$3\"}" \
	    "$HL_URL/blacklists/watch-keyword"
}
get() {	# FROM: prints the status of GET /healthz
	curl -s -o /dev/null -w '%{http_code}' --interface "$1" \
	    "$HL_URL/healthz"
}
W=$("$HELIOS" token create second --db "$D/db.sqlite" | tail -1)
codes=""
for i in 1 2 3 4; do
	codes="$codes $(post 127.0.0.3 "$HL_ADMIN" "rate-$i\\\\.example")"
done
t_is "three writes pass, the fourth is 429" "$codes" " 201 201 201 429"
ra=$(tr -d '\r' <"$D/head" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
t_ok "the 429 says when to retry (Retry-After: $ra)" \
    test "${ra:-0}" -ge 1 -a "${ra:-0}" -le 60
t_is "the 429 body names the error" \
    "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' \
    "$D/body")" rate_limited
t_is "reads from the same address still pass" "$(get 127.0.0.3)" 200
t_is "the same token from another address is still limited" \
    "$(post 127.0.0.4 "$HL_ADMIN" 'rate-5\\.example')" 429
t_is "another token from another address passes" \
    "$(post 127.0.0.5 "$W" 'rate-6\\.example')" 201
# Twelve GETs on one connection, in well under a second.
codes=$(curl -s -w '%{http_code} ' --interface 127.0.0.6 \
    $(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	echo "-o /dev/null $HL_URL/healthz"; done))
t_is "reads: a burst of ten passes, then 429" "$codes" \
    "200 200 200 200 200 200 200 200 200 200 429 429 "
t_is "reads from another address pass meanwhile" "$(get 127.0.0.7)" 200
n=$(curl -s "$HL_URL/blacklists/watch-keyword" --interface 127.0.0.8 |
    $PY -c 'import json,sys
print(sum(1 for i in json.load(sys.stdin)["items"]
          if i["text_pattern"].startswith("rate-")))')
t_is "only the writes that passed were made" "$n" 4
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop

# Loopback is exempt by default (local tools, the tests themselves).
D2=$(hl_tmp)
hl_daemon_start "$D2" || exit 1
codes=""
for i in 1 2 3 4 5 6 7 8; do
	codes="$codes $(post 127.0.0.1 "$HL_ADMIN" "free-$i\\\\.example")"
done
t_is "by default 127.0.0.1 has no limit" "$codes" \
    " 201 201 201 201 201 201 201 201"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
