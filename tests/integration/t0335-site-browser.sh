#!/bin/sh
# The public site in headless Chromium (tests/browser/site.js), served by
# the daemon at / and by nginx under a sub-path (/repo/), and opened from a
# file:// copy.  watch-keyword holds the sample's 150 patterns and 50,000
# generated ones.  Every page loads with no console error and no failed
# request and passes axe; search finds a known entry in the 50,150-entry
# list; a permalink opens on its entry; "Is this caught?" finds what
# matches a string and nothing for one that matches nothing; the feeds
# parse as Atom.  Screenshots at desktop and phone widths go to
# $HELIOS_BUILD/screenshots.
. tests/lib.sh
D=$(hl_tmp)
NODE=$(command -v node || true)
if [ -z "$NODE" ] || [ ! -x /usr/bin/chromium ] ||
    [ ! -d node_modules/puppeteer-core ]; then
	t_ok "node, chromium and puppeteer-core are installed" false
	t_done; exit
fi
SHOTS=${HELIOS_BUILD:-$PWD/build}/screenshots
rm -rf "$SHOTS"
"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null
N=50000
awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++)
		printf "%d\t%s\tbig-%d-(?:cheap|best)\\W*+pills\\.example\\.com\n",
		    1500000000 + i * 600, (i % 3 ? "tripleee" : "Makyen"), i
}' >"$D/big.tsv"
"$HELIOS" import --db "$D/db.sqlite" --list watch-keyword "$D/big.tsv" \
    >/dev/null
# The ids the test looks for.
sq() { $PY -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$D/db.sqlite" "$1"; }
BIG_ID=$(sq "select id from items where value = 'big-31337-(?:cheap|best)\\W*+pills\\.example\\.com'")
ESSAY_ID=$(sq "select id from items where value = 'essayssos\\.com'")
t_ok "the generated entry is in the store" test -n "$BIG_ID"
hl_daemon_start "$D" || exit 1
n=0
while ! grep -q "big-49999" "$D/public/watch-keyword.html" 2>/dev/null &&
    ! grep -q '50150' "$D/public/watch-keyword.html" 2>/dev/null &&
    [ $n -lt 600 ]; do
	sleep 0.1; n=$((n + 1))
done
t_ok "the daemon published the site with the big list" \
    grep -q '50150' "$D/public/watch-keyword.html"

PAGES='"index.html", "caught.html", "changes.html", "api.html",
    "watch-keyword.html", "blacklist-cidr.html", "docs/protocol.html"'
CAUGHT="[{\"text\": \"buy big-31337-cheap pills.example.com at essayssos.com\",
      \"expect\": [\"watch-keyword:$BIG_ID\", \"watch-keyword:$ESSAY_ID\"]},
    {\"text\": \"a perfectly ordinary sentence zqxj\", \"expect\": [],
      \"exact\": true}]"
SEARCH="{\"list\": \"watch-keyword\",
    \"value\": \"big-31337-(?:cheap|best)\\\\\\\\W*+pills\\\\\\\\.example\\\\\\\\.com\"}"
PERMA="{\"list\": \"watch-keyword\", \"id\": $BIG_ID}"
# The big import fills the change window: other lists' feeds are empty.
FEEDS='["feed.xml", "feed-watch-keyword.xml", "feed-blacklist-cidr.xml"],
    "emptyFeeds": ["feed-blacklist-cidr.xml"]'

tap() {	# FILE: "ok - " / "not ok - " lines as this script's
	grep -E '^# metric' "$1"
	grep -vE '^(not )?ok - |^# metric' "$1" | head -20 | sed 's/^/# /'
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_ok "${line#ok - }" true ;;
		"not ok - "*) echo "# ${line#not ok - }"
			t_ok "${line#not ok - }" false ;;
		esac
	done <"$1"
}
browser() {	# LABEL CONFIG-JSON
	echo "$2" >"$D/$1.json"
	"$NODE" tests/browser/site.js "$D/$1.json" >"$D/$1.out" 2>&1
	tap "$D/$1.out"
}

"$NODE" tests/browser/pyregex-test.js >"$D/pyregex.out" 2>&1
tap "$D/pyregex.out"

browser daemon "{\"base\": \"$HL_URL/\", \"label\": \"daemon\",
    \"pages\": [$PAGES], \"shots\": \"$SHOTS\", \"search\": $SEARCH,
    \"permalink\": $PERMA, \"caught\": $CAUGHT, \"feeds\": $FEEDS,
    \"daemon\": true}"

# nginx under a sub-path, with its own MIME types (no Helios header).
NGP=$(hl_port)
hl_nginx_start "$D/ng" "server {
	listen 127.0.0.1:$NGP;
	location /repo/ {
		alias $D/public/;
		types {
			text/html html; text/css css; text/javascript js;
			application/json json; application/atom+xml xml;
			image/svg+xml svg; text/plain txt yml py;
			application/gzip gz;
		}
	}
}"
hl_wait_http "http://127.0.0.1:$NGP/repo/index.html" || {
	cat "$D/ng/error.log"; exit 1; }
browser nginx "{\"base\": \"http://127.0.0.1:$NGP/repo/\", \"label\": \"nginx\",
    \"pages\": [$PAGES], \"shots\": \"$SHOTS\", \"search\": $SEARCH,
    \"permalink\": $PERMA, \"caught\": $CAUGHT, \"feeds\": $FEEDS,
    \"daemon\": false}"

# A copy of the tree opened from disk.
cp -R "$D/public" "$D/copy"
browser file "{\"base\": \"file://$D/copy/\", \"label\": \"file\",
    \"file\": \"file://$D/copy/\", \"fileList\": \"watch-keyword\"}"

t_ok "the screenshots are kept" test -s "$SHOTS/daemon-index-phone.png"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
