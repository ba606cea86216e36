#!/bin/sh
# The helios command: help and usage errors, the config file, tokens from
# the command line, migrations, a manifest refreshed before it expires,
# and a clean shutdown under valgrind.
. tests/lib.sh
D=$(hl_tmp)

t_ok "helios -h prints the synopsis on stdout and exits 0" \
    sh -c "'$HELIOS' -h | grep -q '^usage: helios serve'"
"$HELIOS" frobnicate >"$D/u.out" 2>"$D/u.err"
t_is "an unknown command exits 1" "$?" 1
t_ok "and prints the synopsis on stderr only" \
    sh -c "grep -q '^usage:' '$D/u.err' && ! test -s '$D/u.out'"
t_ok "the manual's SYNOPSIS names every subcommand of usage()" sh -c "
	for c in serve migrate 'token create' 'token list' 'token revoke' \
	    publish verify import export backup 'key generate' pull history \
	    restore; do
		grep -q \"^.Cm \$c\$\" src/helios.1 || { echo \"missing \$c\"; exit 1; }
		'$HELIOS' -h | grep -q \"helios \$c\" || { echo \"usage lacks \$c\"; exit 1; }
	done"

t_ok "helios migrate creates a database" \
    "$HELIOS" migrate --db "$D/m.sqlite"
out=$("$HELIOS" token create smokey-1 --scope write --db "$D/m.sqlite")
tok=$(printf '%s\n' "$out" | tail -1)
t_ok "token create prints a 64-hex token once" \
    sh -c "printf '%s' '$tok' | grep -qE '^[0-9a-f]{64}$'"
t_ok "token list names it without its secret" sh -c \
    "'$HELIOS' token list --db '$D/m.sqlite' | grep -q 'smokey-1.*write.*valid' &&
     ! '$HELIOS' token list --db '$D/m.sqlite' | grep -q '$tok'"
t_ok "the database keeps no token in clear" sh -c \
    "! grep -q '$tok' '$D/m.sqlite'"
t_ok "token revoke marks it revoked" sh -c \
    "'$HELIOS' token revoke 1 --db '$D/m.sqlite' >/dev/null &&
     '$HELIOS' token list --db '$D/m.sqlite' | grep -q 'smokey-1.*revoked'"
t_ok "revoking an unknown token fails" sh -c \
    "! '$HELIOS' token revoke 99 --db '$D/m.sqlite' 2>/dev/null"
t_ok "an unknown scope is refused" sh -c \
    "! '$HELIOS' token create x --scope root --db '$D/m.sqlite' 2>/dev/null"

printf 'listen = 127.0.0.1:1\nbogus = 1\n' >"$D/bad.conf"
t_ok "an unknown setting in the config file is an error naming its line" \
    sh -c "'$HELIOS' serve --config '$D/bad.conf' 2>&1 | grep -q 'bad.conf:2: unknown setting'"

port=$(hl_port)
cat >"$D/helios.conf" <<CONF
# a test configuration
listen = 127.0.0.1:$port
db = $D/conf.sqlite
public = $D/conf-public
admin_token_file = $D/conf.token
profile = dev
manifest_ttl = 4
CONF
"$HELIOS" serve --config "$D/helios.conf" -d >"$D/conf.out" 2>"$D/conf.log" &
HL_PID=$!
hl_wait_http "http://127.0.0.1:$port/healthz"
n=0; while [ ! -f "$D/conf-public/manifest.json" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
t_ok "serve takes its address, database and directory from the config file" \
    test -f "$D/conf-public/manifest.json" -a -f "$D/conf.sqlite"
t_ok "the admin token file is readable by its owner only" \
    sh -c "[ \$(stat -c %a '$D/conf.token') = 600 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"name":"anyone"}' "http://127.0.0.1:$port/auth/create")
t_is "the dev profile lets anyone mint a token, as the proof of concept did" "$code" 201
t_ok "the first admin token is printed once, and never reaches the log" sh -c \
    "grep -q \"\$(cat '$D/conf.token')\" '$D/conf.out' &&
     ! grep -q \"\$(cat '$D/conf.token')\" '$D/conf.log'"
S=$(hl_samples)
"$HELIOS" import --db "$D/conf.sqlite" "$S/bad_keywords.txt" >/dev/null
n=0
while ! cmp -s "$D/conf-public/lists/blacklist-keyword.txt" \
    "$S/bad_keywords.txt" && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
t_ok "an import beside the running daemon is published within seconds" \
    cmp "$D/conf-public/lists/blacklist-keyword.txt" "$S/bad_keywords.txt"
mv=$($PY -c "import json; print(json.load(open('$D/conf-public/manifest.json'))['version'])")
t_ok "/metrics gives each target's published version" sh -c \
    "curl -s http://127.0.0.1:$port/metrics |
     grep -qx 'helios_target_version{target=\"dir:$D/conf-public\",kind=\"dir\"} $mv'"
expires() {
	$PY -c "import json; print(json.load(open('$D/conf-public/manifest.json'))['expires_at'])"
}
exp1=$(expires)
# The refresh is due a quarter of the manifest's life before it expires:
# wait for it (up to 20 s), not for a fixed time.
n=0
while exp2=$(expires) && [ "$exp2" -le "$exp1" ] && [ $n -lt 200 ]; do
	sleep 0.1; n=$((n + 1))
done
t_ok "a fresh manifest is published before the old one expires, with no change" \
    test "$exp2" -gt "$exp1"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop

# The shutdown path frees everything: valgrind finds no leak.  A sanitizer
# build can't run under valgrind; there LeakSanitizer checks the same exit.
VG="valgrind --leak-check=full --errors-for-leak-kinds=definite
    --error-exitcode=9 --log-file=$D/vg.log"
WHO=valgrind
if nm "$HELIOS" 2>/dev/null | grep -q __asan_init; then
	VG=""
	WHO=LeakSanitizer
	: >"$D/vg.log"
fi
if [ -z "$VG" ] || command -v valgrind >/dev/null; then
	port=$(hl_port)
	$VG "$HELIOS" serve --listen "127.0.0.1:$port" --db "$D/vg.sqlite" \
	    --public "$D/vg-public" --admin-token-file "$D/vg.token" -d \
	    >"$D/vg.out" 2>&1 &
	HL_PID=$!
	hl_wait_http "http://127.0.0.1:$port/healthz"
	v=$(curl -s -X POST -H "Authorization: Bearer $(cat "$D/vg.token")" \
	    -H 'Content-Type: application/json' -d '{"pattern":"leak\\\\.test"}' \
	    "http://127.0.0.1:$port/blacklists/watch-keyword" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
	# The publisher has written that version (up to 30 s under valgrind).
	n=0
	while [ "$($PY -c "import json; print(json.load(open('$D/vg-public/manifest.json'))['version'])" 2>/dev/null || echo 0)" -lt "${v:-1}" ] &&
	    [ $n -lt 300 ]; do
		sleep 0.1; n=$((n + 1))
	done
	curl -s "http://127.0.0.1:$port/manifest.json" >/dev/null
	t_ok "$WHO finds no leak and no error when the daemon stops on SIGTERM" \
	    hl_daemon_stop
	grep -E 'definitely lost|ERROR SUMMARY' "$D/vg.log" | sed 's/^/# /'
else
	t_ok "valgrind is installed" false
fi
t_done
