#!/bin/sh
# The browsable site: a headless Chromium loads the daemon's public page
# and finds every list with its count and working download links.
. tests/lib.sh
D=$(hl_tmp)
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	t_ok "chromium is installed" false
	t_done; exit
fi
S=$(hl_samples)
"$HELIOS" import --db "$D/db.sqlite" "$S" >/dev/null
hl_daemon_start "$D" || exit 1
n=0
while ! grep -q 'watch-keyword' "$D/public/index.html" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
chrome() {
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$D/chrome" "$@" 2>/dev/null
}
chrome --dump-dom "$HL_URL/" >"$D/dom.html"
t_ok "the page loads in a browser with its title" \
    grep -q '<title>Helios: SmokeDetector pattern lists</title>' "$D/dom.html"
t_ok "the page shows the version of the tree" sh -c \
    "v=\$(curl -s '$HL_URL/manifest.json' | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])');
     grep -q \"id=\\\"version\\\">\$v<\" '$D/dom.html'"
rows=$($PY - "$D/dom.html" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    # Rows of the outer table only: a row's details hold tables of their own.
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None; self.row = None; self.links = []; self.depth = 0
    def handle_starttag(self, tag, attrs):
        if tag == "table": self.depth += 1
        if self.depth != 1:
            if tag == "a" and self.row is not None: self.links.append(dict(attrs)["href"])
            return
        if tag == "tr": self.row = []
        if tag == "td": self.cell = ""
        if tag == "br" and self.cell is not None: self.cell += " "
        if tag == "a" and self.row is not None: self.links.append(dict(attrs)["href"])
    def handle_endtag(self, tag):
        if tag == "table": self.depth -= 1; return
        if self.depth != 1: return
        if tag == "td" and self.row is not None: self.row.append(self.cell.strip()); self.cell = None
        if tag == "tr" and self.row: self.rows.append(self.row); self.row = None
    def handle_data(self, d):
        if self.cell is not None and self.depth == 1: self.cell += d
p = P(); p.feed(open(sys.argv[1]).read())
for r in p.rows: print(r[0].split()[0] if r[0] else "", r[1])
for l in p.links: print("link", l)
PY
)
t_is "the table lists the eleven lists" "$(echo "$rows" | grep -vc '^link')" 11
t_is "watch-keyword shows its 150 items" \
    "$(printf "%s\n" "$rows" | awk '$1 == "watch-keyword" {print $2}')" 150
bad=0
for l in $(echo "$rows" | awk '$1 == "link" {print $2}'); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$HL_URL/$l")
	[ "$code" = 200 ] || { echo "# $l: $code"; bad=$((bad + 1)); }
done
t_is "every download link on the page answers 200" "$bad" 0
chrome --screenshot="$D/site.png" --window-size=1100,900 "$HL_URL/" >/dev/null
t_ok "the page renders to a screenshot" test -s "$D/site.png"
[ -n "${HELIOS_KEEP_SCREENSHOT:-}" ] && cp "$D/site.png" "$HELIOS_KEEP_SCREENSHOT"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
