#!/bin/sh
# Chaos tests (`make chaos`; too slow for `make test`).  Three parts:
#
#   kill -9   a real daemon with four parallel writers is killed with
#             SIGKILL at a random moment, CHAOS_TRIALS times (30 unless
#             told; 1000 for the long form), and started again each time:
#             every write answered 201 is in the database at the end, no
#             temporary file of the publisher stays in the published tree
#             after a restart, and once the restarted daemon has published
#             the tree agrees with its manifest (sha256 of every file).
#   ENOSPC    the database on a small tmpfs (root only; skipped otherwise)
#             filled by four writers: writes get 507, never another error,
#             and nothing acknowledged is lost across a SIGKILL.
#   torn      a reader polls manifest.json and fetches every file and
#             object it names during a burst of writes: an object never
#             differs from the manifest's sha256, and a mutable file is
#             always whole (the bytes of an object of the tree).
#
# Prints TAP lines, the plan and the figures (trials, writes acknowledged,
# lost, time).  Run from the top of the tree:  sh tests/chaos/run.sh
. tests/lib.sh
D=$(hl_tmp)
TRIALS=${CHAOS_TRIALS:-30}
START=$(date +%s)

post() {	# PATTERN: POSTs it to watch-keyword, prints the status
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$1\"}" \
	    "$HL_URL/blacklists/watch-keyword"
}
# writer TAG W: writes until the daemon is gone (or 2000 writes); each
# acknowledged pattern goes to $D/ack.TAG.W, each status to $D/codes.TAG.W
writer() {
	i=0
	while [ $i -lt 2000 ]; do
		code=$(post "chaos-$1-$2-$i\\\\.example")
		echo "$code" >>"$D/codes.$1.$2"
		[ "$code" = 201 ] && echo "chaos-$1-$2-$i\\.example" >>"$D/ack.$1.$2"
		[ "$code" = 000 ] && break
		i=$((i + 1))
	done
}
kill9() {	# the daemon, with SIGKILL; waits for it
	kill -KILL "$HL_PID" 2>/dev/null
	wait "$HL_PID" 2>/dev/null
	HL_PID=""
}
published() {	# waits (up to 30 s) until the daemon has published all
	n=0
	until curl -s "$HL_URL/healthz" | grep -q '"behind_versions":0'; do
		n=$((n + 1)); [ $n -gt 300 ] && return 1; sleep 0.1
	done
}
lost() {	# LIST.json ACKFILE: prints how many acknowledged are missing
	$PY - "$1" "$2" <<'PY'
import json, sys
have = {i["text_pattern"] for i in json.load(open(sys.argv[1]))["items"]}
print(sum(1 for l in open(sys.argv[2]) if l.rstrip("\n") not in have))
PY
}
# treecheck PUBLIC: prints one line per temporary file and per file that
# disagrees with manifest.json (missing, or another sha256)
treecheck() {
	$PY - "$1" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
for d, _, names in os.walk(root):
    for n in names:
        if ".tmp." in n:
            print("temporary:", os.path.relpath(os.path.join(d, n), root))
m = json.load(open(os.path.join(root, "manifest.json")))
for f in m["files"]:
    for e in (f, f.get("gz")):
        if not e:
            continue
        for p in (e["path"], e["object"]):
            try:
                h = hashlib.sha256(open(os.path.join(root, p), "rb").read())
            except OSError as x:
                print("missing:", p, x.strerror)
                continue
            if h.hexdigest() != e["sha256"]:
                print("differs:", p)
PY
}

# 1. kill -9 at random moments.
"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null 2>&1
t=1 badtmp=0 badtree=0 badstart=0
while [ $t -le "$TRIALS" ]; do
	if ! hl_daemon_start "$D" >>"$D/start.log" 2>&1 || ! published; then
		badstart=$((badstart + 1))
		echo "# trial $t: the daemon did not start or publish"
		tail -5 "$D/daemon.log" | sed 's/^/#   /'
		kill9; t=$((t + 1)); continue
	fi
	out=$(treecheck "$D/public")
	if echo "$out" | grep -q '^temporary:'; then
		badtmp=$((badtmp + 1))
		echo "# trial $t:"; echo "$out" | grep '^temporary:' | head -5 |
		    sed 's/^/#   /'
	fi
	if echo "$out" | grep -qv '^temporary:' && [ -n "$out" ]; then
		badtree=$((badtree + 1))
		echo "# trial $t:"; echo "$out" | grep -v '^temporary:' |
		    head -5 | sed 's/^/#   /'
	fi
	for w in 1 2 3 4; do writer "$t" $w & done
	# A random moment between 0.05 and 1.5 s into the writes.
	sleep "$(awk -v s="$$$t" 'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 1.45 }')"
	kill9
	wait
	t=$((t + 1))
done
cat "$D"/ack.* >"$D/acked" 2>/dev/null
acked=$(wc -l <"$D/acked")
hl_daemon_start "$D" >>"$D/start.log" 2>&1 && published
t_is "the daemon started and published after each of $TRIALS kill -9" \
    "$badstart" 0
t_is "no temporary file stayed in the published tree after a restart" \
    "$badtmp" 0
t_is "after each restart's publish the tree agrees with its manifest" \
    "$badtree" 0
t_ok "writes were acknowledged between the kills ($acked)" \
    test "$acked" -ge "$TRIALS"
curl -s "$HL_URL/blacklists/watch-keyword" >"$D/list.json"
lost1=$(lost "$D/list.json" "$D/acked")
t_is "every acknowledged write is in the database" "$lost1" 0
t_is "the final tree agrees with its manifest" "$(treecheck "$D/public")" ""

# 3. Torn reads (on the same daemon): a reader follows the manifest during
# a burst of writes.
$PY - "$HL_URL" "$D/reader.stop" >"$D/reader.out" 2>&1 <<'PY' &
import gzip, hashlib, json, os, sys, urllib.request
url, stop = sys.argv[1], sys.argv[2]
def get(p):
    with urllib.request.urlopen(url + "/" + p, timeout=10) as r:
        return r.read()
seen = {}	# path -> shas of every manifest read
polls = fetched = torn = 0
versions = set()
while not os.path.exists(stop) or polls < 3:
    m = json.loads(get("manifest.json"))
    polls += 1
    versions.add(m["version"])
    entries = [e for f in m["files"] for e in (f, f.get("gz")) if e]
    for e in entries:
        seen.setdefault(e["path"], set()).add(e["sha256"])
    for e in entries:
        o = hashlib.sha256(get(e["object"])).hexdigest()
        fetched += 1
        if o != e["sha256"]:
            torn += 1
            print("# object", e["object"], "differs from the manifest")
        b = get(e["path"])
        fetched += 1
        h = hashlib.sha256(b).hexdigest()
        if h in seen[e["path"]]:
            continue
        # Replaced since (mutable files go before the manifest that names
        # them): it must be whole, the bytes of an object in the tree.
        try:
            raw = gzip.decompress(b) if e["path"].endswith(".gz") else b
            r = hashlib.sha256(raw).hexdigest()
            whole = hashlib.sha256(get("objects/" + r)).hexdigest() == r
        except Exception:
            whole = False
        if not whole:
            torn += 1
            print("# file", e["path"], "is no published version")
print("polls", polls, "versions", len(versions), "fetched", fetched,
      "torn", torn)
PY
RPID=$!
for w in 1 2 3 4; do
	( i=0; while [ $i -lt 150 ]; do
		[ "$(post "torn-$w-$i\\\\.example")" = 201 ] &&
		    echo "torn-$w-$i\\.example" >>"$D/tack.$w"
		i=$((i + 1))
	done ) &
	WP="${WP:-} $!"
done
for p in $WP; do wait "$p"; done
published
touch "$D/reader.stop"
wait "$RPID"
sed -n '/^#/p' "$D/reader.out" | head -10
set -- $(grep '^polls' "$D/reader.out")
t_ok "the reader followed several versions (${4:-0} in ${2:-0} polls)" \
    test "${4:-0}" -ge 2
t_is "no file fetched by the manifest differs from its sha256 (${6:-0} fetched)" \
    "${8:-missing}" 0
torn_acked=$(cat "$D"/tack.* | wc -l)
curl -s "$HL_URL/blacklists/watch-keyword" >"$D/list.json"
t_is "the burst's $torn_acked acknowledged writes are there" \
    "$(lost "$D/list.json" "$(cat "$D"/tack.* >"$D/tacked"; echo "$D/tacked")")" 0
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop

# 2. ENOSPC: the database on a full tmpfs.
E="$D/enospc"
mkdir -p "$E/dbfs"
enospc_acked=0 lost2=0
if [ "$(id -u)" != 0 ] ||
    ! mount -t tmpfs -o size=1m tmpfs "$E/dbfs" 2>/dev/null; then
	T_N=$((T_N + 1))
	echo "ok $T_N # skip ENOSPC: cannot mount a tmpfs (needs root)"
else
	trap 'umount "$E/dbfs" 2>/dev/null; hl_cleanup' EXIT
	espawn() {
		HL_PORT=$(hl_port)
		HL_URL="http://127.0.0.1:$HL_PORT"
		"$HELIOS" serve --listen "127.0.0.1:$HL_PORT" \
		    --db "$E/dbfs/db.sqlite" --public "$E/public" \
		    --admin-token-file "$E/admin.token" -d \
		    >>"$E/daemon.log" 2>&1 &
		HL_PID=$!
		hl_wait_http "$HL_URL/healthz" && HL_ADMIN=$(cat "$E/admin.token")
	}
	espawn
	# Leave a little room, so the writers meet the wall on their way.
	dd if=/dev/zero of="$E/dbfs/fill" bs=4k count=150 2>/dev/null
	ewriter() {
		i=0
		while [ $i -lt 3000 ]; do
			code=$(post "enospc-$1-$i-padding-padding-padding\\\\.example")
			echo "$code" >>"$D/ecodes.$1"
			[ "$code" = 201 ] &&
			    echo "enospc-$1-$i-padding-padding-padding\\.example" >>"$D/eack.$1"
			[ "$code" = 201 ] || break
			i=$((i + 1))
		done
	}
	EP=""
	for w in 1 2 3 4; do ewriter $w & EP="$EP $!"; done
	for p in $EP; do wait "$p"; done
	cat "$D"/ecodes.* | sort | uniq -c | sed 's/^/# status /'
	t_ok "writes on the full database disk are answered 507" \
	    grep -qx 507 "$D/ecodes.1"
	t_is "no write is answered anything but 201 or 507" \
	    "$(cat "$D"/ecodes.* | grep -cvxE '201|507')" 0
	kill9
	rm -f "$E/dbfs/fill"
	espawn
	cat "$D"/eack.* >"$D/eacked" 2>/dev/null || : >"$D/eacked"
	enospc_acked=$(wc -l <"$D/eacked")
	curl -s "$HL_URL/blacklists/watch-keyword" >"$D/elist.json"
	lost2=$(lost "$D/elist.json" "$D/eacked")
	t_is "nothing acknowledged ($enospc_acked) is lost after a kill -9 and room again" \
	    "$lost2" 0
	t_is "then writes pass again" "$(post 'room\\.example')" 201
	t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
fi

echo "# trials $TRIALS, writes acknowledged $((acked + torn_acked + enospc_acked))" \
    "(kill -9 $acked, torn $torn_acked, ENOSPC $enospc_acked)," \
    "lost $((lost1 + lost2)), time $(($(date +%s) - START)) s"
t_done
