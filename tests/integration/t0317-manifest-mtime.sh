#!/bin/sh
# Servers such as nginx derive ETag and Last-Modified from a file's mtime
# and size, so every published manifest must have a later mtime than the
# one before, even when publishes come faster than one a second.
. tests/lib.sh
D=$(hl_tmp)
hl_daemon_start "$D" || exit 1
post() {	# N: adds a pattern of fixed length, waits for its publish
	v=$(curl -s -X POST -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d "{\"pattern\": \"t0317-$1\\\\.example\"}" \
	    "$HL_URL/blacklists/watch-keyword" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
	# (no manifest yet, as when the start-up publish is slow: waits)
	hl_wait_version "$v" || return 1
	stat -c %Y "$D/public/manifest.json"
}
m1=$(post 1); m2=$(post 2); m3=$(post 3)
t_ok "three quick publishes give three manifests" \
    test -n "$m1" -a -n "$m2" -a -n "$m3"
t_ok "each manifest's mtime is later than the one before ($m1 $m2 $m3)" \
    test "$m1" -lt "$m2" -a "$m2" -lt "$m3"
g1=$(stat -c %Y "$D/public/manifest.json.gz")
t_is "its .gz has the manifest's mtime" "$g1" "$m3"
hl_daemon_stop
t_done
