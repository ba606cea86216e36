#!/bin/sh
# t0322: a big list reaches a git pages branch over smart HTTP in bounded
# memory.  With watch-keyword grown to 200,000 patterns (14 MB of text),
# `helios publish` to git+http:// (nginx + git-http-backend) stays under
# 64 MB of peak RSS, first to an empty repository and then for a one-line
# change: the pack of a push is written into the request as it is made,
# and objects over 4 MB go whole, read and deflated as a stream.  The
# branch then has the list byte for byte and the server's repository is
# whole (git fsck).
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
N=200000
S=$(hl_samples)
t_ok "the sample files are there" test -f "${S:-/nonexistent}/bad_keywords.txt"

hl_grown_samples "$T/src" "$N"
t_ok "helios import reads the grown files" \
    "$HELIOS" import --db "$DB" "$T/src"

port=$(sh tests/tools/git-http.sh start "$T/git" alice s3cret)
t_ok "the smart-HTTP git server starts" test -n "$port"
cleanup_git() {
	sh tests/tools/git-http.sh stop "$T/git"
	hl_cleanup
}
trap cleanup_git EXIT
BARE=$T/git/root/pages.git
URL="git+http://127.0.0.1:$port/pages.git#gh-pages"
export HELIOS_GIT_USERNAME=alice HELIOS_GIT_PASSWORD=s3cret
export HELIOS_GIT_CACHE="$T/cache"

t_ok "helios publish pushes the tree to an empty repository" \
    /usr/bin/time -f %M -o "$T/rss1" \
    "$HELIOS" publish --db "$DB" --target "$URL"
RSS=$(tail -n 1 "$T/rss1")
echo "# peak RSS of the first push: $RSS KB"
t_rss "its peak RSS stays under 64 MB ($RSS KB)" "$RSS" 65536
t_ok "the branch has the list, byte for byte" \
    sh -c "git --git-dir='$BARE' show gh-pages:lists/watch-keyword.txt |
    cmp - '$T/src/watched_keywords.txt'"

printf '1600000000\ttripleee\tone-more\\.example\n' \
    >>"$T/src/watched_keywords.txt"
t_ok "helios import takes the one line more" \
    "$HELIOS" import --db "$DB" "$T/src"
t_ok "helios publish pushes the change" \
    /usr/bin/time -f %M -o "$T/rss2" \
    "$HELIOS" publish --db "$DB" --target "$URL"
RSS=$(tail -n 1 "$T/rss2")
echo "# peak RSS of the second push: $RSS KB"
t_rss "its peak RSS stays under 64 MB ($RSS KB)" "$RSS" 65536
t_is "the branch has two commits" \
    "$(git --git-dir="$BARE" rev-list --count gh-pages)" 2
t_ok "the branch has the changed list, byte for byte" \
    sh -c "git --git-dir='$BARE' show gh-pages:lists/watch-keyword.txt |
    cmp - '$T/src/watched_keywords.txt'"
t_ok "the server's repository is whole" \
    git --git-dir="$BARE" fsck --no-dangling
t_done
