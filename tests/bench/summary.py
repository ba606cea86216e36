#!/usr/bin/env python3
"""summary.py: the one-page summary that ends `make bench`.

    python3 tests/bench/summary.py FACTS "SECTIONS RUN"

FACTS is the file the sections appended their figures to while they ran,
one "key<TAB>value" line each (BENCH_SUMMARY in run.sh; bench_fact of
summary.sh in the shell scripts, a few lines of their own in the Python
and C parts).  A key written twice keeps its last value.  Each row below
takes a measure and what it is compared with from the same run, their
ratio, and the goal, met or not met.  Section 1's figures (write.*) are
run.sh's medians over its BENCH_WRITE_ROUNDS rounds, each figure its own
median, so a ratio here is a ratio of medians.  A row whose section was not in
BENCH_ONLY says "not run"; one whose section ran without giving its
figures (a tool missing, a step failed: its own table says why) says
"no figure".

Goals given in words are read so:
  - POST -> visible: visible.c's time from the POST's answer until
    manifest.json over HTTP names its version (written after the lists,
    so lists/watch-keyword.txt then holds the pattern);
  - bytes written per change "proportional to the change plus the text
    file" (the text file SmokeDetector reads stays one whole file): at
    most 1.5x the text file's size, i.e. the text file, its gzip and the
    change's own segment and index, not a rewrite of every form of the
    list (4.6x before segments);
  - the directory's growth "bounded by count and bytes": over all of
    change.sh's changes (more than the 64 versions kept), at most 1.1x
    64 versions of the growth per change, or the byte limit;
  - "same p50" with and without a target: within 10%.
"""
import sys

# (section, measure, value key, compared with, compare key, test, goal,
#  divisor): test "ratio" puts value / compare against the goal, "value"
# the value itself; both are divided by divisor for display (B -> MB).
ST = [("static", "%s, %s conns (req/s)" % (name, c), "static.%s.%s.helios"
       % (k, c), "nginx, same tree", "static.%s.%s.nginx" % (k, c),
       "ratio", ">= 1.0", 1)
      for k, name in (("list304", "304 GET of a list"),
                      ("small", "200 gzip, small list"),
                      ("large", "200 gzip, large list"),
                      ("manifest", "manifest.json, gzip"))
      for c in (32, 256)]
ROWS = ST + [
    ("visible", "POST -> visible over HTTP, real size, p50 ms",
     "visible.real.vis_p50", "the POST's own p50 ms",
     "visible.real.post_p50", "value", "< 10", 1),
    ("visible", "MB written per one-item change",
     "change.this.written", "watch-keyword.txt MB",
     "change.this.txt_bytes", "ratio", "<= 1.5", 1e6),
    ("visible", "published dir growth, %s changes, MB",
     "change.this.dir_growth", "retain bound MB",
     "change.this.dir_bound", "ratio", "<= 1.1", 1e6),
    ("git", "git publish, smart HTTP, push p50 ms", "git.push_p50.helios",
     "git push, same commit", "git.push_p50.cli", "ratio", "<= 1.0", 1),
    ("git", "git repo growth/change after gc, B", "git.growth.helios",
     "git push, same commits", "git.growth.cli", "ratio", "<= 2.0", 1),
    ("visible", "S3 MB PUT per watch-keyword change",
     "s3.put_bytes", "the changed MB", "s3.changed_bytes", "ratio",
     "<= 1.2", 1e6),
    ("gen", "full publish of %s items, wall ms", "gen.publish.wall_ms",
     "gzip -6, same bytes", "gen.gzip.wall_ms", "ratio", "<= 0.5", 1),
    ("gen", "full publish of %s items, peak RSS MB", "gen.publish.rss_mb",
     "gzip -6's peak RSS MB", "gen.gzip.rss_mb", "value", "< 64", 1),
    ("write", "writes, 1 client, target on, p50 ms", "write.on.1.p50",
     "no target, p50 ms", "write.off.1.p50", "ratio", "<= 1.1", 1),
    ("write", "writes, 8 clients, target on, p50 ms", "write.on.8.p50",
     "fsync bound p50 ms", "write.on.fsync.p50", "value", "< 2", 1),
    ("write", "writes/s, 8 clients, target on", "write.on.8.rate",
     "fsync bound writes/s", "write.on.fsync.rate", "ratio", ">= 3.0", 1),
]
# Filled into the measure's "%s" (sizes that vary with BENCH_BIG and
# BENCH_GIT_CHANGES).
NAME_KEYS = {"change.this.dir_growth": "change.this.changes",
             "gen.publish.wall_ms": "gen.publish.items",
             "gen.publish.rss_mb": "gen.publish.items"}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.2f" % v if abs(v) < 10 else "%.1f" % v


def met(x, goal):
    op, lim = goal.split()
    lim = float(lim)
    return {"<": x < lim, "<=": x <= lim, ">=": x >= lim,
            ">": x > lim}[op]


def main():
    facts = {}
    with open(sys.argv[1]) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            facts[k] = v
    ran = sys.argv[2].split()
    w = "%-44s %9s  %-22s %9s %7s %-9s %s"
    print((w % ("measure", "value", "compared with", "value", "ratio",
                "goal", "")).rstrip())
    for sec, name, vk, cname, ck, test, goal, div in ROWS:
        if "%s" in name:
            n = num(facts.get(NAME_KEYS[vk]))
            name = name % ("{:,.0f}".format(n) if n is not None else "N")
        v, c = num(facts.get(vk)), num(facts.get(ck))
        ratio = v / c if v is not None and c else None
        x = ratio if test == "ratio" else v
        if sec not in ran:
            verdict = "not run"
        elif x is None:
            verdict = "no figure"
        else:
            verdict = "met" if met(x, goal) else "NOT MET"
        print(w % (name, fmt(v / div if v is not None else None), cname,
                   fmt(c / div if c is not None else None),
                   fmt(ratio) + "x" if ratio is not None else "-",
                   goal + ("x" if test == "ratio" else ""), verdict))


main()
