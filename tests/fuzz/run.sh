#!/bin/sh
# Builds and runs the libFuzzer targets (clang,
# -fsanitize=fuzzer,address,undefined):
#
#   fuzz_request   the request parser and router of api.c
#   fuzz_textfmt   SmokeDetector's list files (base/textfmt.c): a file
#                  that parses comes back byte for byte, and stays
#                  readable as items are added and deleted
#   fuzz_manifest  what the pull client reads from a mirror first
#                  (manifest.json, changes.json): what it accepts keeps
#                  every path inside the tree
#   fuzz_linetrack which commit introduced each line of a list file
#                  (import --git, src/linetrack.c), against a naive model
#   fuzz_restore   a published tree read back by `helios restore`: a
#                  refused one leaves no database, a restored one renders
#                  each list back to its text file's bytes
#
#   sh tests/fuzz/run.sh short    about 20 seconds each (part of make test)
#   sh tests/fuzz/run.sh long     10 minutes each (make fuzz)
#
# Prints the plan and one TAP line a target.  Objects, the corpora and any
# crash input go under build-fuzz/ (a crash-* file there reproduces with
# build-fuzz/fuzz_<target> FILE); tests/fuzz/fuzz_<target>.dict, when there
# is one, gives the fuzzer tokens to try.
MODE=${1:-short}
case "$MODE" in
short)	SECS=20 ;;
long)	SECS=600 ;;
*)	echo "usage: sh tests/fuzz/run.sh short|long" >&2; exit 2 ;;
esac
B=build-fuzz
CF="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
 $(make -s --no-print-directory print-cflags)"
LIBS="$(make -s --no-print-directory print-libs)"
SAMPLES=${HELIOS_SAMPLES:-../shared/data/smokedetector-sample}
[ -d "$SAMPLES" ] || SAMPLES=/work/shared/data/smokedetector-sample
log=$(mktemp)
echo "1..5"
trap 'rm -f "$log"' EXIT INT TERM
fails=0

# seed_request NAME TEXT: a request (fuzz_request.c's layout).
seed_request() { printf "$2" >"$B/corpus-request/seed-$1"; }

# seed_file FORMAT FILE: a sample list file behind its format byte
# (fuzz_textfmt.c: 0 plain, 1 tsv, 2 yaml_cidr, 3 yaml_ns, 4 yaml_asn).
seed_file() {
	[ -f "$SAMPLES/$2" ] || return 0
	{ printf "\\$1"; cat "$SAMPLES/$2"; } \
	    >"$B/corpus-textfmt/seed-$2"
}

# run N TARGET WHAT [MAXLEN]: builds and fuzzes TARGET (inputs of at most
# MAXLEN bytes, 4096 unless given), prints TAP line N.
run() {
	if ! command -v clang >/dev/null; then
		echo "not ok $1 - $3 (no clang)"
		return 1
	fi
	if ! make -s -j2 B=$B CC=clang CFLAGS="$CF" $B/libhelios.a \
	    >"$log" 2>&1 ||
	    ! clang $CF -fsanitize=fuzzer -o $B/fuzz_$2 \
	    tests/fuzz/fuzz_$2.c $B/libhelios.a $LIBS >>"$log" 2>&1; then
		echo "not ok $1 - $3 (build failed)"
		sed 's/^/#   /' "$log" | tail -20
		return 1
	fi
	dict=
	[ -f tests/fuzz/fuzz_$2.dict ] && dict=-dict=tests/fuzz/fuzz_$2.dict
	$B/fuzz_$2 -max_total_time=$SECS -max_len=${4:-4096} -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix=$B/ -print_final_stats=1 \
	    $dict "$B/corpus-$2" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $1 - $3: $runs fuzz runs"
		return 0
	fi
	echo "not ok $1 - $3 (exit $rc)"
	grep -E '^(==.*ERROR|SUMMARY|fuzz_[a-z]*:|#[0-9]+ )|Test unit written' \
	    "$log" | sed 's/^/#   /' | tail -30
	return 1
}

mkdir -p "$B/corpus-request" "$B/corpus-textfmt" "$B/corpus-manifest" \
    "$B/corpus-linetrack" "$B/corpus-restore"
seed_request post 'POST\n/blacklists/watch-keyword\napplication/json\nW\n{"pattern":"a\\\\.b"}'
seed_request yaml 'POST\n/blacklists/watch-ns\napplication/json; charset=utf-8\nW\n{"ns":["ns1.example.com."],"comment":"c","disable":true}'
seed_request asn 'POST\n/blacklists/watch-asn\napplication/json\nW\n{"asn":13335,"pass":false}'
seed_request del 'DELETE\n/blacklists/blacklist-keyword?pattern=a%%5C.b&x=1\n\nBearer W\n'
seed_request notif 'POST\n/notifications\napplication/json\nW\n{"user_id":1,"server":"s","room_id":2,"site":"x","always_ping":true}'
seed_request token 'POST\n/auth/create\napplication/json\nA\n{"name":"n","scopes":["admin","write"]}'
seed_request revoke 'DELETE\n/tokens/2\n\nA\n'
seed_request changes 'GET\n/changes?since=0&limit=2\n\n\n'
seed_request path 'GET\n/blacklists/%%2e%%2e//x/../y%%00\n\n\n'
seed_request big '!POST\n/blacklists/watch-keyword\napplication/json\nW\n{}'
for f in bad_keywords.txt blacklisted_websites.txt blacklisted_usernames.txt \
    blacklisted_numbers.txt; do
	seed_file 000 $f
done
seed_file 001 watched_keywords.txt
seed_file 001 watched_numbers.txt
seed_file 002 blacklisted_cidrs.yml
seed_file 003 blacklisted_nses.yml
seed_file 003 watched_nses.yml
seed_file 004 watched_asns.yml
# A published manifest (one list's files) and changes.json, behind the
# byte fuzz_manifest.c reads first.
{ printf m; cat tests/data/fuzz/manifest.json; } \
    >"$B/corpus-manifest/seed-manifest"
{ printf c; cat tests/data/fuzz/changes.json; } \
    >"$B/corpus-manifest/seed-changes"

# File histories (fuzz_linetrack.c: versions split by NUL bytes; an odd
# first byte puts 9,000 shared bytes in front of each).
printf '\000a\nb\nc\n\000a\nb\nX\nc\nY\000b\nc\nb\n\000' \
    >"$B/corpus-linetrack/seed-edits"
printf '\001x\ny\000x\ny\nz\000x\nz\000x\nz\nz' \
    >"$B/corpus-linetrack/seed-appends"

# A small published tree (fuzz_restore.c's layout, from a real publish):
# a plain, a tsv and two yaml lists, and the notifications.
cp tests/data/fuzz/restore.tree "$B/corpus-restore/seed-tree"

run 1 request "the request parser survives fuzzing" || fails=1
run 2 textfmt "list files come back byte for byte and stay readable" ||
    fails=1
run 3 manifest "a mirror's manifest and changes keep every path inside the tree" ||
    fails=1
run 4 linetrack "each line keeps the commit that introduced it" || fails=1
run 5 restore "a restored tree gives back its lists' bytes" 16384 || fails=1
exit $fails
