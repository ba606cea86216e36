#!/bin/sh
# The whole suite: unit binaries (cmocka, TAP output), the data-driven API
# tests and the integration scripts.  Every part prints TAP-style lines
# ("ok N - sentence" / "not ok N - sentence"); this script counts them and
# ends with one line "N passed, N failed".  Exit status 1 on any failure.
#
#   sh tests/run.sh [BUILD_DIR] [PATTERN]
B=${1:-build}
PAT=${2:-}
export HELIOS_BIN="$PWD/$B/helios" HELIOS_BUILD="$PWD/$B"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
i=0
run_part() {
	i=$((i + 1))
	name=$1; shift
	case "$name" in *"$PAT"*) ;; *) return ;; esac
	echo "# $name"
	"$@" >"$out/$i.log" 2>&1
	rc=$?
	cat "$out/$i.log"
	if ! grep -qE '^(not )?ok ' "$out/$i.log"; then
		echo "not ok - $name produced no results (exit $rc)" |
		    tee -a "$out/$i.log"
	elif [ $rc -ne 0 ] && ! grep -q '^not ok' "$out/$i.log"; then
		echo "not ok - $name exited $rc" | tee -a "$out/$i.log"
	fi
}
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP run_part "$(basename "$t")" "$t"
done
run_part api sh tests/api/run.sh
run_part fuzz sh tests/fuzz/run.sh short
for t in tests/integration/t[0-9][0-9][0-9][0-9]-*.sh; do
	[ -f "$t" ] || continue
	run_part "$(basename "$t")" sh "$t"
done
pass=$(cat "$out"/*.log 2>/dev/null | grep -cE '^ok ')
fail=$(cat "$out"/*.log 2>/dev/null | grep -cE '^not ok ')
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
