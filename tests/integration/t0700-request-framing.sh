#!/bin/sh
# Requests whose framing is ambiguous are refused with 400 and the
# connection is closed (RFC 9112 sections 5.1 and 6.3): no authenticated
# request can hide in a body and be run as the next request.  Raw sockets,
# since curl will not send such requests.
. tests/lib.sh
D=$(hl_tmp)
hl_daemon_start "$D" || exit 1
$PY - "$HL_PORT" "$HL_ADMIN" >"$D/out" 2>&1 <<'PY'
import json, socket, sys, time, urllib.request
port, tok = int(sys.argv[1]), sys.argv[2]
n = 0

def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond and detail:
        print("#   " + repr(detail)[:300])

def exchange(raw, wait=3.0):
    """Sends raw, reads until the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    s.sendall(raw)
    out, closed = b"", False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed

def hidden(pat):
    body = json.dumps({"pattern": pat}).encode()
    return (b"POST /blacklists/watch-keyword HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + tok.encode() + b"\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body

def listed(pat):
    with urllib.request.urlopen("http://127.0.0.1:%d/blacklists/"
                                "watch-keyword" % port) as r:
        return any(i["text_pattern"] == pat
                   for i in json.load(r)["items"])

cases = [
    ("two different Content-Length fields",
     lambda h: b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
               b"Content-Length: %d\r\n\r\n" % len(h) + h),
    ("Content-Length with a space before the colon",
     lambda h: b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : %d"
               b"\r\n\r\n" % len(h) + h),
    ("Content-Length with Transfer-Encoding: chunked",
     lambda h: b"POST /blacklists/watch-keyword HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nContent-Length: 5\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + h),
]
for i, (what, make) in enumerate(cases):
    pat = "smuggled-%d\\.example" % i
    out, closed = exchange(make(hidden(pat)))
    ok(out.startswith(b"HTTP/1.1 400 "), what + " is answered 400", out)
    ok(closed and out.count(b"HTTP/1.1 ") == 1,
       what + ": the connection is closed after one answer", out)
    ok(not listed(pat), what + ": the request behind it did not run")

out, closed = exchange(b"GET /healthz HTTP/1.1\r\n\r\n")
ok(out.startswith(b"HTTP/1.1 400 ") and closed,
   "an HTTP/1.1 request without Host is answered 400", out)
out, closed = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"X-Note: a\x00b\r\n\r\n")
ok(out.startswith(b"HTTP/1.1 400 ") and closed,
   "a NUL inside a header value is answered 400", out)
out, closed = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"X-Note: a\x00b\r\nX-Other: c\r\n\r\n")
ok(out.startswith(b"HTTP/1.1 400 ") and closed,
   "a NUL inside a header value followed by more fields is answered 400",
   out)
out, closed = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: gzip\r\n\r\n")
ok(out.startswith(b"HTTP/1.1 501 ") and closed,
   "a transfer coding other than chunked is answered 501", out)
out, closed = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"X-Pad:   spaced value  \r\nX-Empty:\r\n\r\n")
ok(out.startswith(b"HTTP/1.1 200 ") and not closed,
   "well-formed fields with spaces and an empty value are taken", out)

# A chunked body over the limit is refused when it crosses the limit:
# the server stops reading long before the client has sent 64 MiB.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /blacklists/watch-keyword HTTP/1.1\r\nHost: x\r\n"
          b"Authorization: Bearer " + tok.encode() + b"\r\n"
          b"Content-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
sent, refused = 0, False
s.settimeout(5)
t0 = time.time()
try:
    while sent < 64 << 20 and time.time() - t0 < 60:
        s.sendall(chunk)
        sent += 65536
except (BrokenPipeError, ConnectionResetError, socket.timeout):
    refused = True
s.close()
ok(refused and sent < 16 << 20,
   "a chunked body over the limit is cut off near the limit",
   "sent %d bytes" % sent)
PY
cat "$D/out"
T_N=$(grep -cE '^(not )?ok ' "$D/out")
T_FAIL=$(grep -c '^not ok ' "$D/out")
t_ok "the daemon still answers" curl -sf "$HL_URL/healthz"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
