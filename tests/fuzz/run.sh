#!/bin/sh
# Builds and runs the libFuzzer target tests/fuzz/fuzz_request.c (clang,
# -fsanitize=fuzzer,address,undefined) over the request parser of api.c.
#
#   sh tests/fuzz/run.sh short    about 20 seconds (part of make test)
#   sh tests/fuzz/run.sh long     10 minutes (make fuzz)
#
# Prints the plan and one TAP line.  Objects, the corpus and any crash
# input go under build-fuzz/ (crash-* files there reproduce with
# build-fuzz/fuzz_request FILE).
MODE=${1:-short}
case "$MODE" in
short)	SECS=20 ;;
long)	SECS=600 ;;
*)	echo "usage: sh tests/fuzz/run.sh short|long" >&2; exit 2 ;;
esac
B=build-fuzz
PKGS="sqlite3 libmicrohttpd libcurl libgit2 zlib jansson libcrypto yaml-0.1 libpcre2-8 libdeflate"
CF="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter $(make -s --no-print-directory print-inc) \
 $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lpthread"
log=$(mktemp)
echo "1..1"
trap 'rm -f "$log"' EXIT INT TERM

if ! command -v clang >/dev/null; then
	echo "not ok 1 - the request parser survives fuzzing (no clang)"
	exit 1
fi
if ! make -s -j2 B=$B CC=clang CFLAGS="$CF" $B/libhelios.a >"$log" 2>&1 ||
    ! clang $CF -fsanitize=fuzzer -o $B/fuzz_request \
    tests/fuzz/fuzz_request.c $B/libhelios.a $LIBS >>"$log" 2>&1; then
	echo "not ok 1 - the request parser survives fuzzing (build failed)"
	sed 's/^/#   /' "$log" | tail -20
	exit 1
fi

corpus=$B/corpus
mkdir -p "$corpus"
seed() { printf "$2" >"$corpus/seed-$1"; }
seed post 'POST\n/blacklists/watch-keyword\napplication/json\nW\n{"pattern":"a\\\\.b"}'
seed yaml 'POST\n/blacklists/watch-ns\napplication/json; charset=utf-8\nW\n{"ns":["ns1.example.com."],"comment":"c","disable":true}'
seed asn 'POST\n/blacklists/watch-asn\napplication/json\nW\n{"asn":13335,"pass":false}'
seed del 'DELETE\n/blacklists/blacklist-keyword?pattern=a%%5C.b&x=1\n\nBearer W\n'
seed notif 'POST\n/notifications\napplication/json\nW\n{"user_id":1,"server":"s","room_id":2,"site":"x","always_ping":true}'
seed token 'POST\n/auth/create\napplication/json\nA\n{"name":"n","scopes":["admin","write"]}'
seed revoke 'DELETE\n/tokens/2\n\nA\n'
seed changes 'GET\n/changes?since=0&limit=2\n\n\n'
seed path 'GET\n/blacklists/%%2e%%2e//x/../y%%00\n\n\n'
seed big '!POST\n/blacklists/watch-keyword\napplication/json\nW\n{}'

$B/fuzz_request -max_total_time=$SECS -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=$B/ -print_final_stats=1 \
    "$corpus" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ $rc -eq 0 ] && [ -n "$runs" ]; then
	echo "ok 1 - the request parser survives $runs fuzz runs"
else
	echo "not ok 1 - the request parser survives fuzzing (exit $rc)"
	grep -E 'ERROR|SUMMARY|#[0-9]+ ' "$log" | sed 's/^/#   /' | head -30
	exit 1
fi
