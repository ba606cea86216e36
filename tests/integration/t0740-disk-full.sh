#!/bin/sh
# A full disk: with the database's disk full a write is answered 507 with
# a clear message and nothing acknowledged is lost; with the public
# directory's disk full, /healthz says how far the target is behind and
# answers 503 once it lags over stale_after, and /metrics shows it.  Each
# disk is a small tmpfs (needs root; skipped otherwise).
. tests/lib.sh
D=$(hl_tmp)
mkdir -p "$D/dbfs" "$D/pubfs"
if ! mount -t tmpfs -o size=1m tmpfs "$D/dbfs" 2>/dev/null ||
    ! mount -t tmpfs -o size=2m tmpfs "$D/pubfs" 2>/dev/null; then
	umount "$D/dbfs" 2>/dev/null
	echo "ok 1 - # SKIP cannot mount a tmpfs (not root?)"
	exit 0
fi
trap 'umount "$D/dbfs" "$D/pubfs" 2>/dev/null; hl_cleanup' EXIT
code_of() {	# PATTERN: POSTs it, prints the status, keeps the body
	curl -s -o "$D/body" -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$1\"}" \
	    "$HL_URL/blacklists/watch-keyword"
}
serve() {
	HELIOS_DB=$1; shift
	HL_PORT=$(hl_port)
	HL_URL="http://127.0.0.1:$HL_PORT"
	"$HELIOS" serve --listen "127.0.0.1:$HL_PORT" --db "$HELIOS_DB" \
	    --admin-token-file "$D/admin.token" -d "$@" \
	    >>"$D/daemon.log" 2>&1 &
	HL_PID=$!
	hl_wait_http "$HL_URL/healthz" || { cat "$D/daemon.log"; exit 1; }
	HL_ADMIN=$(cat "$D/admin.token")
}

# 1. The database's disk.
serve "$D/dbfs/db.sqlite" --public "$D/public"
dd if=/dev/zero of="$D/dbfs/fill" bs=16k 2>/dev/null
: >"$D/acked"
i=0 code=201
while [ $i -lt 400 ] && [ "$code" = 201 ]; do
	code=$(code_of "full-$i\\\\.example")
	[ "$code" = 201 ] && echo "full-$i\\.example" >>"$D/acked"
	i=$((i + 1))
done
t_is "a write on a full database disk is answered 507" "$code" 507
t_is "its body says the disk is full" "$($PY -c 'import json,sys
b = json.load(open(sys.argv[1]))
print(b["error"], "full" in b["message"])' "$D/body")" \
    "insufficient_storage True"
t_is "reads still answer" "$(curl -s -o /dev/null -w '%{http_code}' \
    "$HL_URL/blacklists/watch-keyword")" 200
rm -f "$D/dbfs/fill"
t_is "once there is room, writes pass again" "$(code_of 'room\\.example')" 201
echo 'room\.example' >>"$D/acked"
hl_daemon_stop
serve "$D/dbfs/db.sqlite" --public "$D/public"
curl -s "$HL_URL/blacklists/watch-keyword" >"$D/list.json"
t_is "every acknowledged write is there after a restart" "$($PY - \
    "$D/list.json" "$D/acked" <<'PY'
import json, sys
have = {i["text_pattern"] for i in json.load(open(sys.argv[1]))["items"]}
print(sum(1 for l in open(sys.argv[2]) if l.rstrip("\n") not in have))
PY
)" 0
hl_daemon_stop

# 2. The public directory's disk.
printf 'stale_after = 2\n' >"$D/stale.conf"
serve "$D/db.sqlite" --public "$D/pubfs/public" --config "$D/stale.conf"
n=0
until curl -s "$HL_URL/healthz" | grep -q '"behind_versions":0'; do
	n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
done
dd if=/dev/zero of="$D/pubfs/fill" bs=16k 2>/dev/null
t_is "a write is still acknowledged" "$(code_of 'late\\.example')" 201
sleep 4
curl -s -o "$D/health" -w '%{http_code}' "$HL_URL/healthz" >"$D/hcode"
t_is "/healthz answers 503 when the target lags over stale_after" \
    "$(cat "$D/hcode")" 503
t_is "and says by how much" "$($PY -c 'import json,sys
h = json.load(open(sys.argv[1]))
t = h["targets"][0]
print(h["status"], t["stale"], t["behind_versions"] >= 1,
      t["behind_seconds"] >= 2)' "$D/health")" "stale True True True"
t_ok "/metrics shows the target stale" sh -c \
    "curl -s '$HL_URL/metrics' | grep -q '^helios_target_stale{.*} 1$'"
rm -f "$D/pubfs/fill"
n=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/healthz")" = 200 ]
do
	n=$((n + 1)); [ $n -gt 300 ] && break; sleep 0.1
done
t_is "once there is room the target catches up and /healthz is 200" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/healthz")" 200
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
