#!/bin/sh
# The git pages target at real size: commit + push time per publish over
# local smart HTTP (nginx + git-http-backend), and how much the repository
# grows per 1,000 single-pattern changes after `git gc`.
#
#   sh tests/bench/git.sh HELIOS REALDIR
#
# REALDIR holds db.sqlite at real size (run.sh makes it).  Figures only.
HELIOS_BIN=$1
R=$2
. tests/lib.sh
W=$(hl_tmp)
cp "$R/db.sqlite" "$W/db.sqlite"

# 1. publish latency over smart HTTP: each POST waits for the git target.
G=$W/git
mkdir -p "$G"
port=$(sh tests/tools/git-http.sh start "$G" bench secret) || exit 1
export HELIOS_GIT_USERNAME=bench HELIOS_GIT_PASSWORD=secret
export HELIOS_GIT_CACHE="$W/cache"
hl_daemon_start "$W" --target "git+http://127.0.0.1:$port/pages.git" || exit 1
gitv() {
	curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
print([t for t in json.load(sys.stdin)["targets"] if t["kind"] == "git"][0]["version"])'
}
n=0
while [ "$(gitv)" -lt "$(curl -s "$HL_URL/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')" ]; do
	n=$((n + 1)); [ $n -gt 600 ] && break; sleep 0.2
done
$PY - "$HL_URL" "$HL_ADMIN" <<'PY'
import json, sys, time, urllib.request
url, tok = sys.argv[1], sys.argv[2]
def git_version():
    h = json.load(urllib.request.urlopen(url + "/healthz"))
    return [t for t in h["targets"] if t["kind"] == "git"][0]
lat, pub = [], []
for i in range(20):
    body = json.dumps({"pattern": "git-bench-%d\\.example" % i}).encode()
    rq = urllib.request.Request(url + "/blacklists/watch-keyword", body,
        {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    t0 = time.monotonic()
    v = json.load(urllib.request.urlopen(rq))["version"]
    while True:
        t = git_version()
        if t["version"] >= v:
            break
        time.sleep(0.002)
    lat.append((time.monotonic() - t0) * 1e3)
    pub.append(t["last_publish_ms"])
lat.sort(); pub.sort()
print("%-34s %9s %9s %9s" % ("smart HTTP, real size", "p50 ms", "p90 ms", "max ms"))
print("%-34s %9.0f %9.0f %9.0f" % ("POST -> pushed", lat[10], lat[18], lat[-1]))
print("%-34s %9.0f %9.0f %9.0f" % ("build + commit + push (publisher)", pub[10], pub[18], pub[-1]))
PY
hl_daemon_stop
sh tests/tools/git-http.sh stop "$G"

# 2. growth: 1,000 single-pattern changes, published to a bare repository.
B=$W/pages.git
git init -q --bare "$B"
cp "$R/db.sqlite" "$W/db2.sqlite"
D2=$W/d2
mkdir -p "$D2"
mv "$W/db2.sqlite" "$D2/db.sqlite"
hl_daemon_start "$D2" --target "git+file://$B#gh-pages" || exit 1
n=0
while [ "$(git --git-dir="$B" rev-list --count gh-pages 2>/dev/null || echo 0)" -lt 1 ]; do
	n=$((n + 1)); [ $n -gt 600 ] && break; sleep 0.2
done
git --git-dir="$B" gc -q 2>/dev/null
size0=$(du -sb "$B" | cut -f1)
c0=$(git --git-dir="$B" rev-list --count gh-pages)
$PY - "$HL_URL" "$HL_ADMIN" <<'PY'
import json, sys, time, urllib.request
url, tok = sys.argv[1], sys.argv[2]
for i in range(1000):
    body = json.dumps({"pattern": "growth-%d\\.example" % i}).encode()
    rq = urllib.request.Request(url + "/blacklists/watch-keyword", body,
        {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    v = json.load(urllib.request.urlopen(rq))["version"]
    time.sleep(0.05)	# a change every 50 ms or so: a busy day's burst
while True:
    h = json.load(urllib.request.urlopen(url + "/healthz"))
    if all(t["version"] >= h["version"] for t in h["targets"]):
        break
    time.sleep(0.2)
PY
hl_daemon_stop
git --git-dir="$B" gc -q 2>/dev/null
size1=$(du -sb "$B" | cut -f1)
c1=$(git --git-dir="$B" rev-list --count gh-pages)
echo
printf '%-34s %12s %9s %14s\n' "bare repository, after git gc" "bytes" "commits" "bytes/change"
printf '%-34s %12d %9d %14s\n' "start (real size)" "$size0" "$c0" "-"
printf '%-34s %12d %9d %14d\n' "after 1,000 changes" "$size1" "$c1" \
    "$(((size1 - size0) / 1000))"
