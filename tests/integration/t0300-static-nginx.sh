#!/bin/sh
# t0300: the built-in static server and nginx serve one published tree.
#
# nginx (gzip_static on) and tests/tools/static_serve.c (src/static.c
# behind libmicrohttpd) serve the same directory on two free ports.  For
# every file, both must send the same bytes, plainly and gzip-decoded,
# choose gzip for the same files, and answer 304 to If-None-Match with the
# ETag each sent (nginx's ETags have another form, so each server is only
# checked against itself).  nginx is required: without it the test fails.
. tests/lib.sh

B=${HELIOS_BUILD:-$PWD/build}
T=$(hl_tmp)
PUB=$T/public
NG_PID=""
SS_PID=""

stop_servers() {
	[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null
	[ -n "$SS_PID" ] && kill "$SS_PID" 2>/dev/null
	[ -n "$NG_PID" ] && wait "$NG_PID" 2>/dev/null
	[ -n "$SS_PID" ] && wait "$SS_PID" 2>/dev/null
	NG_PID=""
	SS_PID=""
}
trap 'stop_servers; hl_cleanup' EXIT

t_ok "nginx is installed" test -x "$NGINX"
if ! [ -x "$NGINX" ]; then
	t_done
	exit 1
fi

# --- the published tree -------------------------------------------------
mkdir -p "$PUB/lists" "$PUB/changes" "$PUB/objects" "$PUB/assets" \
    "$PUB/docs"
printf '{"version":12,"files":[]}\n' >"$PUB/manifest.json"
printf '\001\002signature' >"$PUB/manifest.json.sig"
printf 'buy cheap\nfree money\n' >"$PUB/lists/blacklist-keyword.txt"
printf '{"items":[{"pattern":"buy cheap"}],"numItems":1}\n' \
    >"$PUB/lists/blacklist-keyword.json"
printf -- '- 10.0.0.0/8\n- 192.0.2.0/24\n' >"$PUB/lists/blacklist-cidr.yml"
printf 'example\\.com\t1700000000\talice\n' >"$PUB/lists/watch-keyword.txt"
printf '{"items":[],"numItems":0}\n' >"$PUB/notifications.json"
printf '{"segments":["1-12"]}\n' >"$PUB/changes.json"
printf '{"events":[]}\n' >"$PUB/changes/1-12.json"
# a larger list, so that gzip has something to do
i=0
while [ $i -lt 400 ]; do
	echo "spam-pattern-$i\\.example\\.(com|net)"
	i=$((i + 1))
done >"$PUB/lists/blacklist-website.txt"
sha=$(sha256sum "$PUB/lists/blacklist-website.txt" | cut -d' ' -f1)
cp "$PUB/lists/blacklist-website.txt" "$PUB/objects/$sha"
printf '<!doctype html><title>Helios</title>\n' >"$PUB/index.html"
printf '<!doctype html><title>docs</title>\n' >"$PUB/docs/index.html"
printf 'body { margin: 0 }\n' >"$PUB/assets/site.css"
printf 'console.log("helios");\n' >"$PUB/assets/app.js"
: >"$PUB/lists/empty.txt"
for f in manifest.json lists/blacklist-keyword.txt \
    lists/blacklist-keyword.json lists/blacklist-cidr.yml \
    lists/watch-keyword.txt lists/blacklist-website.txt \
    notifications.json changes.json changes/1-12.json "objects/$sha" \
    index.html; do
	gzip -9 -n -k "$PUB/$f"
done

# --- the two servers ----------------------------------------------------
CC=${CC:-cc}
SAN=""
if nm "$B/libhelios.a" 2>/dev/null | grep -q __asan_init; then
	CC=clang
	SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
[ -f "$B/libhelios.a" ] || make -s "$B/libhelios.a" >/dev/null
# shellcheck disable=SC2046,SC2086
t_ok "the static test server builds against libhelios.a" \
    $CC -std=c11 -D_GNU_SOURCE -g $SAN \
    $(make -s --no-print-directory print-cflags) -o "$T/static_serve" \
    tests/tools/static_serve.c "$B/libhelios.a" \
    $(make -s --no-print-directory print-libs)

NG_PORT=$(hl_port)
hl_nginx_start "$T/nginx" "
	access_log off;
	types {
		application/json json;
		text/plain txt yml;
		text/html html;
		text/css css;
		text/javascript js;
		application/gzip gz;
	}
	server {
		listen 127.0.0.1:$NG_PORT;
		root $PUB;
		gzip_static on;
		etag on;
	}"
NG="http://127.0.0.1:$NG_PORT"
t_ok "nginx starts on a free port" hl_wait_http "$NG/"
[ -s "$T/nginx/error.log" ] && sed 's/^/# nginx: /' "$T/nginx/error.log"

SS_PORT=""
if [ -x "$T/static_serve" ]; then
	"$T/static_serve" "$PUB" 0 >"$T/ss.out" 2>"$T/ss.err" &
	SS_PID=$!
	n=0
	while [ -z "$SS_PORT" ] && [ $n -lt 100 ]; do
		SS_PORT=$(sed -n 's/^port //p' "$T/ss.out")
		[ -n "$SS_PORT" ] || sleep 0.1
		n=$((n + 1))
	done
fi
SS="http://127.0.0.1:${SS_PORT:-1}"
t_ok "the static test server starts on a free port" hl_wait_http "$SS/"

# --- the checks ---------------------------------------------------------
# URL paths of every file (not the target's own dot names: temporary
# files, .spares/), plus the two directories with an index
PATHS=$(cd "$PUB" && find . -type f | grep -v '/\.' | sed 's|^\.||' | sort)
PATHS="$PATHS / /docs/"

# fetch BASE PATH OUT [curl args...]: body to OUT, headers to OUT.h
fetch() {
	base=$1 path=$2 out=$3
	shift 3
	curl -s -o "$out" -D "$out.h" "$@" "$base$path"
}

# hdr FILE NAME: a response header's value
hdr() {
	sed -n "s/^$2: *\([^\r]*\)\r*\$/\1/Ip" "$1"
}

# file_of PATH: sets F to the file a URL path stands for
file_of() {
	case "$1" in
	*/) F="$PUB$1index.html" ;;
	*) F="$PUB$1" ;;
	esac
}

same_identity() {
	rc=0
	for p in $PATHS; do
		fetch "$SS" "$p" "$T/a" || rc=1
		fetch "$NG" "$p" "$T/b" || rc=1
		file_of "$p"
		if ! cmp -s "$T/a" "$T/b" || ! cmp -s "$T/a" "$F"; then
			echo "$p: bodies differ"
			rc=1
		fi
		[ "$(hdr "$T/a.h" Content-Encoding)" = "" ] ||
		    { echo "$p: encoded without Accept-Encoding"; rc=1; }
	done
	return $rc
}

decode() {	# FILE: the body, gunzipped if it was sent gzipped
	if [ "$(hdr "$1.h" Content-Encoding)" = gzip ]; then
		gzip -dc <"$1"
	else
		cat "$1"
	fi
}

same_gzip() {
	rc=0
	for p in $PATHS; do
		fetch "$SS" "$p" "$T/a" -H 'Accept-Encoding: gzip' || rc=1
		fetch "$NG" "$p" "$T/b" -H 'Accept-Encoding: gzip' || rc=1
		decode "$T/a" >"$T/a.d" || rc=1
		decode "$T/b" >"$T/b.d" || rc=1
		file_of "$p"
		if ! cmp -s "$T/a.d" "$T/b.d" || ! cmp -s "$T/a.d" "$F"; then
			echo "$p: decoded bodies differ"
			rc=1
		fi
		ea=$(hdr "$T/a.h" Content-Encoding)
		eb=$(hdr "$T/b.h" Content-Encoding)
		if [ "$ea" != "$eb" ]; then
			echo "$p: Content-Encoding '$ea' here, '$eb' in nginx"
			rc=1
		fi
		if [ -f "$F.gz" ] && [ "$ea" != gzip ]; then
			echo "$p: has a .gz but was not sent gzipped"
			rc=1
		fi
	done
	return $rc
}

# revalidates BASE [curl args]: every file answers 304 to its own ETag
revalidates() {
	base=$1
	shift
	rc=0
	for p in $PATHS; do
		fetch "$base" "$p" "$T/a" "$@" || rc=1
		etag=$(hdr "$T/a.h" ETag)
		if [ -z "$etag" ]; then
			echo "$p: no ETag"
			rc=1
			continue
		fi
		code=$(curl -s -o "$T/c" -w '%{http_code}' "$@" \
		    -H "If-None-Match: $etag" "$base$p")
		if [ "$code" != 304 ] || [ -s "$T/c" ]; then
			echo "$p: If-None-Match $etag gave $code"
			rc=1
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' "$@" \
		    -H 'If-None-Match: "not-this-one"' "$base$p")
		[ "$code" = 200 ] ||
		    { echo "$p: a stale ETag gave $code"; rc=1; }
	done
	return $rc
}

etag_is_md5() {
	rc=0
	for p in $PATHS; do
		fetch "$SS" "$p" "$T/a" || rc=1
		file_of "$p"
		want="\"$(md5sum <"$F" | cut -d' ' -f1)\""
		got=$(hdr "$T/a.h" ETag)
		[ "$got" = "$want" ] ||
		    { echo "$p: ETag $got, MD5 $want"; rc=1; }
	done
	return $rc
}

t_ok "both servers send the same bytes for every file" same_identity
t_ok "both servers send the same gzip-decoded bytes for every file" \
    same_gzip
t_ok "the built-in server answers 304 to its own ETags" revalidates "$SS"
t_ok "the built-in server answers 304 to its own gzip ETags" \
    revalidates "$SS" -H 'Accept-Encoding: gzip'
t_ok "nginx answers 304 to its own ETags" revalidates "$NG"
t_ok "nginx answers 304 to its own gzip ETags" \
    revalidates "$NG" -H 'Accept-Encoding: gzip'
t_ok "the built-in server's ETags are the MD5 of the files" etag_is_md5

stop_servers
t_is "the static test server stops cleanly" \
    "$(cat "$T/ss.err" 2>/dev/null)" ""
t_done
