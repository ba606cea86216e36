#!/bin/sh
# t0338: the review queue page (proposals.html) end to end in headless
# Chromium (tests/browser/review.js).  blacklist-* is under review; a
# propose token proposes two patterns through the API; the page lists
# them with their checks, on the daemon with approve, reject and convert
# buttons and on a plain HTTP mirror read-only.  A reviewer pastes an
# approve token (kept in sessionStorage only), approves one and rejects
# the other with a reason; the approved pattern reaches the published
# lists/blacklist-website.txt, the rejected one never does.
. tests/lib.sh

T=$(hl_tmp)
D=$T/d
mkdir -p "$D"
NODE=$(command -v node || true)
if [ -z "$NODE" ] || [ ! -x /usr/bin/chromium ] ||
    [ ! -d node_modules/puppeteer-core ]; then
	t_ok "node, chromium and puppeteer-core are installed" false
	t_done; exit
fi
printf 'review_lists = blacklist-*\n' >"$T/helios.conf"

tap() {	# FILE: "ok - " / "not ok - " lines as this script's
	grep -vE '^(not )?ok - ' "$1" | head -20 | sed 's/^/# /'
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_ok "${line#ok - }" true ;;
		"not ok - "*) echo "# ${line#not ok - }"
			t_ok "${line#not ok - }" false ;;
		esac
	done <"$1"
}

hl_daemon_start "$D" --config "$T/helios.conf" || exit 1
PROP=$(hl_mint chatbot --scope propose --lists 'blacklist-*' --expires 1d)
APPR=$(hl_mint reviewer --scope approve)

t_is "a proposal answers 202" "$(hl_api POST "$PROP" /blacklists/blacklist-website \
    '{"pattern":"t0338-good\\.example","requester":"tripleee","reason":"spam wave","evidence":{"tp":4,"fp":1,"naa":0,"links":["https://stackoverflow.com/q/1"]}}')" 202
GOOD=$(hl_field 'j["proposal"]')
t_is "a second proposal answers 202" "$(hl_api POST "$PROP" /blacklists/blacklist-website \
    '{"pattern":"t0338-bad\\.example","requester":"tripleee"}')" 202
BAD=$(hl_field 'j["proposal"]')
V=$(hl_field 'j["version"]')
t_ok "the daemon publishes the proposals" hl_wait_version "$V"
t_ok "the published tree has the review page" \
    grep -q 'id="queue"' "$D/public/proposals.html"
t_ok "every page's navigation links the review page" \
    grep -q 'href="proposals.html"' "$D/public/index.html"

# The same tree on a plain HTTP server: no X-Helios-Test, read-only.
RO=$(hl_port)
python3 -m http.server --bind 127.0.0.1 --directory "$D/public" "$RO" \
    >"$T/ro.log" 2>&1 &
RO_PID=$!
hl_wait_http "http://127.0.0.1:$RO/proposals.html" || cat "$T/ro.log"

cat >"$T/b.json" <<JSON
{"base": "$HL_URL/", "readonly": "http://127.0.0.1:$RO/", "token": "$APPR",
 "good": {"id": $GOOD, "value": "t0338-good\\\\.example"},
 "bad": {"id": $BAD, "value": "t0338-bad\\\\.example"},
 "reason": "only two hits so far", "shots": "${HELIOS_BUILD:-$PWD/build}/screenshots"}
JSON
"$NODE" tests/browser/review.js "$T/b.json" >"$T/b.out" 2>&1
tap "$T/b.out"
kill "$RO_PID"; wait "$RO_PID" 2>/dev/null

t_is "the store holds the decisions made on the page" \
    "$(curl -s "$HL_URL/changes?since=0" | python3 -c 'import json,sys
print(" ".join(e["record"]["state"] for e in json.load(sys.stdin)["items"] if e["list"] == "proposals" and e["op"] == "delete"))')" \
    "rejected approved"
n=0
while ! grep -qxF 't0338-good\.example' "$D/public/lists/blacklist-website.txt" 2>/dev/null &&
    [ $n -lt 100 ]; do
	n=$((n + 1)); sleep 0.1
done
t_ok "the approved pattern is in the published lists/blacklist-website.txt" \
    grep -qxF 't0338-good\.example' "$D/public/lists/blacklist-website.txt"
t_ok "the rejected pattern is in no published list" \
    sh -c "! grep -rqF t0338-bad '$D/public/lists'"
t_is "the rejection carries the reason typed on the page" \
    "$(curl -s -H "Authorization: Bearer $APPR" "$HL_URL/proposals/$BAD" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["items"][0]["state"], j["items"][0]["decision"])')" \
    "rejected only two hits so far"
t_ok "SIGTERM ends the daemon with status 0" hl_daemon_stop
t_done
