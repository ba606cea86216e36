#!/bin/sh
# README.md's two commands, the Makefile and .ci/run agree: every `make X`
# that README.md names is a target, the default target needs only the build
# packages, `make test` installs what the suite needs before it builds, CI
# runs README's test command and nothing else, and deps.sh, run by a user
# who cannot install, names what is missing and stops.
. tests/lib.sh
D=$(hl_tmp)

# Every "make X" in README.md (code blocks and prose) is a Makefile target.
readme_targets() {
	grep -oE '(^|[`( ])make( [a-z][a-z-]*)?' README.md |
	    sed -E 's/^[`( ]//; s/^make ?//; s/^$/all/' | sort -u
}
for t in $(readme_targets); do
	t_ok "README.md's 'make $t' is a target of the Makefile" \
	    make -n "$t"
done
t_is "README.md names make run and make test in its two commands" \
    "$(sed -n '/^## Two commands/,/^## /p' README.md |
    grep -oE '^make [a-z]+' | tr '\n' ' ')" "make run make test "

# The Makefile's header comment lists the same targets as .PHONY holds.
hdr=$(sed -n '1,/^$/p' Makefile | grep -oE '^#   make( [a-z-]+)?' |
    sed -E 's/^#   make ?//; s/^$/all/' | sort -u | tr '\n' ' ')
for t in $hdr; do
	t_ok "the Makefile's header target '$t' is declared .PHONY" \
	    sh -c "grep '^\.PHONY:' Makefile | grep -qw '$t'"
done

# The default target builds the binary and nothing the build packages
# lack (no cmocka, no test tools).
t_ok "plain make links no unit test against cmocka" \
    sh -c "! make --no-print-directory -n -B B=$D/b | grep -q cmocka"
t_ok "plain make installs nothing" \
    sh -c "! make --no-print-directory -n -B B=$D/b | grep -qE 'deps.sh|apt-get|npm '"
t_ok "make test installs the test packages and npm modules first" \
    sh -c "make --no-print-directory -n test 2>/dev/null | head -1 | grep -q 'deps.sh test'"
t_ok "deps.sh test installs the npm modules of package-lock.json" \
    grep -q 'npm ci' tests/tools/deps.sh

# .ci/run runs README.md's test command and no other command.
cmds=$(grep -vE '^\s*(#|$|set |cd )' .ci/run | sed -E 's/ CFLAGS=.*//')
t_is ".ci/run runs exactly README.md's test command" "$cmds" "make test"

# Without root, deps.sh names the missing package and the command, and
# stops with status 1 before anything is built.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env HL_DEPS_EXTRA=helios-no-such-package \
	    sh tests/tools/deps.sh test >"$D/out" 2>&1
	rc=$?
	t_is "deps.sh without root exits 1 when a package is missing" "$rc" 1
	t_ok "its message names the package and the install command" \
	    grep -q 'sudo apt-get install -y.*helios-no-such-package' "$D/out"
else
	t_ok "deps.sh as non-root (needs root to switch user; skipped)" true
fi
t_done
