#!/bin/sh
# s3.sh HELIOS: what one one-item change to watch-keyword uploads to the
# S3 target at real size.
#
# The lists of realdata.sh (watch-keyword 57k items, 1.9 MB); the daemon
# publishes them to the S3 test server (tests/tools/s3rver.sh) through
# the counting proxy tests/tools/s3fault.py.  After its start-up publish,
# BENCH_S3_CHANGES (default 5) one-item changes, each waited for until
# every target has published it: the body bytes the target PUT for it
# (s3fault.py's put_bytes; a server-side copy sends none), beside the
# changed bytes: the size of each content the bucket holds after the
# change and held under no key before, counted once (an object and a
# list file with the same bytes are one content).  Prints one row, the
# means per change; they also go to run.sh's summary page (summary.py).
# Figures only.
HELIOS_BIN=$1
. tests/lib.sh
CHANGES=${BENCH_S3_CHANGES:-5}
D=$(hl_tmp)
S3_PID=""
PX_PID=""
trap '[ -n "$PX_PID" ] && kill "$PX_PID" 2>/dev/null;
    [ -n "$S3_PID" ] && sh tests/tools/s3rver.sh stop "$S3_PID"; hl_cleanup' \
    EXIT

sh tests/bench/realdata.sh "$D/in" || exit 1
"$HELIOS" import --db "$D/db.sqlite" "$D/in" >/dev/null || exit 1
# shellcheck disable=SC2046
set -- $(sh tests/tools/s3rver.sh start "$D/s3" 0 helios)
if [ -z "${2:-}" ]; then
	echo "s3: the S3 test server did not start (node, node_modules)"
	exit 0
fi
S3_PORT=$1 S3_PID=$2
$PY tests/tools/s3fault.py "$S3_PORT" </dev/null >"$D/proxy.port" \
    2>"$D/proxy.log" &
PX_PID=$!
n=0
while [ ! -s "$D/proxy.port" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
PX_PORT=$(cat "$D/proxy.port")
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN HELIOS_S3_CREDENTIALS
hl_daemon_start "$D" --target \
    "s3://helios/pub?endpoint=http://127.0.0.1:$PX_PORT&region=us-east-1" ||
    exit 1
$PY - "$HL_URL" "$HL_ADMIN" "$PX_PORT" "$D/s3/data/helios/pub" \
    "$CHANGES" <<'PY' || exit 1
import hashlib, json, os, sys, time, urllib.request
url, tok, px, bucket, changes = sys.argv[1:6]
changes = int(changes)
SUFFIX = "._S3rver_object"

def published():
    while True:
        h = json.load(urllib.request.urlopen(url + "/healthz"))
        if all(t["version"] >= h["version"] for t in h["targets"]):
            return
        time.sleep(0.05)

def contents():	# sha256 -> size of every object in the bucket
    c = {}
    for d, _, fs in os.walk(bucket):
        for f in fs:
            if f.endswith(SUFFIX):
                with open(os.path.join(d, f), "rb") as fh:
                    b = fh.read()
                c[hashlib.sha256(b).hexdigest()] = len(b)
    return c

def proxy(what):
    return urllib.request.urlopen("http://127.0.0.1:%s/__fault/%s" %
                                  (px, what)).read().decode()

published()
put = changed = 0
for i in range(changes):
    before = contents()
    proxy("reset")
    body = json.dumps({"pattern": "s3-bench-%d\\.example" % i}).encode()
    rq = urllib.request.Request(url + "/blacklists/watch-keyword", body,
        {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    urllib.request.urlopen(rq).read()
    published()
    st = dict(kv.split("=") for kv in proxy("stats").split())
    put += int(st["put_bytes"])
    changed += sum(n for h, n in contents().items() if h not in before)
put, changed = put / changes, changed / changes
print("%-34s %12s %14s %8s" % ("", "PUT bytes", "changed bytes", "ratio"))
print("%-34s %12.0f %14.0f %7.2fx" % ("one change, mean of %d" % changes,
      put, changed, put / max(1, changed)))
if os.environ.get("BENCH_SUMMARY"):
    with open(os.environ["BENCH_SUMMARY"], "a") as f:
        f.write("s3.put_bytes\t%.0f\ns3.changed_bytes\t%.0f\n" %
                (put, changed))
PY
hl_daemon_stop
