#!/usr/bin/env python3
"""A TCP forwarder that counts the bytes clients send (the git tests and bench).

    python3 byteproxy.py LISTEN_PORT TARGET_PORT COUNTER_FILE

Listens on 127.0.0.1:LISTEN_PORT, forwards each connection to
127.0.0.1:TARGET_PORT, and keeps the total of bytes received from clients
(requests and pushed packs) in COUNTER_FILE, rewritten after each chunk.
"""
import os
import socket
import sys
import threading

lport, tport, counter = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
total = 0


def count(n):
    global total
    with lock:
        total += n
        tmp = counter + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % total)
        os.replace(tmp, counter)


def pipe(src, dst, counting):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if counting:
                count(len(b))
            dst.sendall(b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    count(0)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", tport))
        for sock in (c, s):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pipe, args=(c, s, True), daemon=True).start()
        threading.Thread(target=pipe, args=(s, c, False), daemon=True).start()


main()
