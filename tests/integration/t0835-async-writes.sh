#!/bin/sh
# Writes wait for their commit without holding an HTTP thread: on two
# threads, a SIGTERM while many writes wait ends the daemon cleanly (no
# hang, no abort of libmicrohttpd over a suspended connection), every
# write it acknowledged is there after a restart, and every other got no
# answer rather than a wrong one.
. tests/lib.sh
D=$(hl_tmp)
cat >"$D/helios.conf" <<CONF
threads = 2
rate_exempt = 127.0.0.1
CONF
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
TOK=$(hl_mint writer --scope admin)
$PY - "$HL_PORT" "$TOK" "$HL_PID" >"$D/out" 2>"$D/err" <<'PY'
import http.client, json, os, signal, sys, threading, time
port, tok, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
acked, other, lock = [], [], threading.Lock()
def writer(t):
    for i in range(100000):
        v = "term-%d-%d" % (t, i)
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            c.request("POST", "/blacklists/watch-keyword",
                      json.dumps({"pattern": v}),
                      {"Authorization": "Bearer " + tok,
                       "Content-Type": "application/json"})
            st = c.getresponse().status
            c.close()
        except OSError:
            return
        with lock:
            (acked if st == 201 else other).append((v, st))
ths = [threading.Thread(target=writer, args=(t,)) for t in range(16)]
for th in ths:
    th.start()
time.sleep(1.0)
os.kill(pid, signal.SIGTERM)
for th in ths:
    th.join()
for v, st in acked:
    print("acked", v)
for v, st in other:
    print("other", v, st)
PY
# The daemon ends within 20 s, with status 0.
n=0
while kill -0 "$HL_PID" 2>/dev/null && [ $n -lt 200 ]; do
	sleep 0.1; n=$((n + 1))
done
t_ok "the daemon ended within 20 s of SIGTERM" \
    sh -c '! kill -0 "$1" 2>/dev/null' sh "$HL_PID"
wait "$HL_PID"
t_is "it exited with status 0" "$?" 0
HL_PID=""
t_ok "writes were acknowledged before the SIGTERM" \
    test "$(grep -c '^acked' "$D/out")" -gt 16
t_is "no write got an answer other than 201" \
    "$(grep '^other' "$D/out" | head -3)" ""
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
curl -s "$HL_URL/blacklists/watch-keyword" >"$D/list"
$PY - "$D/out" "$D/list" >"$D/missing" <<'PY'
import json, sys
have = {i["text_pattern"] for i in json.load(open(sys.argv[2]))["items"]}
n = 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "acked":
        n += 1
        if w[1] not in have:
            print("missing", w[1])
print("checked", n)
PY
t_is "every acknowledged write is there after a restart" \
    "$(head -3 "$D/missing")" "checked $(grep -c '^acked' "$D/out")"
t_ok "the daemon stops cleanly again" hl_daemon_stop
t_done
