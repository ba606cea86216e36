#!/bin/sh
# t0325: helios serve fails cleanly at start-up.  On a port another
# daemon holds it exits 1 with a message, every time, and never dies of a
# signal (an exit while the publisher's threads run crashed in the
# libraries' cleanup); the other daemon goes on serving.  A target that
# cannot be opened is the same: exit 1, never a signal.  At start the
# daemon removes the spools a crash left beside the database, and keeps
# one a running process still holds.
. tests/lib.sh
T=$(hl_tmp)
mkdir -p "$T/a"
hl_daemon_start "$T/a" || exit 1

statuses=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	mkdir -p "$T/b$i"
	"$HELIOS" serve --listen "127.0.0.1:$HL_PORT" --db "$T/b$i/db.sqlite" \
	    --public "$T/b$i/public" --admin-token-file "$T/b$i/admin.token" \
	    -d >"$T/b$i/log" 2>&1
	statuses="$statuses $?"
done
t_is "serve on a taken port exits 1, ten times out of ten" "$statuses" \
    " 1 1 1 1 1 1 1 1 1 1"
t_ok "it says the address is in use" grep -qi "in use" "$T/b1/log"
t_is "the daemon that holds the port still answers" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/healthz")" 200

# A target that cannot be opened fails the publisher after the listener
# has started: the listener is stopped first, then the exit is clean.
statuses=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	mkdir -p "$T/c$i"
	"$HELIOS" serve --listen "127.0.0.1:$(hl_port)" \
	    --db "$T/c$i/db.sqlite" --public "$T/c$i/public" \
	    --admin-token-file "$T/c$i/admin.token" \
	    --target "dir:/proc/helios-none/x" -d >"$T/c$i/log" 2>&1
	statuses="$statuses $?"
done
t_is "serve with a target it cannot open exits 1, ten times out of ten" \
    "$statuses" " 1 1 1 1 1 1 1 1 1 1"
t_ok "it names the target's error" grep -q "publisher: mkdir" "$T/c1/log"
t_ok "the daemon that holds the port stops with status 0" hl_daemon_stop

# Spools beside the database: one a crash left (with files), one a live
# `helios publish` holds (its flock, as hl_spool_new takes it).
mkdir -p "$T/d/helios-spool.crash1" "$T/d/helios-spool.alive1"
echo x >"$T/d/helios-spool.crash1/1"
echo x >"$T/d/helios-spool.crash1/1.gz"
flock -x "$T/d/helios-spool.alive1" sleep 60 &
HOLD=$!
sleep 0.3
hl_daemon_start "$T/d" || exit 1
t_ok "the spool a crash left is gone" test ! -e "$T/d/helios-spool.crash1"
t_ok "the one a live process holds is kept" test -d "$T/d/helios-spool.alive1"
t_ok "the log says so" grep -q "removed 1 stale spool directory" \
    "$T/d/daemon.log"
t_ok "the daemon stops with status 0" hl_daemon_stop
kill "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
t_done
