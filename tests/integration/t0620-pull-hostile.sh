#!/bin/sh
# t0620: helios pull against a mirror that attacks it (tests/tools/
# hostile_mirror.py): names from the network, sizes it claims, bodies
# that never end, gzip bombs with consistent hashes.  Pull writes only
# the names it knows, refuses what is over --max-size with exit 8, and
# its peak RSS stays under 64 MB whatever the server sends.  Also:
# symlinks in DIR are not followed, a file pull did not write is kept
# (exit 9) unless --force, and a second pull in one DIR is refused
# (exit 10) while the first holds the lock.
. tests/lib.sh

T=$(hl_tmp)
RSS_MAX_KB=65536
PORT=$(hl_port)
# 256 MiB of zeros: a gzip of 256 KB whose hashes are consistent.
$PY tests/tools/hostile_mirror.py "$PORT" 256 >"$T/mirror.log" 2>&1 &
MIRROR_PID=$!
HL_PIDS="${HL_PIDS:-} $MIRROR_PID"
n=0
while ! grep -q ready "$T/mirror.log" && [ $n -lt 300 ]; do
	sleep 0.1; n=$((n + 1))
done
M="http://127.0.0.1:$PORT"
GOOD='spam-from-the-hostile-mirror\.example'

pull() {	# DIR ARGS...: pull into DIR, exit status in $rc, RSS in $rss
	d=$1; shift
	/usr/bin/time -f %M -o "$T/rss" "$HELIOS" pull "$@" "$d" \
	    >"$T/out" 2>&1
	rc=$?
	rss=$(tail -n 1 "$T/rss")
}
only_lock() {	# DIR: pull left nothing but its lock file
	test "$(ls -A "$1" | tr '\n' ' ')" = ".helios-lock "
}
no_tmp() {	# DIR: no temporary file is left behind
	! ls -A "$1" | grep -q helios-tmp
}
rss_ok() {	# under 64 MB
	test -n "$rss" && test "$rss" -lt "$RSS_MAX_KB"
}

pull "$T/good" "$M/good"
t_is "a pull from the mirror's good mode exits 0" "$rc" 0
t_is "and writes bad_keywords.txt" "$(cat "$T/good/bad_keywords.txt")" \
    "$GOOD"

# --- names from the network ---------------------------------------------
pull "$T/name" "$M/name"
t_is "a manifest naming findspam.py for blacklist-keyword exits 3" "$rc" 3
t_ok "the message names the file it refused" grep -q findspam.py "$T/out"
t_ok "and nothing is written" only_lock "$T/name"

pull "$T/dup" "$M/dup"
t_is "a manifest giving two lists one file exits 3" "$rc" 3
t_ok "and nothing is written" only_lock "$T/dup"

pull "$T/dupid" "$M/dupid"
t_is "a manifest naming one list id twice exits 3" "$rc" 3
t_ok "the message says the list appears twice" grep -q twice "$T/out"
t_ok "and nothing is written" only_lock "$T/dupid"

pull "$T/unknown" "$M/unknown"
t_is "a manifest with an unknown list id still pulls the known ones" \
    "$rc" 0
t_ok "with a warning naming the id it skipped" \
    grep -q "warning: skipped 1 list.*x-files" "$T/out"
t_ok "the unknown list's file is not written" \
    test ! -e "$T/unknown/findspam.py"
t_is "DIR holds the known list, the state and the lock" \
    "$(ls -A "$T/unknown" | tr '\n' ' ')" \
    ".helios-lock .helios-state.json bad_keywords.txt "

pull "$T/objpath" "$M/objpath"
t_is "an object path that climbs out of the tree exits 3" "$rc" 3
t_ok "and nothing is written" only_lock "$T/objpath"

# --- sizes the mirror claims, bodies that never end, gzip bombs ----------
pull "$T/huge" "$M/huge"
t_is "a list claiming 4e9 bytes exits 8 (over --max-size)" "$rc" 8
t_ok "the message names --max-size" grep -q -- "--max-size" "$T/out"
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
t_ok "and nothing is written" only_lock "$T/huge"

pull "$T/bomb" "$M/bomb"
t_is "a gzip bomb of 256 MiB with consistent hashes exits 8" "$rc" 8
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
t_ok "and nothing is written" only_lock "$T/bomb"

pull "$T/bomb2" --max-size 512M "$M/bomb"
t_is "with --max-size 512M the same bomb is a 256 MiB list: exit 0" "$rc" 0
t_is "it is written whole" "$(wc -c <"$T/bomb2/bad_keywords.txt")" 268435456
t_ok "streamed to disk: peak RSS stays under 64 MB ($rss KB)" rss_ok
rm -rf "$T/bomb2"

pull "$T/lie" "$M/bomb-lie"
t_is "a gzip that inflates past the size the manifest names exits 3" "$rc" 3
t_ok "the message says it decompresses to more" \
    grep -q "decompresses to more than 1000 bytes" "$T/out"
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
t_ok "and nothing is written" only_lock "$T/lie"

pull "$T/endless" "$M/endless"
t_is "an endless gzip stream for a list claiming 1 MB exits 3" "$rc" 3
t_ok "the message says it is longer than the manifest names" \
    grep -q "over 1000000 bytes, more than the manifest names" "$T/out"
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
t_ok "and nothing is written, no temporary file left" only_lock "$T/endless"

pull "$T/big" "$M/big"
t_is "a 60 MiB list (no gzip) within --max-size exits 0" "$rc" 0
t_is "it is written whole" "$(wc -c <"$T/big/bad_keywords.txt")" 62914560
t_ok "streamed to disk: peak RSS stays under 64 MB ($rss KB)" rss_ok
pull "$T/big3" --max-size 32M "$M/big"
t_is "the same list over --max-size 32M exits 8" "$rc" 8
rm -rf "$T/big" "$T/big3"

pull "$T/me" "$M/man-endless"
t_is "an endless manifest.json exits 8" "$rc" 8
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
pull "$T/mb" "$M/man-bomb"
t_is "a manifest.json sent as a gzip bomb (Content-Encoding) exits 8" \
    "$rc" 8
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok

pull "$T/mf" "$M/man-flood"
t_is "a manifest of 1 MiB padded with 350,000 empty objects exits 8" \
    "$rc" 8
t_ok "the message says it holds too many JSON values" \
    grep -q "more than 20000 JSON values" "$T/out"
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok

# A client at version 7 that would patch its list from change segments.
pull "$T/seg" "$M/good"
cp -a "$T/seg" "$T/seg2"
pull "$T/seg" "$M/seg-path"
t_is "a change segment whose path climbs out of the tree exits 3" "$rc" 3
t_is "and the list is as it was" "$(cat "$T/seg/bad_keywords.txt")" "$GOOD"
pull "$T/seg2" "$M/seg-flood"
t_is "a change segment padded with 349,000 empty objects is not parsed:" \
    "$rc" 0
t_ok "the list is downloaded whole instead" \
    grep -q "0 lists patched, 1 file downloaded" "$T/out"
t_ok "peak RSS stays under 64 MB ($rss KB)" rss_ok
rm -rf "$T/seg2"

# --- symlinks in DIR are not followed ----------------------------------
mkdir -p "$T/ln"
printf 'mine\n' >"$T/outside"
ln -s "$T/outside" "$T/ln/bad_keywords.txt"
pull "$T/ln" "$M/good"
t_is "a symlink where a list goes is not pull's: exit 9" "$rc" 9
t_is "the file it points to is untouched" "$(cat "$T/outside")" mine
pull "$T/ln" --force "$M/good"
t_is "with --force the pull succeeds" "$rc" 0
t_is "the file it pointed to is still untouched" "$(cat "$T/outside")" mine
t_ok "the link was replaced by a regular file" \
    test -f "$T/ln/bad_keywords.txt" -a ! -L "$T/ln/bad_keywords.txt"
t_is "holding the list" "$(cat "$T/ln/bad_keywords.txt")" "$GOOD"

mkdir -p "$T/lnlock"
ln -s "$T/outside-lock" "$T/lnlock/.helios-lock"
pull "$T/lnlock" "$M/good"
t_is "a symlink as the lock file is refused (exit 7)" "$rc" 7
t_ok "and not followed" test ! -e "$T/outside-lock"

# --- local edits --------------------------------------------------------
printf 'appended\n' >>"$T/good/bad_keywords.txt"
cp "$T/good/bad_keywords.txt" "$T/edited"
pull "$T/good" "$M/good"
t_is "a list edited since pull wrote it is kept: exit 9" "$rc" 9
t_ok "the message names the file and --force" \
    grep -q "bad_keywords.txt is not what helios pull last wrote.*--force" \
    "$T/out"
t_ok "the edited file is as it was" cmp "$T/edited" "$T/good/bad_keywords.txt"

# --- one pull at a time in a directory ----------------------------------
# Another process holds the lock (flock(2), as pull takes it).
$PY -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)' "$T/good/.helios-lock" "$T/held" &
F_PID=$!
n=0
while [ ! -e "$T/held" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
pull "$T/good" --force "$M/good"
t_is "a pull while another holds DIR's lock exits 10" "$rc" 10
t_ok "the message says another pull is running" \
    grep -q "another helios pull is running" "$T/out"
t_ok "and the file is as it was" cmp "$T/edited" "$T/good/bad_keywords.txt"
kill "$F_PID" 2>/dev/null
wait "$F_PID" 2>/dev/null
pull "$T/good" --force "$M/good"
t_is "once the lock is free, --force replaces the edit" "$rc" 0
t_is "with the published bytes" "$(cat "$T/good/bad_keywords.txt")" "$GOOD"

kill "$MIRROR_PID" 2>/dev/null
wait "$MIRROR_PID" 2>/dev/null
t_done
