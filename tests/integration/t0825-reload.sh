#!/bin/sh
# SIGHUP reloads the config file without a restart (src/reload.h): the log
# level, the access log's form and the rate limits change at once; a
# setting that needs a restart (listen) is named in the log and left as it
# was; a file with an error is refused whole, the old settings stay and
# the daemon goes on serving.
. tests/lib.sh
D=$(hl_tmp)
conf() {	# the config file, with the given extra lines
	{ printf 'rate_exempt = none\nrate_read = 1000\nrate_read_burst = 1000\n'
	  printf '%s\n' "$@"; } >"$D/helios.conf"
}
hup() {		# SIGHUP, then waits for the Nth reload line ($1)
	kill -HUP "$HL_PID"
	n=0
	while [ "$(grep -c 'SIGHUP: config' "$D/daemon.log")" -lt "$1" ]; do
		n=$((n + 1)); [ $n -gt 50 ] && return 1; sleep 0.1
	done
}
gets() {	# N GETs of /healthz: their statuses, one line
	i=0
	while [ $i -lt "$1" ]; do
		curl -s -o /dev/null -w '%{http_code} ' "$HL_URL/healthz?$2$i"
		i=$((i + 1))
	done
}
conf 'log_level = info'
hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
# 2 (a seccomp filter), or 0 in a sanitizer build, where sandbox = auto
# leaves it off.
SB=$(awk '/^Seccomp:/ { print $2 }' "/proc/$HL_PID/status")
t_is "before: ten quick reads are all answered" "$(gets 10 a)" \
    "200 200 200 200 200 200 200 200 200 200 "
t_ok "before: each request has an access line" \
    grep -q 'GET /healthz 200' "$D/daemon.log"

conf 'log_level = warning' 'rate_read = 1' 'rate_read_burst = 2'
hup 1
lines=$(grep -c 'GET /healthz' "$D/daemon.log")
t_is "after SIGHUP: the new rate limit holds (a burst of 2, then 429)" \
    "$(gets 3 b)" "200 200 429 "
t_is "after SIGHUP: log_level = warning drops the access lines" \
    "$(grep -c 'GET /healthz' "$D/daemon.log")" "$lines"

conf 'access_log = json' 'threads = 2' 'sandbox = off'
hup 3
t_ok "settings that need a restart are named in the log" \
    grep -q 'SIGHUP: threads, sandbox changed: needs a restart' \
    "$D/daemon.log"
t_is "and the daemon still answers, its limits back up" \
    "$(gets 3 c)" "200 200 200 "
t_is "and its sandbox was left as it was (Seccomp: $SB)" \
    "$(awk '/^Seccomp:/ { print $2 }' "/proc/$HL_PID/status")" "$SB"
t_ok "access_log = json takes effect at once" \
    grep -q '{"method":"GET","path":"/healthz","status":200' "$D/daemon.log"

conf 'rate_read = lots' 'log_level = warning'
hup 4
t_ok "a config with an error is refused whole, in one line" sh -c \
    "[ \$(grep -c 'SIGHUP: config refused, the old one stays: .*helios.conf:4: rate_read' '$D/daemon.log') = 1 ]"
before=$(grep -c '"path":"/healthz"' "$D/daemon.log")
t_is "the daemon goes on serving with the old settings" "$(gets 3 d)" \
    "200 200 200 "
t_is "its log_level = warning was not taken" \
    "$(grep -c '"path":"/healthz"' "$D/daemon.log")" "$((before + 3))"
hl_daemon_stop
t_is "it stops cleanly" "$?" 0
t_done
