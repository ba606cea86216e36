#!/usr/bin/env python3
"""A mirror that attacks helios pull, for tests/integration/t0620.

    python3 tests/tools/hostile_mirror.py PORT [BOMB_MIB]

Listens on 127.0.0.1:PORT.  The first path component picks the attack, so
one server serves them all: http://127.0.0.1:PORT/<mode>/manifest.json.
Every manifest is well formed and unexpired; what is wrong is what a
client must not trust:

  good        one list, bad_keywords.txt, nothing wrong (the control case)
  name        blacklist-keyword's file is "findspam.py", hashes consistent
  dup         two lists name the same file
  dupid       one list id twice
  unknown     a good list and an unknown id "x-files" naming findspam.py
  objpath     the list's object path climbs out of the tree
  huge        the list claims 4e9 bytes and its body never ends
  endless     the list claims 1 MB and its body, a valid gzip stream of
              random bytes, never ends
  bomb        BOMB_MIB MiB of zeros as a gzip of a few KB per MiB, with
              consistent hashes and sizes
  bomb-lie    the same gzip, claiming to inflate to 1000 bytes
  big         a 60 MiB list of random bytes, no gzip, consistent hashes
  man-endless manifest.json itself never ends
  man-bomb    manifest.json sent as Content-Encoding: gzip of zeros
  seg-path    version 8, whose changes.json names a segment out of the tree
  seg-flood   version 8: a 60 MiB list, and a change segment of 1 MiB
              padded with empty objects (for a client at version 7)
  man-flood   a good manifest padded to just under 1 MiB with an array
              of empty objects, cheap to send, dear to parse

Each request's path is printed to stdout, one a line.
"""
import gzip
import hashlib
import json
import os
import sys
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOMB_MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 256
CHUNK = 1 << 20


def sha(b):
    return hashlib.sha256(b).hexdigest()


def make_bomb(mib):
    """gzip of mib MiB of zeros, its sha256 and the zeros' sha256."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    h = hashlib.sha256()
    zero = bytes(CHUNK)
    parts = []
    for _ in range(mib):
        h.update(zero)
        parts.append(z.compress(zero))
    parts.append(z.flush())
    gz = b"".join(parts)
    return gz, h.hexdigest(), mib * CHUNK


GOOD = b"spam-from-the-hostile-mirror\\.example\n"
PWNED = b"print('pwned')\n"
BOMB = None
BIG = None
SEG_FLOOD = b'{"from": 8, "to": 8, "events": [' + b"{}," * 349000 + b"{}]}"


def changes(mode):
    """changes.json of version 8: one segment, 8-8."""
    if mode == "seg-path":
        seg = {"path": "changes/../../../../etc/passwd",
               "sha256": sha(b"x"), "bytes": 1, "from": 8, "to": 8}
    else:
        seg = entry("changes/8-8.json", SEG_FLOOD, gz=False)
        seg.update({"from": 8, "to": 8})
    return json.dumps({"version": 8, "oldest": 1,
                       "segments": [seg]}).encode()


def entry(path, data=None, gz=True, claim=None):
    """A manifest file entry for data (or for a claimed sha and size)."""
    if claim is not None:
        e = {"path": path, "sha256": claim[0], "bytes": claim[1]}
        if gz:
            e["gz"] = {"path": path + ".gz", "sha256": claim[2],
                       "bytes": claim[3]}
        return e
    e = {"path": path, "sha256": sha(data), "bytes": len(data)}
    if gz:
        g = gzip.compress(data, mtime=0)
        e["gz"] = {"path": path + ".gz", "sha256": sha(g), "bytes": len(g)}
    return e


def lst(lid, fname, text, fmt="plain"):
    return {"id": lid, "file": fname, "format": fmt, "text": text,
            "json": text.replace(".txt", ".json"), "version": 1, "count": 1}


def manifest(mode):
    T = "lists/blacklist-keyword.txt"
    W = "lists/blacklist-website.txt"
    files = [entry(T, GOOD)]
    lists = [lst("blacklist-keyword", "bad_keywords.txt", T)]
    if mode == "name":
        files = [entry(T, PWNED)]
        lists = [lst("blacklist-keyword", "findspam.py", T)]
    elif mode == "dup":
        files.append(entry(W, PWNED))
        lists.append(lst("blacklist-website", "bad_keywords.txt", W))
    elif mode == "dupid":
        files.append(entry(W, PWNED))
        lists.append(lst("blacklist-keyword", "bad_keywords.txt", W))
    elif mode == "unknown":
        X = "lists/x-files.txt"
        files.append(entry(X, PWNED))
        lists.append(lst("x-files", "findspam.py", X))
    elif mode == "objpath":
        files[0]["object"] = "../../../../etc/passwd"
    elif mode == "huge":
        files = [entry(T, claim=("0" * 64, 4000000000, "0" * 64,
                                 4000000000))]
    elif mode == "endless":
        files = [entry(T, claim=("0" * 64, 2000000, "0" * 64, 1000000))]
    elif mode == "bomb":
        gz, idsha, n = BOMB
        files = [entry(T, claim=(idsha, n, sha(gz), len(gz)))]
    elif mode == "bomb-lie":
        gz, idsha, n = BOMB
        files = [entry(T, claim=(sha(bytes(1000)), 1000, sha(gz),
                                 len(gz)))]
    elif mode == "big":
        files = [entry(T, BIG, gz=False)]
    elif mode in ("seg-path", "seg-flood"):
        files = [entry("changes.json", changes(mode), gz=False),
                 entry(T, BIG if mode == "seg-flood" else PWNED,
                       gz=False)]
    now = int(time.time())
    version = 8 if mode.startswith("seg-") else 7
    m = json.dumps({"format": 1, "version": version, "generated_at": now,
                    "expires_at": now + 3600, "poll_interval": 60,
                    "previous": None, "files": files,
                    "lists": lists}).encode()
    if mode == "man-flood":
        n = ((1 << 20) - len(m) - 64) // 3
        m = m[:-1] + b', "x": [' + b"{}," * n + b"{}]}"
    return m


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def endless(self, chunk):
        """Writes chunk for ever, with no Content-Length."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        try:
            while True:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def endless_gzip(self):
        """A gzip stream that never ends, each piece flushed."""
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        chunk = os.urandom(65536)
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.end_headers()
        try:
            while True:
                self.wfile.write(z.compress(chunk) +
                                 z.flush(zlib.Z_SYNC_FLUSH))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send(self, body, ctype="application/octet-stream", enc=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if enc:
            self.send_header("Content-Encoding", enc)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        print(self.path, flush=True)
        parts = self.path.lstrip("/").split("/", 1)
        if len(parts) != 2:
            self.send_error(404)
            return
        mode, rest = parts
        if rest == "manifest.json":
            if mode == "man-endless":
                self.endless(b'{"files": [' * 4096)
            elif mode == "man-bomb":
                self.send(BOMB[0], "application/json", "gzip")
            else:
                self.send(manifest(mode), "application/json")
            return
        if rest == "changes.json" and mode.startswith("seg-"):
            self.send(changes(mode), "application/json")
            return
        if rest == "changes/8-8.json" and mode == "seg-flood":
            self.send(SEG_FLOOD, "application/json")
            return
        if not rest.startswith("lists/"):
            self.send_error(404)
            return
        if mode == "huge":
            self.endless(os.urandom(65536))
        elif mode == "endless":
            self.endless_gzip()
        elif mode in ("bomb", "bomb-lie"):
            self.send(BOMB[0])
        elif mode in ("big", "seg-flood"):
            self.send(BIG)
        else:
            data = PWNED if (mode == "name" or "website" in rest or
                             "x-files" in rest) else GOOD
            self.send(gzip.compress(data, mtime=0)
                      if rest.endswith(".gz") else data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    BOMB = make_bomb(BOMB_MIB)
    BIG = os.urandom(60 << 20)
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()
