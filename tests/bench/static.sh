#!/bin/sh
# static.sh HELIOS DIR [SECONDS]: the daemon's static serving against nginx.
#
# DIR holds a database (DIR/db.sqlite).  The daemon is started on it and
# publishes DIR/public, which it serves; nginx (gzip_static, sendfile, as
# deployed) serves the same directory on another port.  wrk (Debian
# package wrk) then loads each server in turn, same threads and
# connections, for each case:
#   304 manifest    GET /manifest.json with If-None-Match (the server's own
#                   ETag) and Accept-Encoding: gzip: the client's poll;
#   gzip small      GET /lists/blacklist-website.txt, gzip: a small list;
#   gzip large      GET /lists/watch-keyword.json, gzip: the large list.
# Prints requests/s and wrk's latency percentiles side by side, and the
# daemon's rate as a fraction of nginx's.  Each case is checked once with
# curl first (status and Content-Encoding), so a 200 measured as a 304
# would show.  Figures only.
HELIOS_BIN=$1
export HELIOS_BIN
. tests/lib.sh
D=$2
SECS=${3:-5}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WRK=$(command -v wrk || echo "")
NG_PID=""
trap '[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null; hl_cleanup' EXIT

if [ -z "$WRK" ] || ! [ -x "$NGINX" ]; then
	echo "static: needs wrk and nginx (apt-get install wrk nginx)"
	exit 0
fi

hl_daemon_start "$D" || exit 1
n=0
while [ $n -lt 3000 ]; do
	curl -s "$HL_URL/healthz" | python3 -c '
import json, sys
h = json.load(sys.stdin)
sys.exit(0 if all(t["version"] >= h["version"] for t in h["targets"]) else 1)
' && break
	n=$((n + 1))
	sleep 0.2
done

N=$D/nginx
mkdir -p "$N"
NG_PORT=$(hl_port)
NG_USER=""
[ "$(id -u)" = 0 ] && NG_USER="user root;"
cat >"$N/nginx.conf" <<EOF
$NG_USER
worker_processes $(nproc);
error_log $N/error.log;
pid $N/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	types {
		application/json json;
		text/plain txt yml;
		text/html html;
		application/gzip gz;
	}
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $D/public;
		gzip_static on;
		etag on;
	}
}
EOF
"$NGINX" -p "$N" -e "$N/error.log" -c "$N/nginx.conf" -g 'daemon off;' \
    >"$N/stdout" 2>&1 &
NG_PID=$!
NG="http://127.0.0.1:$NG_PORT"
hl_wait_http "$NG/" || { cat "$N/error.log"; exit 1; }

# check URL [curl args]: "status encoding" of one request
check() {
	curl -s -o /dev/null -D - "$@" | tr -d '\r' | awk '
	    NR == 1 { s = $2 }
	    tolower($1) == "content-encoding:" { e = $2 }
	    END { print s "/" (e == "" ? "identity" : e) }'
}

# etag URL: the ETag a server sends for URL with Accept-Encoding: gzip
etag() {
	curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$1" |
	    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p'
}

# load NAME URL SCRIPT: prints "req/s p50 p99" for one wrk run
load() {
	"$WRK" -t2 -c32 -d"${SECS}s" --latency -s "$3" "$2" 2>&1 | awk '
	    /Requests\/sec:/ { r = $2 }
	    $1 == "50%" { p50 = $2 }
	    $1 == "99%" { p99 = $2 }
	    /Non-2xx or 3xx/ { bad = $NF }
	    END { printf "%s %s %s %s\n", r, p50, p99, (bad == "" ? 0 : bad) }'
}

printf '%-12s %-8s %-14s %12s %9s %9s %7s %8s\n' case server check \
    "req/s" "p50" "p99" "errors" "vs nginx"
for c in manifest small large; do
	case $c in
	manifest) P=/manifest.json; NAME="304 manifest" ;;
	small) P=/lists/blacklist-website.txt; NAME="gzip small" ;;
	large) P=/lists/watch-keyword.json; NAME="gzip large" ;;
	esac
	ng_rate=""
	for s in nginx helios; do
		if [ $s = nginx ]; then U=$NG$P; else U=$HL_URL$P; fi
		L=$N/$c-$s.lua
		if [ $c = manifest ]; then
			E=$(etag "$U")
			printf 'wrk.headers["Accept-Encoding"] = "gzip"\n' >"$L"
			printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$E" \
			    >>"$L"
			CK=$(check "$U" -H 'Accept-Encoding: gzip' \
			    -H "If-None-Match: $E")
		else
			printf 'wrk.headers["Accept-Encoding"] = "gzip"\n' >"$L"
			CK=$(check "$U" -H 'Accept-Encoding: gzip')
		fi
		set -- $(load "$s" "$U" "$L")
		if [ $s = nginx ]; then
			ng_rate=$1
			vs="1.00"
		else
			vs=$(awk -v a="$1" -v b="$ng_rate" 'BEGIN {
			    if (b > 0) printf "%.2f", a / b; else print "-" }')
		fi
		printf '%-12s %-8s %-14s %12s %9s %9s %7s %7sx\n' "$NAME" $s \
		    "$CK" "$1" "$2" "$3" "$4" "$vs"
	done
done
echo "(wrk -t2 -c32 on the same two cores as the server; nginx with" \
    "$(nproc) workers, the daemon with its default thread pool)"
kill "$NG_PID" 2>/dev/null
wait "$NG_PID" 2>/dev/null
NG_PID=""
hl_daemon_stop
