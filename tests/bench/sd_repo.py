#!/usr/bin/env python3
"""Writes a git fast-import stream of a SmokeDetector-like list history.

    python3 tests/bench/sd_repo.py COMMITS BASE | git -C REPO fast-import

COMMITS commits on master, each by the bot or a person: 80% append a
watched keyword (tsv), 10% a blacklisted keyword, 10% a website; one in
twenty removes a line instead.  The lists start with BASE, BASE/10 and
BASE/10 lines.  Deterministic (seeded), so runs compare.
"""
import random
import sys

commits, base = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
random.seed(1)
files = {
    "watched_keywords.txt": ["%d\tuser%d\tkw%d\\.example" % (1500000000 + i, i % 50, i)
                             for i in range(base)],
    "bad_keywords.txt": ["bad%d" % i for i in range(base // 10)],
    "blacklisted_websites.txt": ["site%d\\.com" % i for i in range(base // 10)],
}


def data(b):
    out.write(b"data %d\n" % len(b))
    out.write(b)


t = 1500000000
for c in range(commits):
    t += 60
    r = random.random()
    f = ("watched_keywords.txt" if r < 0.8 else
         "bad_keywords.txt" if r < 0.9 else "blacklisted_websites.txt")
    lines = files[f]
    if random.random() < 0.05 and lines:
        del lines[random.randrange(len(lines))]
    elif f == "watched_keywords.txt":
        lines.append("%d\tuser%d\tnew%d\\.example" % (t, c % 50, c))
    else:
        lines.append("new%d" % c)
    out.write(b"commit refs/heads/master\n")
    out.write(b"author SmokeDetector <bot@example.com> %d +0000\n" % t)
    out.write(b"committer SmokeDetector <bot@example.com> %d +0000\n" % t)
    data(b"Auto watch of new%d by user%d" % (c, c % 50))
    names = files if c == 0 else [f]
    for g in names:
        out.write(b"M 100644 inline %s\n" % g.encode())
        data(("\n".join(files[g]) + "\n").encode())
    out.write(b"\n")
