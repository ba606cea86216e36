#!/bin/sh
# Acknowledged writes survive a crash of the process: writes run in
# parallel, the daemon is killed with SIGKILL in the middle, and after a
# restart every write that got a 201 is there, and the versions went on
# from where they were.  The kernel's page cache outlives a SIGKILL, so
# this cannot see a missing fsync: test_store_crash (a power-loss VFS)
# does.
. tests/lib.sh
D=$(hl_tmp)
hl_daemon_start "$D" || exit 1
ack="$D/acked"
: >"$ack"
writer() {	# $1: writer number
	i=0
	while [ $i -lt 400 ]; do
		p="crash-$1-$i\\\\.example"
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    -H "Authorization: Bearer $HL_ADMIN" \
		    -H 'Content-Type: application/json' \
		    -d "{\"pattern\":\"$p\"}" "$HL_URL/blacklists/watch-keyword")
		[ "$code" = 201 ] && echo "crash-$1-$i\\.example" >>"$ack.$1"
		[ "$code" = 000 ] && break
		i=$((i + 1))
	done
}
for w in 1 2 3 4; do writer $w & done
# Let some writes land, then pull the plug.
n=0
while [ "$(cat "$ack".* 2>/dev/null | wc -l)" -lt 100 ] && [ $n -lt 300 ]; do
	sleep 0.05; n=$((n + 1))
done
kill -KILL "$HL_PID"
wait "$HL_PID" 2>/dev/null
HL_PID=""
wait
cat "$ack".* >"$ack"
acked=$(wc -l <"$ack")
t_ok "some writes were acknowledged before the crash" [ "$acked" -ge 100 ]

hl_daemon_start "$D" || exit 1
curl -s "$HL_URL/blacklists/watch-keyword" >"$D/list.json"
python3 - "$D/list.json" "$ack" >"$D/missing" <<'PY'
import json, sys
have = {i["text_pattern"] for i in json.load(open(sys.argv[1]))["items"]}
for line in open(sys.argv[2]):
    if line.rstrip("\n") not in have:
        print(line, end="")
PY
t_is "every acknowledged write is there after the restart" \
    "$(wc -l <"$D/missing")" 0
v1=$(curl -s "$HL_URL/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $HL_ADMIN" -H 'Content-Type: application/json' \
    -d '{"pattern":"after\\.crash"}' "$HL_URL/blacklists/watch-keyword")
t_is "the restarted daemon accepts writes" "$code" 201
v2=$(curl -s "$HL_URL/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
t_is "versions go on from where they were" "$v2" "$((v1 + 1))"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
