#!/bin/sh
# Running the daemon: helios check-config names what is wrong in a config
# file; --user drops root after binding (every thread's Uid); the JSON
# access log has one object per request and no secret; the example config
# passes the check.
. tests/lib.sh
D=$(hl_tmp)
t_ok "the example config passes check-config" \
    "$HELIOS" check-config src/helios.conf.example
printf 'listen = 0.0.0.0:8080\nprofile = dev\n' >"$D/bad1.conf"
printf 'max_connections = 100\nconnection_reserve = 100\n' >"$D/bad2.conf"
printf 'rate_exempt = 127.0.0.1 nowhere\n' >"$D/bad3.conf"
printf 'header_timeout = 0\n' >"$D/bad4.conf"
for i in 1 2 3 4; do
	"$HELIOS" check-config "$D/bad$i.conf" >"$D/out$i" 2>&1
	echo "$?" >>"$D/codes"
done
t_is "check-config refuses four bad files with status 1" \
    "$(tr '\n' ' ' <"$D/codes")" "1 1 1 1 "
t_ok "and names the problem" sh -c "grep -q loopback '$D/out1' &&
    grep -q connection_reserve '$D/out2' && grep -q nowhere '$D/out3' &&
    grep -q 'bad4.conf:1: header_timeout' '$D/out4'"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown -R nobody "$D"
	printf 'access_log = json\n' >"$D/json.conf"
	hl_daemon_start "$D" --user nobody --config "$D/json.conf" || exit 1
	uids=$(for t in /proc/$HL_PID/task/*; do
		awk '/^Uid:/ { print $2, $3, $4, $5 }' "$t/status"
	done | sort -u)
	t_is "--user nobody: every thread runs as nobody" "$uids" \
	    "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d '{"pattern":"user\\.example"}' \
	    "$HL_URL/blacklists/watch-keyword")
	t_is "as nobody it still writes" "$code" 201
	n=0
	until grep -q 'user\\\.example' "$D/public/lists/watch-keyword.json" \
	    2>/dev/null; do
		n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
	done
	t_ok "as nobody it still publishes" \
	    grep -q 'user' "$D/public/lists/watch-keyword.json"
	curl -s -o /dev/null "$HL_URL/healthz?token=$HL_ADMIN"
	hl_daemon_stop
	t_ok "the JSON access log has one object per request" $PY -c '
import json, sys
lines = [l.split(" ", 1)[1] for l in open(sys.argv[1])
         if " {\"method\"" in l]
objs = [json.loads(l) for l in lines]
assert any(o["method"] == "POST" and o["status"] == 201 and
           o["user"] == "admin" for o in objs), objs
assert all(set(o) == {"method", "path", "status", "bytes", "ms", "user"}
           for o in objs)' "$D/daemon.log"
	t_ok "and no token" sh -c "! grep -q '$HL_ADMIN' '$D/daemon.log' ||
	    [ \$(grep -c '$HL_ADMIN' '$D/daemon.log') = 1 ]"
else
	T_N=$((T_N + 1))
	echo "ok $T_N - # SKIP --user needs root and the user nobody"
fi
t_done
