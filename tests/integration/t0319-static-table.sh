#!/bin/sh
# The daemon answers the public tree from memory (src/static_table.c):
# after each publish has returned, the very next GET sees the new tree
# (manifest.json's ETag is the MD5 of the file now on disk), a pruned
# object is 404, the open descriptors stay bounded over 50 publishes, and
# 304, HEAD and gzip answers are as before.  access_log = off | sample N |
# full thins the access lines out.
. tests/lib.sh
D=$(hl_tmp)
export HELIOS_RETENTION=1	# objects unnamed for a second are pruned
hl_daemon_start "$D" || exit 1
PUB=$D/public

# published V: waits until every target holds version V (publish returned)
published() {
	n=0
	while ! curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
h = json.load(sys.stdin)
sys.exit(0 if h["targets"] and all(t["version"] >= int(sys.argv[1])
    and t["last_publish_ms"] > 0 for t in h["targets"]) else 1)' "$1"; do
		n=$((n + 1)); [ $n -gt 600 ] && return 1; sleep 0.05
	done
}
post() {	# N: adds a pattern, prints the version
	curl -s -X POST -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d "{\"pattern\": \"t0318-$1\\\\.example\"}" \
	    "$HL_URL/blacklists/watch-keyword" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])'
}
md5() { echo "\"$(md5sum <"$1" | cut -d' ' -f1)\""; }
etag() {	# URL [curl args]
	u=$1; shift
	curl -s -o /dev/null -D - "$@" "$u" | tr -d '\r' |
	    sed -n 's/^[Ee][Tt][Aa][Gg]: *//p'
}
nfds() { ls "/proc/$HL_PID/fd" | wc -l; }

published 0 || { echo "Bail out! no first publish"; exit 1; }
stale=0
same=0
prev=$(etag "$HL_URL/manifest.json")
i=1
while [ $i -le 50 ]; do
	v=$(post $i)
	published "$v" || { echo "# publish of $v did not come"; break; }
	got=$(etag "$HL_URL/manifest.json")
	gz=$(etag "$HL_URL/manifest.json" -H 'Accept-Encoding: gzip')
	want=$(md5 "$PUB/manifest.json")
	wantgz=$(md5 "$PUB/manifest.json.gz")
	if [ "$got" != "$want" ] || [ "$gz" != "$wantgz" ]; then
		stale=$((stale + 1))
		echo "# publish $i (v$v): got $got $gz, the files are $want $wantgz"
	fi
	[ "$got" = "$prev" ] && same=$((same + 1))
	prev=$got
	[ $i = 5 ] && fd5=$(nfds)
	if [ $i = 1 ]; then	# the list's object of this version
		old_obj=$($PY -c '
import json, sys
m = json.load(open(sys.argv[1]))
print([f["object"] for f in m["files"]
       if f["path"] == "lists/watch-keyword.txt"][0])' "$PUB/manifest.json")
		obj_code=$(curl -s -o /dev/null -w '%{http_code}' \
		    "$HL_URL/$old_obj")
	fi
	i=$((i + 1))
done
fd50=$(nfds)
t_is "an object is served while it is named" "$obj_code" 200
t_is "50 publishes: each next GET has the new manifest's ETag" "$stale" 0
t_is "50 publishes: manifest.json's ETag changed each time" "$same" 0
t_ok "open descriptors stay bounded ($fd5 after 5 publishes, $fd50 after 50)" \
    test "$fd50" -le $((fd5 + 8))

# HELIOS_RETENTION=1: the first list object is pruned by the next publish
sleep 1.1
published "$(post 51)"
t_ok "the old object was pruned from the directory" \
    test ! -e "$PUB/$old_obj"
t_is "a pruned object is 404, never served from memory" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/$old_obj")" 404

E=$(etag "$HL_URL/lists/watch-keyword.txt" -H 'Accept-Encoding: gzip')
t_is "If-None-Match of the current ETag is 304" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' \
    -H "If-None-Match: $E" "$HL_URL/lists/watch-keyword.txt")" 304
t_is "the gzip ETag is the .gz file's MD5" "$E" \
    "$(md5 "$PUB/lists/watch-keyword.txt.gz")"
h=$(curl -s -I "$HL_URL/lists/watch-keyword.txt" | tr -d '\r')
t_is "HEAD: 200 with the file's length and no body" \
    "$(echo "$h" | sed -n '1s/^HTTP[^ ]* //p;s/^Content-Length: //p' |
    tr '\n' ' ')" "200 OK $(wc -c <"$PUB/lists/watch-keyword.txt") "
t_is "GET: the bytes of the file" \
    "$(curl -s "$HL_URL/lists/watch-keyword.txt" | md5sum)" \
    "$(md5sum <"$PUB/lists/watch-keyword.txt")"
hl_daemon_stop

# access_log: off, sample N, json full
lines() { grep -c '"path":"/manifest.json"\|GET /manifest.json ' \
    "$D/daemon.log"; }
for how in "off" "json sample 10" "json full"; do
	printf 'access_log = %s\n' "$how" >"$D/log.conf"
	: >"$D/daemon.log"
	hl_daemon_start "$D" --config "$D/log.conf" || exit 1
	i=0
	while [ $i -lt 40 ]; do
		curl -s -o /dev/null "$HL_URL/manifest.json"
		i=$((i + 1))
	done
	hl_daemon_stop
	n=$(lines)
	case $how in
	off) t_is "access_log = off: no access line" "$n" 0 ;;
	"json sample 10") t_is "access_log = sample 10: 4 lines of 40" "$n" 4 ;;
	"json full") t_is "access_log = json full: 40 lines of 40" "$n" 40
		t_ok "the JSON line is as before" grep -q \
		    '{"method":"GET","path":"/manifest.json","status":200,"bytes":[0-9]*,"ms":[0-9.]*,"user":"-"}' \
		    "$D/daemon.log" ;;
	esac
done
t_ok "a bad access_log value is refused" sh -c \
    "printf 'access_log = sample 0\n' >'$D/bad.conf' &&
    ! '$HELIOS' check-config '$D/bad.conf'"
t_done
