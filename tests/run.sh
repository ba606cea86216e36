#!/bin/sh
# The whole suite: unit binaries (cmocka, TAP output), the data-driven API
# tests and the integration scripts.  Every part prints TAP (a plan "1..N"
# at its start or end, then "ok N - sentence" / "not ok N - sentence");
# this script checks each part against its plan and ends with one line
# "N passed, N failed".  Exit status 1 on any failure.
#
# A part fails as a whole when it is missing (a unit binary that
# tests/unit/test_*.c says should be built), prints no plan or a plan of
# zero, reports fewer or more results than planned, or exits non-zero
# without a failing line.  A run that passes no test at all (nothing
# built, a PATTERN that matches no part) fails too.
#
#   sh tests/run.sh [BUILD_DIR] [PATTERN]
B=${1:-build}
PAT=${2:-}
export HELIOS_BIN="$PWD/$B/helios" HELIOS_BUILD="$PWD/$B"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
i=0
parts=0
# check_part NAME LOG RC: appends a "not ok" line to LOG for each way
# the part fell short of its plan.
check_part() {
	plans=$(grep -cE '^1\.\.[0-9]+' "$2")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$2" | head -1)
	got=$(grep -cE '^(not )?ok [0-9]+' "$2")
	if [ "$plans" -ne 1 ]; then
		echo "not ok - $1 printed $plans plans, want 1 (exit $3)"
	elif [ "$plan" -eq 0 ]; then
		echo "not ok - $1 planned no tests (exit $3)"
	elif [ "$got" -ne "$plan" ]; then
		echo "not ok - $1 reported $got of $plan planned results" \
		    "(exit $3)"
	elif [ "$3" -ne 0 ] && ! grep -q '^not ok' "$2"; then
		echo "not ok - $1 exited $3"
	fi
}
run_part() {
	i=$((i + 1))
	name=$1; shift
	case "$name" in *"$PAT"*) ;; *) return ;; esac
	parts=$((parts + 1))
	echo "# $name"
	"$@" >"$out/$i.log" 2>&1
	rc=$?
	cat "$out/$i.log"
	check_part "$name" "$out/$i.log" "$rc" | tee -a "$out/$i.log"
}
missing() {
	echo "1..1"
	echo "not ok 1 - $1 is built and executable"
	return 1
}
# The unit binaries that must be there: one per tests/unit/test_*.c.
for src in tests/unit/test_*.c; do
	[ -f "$src" ] || continue
	t="$B/tests/$(basename "$src" .c)"
	if [ -x "$t" ]; then
		CMOCKA_MESSAGE_OUTPUT=TAP run_part "$(basename "$t")" "$t"
	else
		run_part "$(basename "$t")" missing "$t"
	fi
done
run_part api sh tests/api/run.sh
run_part fuzz sh tests/fuzz/run.sh short
for t in tests/integration/t[0-9][0-9][0-9][0-9]-*.sh; do
	[ -f "$t" ] || continue
	run_part "$(basename "$t")" sh "$t"
done
pass=$(cat "$out"/*.log 2>/dev/null | grep -cE '^ok ')
fail=$(cat "$out"/*.log 2>/dev/null | grep -cE '^not ok ')
if [ "$parts" -eq 0 ]; then
	echo "not ok - no part matches '$PAT'"
	fail=$((fail + 1))
elif [ "$pass" -eq 0 ]; then
	echo "not ok - no test passed"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
