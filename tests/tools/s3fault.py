#!/usr/bin/env python3
# s3fault.py: a fault-injecting HTTP proxy in front of the S3 test server.
#
#   python3 s3fault.py UPSTREAM_PORT
#
# Listens on a free port of 127.0.0.1, prints that port on one line, and
# forwards every request unchanged (Host header included, so SigV4
# signatures still verify upstream) to 127.0.0.1:UPSTREAM_PORT.
#
# Control requests, answered by the proxy itself:
#   GET /__fault/set?skip=K&fail=N&status=503&code=SlowDown&mode=error
#       let K requests through, then fail the next N: mode "error" answers
#       status with an S3 XML error body carrying code; "drop" closes the
#       connection in the middle of an answer (a server restarted
#       mid-request);
#       "hang" holds the request without answering for up to 30 seconds.
#   GET /__fault/stats
#       "requests=R failed=F puts=P maxflight=M put_bytes=B" since the
#       last /__fault/reset (M: the most requests in flight at once; B:
#       the body bytes of the PUTs).
#   GET /__fault/reset
#       clears counters and faults.
#
# It also emulates conditional writes, which s3rver ignores: it remembers
# the ETag of every object written through it, and answers a PUT whose
# If-Match names another ETag with 412 PreconditionFailed.
import http.client
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

UPSTREAM = int(sys.argv[1])
lock = threading.Lock()
state = {"skip": 0, "fail": 0, "status": 503, "code": "SlowDown",
         "mode": "error", "requests": 0, "failed": 0, "puts": 0,
         "inflight": 0, "maxflight": 0, "put_bytes": 0}
etags = {}


def reset():
    state.update(skip=0, fail=0, status=503, code="SlowDown", mode="error",
                 requests=0, failed=0, puts=0, maxflight=0, put_bytes=0)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def control(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with lock:
            if u.path == "/__fault/set":
                for k in ("skip", "fail", "status"):
                    if k in q:
                        state[k] = int(q[k])
                for k in ("code", "mode"):
                    if k in q:
                        state[k] = q[k]
                self.reply(200, "ok\n")
            elif u.path == "/__fault/reset":
                reset()
                self.reply(200, "ok\n")
            else:
                self.reply(200, "requests=%d failed=%d puts=%d "
                           "maxflight=%d put_bytes=%d\n" % (
                               state["requests"], state["failed"],
                               state["puts"], state["maxflight"],
                               state["put_bytes"]))

    def handle_any(self):
        if self.path.startswith("/__fault/"):
            self.control()
            return
        with lock:
            state["inflight"] += 1
            state["maxflight"] = max(state["maxflight"], state["inflight"])
        try:
            self.forward()
        finally:
            with lock:
                state["inflight"] -= 1

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        key = urllib.parse.urlsplit(self.path).path
        with lock:
            state["requests"] += 1
            if self.command == "PUT":
                state["puts"] += 1
                state["put_bytes"] += len(body)
            fault = None
            if state["skip"] > 0:
                state["skip"] -= 1
            elif state["fail"] > 0:
                state["fail"] -= 1
                state["failed"] += 1
                fault = (state["mode"], state["status"], state["code"])
            ifm = self.headers.get("If-Match")
            if (fault is None and self.command == "PUT" and ifm and
                    key in etags and etags[key] != ifm):
                fault = ("error", 412, "PreconditionFailed")
        if fault:
            mode, status, code = fault
            if mode == "drop":
                # Headers promising a body, then the connection closes.
                self.wfile.write(b"HTTP/1.1 200 OK\r\n"
                                 b"Content-Length: 1000\r\n\r\nabc")
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "hang":
                time.sleep(30)
                self.close_connection = True
                return
            self.reply(status, '<?xml version="1.0" encoding="UTF-8"?>\n'
                       "<Error><Code>%s</Code><Message>injected</Message>"
                       "</Error>" % code, "application/xml")
            return
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        conn.putrequest(self.command, self.path, skip_host=True,
                        skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("expect", "connection"):
                conn.putheader(k, v)
        conn.endheaders(body if n else None)
        r = conn.getresponse()
        data = r.read()
        if self.command == "PUT" and 200 <= r.status < 300:
            with lock:
                etags[key] = r.getheader("ETag")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "keep-alive",
                                 "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
