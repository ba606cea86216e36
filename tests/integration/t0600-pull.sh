#!/bin/sh
# t0600: helios pull keeps a directory of SmokeDetector files in step with
# a published tree, served by the daemon and by nginx, and keeps the old
# files when anything about a new version is wrong.
. tests/lib.sh

SAMPLES=$(hl_samples)
T=$(hl_tmp)
D=$T/d
NG_PID=""
ST_PID=""
stop_servers() {
	{
	[ -n "$NG_PID" ] && kill "$NG_PID" && wait "$NG_PID"
	[ -n "$ST_PID" ] && kill "$ST_PID" && wait "$ST_PID"
	} 2>/dev/null
	NG_PID=""
	ST_PID=""
}
trap 'stop_servers; hl_cleanup' EXIT

version_of() {	# FILE: the version in a manifest or state file
	jq -r .version "$1" 2>/dev/null ||
	    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$1"
}
wait_version() {	# V: waits until the daemon has published version V
	n=0
	while [ "$(version_of "$D/public/manifest.json" 2>/dev/null)" != "$1" ]
	do
		n=$((n + 1)); [ $n -gt 100 ] && return 1; sleep 0.1
	done
}
post() {	# LIST PATTERN
	set -- "$1" "$(printf '%s' "$2" | sed 's/\\/\\\\/g')"
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -d "{\"pattern\": \"$2\"}" "$HL_URL/blacklists/$1"
}
same_as_export() {	# DIR: every exported file is there, byte for byte
	rm -rf "$T/exp"
	"$HELIOS" export --db "$D/db.sqlite" "$T/exp" >/dev/null || return 1
	for f in "$T/exp"/*; do
		cmp "$f" "$1/$(basename "$f")" || return 1
	done
	test -f "$1/notifications.json"
}
dirsum() {	# DIR: one hash of every file in it, state included
	(cd "$1" && cat $(ls -A | sort) | sha256sum)
}
log_lines() {	# the nginx access log's length
	wc -l <"$T/nginx/access.log"
}

mkdir -p "$D" "$T/nginx"
"$HELIOS" import --db "$D/db.sqlite" "$SAMPLES" >"$T/import.log" 2>&1
hl_daemon_start "$D" || exit 1
n=0
while ! [ -f "$D/public/manifest.json" ] && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
V0=$(version_of "$D/public/manifest.json")
cp -a "$D/public" "$T/old"

# nginx serves the daemon's directory on one port and a copy that the
# test breaks in various ways on another.
NG_PORT=$(hl_port)
EV_PORT=$(hl_port)
hl_nginx_start "$T/nginx" "
	log_format t '\$request_method \$uri \$status \$body_bytes_sent';
	access_log $T/nginx/access.log t;
	types {
		application/json json;
		text/plain txt yml;
		application/gzip gz;
	}
	gzip on;
	gzip_types application/json text/plain;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $D/public;
		gzip_static on;
	}
	server {
		listen 127.0.0.1:$EV_PORT;
		root $T/evil;
		access_log off;
	}"
NG="http://127.0.0.1:$NG_PORT"
EV="http://127.0.0.1:$EV_PORT"
t_ok "nginx serves the daemon's published tree" hl_wait_http "$NG/manifest.json"

# --- first pulls ---------------------------------------------------------
t_ok "a first pull from the daemon succeeds" \
    "$HELIOS" pull -q "$HL_URL" "$T/a"
t_ok "the files pulled from the daemon are byte-identical to helios export" \
    same_as_export "$T/a"
t_ok "a first pull from nginx succeeds" "$HELIOS" pull -q "$NG" "$T/n"
t_ok "the files pulled from nginx are byte-identical to helios export" \
    same_as_export "$T/n"
t_ok "a first pull from the directory itself succeeds" \
    "$HELIOS" pull -q "file://$D/public" "$T/f"
t_ok "the files pulled from the directory are byte-identical to helios export" \
    same_as_export "$T/f"
t_is "the state file records the version" \
    "$(version_of "$T/n/.helios-state.json")" "$V0"

# --- an unchanged poll ---------------------------------------------------
t_is "an unchanged poll of the daemon is one request with no body" \
    "$("$HELIOS" pull -q --stats "$HL_URL" "$T/a")" "requests=1 bytes=0"
before=$(log_lines)
"$HELIOS" pull -q "$NG" "$T/n"
t_is "an unchanged poll of nginx is one request, answered 304 with no body" \
    "$(tail -n +$((before + 1)) "$T/nginx/access.log")" \
    "GET /manifest.json 304 0"

# --- one change ----------------------------------------------------------
t_is "a pattern is added through the API" \
    "$(post watch-keyword 'helios-pull-test-one\.example')" 201
V1=$((V0 + 1))
t_ok "the daemon publishes the next version" wait_version "$V1"
before=$(log_lines)
"$HELIOS" pull --stats "$NG" "$T/n" >"$T/out" 2>&1
t_ok "the poll after one change patches one list from nginx" \
    grep -q "1 list patched, 0 files downloaded" "$T/out"
tail -n +$((before + 1)) "$T/nginx/access.log" >"$T/poll.log"
cobj=$(jq -r '.files[] | select(.path == "changes.json") | .gz.object' \
    "$D/public/manifest.json")
t_is "it fetched only the manifest, changes.json and change files" \
    "$(awk '{print $2}' "$T/poll.log" | grep -v -e '^/manifest.json$' \
    -e "^/$cobj\$" -e '^/changes/' | tr '\n' ' ')" ""
t_ok "the patched files are byte-identical to helios export" \
    same_as_export "$T/n"
bytes=$(sed -n 's/.*bytes=//p' "$T/out")
# Most of it is manifest.json.gz, which names every published file: the
# lists and the site's pages (a page and a feed per list), about 10 KB.
t_ok "one change costs under 16 KB ($bytes bytes)" test "$bytes" -lt 16384
"$HELIOS" pull --stats "$HL_URL" "$T/a" >"$T/out" 2>&1
t_ok "the poll after one change patches one list from the daemon" \
    grep -q "1 list patched, 0 files downloaded" "$T/out"
t_ok "the files pulled from the daemon are byte-identical to helios export" \
    same_as_export "$T/a"
"$HELIOS" pull -q "file://$D/public" "$T/f"
t_ok "a change pulled from the directory gives the same files" \
    same_as_export "$T/f"

# --- a new version that is wrong in some way: the old files stay ----------
post blacklist-website 'helios-pull-test-two\.example' >/dev/null
V2=$((V1 + 1))
wait_version "$V2"
cp -r "$T/n" "$T/c0"	# a client at version V1
SUM=$(dirsum "$T/c0")
fresh_evil() {
	rm -rf "$T/evil"
	cp -a "$D/public" "$T/evil"
}
list_ref() {	# LIST: the paths the manifest names for the list's text
	jq -r --arg id "$1" '(.lists[] | select(.id == $id) | .text) as $t |
	    .files[] | select(.path == $t) |
	    .path, .object, .gz.path, .gz.object' "$T/evil/manifest.json"
}
flip() {	# FILE...: changes one byte in the middle of each
	# (a new file each: a list and its object may share an inode)
	python3 -c '
import os, sys
for p in sys.argv[1:]:
    b = bytearray(open(p, "rb").read())
    b[len(b) // 2] ^= 0x01
    open(p + ".new", "wb").write(b)
    os.replace(p + ".new", p)' "$@"
}
expect() {	# SENTENCE CODE ARGS...: pull exits CODE, DIR keeps its files
	sentence=$1 code=$2; shift 2
	rm -rf "$T/c"
	cp -a "$T/c0" "$T/c"
	"$HELIOS" pull "$@" "$T/c" >"$T/out" 2>&1
	rc=$?
	t_is "$sentence exits $code" "$rc" "$code"
	[ "$rc" = "$code" ] || sed 's/^/#   /' "$T/out" | head -3
	t_is "$sentence leaves the old files and state" "$(dirsum "$T/c")" \
	    "$SUM"
}

fresh_evil
flip $(list_ref blacklist-website | sed "s|^|$T/evil/|")
expect "a list whose hash does not match" 3 --full "$EV"
t_ok "the message names the list" grep -q "blacklist-website" "$T/out"

fresh_evil
seg=$(jq -r ".segments[] | select(.from <= $V2 and .to >= $V2) | .gz.path" \
    "$T/evil/changes.json")
gunzip -c "$T/evil/$seg" | sed 's/helios-pull-test-two/helios-pull-test-2/' \
    >"$T/evil/${seg%.gz}.new"
gzip -n <"$T/evil/${seg%.gz}.new" >"$T/evil/$seg.new"
mv "$T/evil/${seg%.gz}.new" "$T/evil/${seg%.gz}"
mv "$T/evil/$seg.new" "$T/evil/$seg"
expect "a change segment whose hash does not match" 3 "$EV"

# A gzip cut short (a mirror's copy torn, or another compressor's) gives
# way to the list's identity file, checked: a poll fails only when that
# fails too.
cut_gz() {
	for f in $(list_ref blacklist-website | sed -n "3,4s|^|$T/evil/|p"); do
		head -c $(($(wc -c <"$f") / 2)) "$f" >"$f.cut" &&
		    mv "$f.cut" "$f"
	done
}
fresh_evil
cut_gz
flip $(list_ref blacklist-website | sed -n "1,2s|^|$T/evil/|p")
expect "a truncated gzip, its identity file damaged too," 3 --full "$EV"
t_ok "the message names the gzip and then the identity file" \
    grep -q "blacklist-website.txt.gz.*; .*blacklist-website.txt" "$T/out"
fresh_evil
cut_gz
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
"$HELIOS" pull -q --full "$EV" "$T/c" 2>"$T/err"
t_is "a truncated gzip whose identity file is whole: pull takes that" \
    "$?" 0
t_ok "... and warns that it did" grep -q \
    "warning: 1 .gz file was missing or not the one the manifest names" \
    "$T/err"
t_ok "... and writes the list the manifest names" cmp \
    "$T/c/blacklisted_websites.txt" \
    "$T/evil/$(list_ref blacklist-website | head -1)"

DOWN=$(hl_port)
expect "a server that is down" 2 "http://127.0.0.1:$DOWN"

ST_PORT=$(hl_port)
python3 tests/tools/http_status.py "$ST_PORT" 500 >"$T/status.log" 2>&1 &
ST_PID=$!
hl_wait_http "http://127.0.0.1:$ST_PORT/"
expect "a server that answers 500" 2 "http://127.0.0.1:$ST_PORT"
t_ok "the message gives the status" grep -q "HTTP 500" "$T/out"
stop_servers
"$NGINX" -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" \
    -g 'daemon off;' >"$T/nginx/stdout" 2>&1 &
NG_PID=$!
hl_wait_http "$NG/manifest.json"

rm -rf "$T/evil"
cp -a "$T/old" "$T/evil"
expect "a manifest older than the version already seen" 4 "$EV"
t_ok "the message says the version went back" grep -q "older than" "$T/out"

fresh_evil
jq -c '.expires_at = .generated_at - 3600' "$D/public/manifest.json" \
    >"$T/evil/manifest.json"
expect "an expired manifest" 5 "$EV"
t_ok "the message says it expired" grep -q "expired" "$T/out"

fresh_evil
openssl genpkey -algorithm ed25519 2>/dev/null |
    openssl pkey -pubout -out "$T/key.pub" 2>/dev/null
expect "an unsigned manifest when a key is required" 6 --key "$T/key.pub" \
    "$EV"

fresh_evil
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
"$HELIOS" pull --stats "$EV" "$T/c" >"$T/out" 2>&1
t_ok "the same client then pulls the good tree" \
    grep -q "1 list patched" "$T/out"
t_ok "and its files are byte-identical to helios export" \
    same_as_export "$T/c"

# --- files pull did not write are kept (exit 9) unless --force ----------
# SmokeDetector still appends to its files: the list that changed in V2.
fresh_evil
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
printf 'appended-by-smokedetector\\.example\n' >>"$T/c/blacklisted_websites.txt"
cp "$T/c/blacklisted_websites.txt" "$T/kept"
"$HELIOS" pull "$EV" "$T/c" >"$T/out" 2>&1
t_is "a pull over a list SmokeDetector appended to exits 9" "$?" 9
t_ok "the message names the file and --force" grep -q \
    "blacklisted_websites.txt is not what helios pull last wrote.*--force" \
    "$T/out"
t_ok "the appended line is kept" cmp "$T/kept" "$T/c/blacklisted_websites.txt"
t_is "the state still says version V1" \
    "$(version_of "$T/c/.helios-state.json")" "$V1"
"$HELIOS" pull -q --force "$EV" "$T/c" >"$T/out" 2>&1
t_is "--force replaces the edited list" "$?" 0
t_ok "and the files are byte-identical to helios export" same_as_export "$T/c"

# A damaged file (one byte changed) looks like an edit: bytes alone cannot
# tell them apart, so it is kept too, and --force is the repair.
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
flip "$T/c/bad_keywords.txt"
cp "$T/c/bad_keywords.txt" "$T/kept"
"$HELIOS" pull "$EV" "$T/c" >"$T/out" 2>&1
t_is "a pull over a damaged list that did not change upstream exits 9" "$?" 9
t_ok "the damaged file is kept as it is" cmp "$T/kept" "$T/c/bad_keywords.txt"
"$HELIOS" pull -q --force "$EV" "$T/c" >"$T/out" 2>&1
t_is "--force repairs it" "$?" 0
t_ok "and the files are byte-identical to helios export" same_as_export "$T/c"
rm "$T/c/watched_nses.yml"
"$HELIOS" pull -q "$EV" "$T/c" >"$T/out" 2>&1
t_is "a deleted list is written again without --force" "$?" 0
t_ok "and the files are byte-identical to helios export" same_as_export "$T/c"

# A crash between replacing the files and writing the state: the state
# written before the renames names both hashes ("was"), so a file at
# either is pull's own; one at neither is not.
Z=0000000000000000000000000000000000000000000000000000000000000000
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
w=$(sha256sum <"$T/c/blacklisted_websites.txt" | cut -d' ' -f1)
jq --arg z "$Z" --arg w "$w" \
    '.lists["blacklist-website"].sha256 = $z |
     .lists["blacklist-website"].was = $w' \
    "$T/c0/.helios-state.json" >"$T/c/.helios-state.json"
printf 'stale\n' >"$T/c/.helios-tmp.AbC123"
"$HELIOS" pull -q "$EV" "$T/c" >"$T/out" 2>&1
t_is "after a crash, a file at the hash the state kept as \"was\" is pull's" \
    "$?" 0
t_ok "and the files are byte-identical to helios export" same_as_export "$T/c"
t_ok "a temporary file a crashed pull left is removed" \
    test ! -e "$T/c/.helios-tmp.AbC123"
t_ok "the state names no \"was\" once the files are in place" \
    sh -c "! grep -q '\"was\"' '$T/c/.helios-state.json'"
rm -rf "$T/c"
cp -a "$T/c0" "$T/c"
jq --arg z "$Z" '.lists["blacklist-website"].sha256 = $z' \
    "$T/c0/.helios-state.json" >"$T/c/.helios-state.json"
"$HELIOS" pull -q "$EV" "$T/c" >"$T/out" 2>&1
t_is "without it, the same file is not pull's: exit 9" "$?" 9

# A first pull into a SmokeDetector checkout: its files were there first.
rm -rf "$T/co"
mkdir "$T/co"
cp "$SAMPLES"/*.txt "$SAMPLES"/*.yml "$T/co/"
(cd "$T/co" && cat $(ls | sort) | sha256sum) >"$T/co.sum"
"$HELIOS" pull "$EV" "$T/co" >"$T/out" 2>&1
t_is "a first pull into a checkout whose lists differ exits 9" "$?" 9
t_is "and leaves the checkout's files as they were" \
    "$(cd "$T/co" && cat $(ls | sort) | sha256sum)" "$(cat "$T/co.sum")"
"$HELIOS" pull -q --force "$EV" "$T/co" >"$T/out" 2>&1
t_is "with --force it takes them over" "$?" 0
t_ok "and the files are byte-identical to helios export" same_as_export "$T/co"

# --- 100 changes, --watch, and the Python example client -----------------
i=0
while [ $i -lt 100 ]; do
	post blacklist-username "helios-hundred-$i" >/dev/null
	i=$((i + 1))
done
t_ok "the daemon publishes 100 more versions" wait_version $((V2 + 100))
"$HELIOS" pull --stats "$NG" "$T/n" >"$T/out" 2>&1
t_ok "the poll after 100 changes leaves the other lists alone" \
    grep -q "9 unchanged" "$T/out"
t_ok "the files after 100 changes are byte-identical to helios export" \
    same_as_export "$T/n"

"$HELIOS" pull -q --watch --interval 1 "$NG" "$T/n" >"$T/watch.log" 2>&1 &
W_PID=$!
post watch-number '555-0100-helios' >/dev/null
V3=$((V2 + 101))
n=0
while [ "$(version_of "$T/n/.helios-state.json")" != "$V3" ] && [ $n -lt 50 ]
do
	sleep 0.1; n=$((n + 1))
done
t_is "pull --watch picks up a change within seconds" \
    "$(version_of "$T/n/.helios-state.json")" "$V3"
kill -TERM "$W_PID"
wait "$W_PID"
t_is "pull --watch exits 0 on SIGTERM" "$?" 0

t_ok "the Python example client pulls the tree from nginx" \
    python3 site/docs/client.py "$NG" "$T/py"
t_ok "its files are byte-identical to helios export" same_as_export "$T/py"
before=$(log_lines)
python3 site/docs/client.py "$NG" "$T/py" >/dev/null
t_is "its unchanged poll is one request answered 304" \
    "$(tail -n +$((before + 1)) "$T/nginx/access.log")" \
    "GET /manifest.json 304 0"

# A frozen mirror keeps answering 304: the expiry the state kept tells.
cp -a "$T/n" "$T/x"
jq '.expires_at = 1000' "$T/n/.helios-state.json" >"$T/x/.helios-state.json"
before=$(log_lines)
"$HELIOS" pull "$NG" "$T/x" >"$T/out" 2>&1
t_is "an unchanged manifest past its expiry exits 5" "$?" 5
t_is "and it took one request answered 304" \
    "$(tail -n +$((before + 1)) "$T/nginx/access.log")" \
    "GET /manifest.json 304 0"

stop_servers
hl_daemon_stop
t_done
