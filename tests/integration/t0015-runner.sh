#!/bin/sh
# tests/run.sh fails a part that falls short of its plan: one that exits
# 0 early, prints no plan, reports fewer results than planned, or is a
# unit binary that was not built; and a run that passes nothing fails.
# Each case runs the real runner in a scratch tree of stub parts.
. tests/lib.sh
R=$(hl_tmp)
RUNNER=$PWD/tests/run.sh

# tree NAME: a scratch tree with one unit source, passing API and fuzz
# stubs, and no integration scripts; prints its path.
tree() {
	d=$R/$1
	mkdir -p "$d/tests/unit" "$d/tests/api" "$d/tests/fuzz" \
	    "$d/tests/integration" "$d/build/tests"
	: >"$d/tests/unit/test_one.c"
	printf '#!/bin/sh\necho 1..1\necho ok 1 - unit\n' \
	    >"$d/build/tests/test_one"
	chmod +x "$d/build/tests/test_one"
	printf 'echo 1..1; echo ok 1 - api\n' >"$d/tests/api/run.sh"
	printf 'echo 1..1; echo ok 1 - fuzz\n' >"$d/tests/fuzz/run.sh"
	echo "$d"
}
# part NAME BODY: a tree with one integration script BODY; prints the
# runner's exit status.
part() {
	d=$(tree "$1")
	printf '%s\n' "$2" >"$d/tests/integration/t0001-x.sh"
	(cd "$d" && sh "$RUNNER" build >"$d/out" 2>&1)
	echo $?
}

t_is "a tree whose every part meets its plan passes" \
    "$(part good 'echo 1..2; echo ok 1 - a; echo ok 2 - b')" 0
t_is "a part that exits 0 early, before its plan at the end, fails" \
    "$(part early 'echo ok 1 - a; exit 0; echo ok 2 - b; echo 1..2')" 1
t_is "a part with fewer results than its plan fails" \
    "$(part short 'echo 1..3; echo ok 1 - a; echo ok 2 - b')" 1
t_is "a part with no plan fails" \
    "$(part noplan 'echo ok 1 - a')" 1
t_is "a part that plans no tests fails" \
    "$(part zero 'echo 1..0')" 1
t_is "a part that exits 1 with every line ok fails" \
    "$(part rc 'echo 1..1; echo ok 1 - a; exit 1')" 1
t_is "a lib.sh script that stops before t_done fails" \
    "$(part libsh ". $PWD/tests/lib.sh; t_ok a true; exit 0; t_done")" 1
t_is "a lib.sh script that ends with t_done passes" \
    "$(part libshok ". $PWD/tests/lib.sh; t_ok a true; t_done")" 0

d=$(tree missing)
rm "$d/build/tests/test_one"
(cd "$d" && sh "$RUNNER" build >"$d/out" 2>&1)
t_is "a unit binary that tests/unit says should exist but is missing fails" \
    "$?" 1
t_ok "the runner names the missing binary" \
    grep -q 'not ok 1 - .*test_one is built' "$d/out"

d=$(tree empty)
rm -r "$d/build/tests" "$d/tests/unit/test_one.c"
printf 'echo 1..1; echo ok 1 - api\n' >"$d/tests/api/run.sh"
(cd "$d" && sh "$RUNNER" build nothing-matches >"$d/out" 2>&1)
t_is "a pattern that matches no part fails" "$?" 1
t_done
