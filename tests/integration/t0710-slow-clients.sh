#!/bin/sh
# Slow clients cannot take the daemon down: a client that sends a header
# line every second is cut at the header deadline; one address cannot hold
# more than max_connections_per_ip; and 1,100 slow connections from 110
# loopback addresses (over the 1,000 limit, reopened as soon as they are
# cut) leave /healthz answering.  Loopback only, bounded in time.
. tests/lib.sh
D=$(hl_tmp)
cat >"$D/helios.conf" <<CONF
header_timeout = 3
max_connections_per_ip = 20
CONF
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
$PY - "$HL_PORT" >"$D/out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
n = 0

def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond and detail:
        print("#   %s" % detail)

# One slow client: a header line every second, never the blank line.
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(0.2)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
t0, cut = time.monotonic(), None
while time.monotonic() - t0 < 12:
    try:
        if s.recv(4096) == b"":
            cut = time.monotonic() - t0
            break
    except socket.timeout:
        pass
    except ConnectionResetError:
        cut = time.monotonic() - t0
        break
    try:
        s.sendall(b"X-Slow: %d\r\n" % int(time.monotonic()))
    except OSError:
        cut = time.monotonic() - t0
        break
    time.sleep(0.8)
s.close()
ok(cut is not None and cut < 5.5,
   "a client sending a header line every second is cut at the deadline",
   "cut after %s s" % cut)

# One address, 40 connections: at most 20 stay open.
socks = []
for i in range(40):
    c = socket.socket()
    c.bind(("127.0.0.2", 0))
    c.connect(("127.0.0.1", port))
    socks.append(c)
time.sleep(1)
alive = 0
for c in socks:
    c.setblocking(False)
    try:
        alive += 0 if c.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
    c.close()
ok(alive <= 20, "one address holds at most max_connections_per_ip",
   "%d of 40 open" % alive)
PY
cat "$D/out"
T_N=$(grep -cE '^(not )?ok ' "$D/out")
T_FAIL=$(grep -c '^not ok ' "$D/out")

$PY tests/tools/slowloris.py "$HL_PORT" --conns 1100 --sources 110 \
    --interval 5 --duration 15 --probe-every 1 --probe-timeout 5 \
    >"$D/attack.json"
sed 's/^/# /' "$D/attack.json"
got=$($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))
print("yes" if r["probes"] >= 8 and r["ok"] >= 0.9 * r["probes"] else "no")' \
    "$D/attack.json")
t_is "under 1,100 slow connections /healthz answers 9 times in 10" "$got" yes
t_ok "the daemon still answers after the attack" curl -sf "$HL_URL/healthz"
t_is "the log is not flooded (under 1,000 lines)" \
    "$(test "$(wc -l <"$D/daemon.log")" -lt 1000 && echo yes)" yes
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
