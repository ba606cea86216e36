#!/bin/sh
# t0650: site/docs/helios_client.py, the one-file Python client for
# SmokeDetector, against the real daemon (signing its manifests), nginx
# and helios pull: tests/python/test_client.py, under this python3 and
# again under the oldest Python 3 found (3.7 is SmokeDetector's oldest).
. tests/lib.sh

SAMPLES=$(hl_samples)
T=$(hl_tmp)
D=$T/d
CLIENT=site/docs/helios_client.py
NG_PID=""
trap '[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null; hl_cleanup' EXIT

t_ok "the client parses as Python 3.7" $PY -c '
import ast, sys
ast.parse(open(sys.argv[1]).read(), sys.argv[1], feature_version=(3, 7))' \
    "$CLIENT"
t_ok "the tests parse as Python 3.7" $PY -c '
import ast, sys
for p in sys.argv[1:]:
    ast.parse(open(p).read(), p, feature_version=(3, 7))' \
    tests/python/test_client.py tests/python/tap.py
t_ok "the client imports nothing outside the standard library" $PY -c '
import ast, sys
stdlib = set(sys.stdlib_module_names) if hasattr(sys, "stdlib_module_names") else None
bad = []
for node in ast.walk(ast.parse(open(sys.argv[1]).read())):
    names = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        names = [node.module or ""]
    for n in names:
        top = n.split(".")[0]
        if top != "cryptography" and stdlib is not None and top not in stdlib:
            bad.append(n)
sys.exit(1 if bad else 0)' "$CLIENT"

mkdir -p "$D" "$T/nginx" "$T/work"
"$HELIOS" import --db "$D/db.sqlite" "$SAMPLES" >"$T/import.log" 2>&1
openssl genpkey -algorithm ed25519 -out "$T/sign.pem" 2>/dev/null
openssl pkey -in "$T/sign.pem" -pubout -out "$T/sign.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 2>/dev/null |
    openssl pkey -pubout -out "$T/other.pub" 2>/dev/null
printf 'signing_key = %s\n' "$T/sign.pem" >"$T/helios.conf"
WRITE_TOKEN=$("$HELIOS" token create smokedetector --scope write \
    --db "$D/db.sqlite" | tail -n 1)
hl_daemon_start "$D" --config "$T/helios.conf" || exit 1
n=0
# (up to a minute: the start-up publish is slow under ASan)
while ! [ -f "$D/public/manifest.json.sig" ] && [ $n -lt 600 ]; do
	sleep 0.1; n=$((n + 1))
done
cp -a "$D/public" "$T/old"

NG_PORT=$(hl_port)
hl_nginx_start "$T/nginx" "
	log_format t '\$request_method \$uri \$status \$body_bytes_sent';
	access_log $T/nginx/access.log t;
	types {
		application/json json;
		text/plain txt yml;
		application/gzip gz;
	}
	gzip on;
	gzip_types application/json text/plain;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $D/public;
		gzip_static on;
	}"

NG="http://127.0.0.1:$NG_PORT"
t_ok "nginx serves the daemon's signed tree" hl_wait_http "$NG/manifest.json"

# site/docs is published as it is: no __pycache__ there.
export PYTHONDONTWRITEBYTECODE=1
export HELIOS HL_URL NG_URL="$NG" NG_LOG="$T/nginx/access.log" \
    PUB_DIR="$D/public" OLD_DIR="$T/old" KEY_PUB="$T/sign.pub" \
    OTHER_PUB="$T/other.pub" WRITE_TOKEN WORK="$T/work" \
    CLIENT_DIR="$PWD/site/docs"

py_suite() {	# PYTHON: the Python tests, numbered after ours
	TAP_START=$((T_N + 1)) "$1" tests/python/test_client.py \
	    >"$T/py.out" 2>&1
	cat "$T/py.out"
	ran=$(grep -cE '^(not )?ok ' "$T/py.out")
	bad=$(grep -c '^not ok ' "$T/py.out")
	T_N=$((T_N + ran))
	T_FAIL=$((T_FAIL + bad))
	t_ok "the Python tests under $("$1" -V 2>&1) ran to the end" \
	    grep -qE '^(not )?ok [0-9]+ - .*!!/notify and !!/unnotify' "$T/py.out"
}
py_suite "$PY"

# The oldest Python 3 on this machine, if older than the one above.
OLD=""
for v in 7 8 9 10; do
	for p in "python3.$v" "$HOME/.pyenv/versions/3.$v"*/bin/python3.$v \
	    "/usr/local/bin/python3.$v" "/usr/bin/python3.$v"; do
		if [ -z "$OLD" ] && command -v "$p" >/dev/null 2>&1 &&
		    "$p" -c 'import sys' >/dev/null 2>&1; then
			OLD=$(command -v "$p")
		fi
	done
done
if [ -n "$OLD" ]; then
	py_suite "$OLD"
else
	echo "# no Python older than $($PY -V 2>&1) here; ran under it alone"
fi

kill "$NG_PID"
wait "$NG_PID" 2>/dev/null
NG_PID=""
t_ok "the daemon stops cleanly" hl_daemon_stop
t_ok "no __pycache__ was left in site/docs" test ! -e site/docs/__pycache__
t_done
