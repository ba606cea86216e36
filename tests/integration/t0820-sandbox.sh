#!/bin/sh
# The sandbox of `helios serve` (src/sandbox.h): with sandbox = strict the
# running daemon has no_new_privs and a seccomp filter (/proc/PID/status),
# still writes, publishes to a directory and to a git repository, and
# reloads its config; and Landlock is in force: a site file that is a
# symlink to a file outside the allowed set cannot be read (the publish
# fails with EACCES and the file never reaches the public tree), where the
# same daemon with sandbox = off reads and publishes it.
. tests/lib.sh
D=$(hl_tmp)
O=$(hl_tmp)		# outside every path the daemon is given
S=$(hl_tmp)		# a copy of the site sources
git init -q --bare "$D/pages.git"
export HELIOS_GIT_CACHE="$D/cache"
printf 'sandbox = strict\n' >"$D/helios.conf"
# A sanitizer build's leak check stops the world with ptrace and reads
# /proc at exit, which strict forbids (auto leaves such a build alone).
if nm "$HELIOS" 2>/dev/null | grep -q __asan_init; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

hl_daemon_start "$D" --config "$D/helios.conf" \
    --target "git+file://$D/pages.git#gh-pages" || exit 1
t_ok "strict: the daemon says Landlock and the filter are on" \
    grep -q 'sandbox: Landlock on (ABI [0-9]*), syscall filter on' \
    "$D/daemon.log"
st=$(grep -E '^(NoNewPrivs|Seccomp):' "/proc/$HL_PID/status" | tr -s '\t ' ' ')
t_is "strict: /proc status shows no_new_privs and a seccomp filter" \
    "$st" "NoNewPrivs: 1
Seccomp: 2"
nn=$(for t in /proc/$HL_PID/task/*; do	# (one that ends meanwhile: skipped)
	s=$(grep -E '^(NoNewPrivs|Seccomp):' "$t/status" 2>/dev/null |
	    tr -s '\t ' ' ' | tr '\n' ' ')
	[ -n "$s" ] && echo "$s"
done | sort -u)
t_is "and so does every thread" "$nn" "NoNewPrivs: 1 Seccomp: 2 "
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $HL_ADMIN" -H 'Content-Type: application/json' \
    -d '{"pattern":"sandboxed\\.example"}' "$HL_URL/blacklists/watch-keyword")
t_is "strict: a write is committed" "$code" 201
n=0
until grep -q 'sandboxed' "$D/public/lists/watch-keyword.json" 2>/dev/null &&
    git --git-dir="$D/pages.git" show gh-pages:lists/watch-keyword.txt \
    2>/dev/null | grep -q sandboxed; do
	n=$((n + 1)); [ $n -gt 150 ] && break; sleep 0.1
done
t_ok "strict: it is published to the public directory" \
    grep -q sandboxed "$D/public/lists/watch-keyword.json"
t_ok "strict: and to the git repository" sh -c "git --git-dir='$D/pages.git' \
    show gh-pages:lists/watch-keyword.txt | grep -q sandboxed"
t_is "strict: the public tree is served" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/manifest.json")" 200
kill -HUP "$HL_PID"
n=0
until grep -q 'SIGHUP: config reloaded' "$D/daemon.log"; do
	n=$((n + 1)); [ $n -gt 50 ] && break; sleep 0.1
done
t_ok "strict: SIGHUP reads the config file again" \
    grep -q 'SIGHUP: config reloaded' "$D/daemon.log"
t_ok "strict: no access was refused on the way" \
    sh -c "! grep -qi 'permission denied\|operation not permitted' \
    '$D/daemon.log'"
hl_daemon_stop
t_is "strict: it stops cleanly" "$?" 0

# Landlock: a file outside the allowed set, reached through a symlink in
# the site sources, which the generator copies into the public tree.
cp -r site/. "$S/"
echo "outside-secret-$$" >"$O/secret.txt"
ln -s "$O/secret.txt" "$S/docs/secret.txt"
for mode in off strict; do
	E=$(hl_tmp)
	printf 'sandbox = %s\nsite = %s\n' "$mode" "$S" >"$E/helios.conf"
	hl_daemon_start "$E" --config "$E/helios.conf" || exit 1
	n=0
	until [ -f "$E/public/docs/secret.txt" ] ||
	    grep -q 'ermission denied' "$E/daemon.log"; do
		n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
	done
	if [ $mode = off ]; then
		t_ok "off: the daemon reads the file outside (the control)" \
		    grep -q "outside-secret-$$" "$E/public/docs/secret.txt"
	else
		t_ok "strict: Landlock refuses the file outside (EACCES)" \
		    grep -q "secret.txt.*ermission denied" "$E/daemon.log"
		t_ok "strict: and it never reaches the public tree" \
		    test ! -e "$E/public/docs/secret.txt"
		t_is "strict: the daemon still answers" "$(curl -s -o /dev/null \
		    -w '%{http_code}' "$HL_URL/healthz")" 200
	fi
	hl_daemon_stop
done
t_done
