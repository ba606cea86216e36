#!/bin/sh
# The git pages target at real size, side by side with git's own CLI.
#
#   sh tests/bench/git.sh HELIOS [REALDIR]
#
# The sample lists at real size (watched_keywords.txt grown to 38,642
# lines, 1.85 MB, as SmokeDetector's is; REALDIR is not used: run.sh's
# real-size database has 30,000).  One smart-HTTP server (nginx + fcgiwrap
# + git-http-backend, tests/tools/git-http.sh) with two repositories
# behind a byte-counting proxy (byteproxy.py):
#
#   pages.git  the daemon's git target publishes into it;
#   cli.git    each commit the target pushed is pushed again, by
#              `git push` from the target's cache, to this one: the same
#              commit, the same objects, over the same server.
#
# For 20 one-item changes (POST /blacklists/watch-keyword): the target's
# publish time (build + commit + push, the publisher's last_publish_ms)
# against the wall time of that `git push`, and the bytes each sent.  Then
# both repositories' growth per change after `git gc`, and the growth of
# a bare file:// target over 200 changes.  Figures only (the push p50s
# and the growths also go to run.sh's summary page).
HELIOS_BIN=$1
. tests/lib.sh
W=$(hl_tmp)
SAMPLE=$(hl_samples 2>/dev/null || echo ../shared/data/smokedetector-sample)
LINES=${BENCH_GIT_LINES:-38642}
CHANGES=${BENCH_GIT_CHANGES:-20}

# The sample files, watched_keywords.txt grown to LINES lines.
mkdir -p "$W/in" "$W/d"
cp "$SAMPLE"/*.txt "$SAMPLE"/*.yml "$W/in/"
awk -F '\t' -v want="$LINES" 'NF == 3 { l[n++] = $0 }
    END {
	for (out = 0; out < want; out++) {
		k = int(out / n); i = out % n
		if (k == 0) { print l[i]; continue }
		split(l[i], f, "\t")
		printf "%s\t%s\t%s|hb%d\n", f[1], f[2], f[3], out
	}
    }' "$SAMPLE/watched_keywords.txt" >"$W/in/watched_keywords.txt"
"$HELIOS" import --db "$W/d/db.sqlite" "$W/in" >/dev/null || exit 1
cp "$W/d/db.sqlite" "$W/db-file.sqlite"

G=$W/git
mkdir -p "$G"
gport=$(sh tests/tools/git-http.sh start "$G" bench secret) || exit 1
git init -q --bare "$G/root/cli.git"
git --git-dir="$G/root/cli.git" config http.receivepack true
pport=$(hl_port)
$PY tests/tools/byteproxy.py "$pport" "$gport" "$W/bytes" &
HL_PIDS="${HL_PIDS:-} $!"
n=0
until [ -s "$W/bytes" ] || [ $n -gt 50 ]; do sleep 0.1; n=$((n + 1)); done
export HELIOS_GIT_USERNAME=bench HELIOS_GIT_PASSWORD=secret
export HELIOS_GIT_CACHE="$W/cache"
hl_daemon_start "$W/d" --target "git+http://127.0.0.1:$pport/pages.git" ||
    exit 1
$PY - "$HL_URL" "$HL_ADMIN" "$W" "$G/root" "$pport" "$CHANGES" <<'PY'
import glob, json, os, subprocess, sys, time, urllib.request
url, tok, w, root, pport, changes = sys.argv[1:7]
changes = int(changes)

def health():
    return json.load(urllib.request.urlopen(url + "/healthz"))

def git_target():
    return [t for t in health()["targets"] if t["kind"] == "git"][0]

def sent():
    with open(os.path.join(w, "bytes")) as f:
        return int(f.read())

def head(repo):
    return subprocess.run(["git", "--git-dir", os.path.join(root, repo),
        "rev-parse", "gh-pages"], capture_output=True, text=True,
        check=True).stdout.strip()

def du(path):
    n = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            n += os.path.getsize(os.path.join(d, f))
    return n

def gc(repo):
    subprocess.run(["git", "--git-dir", os.path.join(root, repo), "gc",
        "-q"], check=True)
    return du(os.path.join(root, repo, "objects"))

for _ in range(3000):
    t = git_target()
    if t["version"] >= health()["version"]:
        break
    time.sleep(0.2)
cache = glob.glob(os.path.join(w, "cache", "*.git"))[0]
cli = "http://bench:secret@127.0.0.1:%s/cli.git" % pport

def cli_push(commit):
    t0 = time.monotonic()
    b0 = sent()
    subprocess.run(["git", "--git-dir", cache, "push", "-q", cli,
        commit + ":refs/heads/gh-pages"], check=True)
    ms = (time.monotonic() - t0) * 1e3
    time.sleep(0.05)
    return ms, sent() - b0

cli_push(head("pages.git"))
g0, c0 = gc("pages.git"), gc("cli.git")
hl_ms, hl_b, cli_ms, cli_b = [], [], [], []
for i in range(changes):
    body = json.dumps({"pattern": "git-bench-%d\\.example" % i}).encode()
    rq = urllib.request.Request(url + "/blacklists/watch-keyword", body,
        {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    b0 = sent()
    v = json.load(urllib.request.urlopen(rq))["version"]
    while True:
        t = git_target()
        if t["version"] >= v:
            break
        time.sleep(0.002)
    time.sleep(0.05)
    hl_ms.append(t["last_publish_ms"])
    hl_b.append(sent() - b0)
    ms, b = cli_push(head("pages.git"))
    cli_ms.append(ms)
    cli_b.append(b)
assert head("pages.git") == head("cli.git")
g1, c1 = gc("pages.git"), gc("cli.git")

def p50(v):
    return sorted(v)[len(v) // 2]

def p90(v):
    return sorted(v)[min(len(v) - 1, len(v) * 9 // 10)]

print("smart HTTP, %d one-item changes to a list of %s lines" %
      (changes, os.environ.get("BENCH_GIT_LINES", "38642")))
print("%-30s %12s %12s %8s" % ("", "helios", "git push", "ratio"))
print("%-30s %12.0f %12.0f %7.2fx" % ("push time p50 (ms)", p50(hl_ms),
      p50(cli_ms), p50(hl_ms) / p50(cli_ms)))
print("%-30s %12.0f %12.0f %7.2fx" % ("push time p90 (ms)", p90(hl_ms),
      p90(cli_ms), p90(hl_ms) / p90(cli_ms)))
print("%-30s %12d %12d %7.2fx" % ("bytes sent per push p50", p50(hl_b),
      p50(cli_b), p50(hl_b) / max(1, p50(cli_b))))
gh, gcl = (g1 - g0) / changes, (c1 - c0) / changes
print("%-30s %12.0f %12.0f %7.2fx" % ("growth/change after gc (B)", gh,
      gcl, gh / max(1, gcl)))
print("(helios: the publisher's build + commit + push; git push: the same"
      " commit from the target's cache, wall time)")
if os.environ.get("BENCH_SUMMARY"):	# run.sh's summary page
    with open(os.environ["BENCH_SUMMARY"], "a") as f:
        for k, v in (("push_p50.helios", p50(hl_ms)),
                     ("push_p50.cli", p50(cli_ms)),
                     ("growth.helios", gh), ("growth.cli", gcl)):
            f.write("git.%s\t%.1f\n" % (k, v))
PY
hl_daemon_stop
sh tests/tools/git-http.sh stop "$G"

# Growth of a file:// target: 200 single-pattern changes.
B=$W/pages.git
D2=$W/d2
mkdir -p "$D2"
mv "$W/db-file.sqlite" "$D2/db.sqlite"
git init -q --bare "$B"
hl_daemon_start "$D2" --target "git+file://$B#gh-pages" || exit 1
n=0
while [ "$(git --git-dir="$B" rev-list --count gh-pages 2>/dev/null ||
    echo 0)" -lt 1 ]; do
	n=$((n + 1)); [ $n -gt 600 ] && break; sleep 0.2
done
git --git-dir="$B" gc -q 2>/dev/null
size0=$(du -sb "$B/objects" | cut -f1)
c0=$(git --git-dir="$B" rev-list --count gh-pages)
$PY - "$HL_URL" "$HL_ADMIN" <<'PY'
import json, sys, time, urllib.request
url, tok = sys.argv[1], sys.argv[2]
for i in range(200):
    body = json.dumps({"pattern": "growth-%d\\.example" % i}).encode()
    rq = urllib.request.Request(url + "/blacklists/watch-keyword", body,
        {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    urllib.request.urlopen(rq).read()
    time.sleep(0.05)
while True:
    h = json.load(urllib.request.urlopen(url + "/healthz"))
    if all(t["version"] >= h["version"] for t in h["targets"]):
        break
    time.sleep(0.2)
PY
hl_daemon_stop
git --git-dir="$B" gc -q 2>/dev/null
size1=$(du -sb "$B/objects" | cut -f1)
c1=$(git --git-dir="$B" rev-list --count gh-pages)
echo
printf '%-34s %12s %9s %14s\n' "file:// target, after git gc" "bytes" \
    "commits" "bytes/commit"
printf '%-34s %12d %9d %14s\n' "start (real size)" "$size0" "$c0" "-"
printf '%-34s %12d %9d %14d\n' "after 200 changes" "$size1" "$c1" \
    "$(((size1 - size0) / (c1 - c0 > 0 ? c1 - c0 : 1)))"
