#!/usr/bin/env python3
"""Slow clients against a server on loopback, while /healthz is probed.

  slowloris.py PORT [--conns N] [--sources K] [--interval S] [--idle]
               [--duration S] [--probe-every S] [--probe-timeout S]

Opens N connections spread over K source addresses (127.0.0.10, .11, ...),
each sending one header line every S seconds and never ending its headers
(--idle: sending nothing at all).  A connection the server closes is opened
again at once, as a determined attacker would.  Meanwhile a probe from
127.0.0.1 asks GET /healthz on a new connection every --probe-every seconds.
Loopback only; every loop is bounded by --duration.

Prints one JSON object: probes, probe successes (status 200 within the
timeout), latency p50 / p99 / max in ms, attack connections opened and
closed by the server.
"""
import argparse
import errno
import json
import selectors
import socket
import threading
import time


def probe(port, every, timeout, stop, out):
    while not stop.is_set():
        t0 = time.monotonic()
        ok = False
        try:
            s = socket.socket()
            s.settimeout(timeout)
            s.bind(("127.0.0.1", 0))
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                d = s.recv(4096)
                if not d:
                    break
                data += d
            ok = data.startswith(b"HTTP/1.1 200")
            s.close()
        except OSError:
            ok = False
        ms = (time.monotonic() - t0) * 1000
        out.append((ok, ms))
        rest = every - (time.monotonic() - t0)
        if rest > 0:
            stop.wait(rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1100)
    ap.add_argument("--sources", type=int, default=110)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--idle", action="store_true")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--probe-every", type=float, default=1.0)
    ap.add_argument("--probe-timeout", type=float, default=5.0)
    a = ap.parse_args()
    if a.sources < 1 or a.sources > 240 or a.conns > 20000:
        raise SystemExit("sources 1..240, conns at most 20000")

    sel = selectors.DefaultSelector()
    slots = [None] * a.conns
    nexts = [0.0] * a.conns
    opened = closed = 0
    stop = threading.Event()
    results = []
    th = threading.Thread(target=probe, args=(a.port, a.probe_every,
                                              a.probe_timeout, stop, results))

    def open_slot(i):
        nonlocal opened
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind(("127.0.0.%d" % (10 + i % a.sources), 0))
            s.connect_ex(("127.0.0.1", a.port))
        except OSError:
            s.close()
            return
        slots[i] = [s, 0]
        sel.register(s, selectors.EVENT_READ, i)
        opened += 1

    def drop(i):
        nonlocal closed
        s = slots[i][0]
        sel.unregister(s)
        s.close()
        slots[i] = None
        closed += 1

    t_end = time.monotonic() + a.duration
    for i in range(a.conns):
        open_slot(i)
    th.start()
    while time.monotonic() < t_end:
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            try:
                d = key.fileobj.recv(4096)
            except OSError:
                d = b""
            if not d:
                drop(i)
        now = time.monotonic()
        for i in range(a.conns):
            if slots[i] is None:
                open_slot(i)
                continue
            if a.idle or now < nexts[i]:
                continue
            s, n = slots[i]
            line = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if n == 0
                    else b"X-Slow-%d: x\r\n" % n)
            try:
                s.send(line)
                slots[i][1] += 1
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ENOTCONN):
                    drop(i)
            nexts[i] = now + a.interval
    stop.set()
    th.join()
    for i in range(a.conns):
        if slots[i] is not None:
            slots[i][0].close()
    lat = sorted(ms for ok, ms in results if ok)

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) \
            if lat else None
    print(json.dumps({
        "probes": len(results),
        "ok": sum(1 for ok, _ in results if ok),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        "max_ms": round(lat[-1], 1) if lat else None,
        "attack_opened": opened, "attack_closed_by_server": closed,
    }))


main()
