#!/bin/sh
# t0316: the local directory target makes a publish durable in order.
# strace records a real publish: every file the manifest names is renamed
# into place and the manifest files are written to their temporary names,
# then one syncfs(2) makes all of them durable, then the manifest is
# renamed (no fsync of its own: the syncfs covered its bytes), and the
# directory fsynced after.  A crash at any point leaves a manifest naming
# only whole files, and whole itself (a power loss cannot be staged here;
# the order of the calls is what guarantees it).  And the daemon's next
# publish after one change rewrites that list alone.
. tests/lib.sh
T=$(hl_tmp)
if ! command -v strace >/dev/null; then
	t_ok "strace is installed" false
	t_done; exit 1
fi
"$HELIOS" import --db "$T/db.sqlite" "$(hl_samples)" >/dev/null 2>&1
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -ff -qq -e trace=syncfs,fsync,fdatasync,rename,renameat,renameat2,openat,sync_file_range \
    -o "$T/trace" "$HELIOS" publish --db "$T/db.sqlite" --public "$T/pub" \
    >/dev/null 2>&1
# (LeakSanitizer cannot stop a traced process: no leak check here.)
t_is "helios publish under strace exits 0" "$?" 0
# One trace file per thread (-ff): the publish is the thread that renames
# manifest.json; the spares' keeper (spares.h) works beside it.
order=$($PY - "$T/pub" "$T"/trace.* <<'PYEOF'
import re, sys
pub = sys.argv[1]
def calls_of(path):
    calls = []
    for ln in open(path):
        m = re.search(r'(syncfs|fsync|fdatasync|rename\w*|openat)\((.*)\)\s+= \d', ln)
        if not m:
            continue
        name, args = m.groups()
        paths = re.findall(r'"([^"]*)"', args)
        if name == "openat":
            calls.append(("open", paths[-1] if paths else ""))
        elif name.startswith("rename"):
            rel = paths[-1][len(pub) + 1:]
            if rel.startswith(".spares/"):
                continue    # the pool's own names, not the tree's
            calls.append(("manifest" if rel == "manifest.json" else
                          "manifest.gz" if rel == "manifest.json.gz" else
                          "file", paths[0]))
        else:
            calls.append((name, ""))
    return calls
calls = next((c for c in map(calls_of, sys.argv[2:])
              if "manifest" in [k for k, _ in c]), None)
if calls is None:
    print("no rename to manifest.json"); sys.exit()
kinds = [k for k, _ in calls]
m = kinds.index("manifest")
last_file = max((i for i, k in enumerate(kinds) if k == "file"), default=-1)
syncs = [i for i, k in enumerate(kinds) if k == "syncfs"]
out = []
out.append("files-before-manifest" if 0 <= last_file < m else "a file after the manifest")
out.append("syncfs-between" if any(last_file < i < m for i in syncs) else "no syncfs between the files and the manifest")
# The manifest's bytes: the last open of the name it is renamed from.
tmp = max((i for i, (k, p) in enumerate(calls[:m])
           if k == "open" and p == calls[m][1]), default=-1)
out.append("written-before-syncfs" if 0 <= tmp < min(syncs, default=-1) else "the manifest is not written before the syncfs")
out.append("no-fsync-between" if "fsync" not in kinds[max(syncs, default=0):m] else "an fsync between the syncfs and the manifest's rename")
out.append("fsync-after" if "fsync" in kinds[m + 1:] else "no fsync of the directory after")
print(" ".join(out))
PYEOF
)
t_is "files and the manifest's bytes, syncfs, manifest rename, directory fsync: in that order" \
    "$order" "files-before-manifest syncfs-between written-before-syncfs no-fsync-between fsync-after"
# The lists' objects are written ahead, by the stager thread (pub_dir.c,
# dir_stage) while the site renders: renames into objects/ in a trace that
# is not the publish's.  The publish wrote beside it what it had not taken
# yet and waited for the rest before its syncfs.
# Each object it writes has its writeback started (sync_file_range) before
# its rename, so the publish's syncfs finds it on its way to the disk.
staged=$($PY - "$T/pub" "$T"/trace.* <<'PYEOF'
import re, sys
pub = sys.argv[1]
n = started = 0
for f in sys.argv[2:]:
    text = open(f).read()
    if re.search(r'rename\w*\(.*"%s/manifest.json"' % re.escape(pub), text):
        continue
    pending = 0
    for ln in text.splitlines():
        if re.search(r'sync_file_range\(\d+, 0, 0, SYNC_FILE_RANGE_WRITE\)\s+= 0', ln):
            pending += 1
        elif re.search(r'rename\w*\([^\n]*"%s/objects/[0-9a-f]{64}(?:\.gz)?"[^\n]*\)\s+= 0'
                       % re.escape(pub), ln):
            n += 1
            if pending > 0:
                started += 1
                pending -= 1
print(("some" if n > 0 else "none") + " " +
      ("each-started" if n > 0 and started == n else
       "%d of %d started" % (started, n)))
PYEOF
)
t_is "objects are renamed in by the stager, ahead of the publish, each with its writeback started" \
    "$staged" "some each-started"

# In the daemon, a publish after one change rewrites that list's files
# and the index files, not the other lists: what the target wrote last is
# remembered.
D=$T/d
mkdir -p "$D"
"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null 2>&1
port=$(hl_port)
strace -ff -qq -e trace=rename,renameat,renameat2 -o "$D/trace" \
    "$HELIOS" serve --listen "127.0.0.1:$port" --db "$D/db.sqlite" \
    --public "$D/public" --admin-token-file "$D/admin.token" -d \
    >"$D/log" 2>&1 &
ST_PID=$!
HL_PIDS="${HL_PIDS:-} $ST_PID"
hl_wait_http "http://127.0.0.1:$port/healthz"
mversion() {
	$PY -c "import json; print(json.load(open('$D/public/manifest.json'))['version'])" 2>/dev/null || echo -1
}
n=0
while [ "$(mversion)" -lt 1 ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
v=$(curl -s -X POST -H "Authorization: Bearer $(cat "$D/admin.token")" \
    -H 'Content-Type: application/json' -d '{"pattern":"sync-test\\.example"}' \
    "http://127.0.0.1:$port/blacklists/watch-keyword" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
n=0
while [ "$(mversion)" -lt "${v:-1}" ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM "$(pgrep -P "$ST_PID" | head -1)" 2>/dev/null
wait "$ST_PID"
# (One file per thread: the publisher's names its publishes in order.)
second=$($PY - "$D"/trace.* <<'PYEOF'
import re, sys
pubs, cur = [], []
for ln in (ln for f in sys.argv[1:] for ln in open(f)):
    m = re.search(r'rename\w*\(.*"[^"]*/public/([^"]*)"(?:, RENAME_\w+)?\)\s+= 0', ln)
    if not m:
        continue
    cur.append(m.group(1))
    if m.group(1) == "manifest.json":
        pubs.append(cur)
        cur = []
if len(pubs) < 2:
    print(f"{len(pubs)} publishes seen")
else:
    print(" ".join(sorted({p.split("/")[1].split(".")[0]
                           for p in pubs[1] if p.startswith("lists/")})))
PYEOF
)
t_is "the publish after a change to watch-keyword rewrites its files alone" \
    "$second" "watch-keyword"
# Each file the daemon wrote (seccomp and all) carries its ETag, the quoted
# MD5 of its bytes, for the static server (src/base/etagmark.h).
mark=$($PY - "$D/public/lists/watch-keyword.txt" <<'PYEOF'
import hashlib, os, sys
p = sys.argv[1]
try:
    v = os.getxattr(p, "user.helios.etag").decode()
except OSError as e:
    print("no mark:", e); sys.exit()
st = os.stat(p)
want = '%d %d %d "%s"' % (st.st_size, st.st_mtime_ns // 10**9,
    st.st_mtime_ns % 10**9, hashlib.md5(open(p, "rb").read()).hexdigest())
print("marked" if v == want else "mark %s, want %s" % (v, want))
PYEOF
)
t_is "a file the daemon published carries its ETag mark" "$mark" marked
t_done
