#!/bin/sh
# t0315: the publishers' temporary files are never served.  The names
# come from a real publish (strace records every rename into place); each
# must start with a dot, and the daemon, serving a directory where files
# of those very names lie, answers 404 for each while the real file
# beside it is 200; the same for the directory target's spares.
. tests/lib.sh
T=$(hl_tmp)
mkdir -p "$T/d"
if ! command -v strace >/dev/null; then
	t_ok "strace is installed" false
	t_done; exit 1
fi
"$HELIOS" import --db "$T/d/db.sqlite" "$(hl_samples)" >/dev/null 2>&1
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -ff -qq -e trace=rename,renameat,renameat2 -o "$T/trace" \
    "$HELIOS" publish --db "$T/d/db.sqlite" --public "$T/d/public" \
    >/dev/null 2>&1
# (LeakSanitizer cannot stop a traced process: no leak check here.)
t_is "helios publish under strace exits 0" "$?" 0
# "rename(\"/x/public/a/.b.tmp.1.2\", \"/x/public/a/b\") = 0" -> a/.b.tmp.1.2 a/b
# (one trace file per thread: no call is cut by another thread's)
cat "$T"/trace.* | sed -n 's|.*rename[at2]*(.*"'"$T/d/public"'/\([^"]*\)", .*"'"$T/d/public"'/\([^"]*\)".* = 0$|\1 \2|p' |
    grep -v ' \.spares/' >"$T/names"	# (the pool's own: spares.h)
n=$(wc -l <"$T/names")
t_ok "a publish renames files into place ($n seen)" test "$n" -gt 10
t_is "every temporary name starts with a dot" \
    "$(awk '{ n = split($1, p, "/"); if (substr(p[n], 1, 1) != ".") print $1 }' "$T/names")" ""

hl_daemon_start "$T/d" || exit 1
bad=""
while read -r tmp real; do
	cp "$T/d/public/$real" "$T/d/public/$tmp" 2>/dev/null || continue
	s=$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/$tmp")
	r=$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/$real")
	[ "$s" = 404 ] && [ "$r" = 200 ] || bad="$bad $tmp:$s/$real:$r"
done <"$T/names"
t_is "each temporary name is 404 and its file 200" "$bad" ""
# The directory target's spare files (gen/targets/spares.h), a full one
# as while a publish writes it, are never served either.
cp "$T/d/public/manifest.json" "$T/d/public/.spares/.spare.x" 2>/dev/null
t_is "its spare files are 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/.spares/.spare.x") $(
    curl -s -o /dev/null -w '%{http_code}' "$HL_URL/.spares/.spares.lock") $(
    test -f "$T/d/public/.spares/.spares.lock" && echo there)" "404 404 there"
t_ok "the daemon stops with status 0" hl_daemon_stop
t_done
