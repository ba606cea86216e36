#!/bin/sh
# t0791: under a stream of writes the publisher rests between publishes
# as long as the last one took, so it takes about half a core and leaves
# the rest to the writers; when the writes stop, the last one is still
# published.  Measured from /metrics: the time spent publishing
# (helios_target_publish_seconds_total) against the wall time of the
# stream.  Back to back, as without the rest, the two are about equal.
. tests/lib.sh
T=$(hl_tmp)
D=$T/d
mkdir -p "$D"
# A list big enough that each publish takes a while (tens of ms).
$PY -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write("%d\ttripleee\trest-%d-(?:cheap|best)\\W*+pills\\.example\\.com\n"
                % (1500000000 + i, i))' "$T/k.tsv"
"$HELIOS" import --db "$D/db.sqlite" --list watch-keyword "$T/k.tsv" \
    >/dev/null || exit 1
hl_daemon_start "$D" || exit 1
hl_api GET "$HL_ADMIN" /healthz >/dev/null
hl_wait_version "$(hl_field 'j["version"]')" || exit 1

busy() {	# the seconds spent publishing so far
	curl -s "$HL_URL/metrics" |
	    awk '/^helios_target_publish_seconds_total/ { print $2 }'
}
count() {
	curl -s "$HL_URL/metrics" |
	    awk '/^helios_target_publishes_total/ { print $2 }'
}
b0=$(busy); n0=$(count); t0=$($PY -c 'import time; print(time.time())')
# Some seconds of writes from four writers, each waiting for its answer:
# a stream.  (One writer alone, waiting for each answer, may be slower
# than a publish on a fast machine; each of its changes is then published
# at once, as it should be, and there is no stream to rest from.)
pids=""
for w in 1 2 3 4; do
	(
	i=0
	while [ $i -lt 50 ]; do
		hl_api POST "$HL_ADMIN" /blacklists/watch-keyword \
		    "{\"pattern\": \"stream-$w-$i\\\\.example\"}" >/dev/null
		i=$((i + 1))
	done
	) &
	pids="$pids $!"
done
wait $pids	# not the daemon, also a child of this shell
b1=$(busy); n1=$(count); t1=$($PY -c 'import time; print(time.time())')
hl_api GET "$HL_ADMIN" /healthz >/dev/null	# the version now
LAST=$(hl_field 'j["version"]')
FRAC=$($PY -c "print('%.2f' % (($b1 - $b0) / ($t1 - $t0)))")
echo "# $((n1 - n0)) publishes, busy $FRAC of $($PY -c "print('%.1f' % ($t1 - $t0))") s"
t_ok "the stream was published in batches ($((n1 - n0)) for 200 writes)" \
    test "$((n1 - n0))" -lt 200
t_ok "publishing took at most 3/4 of the stream's wall time ($FRAC)" \
    $PY -c "import sys; sys.exit(0 if $FRAC <= 0.75 else 1)"
t_ok "the last write is published once the stream ends" \
    hl_wait_version "$LAST"
t_ok "SIGTERM ends the daemon with status 0" hl_daemon_stop
t_done
