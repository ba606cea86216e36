#!/usr/bin/env python3
"""A server that answers every GET with one status, for client failure tests.

    python3 tests/tools/http_status.py PORT [STATUS] [RETRY_AFTER]

Listens on 127.0.0.1:PORT and answers every request with STATUS (default
500) and a short text body, adding a Retry-After header when RETRY_AFTER is
given.  Each request's method and path are printed to stdout, one a line,
so a test can count them.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    status = 500
    retry_after = None

    def answer(self, body):
        self.send_response(self.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.retry_after is not None:
            self.send_header("Retry-After", self.retry_after)
        self.end_headers()
        return body

    def do_GET(self):
        print(self.command, self.path, flush=True)
        self.wfile.write(self.answer(b"status %d\n" % self.status))

    def do_HEAD(self):
        print(self.command, self.path, flush=True)
        self.answer(b"")

    def log_message(self, fmt, *args):
        pass


def main():
    port = int(sys.argv[1])
    Handler.status = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    Handler.retry_after = sys.argv[3] if len(sys.argv) > 3 else None
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
