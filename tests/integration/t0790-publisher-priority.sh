#!/bin/sh
# t0790: the publisher's workers run at a lower CPU priority than the
# threads that answer requests, so a publish never takes a core from an
# acknowledged write (figures: `make bench`, section 1).
. tests/lib.sh
T=$(hl_tmp)
D=$T/d
mkdir -p "$D"
hl_daemon_start "$D" || exit 1

# nice of each thread: field 19 of /proc/PID/task/TID/stat, after the
# command name in parentheses.
nices() {
	for s in /proc/"$HL_PID"/task/*/stat; do
		sed 's/^.*) //' "$s" | awk '{ print $17 }'
	done | sort | uniq -c
}
t_ok "the daemon answers" curl -sf "$HL_URL/healthz"
t_ok "the main thread keeps nice 0" \
    test "$(sed 's/^.*) //' /proc/"$HL_PID"/stat | awk '{ print $17 }')" = 0
t_ok "one thread, the local directory's publisher, runs at nice 10" \
    sh -c "test \"\$(for s in /proc/$HL_PID/task/*/stat; do sed 's/^.*) //' \$s | awk '{ print \$17 }'; done | grep -cx 10)\" = 1"
nices | sed 's/^/# /'
t_ok "SIGTERM ends the daemon with status 0" hl_daemon_stop
t_done
