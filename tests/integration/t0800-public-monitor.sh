#!/bin/sh
# t0800: the monitor of the public copies.
#
# nginx serves the daemon's public directory (public_url of "public") and,
# on a second port, a frozen copy of a second target's directory, as a
# CDN that stopped updating would.  After a write, /healthz and /metrics
# report the version seen publicly and the propagation delay, and the
# site's index shows it; a broken signature and a changed list file in
# the served directory turn /healthz to 503 with the reason; a public copy
# that lags past stale_after does too.
. tests/lib.sh
D=$(hl_tmp)
t_ok "nginx is installed" test -x "$NGINX"
[ -x "$NGINX" ] || { t_done; exit 1; }
"$HELIOS" key generate "$D/sign.pem" >/dev/null 2>&1
mkdir -p "$D/public" "$D/other" "$D/frozen"
NG_PORT=$(hl_port)
FZ_PORT=$(hl_port)
hl_nginx_start "$D/nginx" "
	access_log off;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $D/public;
	}
	server {
		listen 127.0.0.1:$FZ_PORT;
		root $D/frozen;
	}"
NG="http://127.0.0.1:$NG_PORT"
cat >"$D/helios.conf" <<CONF
signing_key = $D/sign.pem
public_url = public $NG/
public_check_interval = 1
CONF

# health FIELD: a field of the first target in /healthz
health() {
	curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
t = json.load(sys.stdin)["targets"][0]
v = t.get(sys.argv[1])
print("null" if v is None else v)' "$1"
}
# wait_for CMD...: up to 20 s for CMD to succeed
wait_for() {
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -gt 200 ] && return 1; sleep 0.1
	done
}
add() {
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$1\"}" \
	    "$HL_URL/blacklists/watch-keyword"
}
version() { curl -s "$HL_URL/healthz" | $PY -c \
    'import json, sys; print(json.load(sys.stdin)["version"])'; }
public_at() { [ "$(health public_version)" = "$1" ] &&
    [ "$(health propagated_version)" = "$1" ]; }
code() { curl -s -o /dev/null -w '%{http_code}' "$HL_URL/healthz"; }

hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
t_ok "nginx serves the published tree" hl_wait_http "$NG/manifest.json"
t_is "a write is accepted" "$(add 'monitor\\.example')" 201
V=$(version)
t_ok "/healthz reports the new version as seen at the public URL" \
    wait_for public_at "$V"
t_is "with the public URL" "$(health public_url)" "$NG/"
t_is "and the copy verified" "$(health public_verified)" "True"
P=$(health propagation_seconds)
t_ok "and a propagation delay in seconds ($P)" $PY -c "
import sys; p = float('$P'); sys.exit(not 0 <= p < 20)"
t_is "/healthz answers 200" "$(code)" 200
curl -s "$HL_URL/metrics" >"$D/metrics"
t_ok "/metrics has helios_public_version of the target" grep -q \
    "^helios_public_version{target=\"dir:$D/public\",kind=\"dir\"} $V\$" \
    "$D/metrics"
t_ok "and helios_propagation_seconds" grep -q \
    "^helios_propagation_seconds{target=\"dir:$D/public\",kind=\"dir\"} [0-9.e-]*\$" \
    "$D/metrics"
t_ok "and a TYPE line for it" grep -q \
    '^# TYPE helios_propagation_seconds gauge$' "$D/metrics"
# The index of the next build shows the delay the last one took.
t_is "a second write is accepted" "$(add 'monitor2\\.example')" 201
V2=$(version)
t_ok "which shows publicly too" wait_for public_at "$V2"
t_ok "the site's index shows the last measured propagation" sh -c "
    grep -q 'id=\"propagation\"' '$D/public/index.html' &&
    grep -q 'data-seconds=\"[0-9.]*\">v$V at <code>$NG/</code>' \
    '$D/public/index.html'"

# --- a broken signature --------------------------------------------------
cp "$D/public/manifest.json.sig" "$D/sig.good"
head -c 64 /dev/zero >"$D/public/manifest.json.sig"
t_ok "a broken manifest.json.sig at the public URL turns /healthz to 503" \
    wait_for sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    '$HL_URL/healthz')\" = 503 ]"
t_ok "and says why" sh -c "curl -s '$HL_URL/healthz' |
    grep -q 'fails verification: manifest.json.sig: bad signature'"
t_is "/metrics shows the copy unverified" "$(curl -s "$HL_URL/metrics" |
    grep '^helios_public_verified{' | cut -d' ' -f2)" 0
cp "$D/sig.good" "$D/public/manifest.json.sig"
t_ok "the signature restored, /healthz is 200 again" \
    wait_for sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    '$HL_URL/healthz')\" = 200 ]"

# --- a changed list file -------------------------------------------------
# (a new file renamed over it: the old one may share its inode with
# objects/ and other lists of the same bytes)
F="$D/public/lists/watch-keyword.txt"
cp "$F" "$D/list.good"
cp "$F" "$D/list.bad"
echo 'not-what-the-manifest-says' >>"$D/list.bad"
mv "$D/list.bad" "$F"
t_ok "a list file that differs from the manifest turns /healthz to 503" \
    wait_for sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    '$HL_URL/healthz')\" = 503 ]"
t_ok "and names the file" sh -c "curl -s '$HL_URL/healthz' |
    grep -q 'fails verification: lists/watch-keyword.txt: '"
mv "$D/list.good" "$F"
hl_daemon_stop
t_ok "the daemon stops cleanly" test $? = 0

# --- a public copy that lags ----------------------------------------------
# A second target whose public URL serves a copy frozen at its first
# publish: after a write it lags, and past stale_after /healthz says so.
cat >"$D/lag.conf" <<CONF
public =
target = dir:$D/other
public_url = dir:$D/other http://127.0.0.1:$FZ_PORT/
public_check_interval = 1
stale_after = 2
CONF
HL_PORT=$(hl_port)
HL_URL="http://127.0.0.1:$HL_PORT"
"$HELIOS" serve --listen "127.0.0.1:$HL_PORT" --db "$D/db.sqlite" \
    --admin-token-file "$D/admin.token" --config "$D/lag.conf" -d \
    >>"$D/daemon.log" 2>&1 &
HL_PID=$!
hl_wait_http "$HL_URL/healthz"
wait_for test -f "$D/other/manifest.json"
cp -a "$D/other/." "$D/frozen/"
t_is "a write is accepted" "$(add 'lag\\.example')" 201
t_ok "a public copy that lags past stale_after turns /healthz to 503" \
    wait_for sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    '$HL_URL/healthz')\" = 503 ]"
t_ok "and says it lags" sh -c "curl -s '$HL_URL/healthz' |
    grep -q 'the public copy of dir:$D/other lags: v$V2 served, v[0-9]* published'"
t_ok "/metrics shows the lag" sh -c "curl -s '$HL_URL/metrics' |
    grep -q '^helios_public_lag_seconds{target=\"dir:$D/other\",kind=\"dir\"} [1-9]'"
hl_daemon_stop
t_done
