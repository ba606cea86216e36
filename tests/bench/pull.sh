#!/bin/sh
# Benchmark: what one poll of `helios pull` costs, in requests and body
# bytes, against a client that downloads every list every time.
#
#   sh tests/bench/pull.sh [BUILD_DIR]
#
# The store holds SmokeDetector's sample files grown to the size of the
# real lists (watched_keywords.txt about 1.8 MB, bad_keywords.txt 2,700
# lines, ...).  nginx (gzip on, gzip_static on) serves the daemon's
# published directory; every figure comes from `helios pull --stats` and is
# checked against nginx's access log ($body_bytes_sent).
#
# Rows: a first pull; an unchanged poll; one change; 100 changes; and a
# client whose version is older than the change window (it must download
# the changed lists).  The naive client GETs every list's .gz (and
# notifications.json.gz) on every poll.
. tests/lib.sh

B=${1:-build}
HELIOS=${HELIOS_BIN:-$PWD/$B/helios}
SAMPLES=$(hl_samples)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
T=$(hl_tmp)
D=$T/d
NG_PID=""
trap '[ -n "$NG_PID" ] && kill "$NG_PID"; hl_cleanup' EXIT
mkdir -p "$D" "$T/big" "$T/nginx"

# --- lists at real size --------------------------------------------------
cp "$SAMPLES"/* "$T/big/"
grow() {	# FILE LINES FORMAT
	awk -v n="$2" -v fmt="$3" 'BEGIN {
		for (i = 0; i < n; i++) {
			p = sprintf("bench%06d[-_.]?(?:spam|promo)%d\\.example", i, i % 97)
			if (fmt == "tsv")
				printf "%d\tbench user %d\t%s\n", 1500000000 + i, i % 50, p
			else
				print p
		}
	}' >>"$1"
}
grow "$T/big/watched_keywords.txt" 30000 tsv
grow "$T/big/watched_numbers.txt" 3000 tsv
grow "$T/big/bad_keywords.txt" 2600 plain
grow "$T/big/blacklisted_websites.txt" 4750 plain
grow "$T/big/blacklisted_usernames.txt" 600 plain
grow "$T/big/blacklisted_numbers.txt" 560 plain

"$HELIOS" import --db "$D/db.sqlite" "$SAMPLES" >/dev/null 2>&1
"$HELIOS" publish --db "$D/db.sqlite" --target "dir:$D/public" \
    >/dev/null 2>&1

# nginx on the published directory
NG_PORT=$(hl_port)
NG_USER=""
[ "$(id -u)" = 0 ] && NG_USER="user root;"
cat >"$T/nginx/nginx.conf" <<EOF
$NG_USER
worker_processes 1;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 64; }
http {
	log_format t '\$request_method \$uri \$status \$body_bytes_sent';
	access_log $T/nginx/access.log t;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	types { application/json json; text/plain txt yml; application/gzip gz; }
	default_type application/octet-stream;
	gzip on;
	gzip_types application/json text/plain;
	server { listen 127.0.0.1:$NG_PORT; root $D/public; gzip_static on; }
}
EOF
"$NGINX" -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" \
    -g 'daemon off;' >/dev/null 2>&1 &
NG_PID=$!
NG="http://127.0.0.1:$NG_PORT"
hl_wait_http "$NG/manifest.json" || { echo "nginx did not start"; exit 1; }

# A client at the sample version, which the growth below leaves far
# behind the change window.
"$HELIOS" pull -q "$NG" "$T/old" || exit 1
"$HELIOS" import --db "$D/db.sqlite" "$T/big" >/dev/null 2>&1
"$HELIOS" publish --db "$D/db.sqlite" --target "dir:$D/public" \
    >/dev/null 2>&1
hl_daemon_start "$D" || exit 1
sleep 1	# the daemon republishes (a fresh expiry) when it starts
wait_version() {	# V
	n=0
	until [ "$(jq -r .version "$D/public/manifest.json" 2>/dev/null)" \
	    -ge "$1" ] 2>/dev/null; do
		n=$((n + 1)); [ $n -gt 600 ] && return 1; sleep 0.1
	done
}
post() {	# LIST PATTERN
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -d "{\"pattern\": \"$2\"}" "$HL_URL/blacklists/$1"
}
V=$(jq -r .version "$D/public/manifest.json")

naive_bytes() {	# what GETting every list's .gz costs now
	jq '[(.lists[].text) as $t | .files[] | select(.path == $t) |
	    .gz.bytes] + [.files[] | select(.path == "notifications.json") |
	    .gz.bytes] | add' "$D/public/manifest.json"
}
naive_requests() {
	jq '.lists | length + 1' "$D/public/manifest.json"
}
ROWS=""
poll() {	# NAME DIR
	before=$(wc -l <"$T/nginx/access.log")
	out=$("$HELIOS" pull --stats "$NG" "$2" | tr '\n' ' ')
	req=$(echo "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
	bytes=$(echo "$out" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
	ngbytes=$(tail -n +$((before + 1)) "$T/nginx/access.log" |
	    awk '{ s += $4 } END { print s + 0 }')
	nb=$(naive_bytes)
	ratio=$(awk -v a="$bytes" -v b="$nb" \
	    'BEGIN { printf "%.4f", b ? a / b : 0 }')
	printf '%-28s %8s %10s %10s %8s %10s %8s\n' "$1" "$req" "$bytes" \
	    "$ngbytes" "$(naive_requests)" "$nb" "$ratio"
	echo "#   $out" | sed 's/requests=.*//'
}

printf '%-28s %8s %10s %10s %8s %10s %8s\n' "poll" "requests" "bytes" \
    "nginx" "naive-rq" "naive-B" "ratio"
poll "first pull (empty dir)" "$T/new"
poll "unchanged" "$T/new"
post watch-keyword "bench-one-change[.]example"
wait_version $((V + 1))
poll "one change" "$T/new"
i=0
while [ $i -lt 100 ]; do
	post watch-keyword "bench-hundred-$i[.]example"
	i=$((i + 1))
done
wait_version $((V + 101))
poll "100 changes" "$T/new"
poll "older than the window" "$T/old"
echo "# bytes: body bytes received (compressed where gzip was used);"
echo "# nginx: \$body_bytes_sent summed over the poll's requests;"
echo "# ratio: bytes / naive-B (the naive client's bytes for one poll)."
echo "# watched_keywords.txt: $(wc -c <"$T/new/watched_keywords.txt") bytes, version $(jq -r .version "$D/public/manifest.json")"
hl_daemon_stop
