#!/bin/sh
# static.sh HELIOS DIR [SECONDS]: the daemon's static serving against nginx.
#
# DIR holds a database (DIR/db.sqlite); when it has none, a real-size one
# is made there first: SmokeDetector's sample lists, watched_keywords.txt
# grown to 38,642 lines (about 1.85 MB, the size of the real list).  The
# daemon is started on it and publishes DIR/public, which it serves; nginx
# (gzip_static, sendfile, as deployed, one worker per core) serves the
# same directory on another port.  wrk (Debian package wrk) loads each
# server in turn, same threads, for each case and for 32 and 256
# connections:
#   304 list      GET /lists/watch-keyword.txt with If-None-Match (the
#                 server's own ETag) and Accept-Encoding: gzip: a poll;
#   gzip small    GET /lists/blacklist-website.txt, gzip;
#   gzip large    GET /lists/watch-keyword.txt, gzip (the large list);
#   manifest      GET /manifest.json, gzip: what every poll fetches first.
# Each pair is measured STATIC_ROUNDS times (default 3), the servers
# alternating, and the medians are printed side by side with the daemon's
# rate as a fraction of nginx's.  Each case is checked once with curl
# first (status and Content-Encoding), so a 200 measured as a 304 would
# show.  Figures only: nothing is asserted (the medians also go to
# run.sh's summary page, summary.sh).
HELIOS_BIN=$1
export HELIOS_BIN
. tests/lib.sh
. tests/bench/summary.sh
D=$2
SECS=${3:-4}
ROUNDS=${STATIC_ROUNDS:-3}
CONNS=${STATIC_CONNS:-32 256}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WRK=$(command -v wrk || echo "")
NG_PID=""
trap '[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null; hl_cleanup' EXIT

if [ -z "$WRK" ] || ! [ -x "$NGINX" ]; then
	echo "static: needs wrk and nginx (apt-get install wrk nginx)"
	exit 0
fi

if ! [ -f "$D/db.sqlite" ]; then
	SAMPLE=$(hl_samples) || { echo "static: no sample lists"; exit 1; }
	mkdir -p "$D/in"
	cp "$SAMPLE"/*.txt "$SAMPLE"/*.yml "$D/in/"
	awk -F '\t' -v want=38642 'NF == 3 { l[n++] = $0 }
	    END {
		out = 0
		for (k = 0; out < want; k++)
			for (i = 0; i < n && out < want; i++) {
				out++
				if (k == 0) { print l[i]; continue }
				split(l[i], f, "\t")
				printf "%s\t%s\t%s|hb%d-%d\n", \
				    f[1], f[2], f[3], k, i
			}
	    }' "$SAMPLE/watched_keywords.txt" >"$D/in/watched_keywords.txt"
	"$HELIOS" import --db "$D/db.sqlite" "$D/in" >/dev/null || exit 1
fi

# Many connections from one address: the per-address limit is lifted;
# no access log, as nginx here (STATIC_CONF: other lines instead).
cat >"$D/static-bench.conf" <<EOF
max_connections_per_ip = 2000
max_connections = 4000
connection_reserve = 100
rate_read = 0
${STATIC_CONF-access_log = off}
EOF
hl_daemon_start "$D" --config "$D/static-bench.conf" ${STATIC_ARGS:-} ||
    exit 1
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
events { worker_connections 4096; }
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

# check URL [curl args]: "status/encoding" of one request
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

# load URL SCRIPT CONNS: prints "req/s errors" of one wrk run
load() {
	"$WRK" -t2 -c"$3" -d"${SECS}s" -s "$2" "$1" 2>&1 | awk '
	    /Requests\/sec:/ { r = $2 }
	    /Non-2xx or 3xx/ { bad += $NF }
	    /Socket errors:/ { bad += 1 }
	    END { printf "%s %d\n", (r == "" ? 0 : r), bad }'
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[n++] = $1 } END { print (n ? v[int((n - 1) / 2)] : 0) }'
}

printf '%-12s %6s %-22s %10s %10s %7s\n' case conns "check (helios/nginx)" \
    "helios r/s" "nginx r/s" ratio
for c in list304 small large manifest; do
	case $c in
	list304) P=/lists/watch-keyword.txt; NAME="304 list" ;;
	small) P=/lists/blacklist-website.txt; NAME="gzip small" ;;
	large) P=/lists/watch-keyword.txt; NAME="gzip large" ;;
	manifest) P=/manifest.json; NAME="manifest" ;;
	esac
	CK=""
	for s in helios nginx; do
		if [ $s = nginx ]; then U=$NG$P; else U=$HL_URL$P; fi
		L=$N/$c-$s.lua
		printf 'wrk.headers["Accept-Encoding"] = "gzip"\n' >"$L"
		if [ $c = list304 ]; then
			E=$(etag "$U")
			printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$E" \
			    >>"$L"
			k=$(check "$U" -H 'Accept-Encoding: gzip' \
			    -H "If-None-Match: $E")
		else
			k=$(check "$U" -H 'Accept-Encoding: gzip')
		fi
		CK="$CK${CK:+ }$k"
	done
	for conns in $CONNS; do
		: >"$N/r-helios"
		: >"$N/r-nginx"
		errs=0
		r=0
		while [ $r -lt "$ROUNDS" ]; do
			for s in helios nginx; do
				if [ $s = nginx ]; then U=$NG$P; else U=$HL_URL$P; fi
				set -- $(load "$U" "$N/$c-$s.lua" "$conns")
				echo "$1" >>"$N/r-$s"
				errs=$((errs + $2))
			done
			r=$((r + 1))
		done
		h=$(median <"$N/r-helios")
		g=$(median <"$N/r-nginx")
		bench_fact "static.$c.$conns.helios" "$h"
		bench_fact "static.$c.$conns.nginx" "$g"
		ratio=$(awk -v a="$h" -v b="$g" 'BEGIN {
		    if (b > 0) printf "%.2f", a / b; else print "-" }')
		printf '%-12s %6s %-22s %10.0f %10.0f %6sx%s\n' "$NAME" \
		    "$conns" "$CK" "$h" "$g" "$ratio" \
		    "$([ $errs -gt 0 ] && echo " ($errs runs with errors)")"
	done
done
echo "(wrk -t2 on the same $(nproc) cores as the servers, ${SECS} s a run," \
    "medians of $ROUNDS; nginx with $(nproc) workers, the daemon as"
echo " configured; 304 list and gzip large: /lists/watch-keyword.txt," \
    "$(wc -c <"$D/public/lists/watch-keyword.txt") bytes," \
    "$(wc -c <"$D/public/lists/watch-keyword.txt.gz") gzipped)"
kill "$NG_PID" 2>/dev/null
wait "$NG_PID" 2>/dev/null
NG_PID=""
hl_daemon_stop
