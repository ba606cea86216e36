# Shell helpers for the integration tests (cgit style):  . tests/lib.sh
#
#   hl_tmp               a fresh temporary directory, removed at exit
#   hl_port              a free TCP port on 127.0.0.1
#   hl_daemon_start DIR [ARGS...]
#                        starts `helios serve` on a free port with DIR/db.sqlite
#                        and DIR/public; sets HL_URL, HL_PID, HL_ADMIN (token)
#   hl_daemon_stop       SIGTERM, waits, fails the test on a bad exit
#   hl_samples           the directory of SmokeDetector's sample files
#   hl_nginx_start DIR BODY   nginx serving what BODY says; sets NG_PID
#   t_ok "sentence" CMD...   runs CMD; prints "ok N - sentence" or "not ok"
#   t_is "sentence" GOT WANT
#   t_rss "sentence" KB LIMIT   a peak RSS under LIMIT KB; skipped (TAP
#                        SKIP) for a sanitizer build of helios (make
#                        check), whose shadow memory and quarantine are
#                        not Helios's: the plain build checks the bound
#   t_done               prints the plan (1..N, the number of tests run) and
#                        gives the exit status for the script; a script
#                        that stops before it has no plan, which the
#                        runner reports as a failure
set -u
HELIOS=${HELIOS_BIN:-$PWD/build/helios}
T_N=0
T_FAIL=0
HL_CLEAN=""
# hl_tmp runs in a subshell, T=$(hl_tmp), where setting HL_CLEAN is lost:
# it names its directories in this file instead.
HL_CLEAN_LIST=$(mktemp /tmp/helios-clean.XXXXXX)
hl_cleanup() {
	[ -n "${HL_PID:-}" ] && kill "$HL_PID" 2>/dev/null
	for p in ${HL_PIDS:-}; do kill "$p" 2>/dev/null; done
	for d in $HL_CLEAN $(cat "$HL_CLEAN_LIST" 2>/dev/null); do
		rm -rf "$d"
	done
	rm -f "$HL_CLEAN_LIST"
}
trap hl_cleanup EXIT
trap 'exit 1' INT TERM
hl_tmp() {
	d=$(mktemp -d /tmp/helios-test.XXXXXX)
	echo "$d" >>"$HL_CLEAN_LIST"
	echo "$d"
}
# Debian's python3 starts faster than a version manager's shim.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
hl_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# hl_nginx_start DIR BODY [WORKERS]: starts nginx as a child of the test,
# with its config, logs and temporary files in DIR and BODY the directives
# inside http { } (its server blocks).  Sets NG_PID; stopped at exit.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
hl_nginx_start() {
	ng=$1
	mkdir -p "$ng"
	ng_user=""
	[ "$(id -u)" = 0 ] && ng_user="user root;"
	cat >"$ng/nginx.conf" <<NGINX_CONF
$ng_user
worker_processes ${3:-1};
error_log $ng/error.log;
pid $ng/nginx.pid;
events { worker_connections 1024; }
http {
	client_body_temp_path $ng/body;
	proxy_temp_path $ng/proxy;
	fastcgi_temp_path $ng/fastcgi;
	uwsgi_temp_path $ng/uwsgi;
	scgi_temp_path $ng/scgi;
	default_type application/octet-stream;
$2
}
NGINX_CONF
	"$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" \
	    -g 'daemon off;' >"$ng/stdout" 2>&1 &
	NG_PID=$!
	HL_PIDS="${HL_PIDS:-} $NG_PID"
}
hl_samples() {	# the directory of SmokeDetector sample files
	for d in "${HELIOS_SAMPLES:-}" ../shared/data/smokedetector-sample \
	    /work/shared/data/smokedetector-sample; do
		[ -n "$d" ] && [ -d "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}
hl_grown_samples() {	# DIR N: the sample files in DIR, N generated
	# watch-keyword lines appended to watched_keywords.txt
	mkdir -p "$1" && cp "$(hl_samples)"/* "$1/" && $PY -c '
import sys
with open(sys.argv[1], "a") as f:
    for i in range(int(sys.argv[2])):
        f.write("%d\ttripleee\tbig-%d-(?:cheap|best)[\\W_]*+pills\\.example\\.com\n"
                % (1500000000 + i, i))' "$1/watched_keywords.txt" "$2"
}

hl_wait_http() {	# URL: waits up to 10 s for any HTTP answer
	n=0
	while ! curl -s -o /dev/null "$1"; do
		n=$((n + 1)); [ $n -gt 100 ] && return 1; sleep 0.1
	done
}
hl_daemon_start() {
	HL_DIR=$1; shift
	HL_PORT=$(hl_port)
	HL_URL="http://127.0.0.1:$HL_PORT"
	"$HELIOS" serve --listen "127.0.0.1:$HL_PORT" --db "$HL_DIR/db.sqlite" \
	    --public "$HL_DIR/public" --admin-token-file "$HL_DIR/admin.token" \
	    -d "$@" >>"$HL_DIR/daemon.log" 2>&1 &
	HL_PID=$!
	hl_wait_http "$HL_URL/healthz" || { cat "$HL_DIR/daemon.log"; return 1; }
	HL_ADMIN=$(cat "$HL_DIR/admin.token" 2>/dev/null)
}
hl_version_of() {	# FILE: the version in a manifest, empty when unreadable
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
	    "$1" 2>/dev/null
}
hl_wait_version() {	# V: the daemon of hl_daemon_start published V or later
	n=0
	while ! [ "$(hl_version_of "$HL_DIR/public/manifest.json")" -ge "$1" ] \
	    2>/dev/null; do
		n=$((n + 1)); [ $n -gt 100 ] && return 1; sleep 0.1
	done
}
hl_api() {	# METHOD TOKEN PATH [BODY]: prints the status; the body is in
		# $HL_DIR/body for hl_field
	curl -s -o "$HL_DIR/body" -w '%{http_code}' -X "$1" \
	    -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
	    ${4:+-d "$4"} "$HL_URL$3"
}
hl_field() {	# PYTHON-EXPRESSION on the last hl_api body, as j
	python3 -c "import json,sys; j=json.load(open('$HL_DIR/body')); print($1)"
}
hl_mint() {	# NAME ARGS...: the secret of a new token in the daemon's database
	name=$1; shift
	"$HELIOS" token create "$name" --db "$HL_DIR/db.sqlite" "$@" | tail -1
}
hl_daemon_stop() {
	[ -n "${HL_PID:-}" ] || return 0
	kill -TERM "$HL_PID"
	wait "$HL_PID"
	rc=$?
	HL_PID=""
	return $rc
}
t_ok() {
	name=$1; shift
	T_N=$((T_N + 1))
	if "$@" >/tmp/helios-t.$$ 2>&1; then
		echo "ok $T_N - $name"
	else
		echo "not ok $T_N - $name"
		sed 's/^/#   /' /tmp/helios-t.$$ | head -20
		T_FAIL=$((T_FAIL + 1))
	fi
	rm -f /tmp/helios-t.$$
}
t_is() {
	T_N=$((T_N + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $T_N - $1"
	else
		echo "not ok $T_N - $1"
		echo "#   got:  $2" | head -c 2000; echo
		echo "#   want: $3" | head -c 2000; echo
		T_FAIL=$((T_FAIL + 1))
	fi
}
t_rss() {
	if grep -qa __asan_init "$HELIOS" 2>/dev/null; then
		T_N=$((T_N + 1))
		echo "ok $T_N - $1 # SKIP sanitizer build"
	else
		t_ok "$1" test "$2" -lt "$3"
	fi
}
t_done() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
}
