#!/bin/sh
# t0321: a big list is published in bounded memory.  With watch-keyword
# grown to 200,000 patterns, `helios publish` to a directory stays under
# 64 MB of peak RSS (the list's text, gzip and JSON segments are written
# to a spool beside the database as they are rendered, not held whole)
# and leaves no spool behind; the directory's list file is the imported
# file byte for byte and helios verify accepts the tree.  The spooled
# files reach every target byte for byte: a publish to a directory, an S3
# bucket (s3rver) and a git pages branch gives the same list files and
# segments in all three.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
PUB=$T/public
N=200000
S=$(hl_samples)
t_ok "the sample files are there" test -f "${S:-/nonexistent}/bad_keywords.txt"

hl_grown_samples "$T/src" "$N"
t_ok "helios import reads the grown files" \
    "$HELIOS" import --db "$DB" "$T/src"

t_ok "helios publish writes the tree to a directory" \
    /usr/bin/time -f %M -o "$T/rss" \
    "$HELIOS" publish --db "$DB" --target "dir:$PUB"
RSS=$(tail -n 1 "$T/rss")
echo "# peak RSS of helios publish: $RSS KB"
t_rss "its peak RSS stays under 64 MB ($RSS KB)" "$RSS" 65536
t_is "no spool is left beside the database" \
    "$(find "$T" -maxdepth 1 -name 'helios-spool.*' | wc -l)" 0
t_ok "the list file is the imported file, byte for byte" \
    cmp "$PUB/lists/watch-keyword.txt" "$T/src/watched_keywords.txt"
t_ok "its .gz decompresses to it" \
    sh -c "gunzip -c '$PUB/lists/watch-keyword.txt.gz' |
    cmp - '$T/src/watched_keywords.txt'"
t_ok "helios verify checks the tree" "$HELIOS" verify "$PUB"

# The same rows to a directory, S3 and git in one publish.
set -- $(sh tests/tools/s3rver.sh start "$T/s3" 0 helios)
S3_PORT=${1:-0}
S3_PID=${2:-}
t_ok "the S3 test server starts" test "$S3_PORT" -gt 0
cleanup_s3() {
	[ -n "$S3_PID" ] && sh tests/tools/s3rver.sh stop "$S3_PID"
	hl_cleanup
}
trap cleanup_s3 EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN HELIOS_S3_CREDENTIALS
git init -q --bare "$T/pages.git"
export HELIOS_GIT_CACHE="$T/cache"
t_ok "helios publish writes a directory, a bucket and a pages branch" \
    "$HELIOS" publish --db "$DB" --target "dir:$T/pub2" \
    --target "s3://helios/pub?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1" \
    --target "git+file://$T/pages.git#gh-pages"
git clone -q -b gh-pages "$T/pages.git" "$T/clone"

# The big list's files and every segment its index names.
big_files() {
	echo lists/watch-keyword.txt
	echo lists/watch-keyword.txt.gz
	echo lists/watch-keyword.json
	jq -r '.segments[].sha256' "$PUB/lists/watch-keyword.json" |
	    sed 's|.*|objects/&\nobjects/&.gz|'
}
same_everywhere() {
	n=0
	for f in $(big_files); do
		cmp -s "$PUB/$f" "$T/pub2/$f" || { echo "dir: $f"; exit 1; }
		cmp -s "$PUB/$f" "$T/clone/$f" || { echo "git: $f"; exit 1; }
		curl -sf "http://127.0.0.1:$S3_PORT/helios/pub/$f" \
		    -o "$T/obj" || { echo "s3 missing: $f"; exit 1; }
		cmp -s "$PUB/$f" "$T/obj" || { echo "s3: $f"; exit 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 100 ] || { echo "only $n files"; exit 1; }
}
t_ok "the list files and segments are the same bytes in all three" \
    same_everywhere
t_ok "helios verify accepts the git clone" "$HELIOS" verify "$T/clone"
t_done
