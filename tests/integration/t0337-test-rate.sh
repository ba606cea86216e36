#!/bin/sh
# POST /test is rate-limited per client address: a burst of 20 is
# answered, the next is 429 with the seconds to wait, and another address
# is not held back.  Patterns PCRE2 cannot compile are named, not dropped.
. tests/lib.sh
D=$(hl_tmp)
"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null
hl_daemon_start "$D" || exit 1
post() {	# [CURL-ARGS...]: status of one POST /test
	curl -s -o "$D/body" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -d '{"text":"writing services at essayssos.com"}' "$@" \
	    "$HL_URL/test"
}
# Requests come faster than one per 3 s: the bucket runs dry within a
# few over the burst, however slow this machine is.
ok=0
code=200
while [ "$code" = 200 ] && [ $ok -lt 60 ]; do
	code=$(post)
	[ "$code" = 200 ] && ok=$((ok + 1))
	[ $ok = 1 ] && cp "$D/body" "$D/first"
done
t_ok "a burst of at least 20 tests is answered ($ok)" test $ok -ge 20
t_is "then a test is 429" "$code" 429
t_ok "the 429 says when to try again" \
    grep -q '"error":"rate_limited".*"retryAfter":[1-9]' "$D/body"
$PY - "$D/first" <<'PY' >"$D/check"
import json, sys
b = json.load(open(sys.argv[1]))
print("hit" if any(i["pattern"] == "essayssos\\.com" for i in b["items"]) else "miss")
print("named" if any("lookbehind" in u["reason"] for u in b["unchecked"]) else "dropped")
PY
t_is "the answer names the matching pattern" "$(sed -n 1p "$D/check")" hit
t_is "a pattern PCRE2 cannot compile is listed with the reason" \
    "$(sed -n 2p "$D/check")" named
t_is "another address is not held back" "$(post --interface 127.0.0.2)" 200
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
