#!/bin/sh
# t0700: review before publish, end to end.  A propose token (made with
# helios token create --scope propose --lists --expires) proposes two
# patterns to a list under review; they are in proposals.json and in no
# list.  An approve token approves one and rejects the other: the approved
# pattern reaches the published text file, its JSON item carries the
# review, and helios pull brings it into a directory; the rejected one
# never appears in any published list or pulled file.
. tests/lib.sh

T=$(hl_tmp)
D=$T/d
mkdir -p "$D"
printf 'review_lists = blacklist-*\n' >"$T/helios.conf"

nowhere() {	# TEXT: in no published list and no pulled file
	! grep -rlF "$1" "$D/public/lists" "$T/pull" 2>/dev/null | grep -q .
}

hl_daemon_start "$D" --config "$T/helios.conf" || exit 1
PROP=$(hl_mint chatbot --scope propose --lists 'blacklist-*' --expires 90d)
APPR=$(hl_mint reviewer --scope approve)
t_ok "helios token create makes a limited, expiring propose token" \
    sh -c "'$HELIOS' token list --db '$D/db.sqlite' | grep -q 'chatbot.*propose.*valid lists=blacklist-\*'"

t_is "a proposal answers 202" "$(hl_api POST "$PROP" /blacklists/blacklist-website \
    '{"pattern":"t0700-good\\.example","requester":"tripleee","reason":"spam wave","evidence":{"tp":4,"fp":0,"naa":0}}')" 202
GOOD=$(hl_field 'j["proposal"]')
t_is "a second proposal answers 202" "$(hl_api POST "$PROP" /blacklists/blacklist-website \
    '{"pattern":"t0700-bad\\.example","requester":"tripleee"}')" 202
BAD=$(hl_field 'j["proposal"]')
V=$(hl_field 'j["version"]')
t_ok "the daemon publishes the proposals" hl_wait_version "$V"
t_is "proposals.json lists both pending proposals" \
    "$(python3 -c 'import json,sys; print(" ".join(p["value"] for p in json.load(open(sys.argv[1]))["items"]))' "$D/public/proposals.json")" \
    't0700-good\.example t0700-bad\.example'
t_ok "the manifest names proposals.json and the list's review policy" \
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]));
assert any(f["path"] == "proposals.json" and f["gz"]["path"] == "proposals.json.gz" for f in m["files"])
assert [l["policy"] for l in m["lists"] if l["id"] == "blacklist-website"] == ["review"]' \
    "$D/public/manifest.json"
t_ok "no proposed pattern is in a published list yet" nowhere t0700-

t_is "the proposer cannot approve" \
    "$(hl_api POST "$PROP" "/proposals/$GOOD/approve")" 403
t_is "the reviewer approves one" "$(hl_api POST "$APPR" "/proposals/$GOOD/approve" \
    '{"comment":"clear spam","by":"Makyen"}')" 200
t_is "the reviewer rejects the other, with a reason" \
    "$(hl_api POST "$APPR" "/proposals/$BAD/reject" '{"reason":"only two hits so far"}')" 200
V=$(hl_field 'j["version"]')
t_ok "the daemon publishes the decisions" hl_wait_version "$V"
t_ok "the approved pattern is in the published text file" \
    grep -qxF 't0700-good\.example' "$D/public/lists/blacklist-website.txt"
t_ok "its JSON item carries requester, approver, reason, evidence and proposal id" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
r=[i["review"] for i in d["items"] if i["text_pattern"] == "t0700-good\\.example"][0]
assert r["requester"] == "tripleee" and r["approver"] == "Makyen" and r["reason"] == "spam wave"
assert r["evidence"] == {"tp": 4, "fp": 0, "naa": 0, "links": []} and r["proposal"] == int(sys.argv[2]), r' \
    "$D/public/lists/blacklist-website.json" "$GOOD"
t_is "proposals.json is empty again" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["numItems"])' "$D/public/proposals.json")" 0
t_ok "helios pull fetches the tree" "$HELIOS" pull -q "$HL_URL" "$T/pull"
t_ok "the pulled blacklist holds the approved pattern" \
    grep -qxF 't0700-good\.example' "$T/pull/blacklisted_websites.txt"
t_ok "the rejected pattern is in no published list and no pulled file" \
    nowhere t0700-bad
t_is "the audit log has the proposals and their decisions" \
    "$(curl -s "$HL_URL/changes?since=0" | python3 -c 'import json,sys
print(" ".join(e["op"] + ":" + e["record"]["state"] for e in json.load(sys.stdin)["items"] if e["list"] == "proposals"))')" \
    "add:pending add:pending delete:approved delete:rejected"
t_ok "SIGTERM ends the daemon with status 0" hl_daemon_stop
t_done
