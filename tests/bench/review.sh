#!/bin/sh
# Review benchmark (a section of tests/bench/run.sh; figures, no
# assertions): sh tests/bench/review.sh HELIOS WORKDIR
#
#   1. the checks at real size: a pattern checked against 40,000 watched
#      keywords and a 10 MB generated ham corpus.  "cold" is the first
#      check after the list changed (every pattern of the list compiled
#      again), "warm" a proposal (the list has not changed);
#   2. proposal-to-published: from the answer to POST .../approve to
#      manifest.json over HTTP naming that version.
. tests/lib.sh
HELIOS=$1
W=$2/review
SAMPLE=$(hl_samples 2>/dev/null || echo ../shared/data/smokedetector-sample)
mkdir -p "$W/in"
cp "$SAMPLE"/*.txt "$SAMPLE"/*.yml "$W/in/"
awk -F '\t' 'NF == 3 { l[n++] = $0 }
    END {
	for (k = 0; k * n < 40000; k++)
		for (i = 0; i < n && k * n + i < 40000; i++) {
			if (k == 0) { print l[i]; continue }
			split(l[i], f, "\t")
			printf "%s\t%s\t%s|helios-bench-%d-%d\n", \
			    f[1], f[2], f[3], k, i
		}
    }' "$SAMPLE/watched_keywords.txt" >"$W/in/watched_keywords.txt"
python3 - "$W/ham.txt" <<'PY'
import random, sys
r = random.Random(7)
words = ("the a to of and in is it you that for on with this how my do can "
         "what use file code error python java function value list array "
         "string server database query thanks answer question example test "
         "build install version windows linux android class method object "
         "data page user time work help please why when number return loop "
         "https://stackoverflow.com/questions docs.python.org github.com").split()
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 10 * 1024 * 1024:
        line = " ".join(r.choice(words) for _ in range(r.randint(5, 40)))
        f.write(line + "\n")
        n += len(line) + 1
PY
"$HELIOS" import --db "$W/db.sqlite" "$W/in" >/dev/null || exit 1
PROP=$("$HELIOS" token create bench-bot --scope propose --db "$W/db.sqlite" | tail -1)
APPR=$("$HELIOS" token create bench-reviewer --scope approve --db "$W/db.sqlite" | tail -1)
printf 'review_lists = blacklist-*\nham_corpus = %s\n' "$W/ham.txt" >"$W/helios.conf"
hl_daemon_start "$W" --config "$W/helios.conf" || exit 1
python3 - "$HL_URL" "$HL_ADMIN" "$PROP" "$APPR" "$W/ham.txt" <<'PY'
import json, sys, time, urllib.request
url, admin, prop, appr, ham = sys.argv[1:]

def call(method, path, tok, body=None):
    data = json.dumps(body).encode() if body is not None else None
    rq = urllib.request.Request(url + path, data=data, method=method,
        headers={"Authorization": tok, "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(rq) as r:
            out = json.load(r)
    except urllib.error.HTTPError as e:
        out = json.load(e)
    return out, (time.perf_counter() - t0) * 1e3

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]

lines = sum(1 for _ in open(ham, "rb"))
n = call("GET", "/blacklists", admin)[0]["items"]
wk = [l["count"] for l in n if l["id"] == "watch-keyword"][0]
print(f"list: watch-keyword, {wk} items; ham corpus: {lines} lines, "
      f"{sum(len(l) for l in open(ham, 'rb')) / 1e6:.1f} MB")
print("%-34s %4s %9s %9s %9s %9s %9s" % ("case", "n", "check p50",
      "check max", "cover p50", "ham p50", "POST p50"))
def row(name, res):
    cks = [r[0].get("checks", r[0].get("items", [{}])[0].get("checks", {}))
           for r in res]
    ck = [c.get("ms", 0) for c in cks]
    print("%-34s %4d %9.1f %9.1f %9.1f %9.1f %9.1f" % (name, len(res),
          pct(ck, .5), max(ck),
          pct([c.get("covered", {}).get("ms", 0) for c in cks], .5),
          pct([c.get("ham", {}).get("ms", 0) for c in cks], .5),
          pct([r[1] for r in res], .5)))
# Cold: direct writes by the admin asking for the full checks; each
# changes the list.
res = [call("POST", "/blacklists/watch-keyword", admin,
            {"pattern": f"bench-direct-{i}-spam\\.example", "checks": "full"})
       for i in range(5)]
row("cold (direct write, full checks)", res)
res = [call("POST", "/blacklists/watch-keyword", admin,
            {"pattern": f"bench-gates-{i}-spam\\.example"}) for i in range(20)]
row("direct write, gates (the default)", res)
res = [call("POST", "/blacklists/watch-keyword", prop,
            {"pattern": f"bench-proposal-{i}-[a-z]+\\.example",
             "requester": "bench"}) for i in range(20)]
row("warm (proposal, list unchanged)", res)
print("(check: all the checks, as reported; cover: the 40k patterns of the list")
print(" against the value, with the cache; ham: the corpus against the pattern;")
print(" POST: the whole request; the first cold one reads and compiles the list)")

print()
print("%-34s %6s %9s %9s %9s" % ("proposal-to-published (ms)", "n", "p50",
      "p90", "max"))
lat = []
for i in range(20):
    p, _ = call("POST", "/blacklists/blacklist-website", prop,
                {"pattern": f"bench-approve-{i}\\.example", "requester": "b"})
    d, _ = call("POST", f"/proposals/{p['proposal']}/approve", appr,
                {"by": "reviewer"})
    t0 = time.perf_counter()
    while True:
        with urllib.request.urlopen(url + "/manifest.json") as r:
            if json.load(r)["version"] >= d["version"]:
                break
        time.sleep(0.0005)
    lat.append((time.perf_counter() - t0) * 1e3)
print("%-34s %6d %9.1f %9.1f %9.1f" % ("approve answered -> manifest",
      len(lat), pct(lat, .5), pct(lat, .9), max(lat)))
PY
hl_daemon_stop
