#!/bin/sh
# The benchmarks, in one run: sh tests/bench/run.sh [BUILD_DIR]
#
# Prints one table per benchmark; it measures and asserts nothing.
#   1. durable writes: POST latency and writes/s with 1 and 8 clients,
#      100,000 items in the list (bench_write.c), with the publisher on and
#      with it off (no target) to tell the store from the generator, each
#      run beside the disk's own fdatasync bound measured in that run and
#      on a fresh copy of the same preloaded database; BENCH_WRITE_ROUNDS
#      rounds (default 3) of on then off, alternating, then both side by
#      side as the medians over the rounds (writes/s, ratio to the fsync
#      bound, p50, changes per commit from /metrics, p50 on/off) and each
#      round's p50 on/off; the summary's rows take the medians;
#   2. the generator: full and incremental builds at 10k, 100k and 1M
#      items, and gzip levels (bench_gen.c);
#   3. write-to-visible: from a POST's answer to the new manifest over HTTP,
#      at real size (the sample files scaled to ~30k items) and at 1M
#      items (visible.c), with the publisher's CPU per publish, and the
#      same real-size writes with the public directory on tmpfs (the
#      publisher's CPU alone, without the disk); then one change to
#      watch-keyword at real size
#      (57k items) for main's build (BENCH_BEFORE, a git revision) and
#      this one side by side: bytes written and syncs per change, the
#      published directory's growth, and POST->visible p50/p99
#      (change.sh); and the bytes the S3 target uploads for one such
#      change against the bytes that changed (s3.sh, s3rver);
#   4. static serving: the daemon against nginx on the same tree at real
#      size (watched_keywords 1.85 MB), with wrk at 32 and 256 connections:
#      304, small and large gzip, manifest.json, medians of 3 (static.sh);
#   5. what a client's poll costs (pull.sh), when that script is present;
#   6. the git pages target at real size: push time, bytes sent per push
#      and repository growth after gc per one-item change, beside `git
#      push` of the same commit to the same smart-HTTP server (git.sh);
#   7. migration: replaying 20,000 list commits of a SmokeDetector-like
#      repository (gitimport.sh);
#   8. review: the checks against 40,000 watched keywords and a 10 MB ham
#      corpus, and proposal-to-published latency after approval (review.sh);
#   9. the site: a 50,000-entry list page opened in headless Chromium, and
#      a known entry searched for (tests/browser/site.js);
#  10. slow clients: /healthz success rate and latency while 1,100
#      connections from 110 loopback addresses send a header line every
#      10 s, or nothing (tests/tools/slowloris.py), BENCH_SLOW_SECS each
#      (default 70).
# BENCH_ONLY="write gen visible static pull git gitimport review site slow"
# picks sections; the 1M cases are
# the slow ones (BENCH_BIG=0 leaves them out).  The whole run takes a few
# minutes on two cores.
#
# Last, one summary page: each goal's measure beside its comparison from
# the same run (nginx, git push, gzip -6, the fsync bound, ...), their
# ratio, the goal, and "met" or "NOT MET"; a row of a section left out by
# BENCH_ONLY says "not run".  While they run, the sections append their
# figures, "key<TAB>value" lines, to $W/summary.tsv (BENCH_SUMMARY:
# bench_fact in summary.sh for the scripts, fact() in the C programs);
# tests/bench/summary.py holds the page's rows and goals and prints it.
B=${1:-build}
case $B in
/*) BA=$B ;;
*) BA=$PWD/$B ;;
esac
HELIOS_BIN=$BA/helios
export HELIOS_BIN
. tests/lib.sh

ONLY=${BENCH_ONLY:-write gen visible static pull git gitimport review site slow}
BIG=${BENCH_BIG:-1}
SECS=${BENCH_SECS:-5}
SAMPLE=$(hl_samples 2>/dev/null || echo ../shared/data/smokedetector-sample)
BB=$BA/bench
W=$(hl_tmp)
BENCH_SUMMARY=$W/summary.tsv
export BENCH_SUMMARY
: >"$BENCH_SUMMARY"
. tests/bench/summary.sh

want() {
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# --- build ------------------------------------------------------------------
make -s B="$B" "$B/helios" "$B/libhelios.a" || exit 1
mkdir -p "$BB"
for p in bench_write bench_gen visible; do
	# shellcheck disable=SC2046
	${CC:-cc} ${CFLAGS:--O2 -g} -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wno-unused-parameter $(make -s --no-print-directory print-cflags) \
	    -o "$BB/$p" "tests/bench/$p.c" "$BA/libhelios.a" \
	    $(make -s --no-print-directory print-libs) || exit 1
done
# A private copy of the binary: a rebuild during the run must not touch it.
cp "$BA/helios" "$W/helios" || exit 1
HELIOS=$W/helios

# published_wait: waits until every target has published the store's
# version (the start-up publish of a big list takes seconds).
published_wait() {
	n=0
	while [ $n -lt 1800 ]; do
		curl -s "$HL_URL/healthz" | python3 -c '
import json, sys
h = json.load(sys.stdin)
ok = all(t["version"] >= h["version"] for t in h.get("targets", []))
sys.exit(0 if ok else 1)' && return 0
		n=$((n + 1))
		sleep 0.2
	done
	echo "# the daemon never published version" >&2
	return 1
}

# tsv N PREFIX: N watched-keyword lines
tsv() {
	awk -v n="$1" -v p="$2" 'BEGIN {
		f = "%d\t%s\t%s-%d-(?:cheap|best)\\W*+pills\\.example\\.com\n"
		for (i = 0; i < n; i++)
			printf f, 1500000000 + i,
			    (i % 2 ? "tripleee" : "Makyen"), p, i
	}'
}

t_start=$(date +%s)
echo "Helios benchmarks ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"

# --- 1. durable writes --------------------------------------------------------
# BENCH_WRITE_ROUNDS rounds, each a run with the publisher on then one with
# it off, each run on a fresh copy of the same preloaded database and with
# its own fsync bound; the side-by-side table and the summary's facts are
# the medians over the rounds (one 5 s run of each on a shared machine
# gave p50 on/off anywhere from 0.75x to 1.30x).
if want write; then
	ROUNDS=${BENCH_WRITE_ROUNDS:-3}
	CLIENTS="1 8"
	echo
	echo "== 1. durable writes: POST /blacklists/watch-keyword," \
	    "100,000 items preloaded, ${SECS} s per row, $ROUNDS rounds of" \
	    "publisher on then off"
	D=$W/write
	mkdir -p "$D/base"
	tsv 100000 preload >"$D/k.tsv"
	"$HELIOS" import --db "$D/base/db.sqlite" --list watch-keyword \
	    "$D/k.tsv" >/dev/null || exit 1
	echo "-- each round: the publisher on (the local directory target" \
	    "rebuilds after each burst), then off (no target: the API and the" \
	    "store alone)"
	printf '%-5s %-4s ' round pub
	printf '%-8s %8s %7s %10s %8s %8s %8s %8s %8s %7s %8s\n' \
	    clients writes errors writes/s "p50 ms" "p90 ms" "p99 ms" \
	    "max ms" "mean ms" ratio w/fsync
	r=1
	while [ $r -le "$ROUNDS" ]; do
		for m in on off; do
			# A fresh copy of the imported database (with its -wal
			# and -shm, if any) and no published tree, on the disk
			# before the run: its writeback must not share the
			# run's fsyncs.
			rm -rf "$D/run"
			mkdir "$D/run"
			for f in "$D/base/db.sqlite"*; do
				cp "$f" "$D/run/${f#"$D/base/"}" || exit 1
			done
			sync "$D/run/db.sqlite"* 2>/dev/null
			if [ $m = on ]; then
				hl_daemon_start "$D/run" || exit 1
				published_wait
			else
				hl_daemon_start "$D/run" --public '' || exit 1
			fi
			# shellcheck disable=SC2086
			BENCH_SUMMARY=$D/r$r.$m.tsv BENCH_KEY=write.$m \
			    "$BB/bench_write" --fsync "$D/run" "$HL_URL" \
			    "$HL_ADMIN" watch-keyword "$SECS" $CLIENTS |
			    awk -v r=$r -v m=$m 'NR > 1 {
				printf "%-5s %-4s %s\n", r, m, $0 }'
			hl_daemon_stop
		done
		r=$((r + 1))
	done
	rm -rf "$D/run"
	# Each figure's median over the rounds (of the runs that gave it),
	# for the table below and the summary page.
	cat "$D"/r*.on.tsv "$D"/r*.off.tsv 2>/dev/null | awk -F '\t' '
	    !($1 in n) { keys[++k] = $1 }
	    { v[$1, ++n[$1]] = $2 }
	    END {
		for (i = 1; i <= k; i++) {
			key = keys[i]; c = n[key]
			for (a = 2; a <= c; a++)	# insertion sort
				for (b = a; b > 1 && v[key, b - 1] + 0 > \
				    v[key, b] + 0; b--) {
					t = v[key, b]; v[key, b] = v[key, b - 1]
					v[key, b - 1] = t
				}
			med = c % 2 ? v[key, (c + 1) / 2] : \
			    (v[key, c / 2] + v[key, c / 2 + 1]) / 2
			printf "%s\t%.3f\n", key, med
		}
	    }' >"$D/median.tsv"
	while IFS="$(printf '\t')" read -r key val; do
		bench_fact "$key" "$val"
	done <"$D/median.tsv"
	echo "-- side by side, medians of $ROUNDS rounds: ratio is the" \
	    "median writes/s against the median fsync bound of the same" \
	    "runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -F '\t' -v rows="fsync $CLIENTS" '
	    { f[$1] = $2 }
	    function g(k) { return (k in f) ? f[k] + 0 : -1 }
	    function num(x, w, p) {
		return x < 0 ? sprintf("%" w "s", "-") : sprintf("%" w "." p "f", x)
	    }
	    function side(m, r,    rate, bound, wpf) {
		rate = g("write." m "." r ".rate")
		bound = g("write." m ".fsync.rate")
		wpf = r == "fsync" ? 1 : g("write." m "." r ".per_commit")
		return num(rate, 9, 1) " " \
		    (rate >= 0 && bound > 0 ? sprintf("%6.2fx", rate / bound) : \
		    sprintf("%7s", "-")) " " num(g("write." m "." r ".p50"), 7, 2) \
		    " " num(wpf, 7, 2)
	    }
	    END {
		printf "%-8s %9s %7s %7s %7s | %9s %7s %7s %7s | %6s\n",
		    "", "on w/s", "ratio", "p50 ms", "w/fsync", "off w/s",
		    "ratio", "p50 ms", "w/fsync", "p50 on/off"
		n = split(rows, row, " ")
		for (i = 1; i <= n; i++) {
			on = g("write.on." row[i] ".p50")
			off = g("write.off." row[i] ".p50")
			q = (on >= 0 && off > 0) ? sprintf("%6.2f", on / off) : \
			    sprintf("%6s", "-")
			printf "%-8s %s | %s | %s\n", row[i], side("on", row[i]),
			    side("off", row[i]), q
		}
	    }' "$D/median.tsv"
	# Each round's own p50 on/off: how far apart the rounds were.
	for c in $CLIENTS; do
		printf '%-8s p50 on/off by round:' "$c"
		r=1
		while [ $r -le "$ROUNDS" ]; do
			cat "$D/r$r.on.tsv" "$D/r$r.off.tsv" 2>/dev/null |
			    awk -F '\t' -v c="$c" '
				$1 == "write.on." c ".p50" { on = $2 }
				$1 == "write.off." c ".p50" { off = $2 }
				END {
					if (off > 0)
						printf " %.2f", on / off
					else
						printf " -"
				}'
			r=$((r + 1))
		done
		echo
	done
	echo "(fsync: one thread appending and fdatasync()ing beside the" \
	    "database, the disk's bound for"
	echo " a commit that waits for nobody, measured in every run;" \
	    "ratio: median writes/s against"
	echo " the median bound; w/fsync: changes per commit (/metrics), how" \
	    "many writers one fsync"
	echo " served. Aim: p50 < 2 ms with 8 clients, >= 3x the fsync bound" \
	    "(group commit), and"
	echo " the same p50 with the publisher on as off)"
fi

# --- 2. the generator ---------------------------------------------------------
if want gen; then
	echo
	echo "== 2. generator: one list of N items (watch-keyword), full and" \
	    "incremental builds"
	mkdir -p "$W/gen"
	if [ "$BIG" = 1 ]; then
		"$BB/bench_gen" "$W/gen" 10000 100000 1000000
	else
		"$BB/bench_gen" "$W/gen" 10000 100000
	fi
	echo "(aim: full build of 1M < 2 s; incremental beside 1M as fast" \
	    "as at 10k)"
fi

# --- 3. write-to-visible ------------------------------------------------------
VIS_HDR=$(printf '%-14s %7s %9s %9s %9s %9s %9s %9s %9s' "case" "writes" \
    "POST p50" "vis p50" "vis p90" "vis p99" "vis max" "polls" \
    "start s")
if want visible || want static || want git; then
	# Real size: the sample files, watched_keywords.txt repeated to ~30k.
	R=$W/real
	mkdir -p "$R/in"
	cp "$SAMPLE"/*.txt "$SAMPLE"/*.yml "$R/in/"
	awk -F '\t' 'NF == 3 { l[n++] = $0 }
	    END {
		for (k = 0; k < 200; k++)
			for (i = 0; i < n; i++) {
				if (k == 0) { print l[i]; continue }
				split(l[i], f, "\t")
				printf "%s\t%s\t%s|helios-bench-%d-%d\n", \
				    f[1], f[2], f[3], k, i
			}
	    }' "$SAMPLE/watched_keywords.txt" >"$R/in/watched_keywords.txt"
	"$HELIOS" import --db "$R/db.sqlite" "$R/in" >/dev/null || exit 1
	cp "$R/db.sqlite" "$R/db.orig"
fi
# publisher_ticks: CPU clock ticks of the running daemon's publisher
# thread (hl-publish), for CPU per publish.
publisher_ticks() {
	for t in /proc/"$HL_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = hl-publish ] || continue
		sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13; exit }'
		return 0
	done
	echo 0
}
if want visible; then
	echo
	echo "== 3. write-to-visible: POST answered -> manifest.json over" \
	    "HTTP names its version (ms)"
	echo "$VIS_HDR"
	hl_daemon_start "$R" || exit 1
	RC=$(curl -s "$HL_URL/blacklists" | python3 -c '
import json, sys
print(sum(l.get("count", 0) for l in json.load(sys.stdin)["items"]))' \
	    2>/dev/null)
	c0=$(publisher_ticks)
	"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 200 60 \
	    "real ${RC:-?}" | tee "$W/visible-real.txt"
	c1=$(publisher_ticks)
	hl_daemon_stop
	# The same writes with the public directory in memory (tmpfs): what
	# is left is the publisher's CPU, without the disk and ext4's file
	# creation.  For reading the row, not a goal.
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		rm -rf "$W/real-shm" && mkdir -p "$W/real-shm" &&
		    cp "$R/db.orig" "$W/real-shm/db.sqlite" &&
		    SHM=$(mktemp -d /dev/shm/helios-bench.XXXXXX) &&
		    hl_daemon_start "$W/real-shm" --public "$SHM" || exit 1
		s0=$(publisher_ticks)
		"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 200 60 \
		    "real, tmpfs" | tee "$W/visible-shm.txt"
		s1=$(publisher_ticks)
		hl_daemon_stop
		rm -rf "$SHM"
	fi
	awk -v d="$((c1 - c0))" -v s="$((${s1:-0} - ${s0:-0}))" \
	    -v hz="$(getconf CLK_TCK)" 'FNR == 1 { f++ }
	    { n[f] = $(NF - 7) }
	    END {
		printf "(publisher CPU per publish, ms: %.1f on disk", \
		    n[1] ? d * 1000 / hz / n[1] : 0
		if (f > 1)
			printf ", %.1f on tmpfs", n[2] ? s * 1000 / hz / n[2] : 0
		print ")"
	    }' "$W/visible-real.txt" ${s1:+"$W/visible-shm.txt"}
	# The row ends: POST-p50 vis-p50 vis-p90 vis-p99 max polls start.
	bench_fact visible.real.post_p50 \
	    "$(awk '{ print $(NF - 6) }' "$W/visible-real.txt")"
	bench_fact visible.real.vis_p50 \
	    "$(awk '{ print $(NF - 5) }' "$W/visible-real.txt")"
	if [ "$BIG" = 1 ] && [ -f "$W/gen/gen-1000000.db" ]; then
		D=$W/big
		mkdir -p "$D"
		for f in "$W/gen/gen-1000000.db"*; do	# with -wal, -shm
			mv "$f" "$D/db.sqlite${f#"$W/gen/gen-1000000.db"}"
		done
		hl_daemon_start "$D" || exit 1
		"$BB/visible" "$HL_URL" "$HL_ADMIN" watch-keyword 20 90 \
		    "1M one list"
		hl_daemon_stop
	fi
	echo "(POST p50: the write's own latency; polls: manifest GETs per" \
	    "write, 0.5 ms apart;"
	echo " start s: the daemon's start-up publish; aim: vis p50 < 10 ms" \
	    "at real size)"
	BEF=${BENCH_BEFORE:-main}
	if mkdir -p "$W/before" && git archive "$BEF" 2>/dev/null |
	    tar -x -C "$W/before" && make -s -C "$W/before" -j2 build/helios \
	    >/dev/null 2>&1; then
		echo
		echo "-- one change to watch-keyword at real size (38,700" \
		    "lines, 57k items): $BEF beside this build"
		sh tests/bench/change.sh "$BB" "$W" \
		    "$BEF=$W/before/build/helios" "this=$HELIOS"
		echo "(MB written: bytes written to the published tree per" \
		    "change; pub/store syncs: fsync,"
		echo " fdatasync and syncfs per change; dir growth: the" \
		    "published directory per change,"
		echo " until pruning; vis: POST answered -> manifest over" \
		    "HTTP names it, ms)"
	else
		echo "# $BEF could not be built: this build alone" >&2
		sh tests/bench/change.sh "$BB" "$W" "this=$HELIOS"
	fi
	echo
	echo "-- the S3 target (s3rver): bytes uploaded for one change to" \
	    "watch-keyword at real size"
	sh tests/bench/s3.sh "$HELIOS"
	echo "(changed bytes: each content in the bucket after the change" \
	    "and under no key before, once; aim: <= 1.2x)"
fi

# --- 4. static serving --------------------------------------------------------
if want static; then
	echo
	echo "== 4. static serving of the real-size tree: the daemon against" \
	    "nginx, wrk ${SECS} s each"
	sh tests/bench/static.sh "$HELIOS" "$R" "$SECS"
	echo "(aim: the daemon at least half of nginx)"
fi

# --- 6. git pages target ------------------------------------------------------
if want git; then
	echo
	echo "== 6. git pages target at real size"
	sh tests/bench/git.sh "$HELIOS" "$R"
	echo "(aim: under 100 ms per publish; growth proportional to the" \
	    "changes, not to the lists)"
fi

# --- 8. review ------------------------------------------------------------------
if want review; then
	echo
	echo "== 8. review: checks at real size, proposal-to-published"
	sh tests/bench/review.sh "$HELIOS" "$W"
fi

# --- 5. client polls ---------------------------------------------------------
if want pull && [ -f tests/bench/pull.sh ]; then
	echo
	echo "== 5. helios pull: requests and bytes per poll"
	sh tests/bench/pull.sh "$B"
fi

# --- 7. migration from git ----------------------------------------------------
if want gitimport; then
	echo
	echo "== 7. helios import --git --history"
	sh tests/bench/gitimport.sh "$HELIOS" "$BB" "${BENCH_GIT_COMMITS:-20000}"
	echo "(aim: 20,000 list commits in under a minute)"
fi

# --- 9. the site ---------------------------------------------------------------
if want site && command -v node >/dev/null && [ -x /usr/bin/chromium ] &&
    [ -d node_modules/puppeteer-core ]; then
	echo
	echo "== 9. the site: a 50,000-entry list in headless Chromium"
	D=$W/site
	mkdir -p "$D"
	"$HELIOS" import --db "$D/db.sqlite" "$SAMPLE" >/dev/null || exit 1
	tsv 50000 site >"$D/k.tsv"
	"$HELIOS" import --db "$D/db.sqlite" --list watch-keyword "$D/k.tsv" \
	    >/dev/null || exit 1
	hl_daemon_start "$D" || exit 1
	published_wait
	cat >"$D/cfg.json" <<JSON
{"base": "$HL_URL/", "label": "site",
 "search": {"list": "watch-keyword",
  "value": "site-31337-(?:cheap|best)\\\\W*+pills\\\\.example\\\\.com"}}
JSON
	node tests/browser/site.js "$D/cfg.json" | awk '
	    /^# metric/ { sub(/^site_/, "", $3); printf "  %-22s %s\n", $3, $4 }
	    /^not ok/ { print "  " $0 }'
	hl_daemon_stop
	echo "(open_ms: navigation to entries shown; search_typed_ms: the" \
	    "value pasted to its row shown; aim: both under 1,000 ms on a laptop)"
fi

# --- 10. slow clients -----------------------------------------------------------
if want slow; then
	SLOW=${BENCH_SLOW_SECS:-70}
	echo
	echo "== 10. slow clients: /healthz probed once a second while 1,100" \
	    "connections from 110 addresses stall, ${SLOW} s each"
	D=$W/slow
	mkdir -p "$D"
	hl_daemon_start "$D" || exit 1
	printf '%-28s %8s %9s %9s %9s %10s\n' attack "ok" "p50 ms" \
	    "p99 ms" "max ms" "cut"
	for mode in slow idle; do
		flag="--interval 10"
		[ $mode = idle ] && flag=--idle
		# shellcheck disable=SC2086
		$PY tests/tools/slowloris.py "$HL_PORT" --conns 1100 \
		    --sources 110 $flag --duration "$SLOW" --probe-every 1 \
		    --probe-timeout 5 | $PY -c '
import json, sys
r = json.load(sys.stdin)
name = {"slow": "header line every 10 s", "idle": "idle (no bytes)"}
print("%-28s %8s %9s %9s %9s %10s" % (name[sys.argv[1]],
      "%d/%d" % (r["ok"], r["probes"]), r["p50_ms"], r["p99_ms"],
      r["max_ms"], r["attack_closed_by_server"]))' "$mode"
	done
	hl_daemon_stop
	echo "(ok: probes answered 200 within 5 s; cut: attack connections" \
	    "the server closed."
	echo " Before the connection guard: 0 of 5 and 0 of 5 in 25 s," \
	    "every probe timing out.)"
fi

echo
echo "== summary: each goal's measure beside its comparison from this run"
$PY tests/bench/summary.py "$BENCH_SUMMARY" "$ONLY"
echo
echo "benchmarks done in $(($(date +%s) - t_start)) s"
