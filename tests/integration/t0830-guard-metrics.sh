#!/bin/sh
# The defences against strangers are counted in GET /metrics: connections
# cut at the header and body deadlines, refused over the per-address
# limit, and 429s by bucket.  And X-Forwarded-For is not trusted: requests
# from one peer share its bucket whatever address the header claims, and
# the claimed address is never logged.
. tests/lib.sh
D=$(hl_tmp)
cat >"$D/helios.conf" <<CONF
header_timeout = 1
body_timeout = 1
max_connections_per_ip = 3
rate_exempt = none
rate_read = 1
rate_read_burst = 3
CONF
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
scrape() {	# ADDR: /metrics into $D/metrics, read from that address
	curl -s --interface "$1" "$HL_URL/metrics" >"$D/metrics"
}
metric() {	# NAME{LABELS}: its value in the last scrape
	awk -v m="$1" '$1 == m { print $2 }' "$D/metrics"
}
scrape 127.0.0.9
t_is "at the start no connection was cut for slow headers" \
    "$(metric 'helios_connections_cut_total{reason="header_timeout"}')" 0
$PY - "$HL_PORT" >"$D/out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
# Slow headers; a body that never comes; then four idle connections from
# one address over a limit of three.
head = socket.create_connection(("127.0.0.1", port))
head.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
body = socket.create_connection(("127.0.0.1", port))
body.sendall(b"POST /blacklists/watch-keyword HTTP/1.1\r\nHost: x\r\n"
             b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{")
time.sleep(2.5)
for s in (head, body):
    s.settimeout(1)
    try:
        print("cut" if s.recv(100) == b"" else "answered")
    except OSError:
        print("cut")
idle = []
for i in range(5):
    idle.append(socket.create_connection(("127.0.0.1", port),
                                         source_address=("127.0.0.2", 0)))
time.sleep(0.5)
PY
t_is "the slow clients were cut" "$(tr '\n' ' ' <"$D/out")" "cut cut "
scrape 127.0.0.10
t_ok "one cut at the header deadline is counted" test \
    "$(metric 'helios_connections_cut_total{reason="header_timeout"}')" -ge 1
t_ok "one cut at the body deadline is counted" test \
    "$(metric 'helios_connections_cut_total{reason="body_timeout"}')" -ge 1
t_ok "connections over the per-address limit are counted as refused" test \
    "$(metric 'helios_connections_refused_total{reason="per_ip"}')" -ge 2
t_is "none was refused at max_connections" \
    "$(metric 'helios_connections_refused_total{reason="max_connections"}')" 0

# X-Forwarded-For: five reads from one peer (one curl, so within a
# second), each claiming another client.
set --
for i in 1 2 3 4 5; do
	[ $i -gt 1 ] && set -- "$@" --next
	set -- "$@" -s -o /dev/null -w '%{http_code} ' --interface 127.0.0.3 \
	    -H "X-Forwarded-For: 198.51.100.$i" -H "X-Real-IP: 198.51.100.$i" \
	    -H "Forwarded: for=198.51.100.$i" "$HL_URL/healthz?$i"
done
got=$(curl "$@")
t_is "X-Forwarded-For does not split one peer's bucket (burst 3, then 429)" \
    "$got" "200 200 200 429 429 "
scrape 127.0.0.11
t_ok "the 429s are counted under the read bucket" test \
    "$(metric 'helios_rate_limited_total{limit="read"}')" -ge 2
t_is "another peer has its own bucket" "$(curl -s -o /dev/null \
    -w '%{http_code}' --interface 127.0.0.4 "$HL_URL/healthz")" 200
t_ok "the address a header claims is never logged" \
    sh -c "! grep -q '198\.51\.100' '$D/daemon.log'"
hl_daemon_stop
t_done
