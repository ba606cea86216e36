#!/bin/sh
# t0810: webhooks and CDN purges.  A receiver (Python's http.server)
# checks each notice's X-Helios-Signature against the secret, answers
# 500 twice and then 200: the daemon tries again with backoff, under one
# delivery id, and the third try is the delivery.  A receiver that is slow while
# versions go out gets only the newest one after it.  /metrics counts
# deliveries and failures; the secret never shows in the daemon's log.
# The same server takes the purges of the files each publish changed.
. tests/lib.sh
D=$(hl_tmp)
SECRET="s3cr3t-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$SECRET" >"$D/webhook.secret"
chmod 600 "$D/webhook.secret"
WH_PORT=$(hl_port)
cat >"$D/recv.py" <<'PY'
import hashlib, hmac, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, secret_file, log, ctl, purges = sys.argv[1:6]
secret = open(secret_file, "rb").read().rstrip(b"\n")
state = {"n": 0}

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path.startswith("/purge"):
            with open(purges, "a") as f:
                f.write(self.path + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        state["n"] += 1
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(want,
                                   self.headers.get("X-Helios-Signature", ""))
        # ctl: "fail N" answers 500 to the next N; "hold FILE" holds the
        # next request until FILE exists (at most 9 s); consumed as used.
        try:
            cmd = open(ctl).read().split()
        except OSError:
            cmd = []
        code = 200
        if cmd and cmd[0] == "fail" and int(cmd[1]) > 0:
            code = 500
            open(ctl, "w").write("fail %d" % (int(cmd[1]) - 1))
        elif cmd and cmd[0] == "hold":
            open(ctl, "w").write("")
            t0 = time.time()
            while not os.path.exists(cmd[1]) and time.time() - t0 < 9:
                time.sleep(0.05)
        if not good:
            code = 401
        with open(log, "a") as f:
            f.write(json.dumps({"t": time.time(), "code": code,
                "good": good, "path": self.path,
                "delivery": self.headers.get("X-Helios-Delivery"),
                "event": self.headers.get("X-Helios-Event"),
                "type": self.headers.get("Content-Type"),
                "body": json.loads(body)}) + "\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass

HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
PY
echo "fail 2" >"$D/ctl"
: >"$D/recv.log"
: >"$D/purges.log"
$PY "$D/recv.py" "$WH_PORT" "$D/webhook.secret" "$D/recv.log" "$D/ctl" \
    "$D/purges.log" &
HL_PIDS="${HL_PIDS:-} $!"
cat >"$D/helios.conf" <<CONF
webhook = http://127.0.0.1:$WH_PORT/hook
webhook_secret = file:$D/webhook.secret
purge = public POST http://127.0.0.1:$WH_PORT/purge?p={path}&v={version}
CONF

wait_for() {
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -gt 300 ] && return 1; sleep 0.1
	done
}
add() {
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$1\"}" \
	    "$HL_URL/blacklists/$2"
}
lines() { [ "$(wc -l <"$D/recv.log")" -ge "$1" ]; }
target_at() { curl -s "$HL_URL/healthz" | $PY -c '
import json, sys
sys.exit(json.load(sys.stdin)["targets"][0]["version"] != int(sys.argv[1]))' "$1"; }

hl_daemon_start "$D" --config "$D/helios.conf" || exit 1
t_is "a write is accepted" "$(add 'hook\\.example' watch-keyword)" 201
t_ok "the receiver gets three tries" wait_for lines 3
t_ok "the first two answered 500, the third 200; every signature good" \
    $PY -c '
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])][:3]
assert [x["code"] for x in v] == [500, 500, 200], v
assert all(x["good"] for x in v), v' "$D/recv.log"
t_ok "all three under one X-Helios-Delivery id, with backoff between" \
    $PY -c '
import json, re, sys
v = [json.loads(l) for l in open(sys.argv[1])][:3]
assert len({x["delivery"] for x in v}) == 1, v
assert re.fullmatch("[0-9a-f]{32}", v[0]["delivery"]), v
assert v[1]["t"] - v[0]["t"] >= 0.9, v
assert v[2]["t"] - v[1]["t"] >= 1.8, v' "$D/recv.log"
t_ok "the notice names the version, the manifest and the changed list" \
    $PY -c '
import json, sys
x = json.loads(open(sys.argv[1]).readlines()[2])
b = x["body"]
assert x["event"] == "publish" and x["type"] == "application/json", x
assert b["version"] == 1 and b["previous_version"] == 0, b
assert b["lists_changed"] == ["watch-keyword"], b
assert b["target"].startswith("dir:") and b["manifest_url"] is None, b
assert len(b["manifest_sha256"]) == 64 and b["published_at"] > 0, b
import hashlib
m = open(sys.argv[2], "rb").read()
assert hashlib.sha256(m).hexdigest() == b["manifest_sha256"], b' \
    "$D/recv.log" "$D/public/manifest.json"
curl -s "$HL_URL/metrics" >"$D/metrics"
t_ok "/metrics counts one delivery" grep -q \
    '^helios_webhook_deliveries_total{webhook="1"} 1$' "$D/metrics"
t_ok "and two failed tries" grep -q \
    '^helios_webhook_failures_total{webhook="1"} 2$' "$D/metrics"
t_ok "and the version delivered" grep -q \
    '^helios_webhook_delivered_version{webhook="1"} 1$' "$D/metrics"
t_ok "v1's publish purged the list it changed and the manifest" sh -c "
    grep -qx '/purge?p=lists/watch-keyword.txt&v=1' '$D/purges.log' &&
    grep -qx '/purge?p=manifest.json&v=1' '$D/purges.log'"
t_ok "and not the lists it did not change" sh -c \
    "! grep -q 'p=lists/blacklist-cidr.yml&v=1' '$D/purges.log'"
t_ok "/metrics counts the purges" grep -q \
    "^helios_purge_requests_total{target=\"dir:$D/public\",kind=\"dir\"} [1-9][0-9]*\$" \
    "$D/metrics"

# --- coalescing ----------------------------------------------------------
# The receiver holds the next notice (v2) while v3 and v4 are published
# one after the other: after v2, only v4 is sent, naming the lists
# changed in v3 and v4.
echo "hold $D/release" >"$D/ctl"
t_is "a second write is accepted" "$(add 'hook2\\.example' watch-keyword)" 201
t_ok "and published" wait_for target_at 2
t_ok "the receiver is busy with it" wait_for sh -c "! test -s '$D/ctl'"
t_is "a third write is accepted" \
    "$(add 'hook3\\.example' blacklist-keyword)" 201
t_ok "and published" wait_for target_at 3
t_is "a fourth write is accepted" \
    "$(add 'hook4\\.example' blacklist-website)" 201
t_ok "and published" wait_for target_at 4
touch "$D/release"
t_ok "the receiver gets two more notices" wait_for lines 5
sleep 1
t_ok "v2, then v4 alone, with the lists changed since v2" $PY -c '
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
assert len(v) == 5, [x["body"]["version"] for x in v]
a, b = v[3]["body"], v[4]["body"]
assert (a["version"], b["version"]) == (2, 4), (a, b)
assert b["previous_version"] == 2, b
assert sorted(b["lists_changed"]) == ["blacklist-keyword",
    "blacklist-website"], b
assert v[3]["delivery"] != v[4]["delivery"], v
assert all(x["good"] and x["code"] == 200 for x in v[3:]), v' "$D/recv.log"
hl_daemon_stop
t_ok "the daemon stops cleanly" test $? = 0
t_ok "the secret is not in the daemon's log" sh -c \
    "! grep -q '$SECRET' '$D/daemon.log'"
t_ok "the log names the deliveries" grep -q 'webhook 1: v4 delivered' \
    "$D/daemon.log"

# --- a bad config --------------------------------------------------------
printf 'webhook = http://127.0.0.1:1/\nwebhook_secret = %s\n' "$SECRET" \
    >"$D/bad.conf"
"$HELIOS" check-config "$D/bad.conf" >"$D/bad.out" 2>&1
t_is "a secret written in the config is refused" "$?" 1
t_ok "without echoing it" sh -c "grep -q 'file:PATH or env:NAME' \
    '$D/bad.out' && ! grep -q '$SECRET' '$D/bad.out'"
printf 'webhook = http://127.0.0.1:1/\n' >"$D/bad2.conf"
"$HELIOS" check-config "$D/bad2.conf" >"$D/bad2.out" 2>&1
t_is "a webhook without a secret is refused" "$?" 1
t_ok "with the reason" grep -q 'webhook: needs a webhook_secret' \
    "$D/bad2.out"
printf 'public_url = s3://nowhere/x https://cdn.example.org/\n' \
    >"$D/bad3.conf"
printf 'purge = public GET ftp://cdn.example.org/{path}\n' >"$D/bad4.conf"
printf 'public_url = public\n' >"$D/bad5.conf"
for i in 3 4 5; do
	"$HELIOS" check-config "$D/bad$i.conf" >"$D/bad$i.out" 2>&1
	echo "$?" >>"$D/codes"
done
t_is "check-config refuses a public_url or purge that is wrong" \
    "$(tr '\n' ' ' <"$D/codes")" "1 1 1 "
t_ok "and names the problem" sh -c "
    grep -q 'no target \"s3://nowhere/x\"' '$D/bad3.out' &&
    grep -q 'purge: want TARGET, a method' '$D/bad4.out' &&
    grep -q 'bad5.conf:1: public_url: want TARGET URL' '$D/bad5.out'"
t_done
