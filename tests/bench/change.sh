#!/bin/sh
# change.sh: what one one-item change to watch-keyword costs at real size,
# for two builds side by side (e.g. main's and this tree's):
#
#   sh tests/bench/change.sh BB W LABEL=HELIOS [LABEL=HELIOS ...]
#
# BB holds the visible benchmark (visible.c), W is a scratch directory.
# The lists are SmokeDetector's sample files grown to real size:
# watched_keywords.txt repeated to 38,700 lines (1.9 MB), the other plain
# lists to some 18,000 items more.  For each build: the daemon starts on a
# copy of that database, its start-up publish is waited for, then
#   - 20 changes, each waited for, under strace -f: the bytes written to
#     the published tree and the fsync/fdatasync/syncfs calls on it (and,
#     apart, those of the store), per change, and the growth of the
#     published directory per change (nothing is pruned within the run);
#   - 200 changes without strace: POST answered -> manifest.json over HTTP
#     names the version, p50/p99 (visible.c);
# and, for run.sh's summary page (summary.sh), the directory's growth
# over all those changes, which pruning bounds: RETAIN_V versions of the
# growth per change, or RETAIN_B bytes.  Figures only.
. tests/lib.sh
. tests/bench/summary.sh
BB=$1 W=$2
shift 2
# pub_dir.c's retention limits, set here as the bound the summary checks
# the directory's growth against.
RETAIN_V=64
RETAIN_B=268435456
HELIOS_RETAIN_VERSIONS=$RETAIN_V HELIOS_RETAIN_BYTES=$RETAIN_B
export HELIOS_RETAIN_VERSIONS HELIOS_RETAIN_BYTES
STRACE=$(command -v strace || true)

# strace -f -y output: bytes written to, and syncs of, files under PUB
# (and syncs of anything else: the store), for N changes.
tally() {	# FILE PUB N
	$PY - "$1" "$2" "$3" <<'PY'
import re, sys
path, pub, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
call = re.compile(r'^(\d+)\s+(\w+)\((\d+)<([^>]*)>')
resumed = re.compile(r'^(\d+)\s+<\.\.\. (\w+) resumed>.*=\s*(-?\d+)')
done = re.compile(r'=\s*(-?\d+)(?:\s|$)')
pend = {}
wbytes = psync = ssync = 0
def count(name, fd_path, ret):
    global wbytes, psync, ssync
    mine = fd_path.startswith(pub)
    if name in ("write", "pwrite64", "writev", "pwritev") and mine and ret > 0:
        wbytes += ret
    if name in ("fsync", "fdatasync", "syncfs"):
        if mine:
            psync += 1
        else:
            ssync += 1
for line in open(path, errors="replace"):
    m = call.match(line)
    if m:
        pid, name, _, fdp = m.groups()
        if "<unfinished" in line:
            pend[pid] = (name, fdp)
            continue
        r = done.search(line.rsplit(")", 1)[-1] if ")" in line else line)
        count(name, fdp, int(r.group(1)) if r else 0)
        continue
    m = resumed.match(line)
    if m and m.group(1) in pend:
        name, fdp = pend.pop(m.group(1))
        count(name, fdp, int(m.group(3)))
print("%.2f %.1f %.1f" % (wbytes / n / 1e6, psync / n, ssync / n))
PY
}

printf '%-10s %12s %12s %12s %12s %10s %10s\n' build "MB written" \
    "pub syncs" "store syncs" "dir growth" "vis p50" "vis p99"
for spec in "$@"; do
	label=${spec%%=*}
	HELIOS=${spec#*=}
	D=$W/change-$label
	rm -rf "$D"
	sh tests/bench/realdata.sh "$D/in" || exit 1
	"$HELIOS" import --db "$D/db.sqlite" "$D/in" >/dev/null || exit 1
	hl_daemon_start "$D" || exit 1
	# The start-up publish, waited for by a first change.
	"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 1 120 warm \
	    >/dev/null
	g0=$(du -sb "$D/public" | cut -f1)
	st="- - -"
	if [ -n "$STRACE" ]; then
		"$STRACE" -f -y -qq -s 0 -e signal=none \
		    -e trace=write,pwrite64,writev,pwritev,fsync,fdatasync,syncfs \
		    -o "$D/strace.txt" -p "$HL_PID" 2>/dev/null &
		SP=$!
		sleep 1
		"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 20 120 \
		    strace >/dev/null
		kill "$SP"
		wait "$SP" 2>/dev/null
		st=$(tally "$D/strace.txt" "$D/public" 20)
	fi
	g1=$(du -sb "$D/public" | cut -f1)
	"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 200 90 "$label" \
	    >"$D/vis.txt"
	hl_daemon_stop
	g2=$(du -sb "$D/public" | cut -f1)
	set -- $st
	n=$((20 + $(awk '{ w = $(NF - 7) } END { print w + 0 }' "$D/vis.txt")))
	bench_fact "change.$label.changes" "$n"
	bench_fact "change.$label.dir_growth" "$((g2 - g0))"
	bench_fact "change.$label.dir_bound" "$(awk -v g="$(((g1 - g0) / 20))" \
	    -v v=$RETAIN_V -v b=$RETAIN_B 'BEGIN { print g * v < b ? g * v : b }')"
	bench_fact "change.$label.txt_bytes" \
	    "$(wc -c <"$D/public/lists/watch-keyword.txt")"
	[ -n "$STRACE" ] && bench_fact "change.$label.written" \
	    "$(awk -v m="$1" 'BEGIN { printf "%.0f", m * 1e6 }')"
	# visible's row: case writes POST-p50 vis-p50 vis-p90 vis-p99 ...
	awk -v l="$label" -v mb="$1" -v ps="$2" -v ss="$3" \
	    -v gr="$(( (g1 - g0) / 20 ))" '
	    { printf "%-10s %12s %12s %12s %11.2fM %10s %10s\n", l, mb, ps, ss,
		gr / 1e6, $(NF - 5), $(NF - 3) }' "$D/vis.txt"
done
