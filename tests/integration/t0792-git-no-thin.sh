#!/bin/sh
# t0792: a push to a git server that takes no thin pack.  Helios sends a
# thin pack (deltas against the files the server already has) unless the
# server's advertisement says "no-thin"; then each delta's base must be
# in the pack itself.  Two smart-HTTP servers (nginx + git-http-backend)
# get the same two versions, the second a one-line change to a grown
# watch-keyword list.  One server advertises "no-thin" (a stand-in: git's
# receive-pack never says it, so nginx writes it into the advertisement,
# see tests/tools/git-http.sh).  Each server keeps the request bodies, and
# the pack of the second push is read back from them: git index-pack in an
# empty repository takes a pack that is whole and refuses a thin one.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
hl_grown_samples "$T/src" 5000
t_ok "helios import reads the grown files" \
    "$HELIOS" import --db "$DB" "$T/src"

export GIT_HTTP_KEEP_BODIES=1
p_thin=$(sh tests/tools/git-http.sh start "$T/thin" alice s3cret)
p_none=$(GIT_HTTP_NO_THIN=1 sh tests/tools/git-http.sh start "$T/none" \
    alice s3cret)
cleanup_git() {
	sh tests/tools/git-http.sh stop "$T/thin"
	sh tests/tools/git-http.sh stop "$T/none"
	hl_cleanup
}
trap cleanup_git EXIT
t_ok "both smart-HTTP git servers start" test -n "$p_thin" -a -n "$p_none"
export HELIOS_GIT_USERNAME=alice HELIOS_GIT_PASSWORD=s3cret

advert() {	# PORT: the capabilities a push is offered
	curl -s -u alice:s3cret \
	    "http://127.0.0.1:$1/pages.git/info/refs?service=git-receive-pack" |
	    tr '\0' ' '
}
t_ok "the stand-in advertises no-thin" \
    sh -c "echo '$(advert "$p_none")' | grep -q ' no-thin '"
t_ok "the plain server does not" \
    sh -c "! echo '$(advert "$p_thin")' | grep -q 'no-thin'"

publish() {	# NAME PORT: helios publish to that server's pages branch
	HELIOS_GIT_CACHE="$T/cache-$1" "$HELIOS" publish --db "$DB" \
	    --target "git+http://127.0.0.1:$2/pages.git#gh-pages"
}
# last_pack DIR OUT: the pack of the newest push DIR's server received
last_pack() {
	$PY - "$1/tmp/body" "$2" <<'EOF'
import os, sys
body, out = sys.argv[1], sys.argv[2]
files = sorted((os.path.join(body, f) for f in os.listdir(body)),
               key=os.path.getmtime)
for f in reversed(files):
    d = open(f, "rb").read()
    i = d.find(b"PACK")
    if i > 0 and b"refs/heads/gh-pages" in d[:i]:
        open(out, "wb").write(d[i:])
        sys.exit(0)
sys.exit(1)
EOF
}
whole() {	# PACK: git index-pack takes it with no object besides
	rm -rf "$T/empty.git"
	git init -q --bare "$T/empty.git" &&
	    git --git-dir="$T/empty.git" index-pack --stdin <"$1" >/dev/null 2>&1
}

unresolved() {	# PACK: git index-pack finds deltas whose base is not in it
	rm -rf "$T/empty.git"
	git init -q --bare "$T/empty.git" &&
	    ! git --git-dir="$T/empty.git" index-pack --stdin <"$1" \
	    >"$T/index-pack.out" 2>&1 &&
	    grep -q "unresolved delta" "$T/index-pack.out"
}

t_ok "the first version goes to the plain server" publish thin "$p_thin"
t_ok "the first version goes to the stand-in" publish none "$p_none"
printf '1600000000\ttripleee\tone-more\\.example\n' \
    >>"$T/src/watched_keywords.txt"
t_ok "helios import takes the one line more" \
    "$HELIOS" import --db "$DB" "$T/src"
t_ok "the change goes to the plain server" publish thin "$p_thin"
t_ok "the change goes to the stand-in" publish none "$p_none"

t_ok "the plain server's last push body holds a pack" \
    last_pack "$T/thin" "$T/thin.pack"
t_ok "the stand-in's last push body holds a pack" \
    last_pack "$T/none" "$T/none.pack"
# The control: the check below can tell a thin pack from a whole one.
t_ok "to the plain server the change went as a thin pack" unresolved \
    "$T/thin.pack"
t_ok "to the stand-in the change went as a whole pack" whole "$T/none.pack"
n_thin=$(wc -c <"$T/thin.pack")
n_none=$(wc -c <"$T/none.pack")
echo "# pack bytes of the one-line change: thin $n_thin, whole $n_none"
for s in thin none; do
	t_ok "the $s server's branch has the changed list, byte for byte" \
	    sh -c "git --git-dir='$T/$s/root/pages.git' show \
	    gh-pages:lists/watch-keyword.txt |
	    cmp - '$T/src/watched_keywords.txt'"
	t_ok "the $s server's repository is whole" \
	    git --git-dir="$T/$s/root/pages.git" fsck --no-dangling
done
t_done
