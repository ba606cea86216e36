#!/bin/sh
# Who may reach what: the dev profile (which mints admin tokens for anyone)
# listens on loopback only; with notifications = private, notifications are
# neither published nor readable without a token.
. tests/lib.sh
D=$(hl_tmp)
P=$(hl_port)
"$HELIOS" serve --profile dev --listen "0.0.0.0:$P" --db "$D/dev.sqlite" \
    --public "$D/devpub" --admin-token-file "$D/dev.token" -d \
    >"$D/dev.log" 2>&1 &
pid=$!
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 50 ]; do
	n=$((n + 1)); sleep 0.1
done
if kill -0 $pid 2>/dev/null; then
	kill $pid; wait $pid
	rc=running
else
	wait $pid; rc=$?
fi
t_is "the dev profile refuses a non-loopback address" "$rc" 1
t_ok "and says why" grep -q "loopback" "$D/dev.log"
hl_daemon_start "$D" --profile dev || exit 1
t_is "the dev profile on 127.0.0.1 serves" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/healthz")" 200
hl_daemon_stop

# Public notifications by default, then private.
E=$(hl_tmp)
hl_daemon_start "$E" || exit 1
curl -s -o /dev/null -X POST -H "Authorization: Bearer $HL_ADMIN" \
    -H 'Content-Type: application/json' \
    -d '{"user_id":7,"server":"stackexchange.com","room_id":11540,"site":"n.example"}' \
    "$HL_URL/notifications"
n=0
until grep -q n.example "$E/public/notifications.json" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
done
t_ok "by default notifications.json is published" \
    grep -q n.example "$E/public/notifications.json"
t_is "by default GET /notifications needs no token" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/notifications")" 200
hl_daemon_stop
printf 'notifications = private\n' >"$E/private.conf"
hl_daemon_start "$E" --config "$E/private.conf" || exit 1
t_is "private: GET /notifications without a token is 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/notifications")" 401
t_is "private: with a token it is 200" \
    "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $HL_ADMIN" "$HL_URL/notifications")" 200
t_ok "private: the published notifications.json is gone" \
    test ! -e "$E/public/notifications.json" -a \
    ! -e "$E/public/notifications.json.gz"
t_is "private: it is not served" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/notifications.json")" \
    404
t_ok "private: the manifest does not name it" sh -c \
    "! grep -q notifications.json '$E/public/manifest.json'"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $HL_ADMIN" \
    -H 'Content-Type: application/json' -d '{"pattern":"after\\.example"}' \
    "$HL_URL/blacklists/watch-keyword"
sleep 1
t_ok "private: a later publish does not bring it back" \
    test ! -e "$E/public/notifications.json"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
