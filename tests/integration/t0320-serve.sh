#!/bin/sh
# t0320: the daemon publishes on every change and serves the tree like a
# CDN.  A POST becomes visible over HTTP within a bounded wait; the
# manifest and every file it names answer with the manifest's ETags,
# conditional GETs (If-None-Match strong, weak, lists and *;
# If-Modified-Since), HEAD, Vary, gzip only when accepted, and
# Cache-Control by class; nginx serving the same directory sends the same
# bodies; a reader polling the manifest while 1,000 writes arrive never
# sees a manifest that names a missing or wrong file, nor a version going
# backwards, and the manifests chain by their "previous" hashes; SIGTERM
# ends the daemon with status 0.
. tests/lib.sh

T=$(hl_tmp)
PUB=$T/public
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
NG_PID=""
stop_nginx() {
	[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID"
	NG_PID=""
}
trap 'stop_nginx; hl_cleanup' EXIT

cat >"$T/serve.py" <<'EOF'
# Checks of the daemon's HTTP serving, one per subcommand; prints what is
# wrong and exits 1.
import gzip, hashlib, http.client, json, os, sys, threading, time
from email.utils import formatdate
from urllib.parse import urlsplit

def conn(url):
    u = urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)

def get(c, path, method="GET", headers=None):
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body

def sha(b):
    return hashlib.sha256(b).hexdigest()

def md5etag(b):
    return '"%s"' % hashlib.md5(b).hexdigest()

bad = 0
def fail(msg):
    global bad
    bad = 1
    print(msg)

def manifest(c):
    s, h, b = get(c, "/manifest.json")
    if s != 200:
        raise SystemExit("manifest.json: status %d" % s)
    return json.loads(b), b, h

def refs(m):
    for f in m["files"]:
        yield f, f["gz"]

# version URL WANT TIMEOUT: waits until the manifest's version >= WANT
def cmd_wait(url, want, timeout):
    c = conn(url)
    t0 = time.monotonic()
    while time.monotonic() - t0 < float(timeout):
        try:
            s, h, b = get(c, "/manifest.json")
            if s == 200 and json.loads(b)["version"] >= int(want):
                print("# visible after %.1f ms" %
                      ((time.monotonic() - t0) * 1000))
                return
        except (OSError, ValueError, http.client.HTTPException):
            c = conn(url)
        time.sleep(0.002)
    fail("version %s not visible within %s s" % (want, timeout))

# Sequential POSTs, each followed by a poll until its version shows.
def cmd_latency(url, token, n):
    c, lat = conn(url), []
    for i in range(int(n)):
        body = json.dumps({"pattern": "t0320-lat-%d\\.example" % i})
        t0 = time.monotonic()
        s, h, b = post(c, "/blacklists/blacklist-website", token, body)
        if s != 201:
            fail("POST: %d %s" % (s, b[:200]))
            return
        v = json.loads(b)["version"]
        t1 = time.monotonic()
        while True:
            s, h, mb = get(c, "/manifest.json")
            if json.loads(mb)["version"] >= v:
                break
            if time.monotonic() - t1 > 5:
                fail("version %d not visible within 5 s" % v)
                return
            time.sleep(0.001)
        lat.append((time.monotonic() - t1) * 1000)
    lat.sort()
    print("# write-to-visible over HTTP: p50 %.1f ms, max %.1f ms" %
          (lat[len(lat) // 2], lat[-1]))

def post(c, path, token, body):
    c.request("POST", path, body=body.encode(),
              headers={"Authorization": token,
                       "Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read()

# The ETag of every file the manifest names is the manifest's, for the
# identity and the gzip encodings, and the bodies have its hashes.
def cmd_etags(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    if mh.get("etag") != md5etag(mb):
        fail("manifest.json: ETag %s, MD5 %s" % (mh.get("etag"), md5etag(mb)))
    for f, g in refs(m):
        s, h, b = get(c, "/" + f["path"])
        if s != 200 or h.get("etag") != f["etag"] or sha(b) != f["sha256"] \
           or len(b) != f["bytes"] or "content-encoding" in h:
            fail("%s: %d, ETag %s, manifest %s" %
                 (f["path"], s, h.get("etag"), f["etag"]))
        s, h, b = get(c, "/" + f["path"], headers={"Accept-Encoding": "gzip"})
        if s != 200 or h.get("etag") != g["etag"] or sha(b) != g["sha256"] \
           or h.get("content-encoding") != "gzip":
            fail("%s gzip: %d, ETag %s, manifest %s, encoding %s" %
                 (f["path"], s, h.get("etag"), g["etag"],
                  h.get("content-encoding")))
        if gzip.decompress(b) != get(c, "/" + f["path"])[2]:
            fail("%s: the gzip body is not the identity body" % f["path"])
        s, h, b = get(c, "/" + f["object"])
        if s != 200 or sha(b) != f["sha256"]:
            fail("%s: %d or wrong bytes" % (f["object"], s))

# Each file is served with the Content-Type the manifest gives it, the
# one every target uses.
def cmd_ctype(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    for f in m["files"]:
        for ae in ({}, {"Accept-Encoding": "gzip"}):
            s, h, b = get(c, "/" + f["path"], headers=ae)
            if h.get("content-type") != f["content_type"]:
                fail("%s: Content-Type %s, manifest %s" %
                     (f["path"], h.get("content-type"), f["content_type"]))

def check_304(c, path, hdrs, what):
    s, h, b = get(c, path, headers=hdrs)
    if s != 304 or b:
        fail("%s %s: %d with %d bytes, want 304 and no body" %
             (path, what, s, len(b)))
    return h

def check_200(c, path, hdrs, what):
    s, h, b = get(c, path, headers=hdrs)
    if s != 200 or not b:
        fail("%s %s: %d, want 200 with the body" % (path, what, s))

# Conditional GETs on the manifest and on a list, both encodings.
def cmd_conditional(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    # two lists that are not empty: the 200s must carry a body
    paths = ["/manifest.json"] + ["/" + f["path"] for f in m["files"]
                                  if f["path"].startswith("lists/")
                                  and f["bytes"] > 0][:2]
    for p in paths:
        for ae in ({}, {"Accept-Encoding": "gzip"}):
            s, h, b = get(c, p, headers=ae)
            e, lm = h.get("etag"), h.get("last-modified")
            if not e or not lm:
                fail("%s: no ETag or Last-Modified" % p)
                continue
            w = " (gzip)" if ae else ""
            check_304(c, p, dict(ae, **{"If-None-Match": e}), "strong" + w)
            check_304(c, p, dict(ae, **{"If-None-Match": "W/" + e}),
                      "weak" + w)
            check_304(c, p, dict(ae, **{"If-None-Match":
                      '"0123", W/"abc", ' + e}), "in a list" + w)
            check_304(c, p, dict(ae, **{"If-None-Match": "*"}), "*" + w)
            check_200(c, p, dict(ae, **{"If-None-Match": '"0123"'}),
                      "another ETag" + w)
            h3 = check_304(c, p, dict(ae, **{"If-Modified-Since": lm}),
                           "If-Modified-Since" + w)
            if h3.get("etag") != e:
                fail("%s: a 304 without the ETag%s" % (p, w))
            check_200(c, p, dict(ae, **{"If-Modified-Since":
                      "Sat, 01 Jan 2000 00:00:00 GMT"}), "modified since 2000")
            # If-None-Match wins over If-Modified-Since
            check_200(c, p, dict(ae, **{"If-None-Match": '"0123"',
                      "If-Modified-Since": lm}), "INM over IMS" + w)

# HEAD: the headers of GET, no body.
def cmd_head(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    for p in ["/manifest.json", "/" + m["files"][0]["path"],
              "/" + m["files"][0]["object"]]:
        for ae in ({}, {"Accept-Encoding": "gzip"}):
            s1, h1, b1 = get(c, p, headers=ae)
            s2, h2, b2 = get(c, p, "HEAD", ae)
            if s2 != 200 or b2:
                fail("HEAD %s: %d with %d bytes" % (p, s2, len(b2)))
            for k in ("etag", "content-type", "content-length",
                      "cache-control", "content-encoding", "vary",
                      "last-modified"):
                if h1.get(k) != h2.get(k):
                    fail("HEAD %s: %s %s, GET %s" % (p, k, h2.get(k),
                                                     h1.get(k)))

# gzip only when accepted; Vary always where a .gz exists.
def cmd_encoding(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    p = "/" + m["files"][0]["path"]
    cases = [({}, None), ({"Accept-Encoding": "gzip"}, "gzip"),
             ({"Accept-Encoding": "gzip, deflate, br"}, "gzip"),
             ({"Accept-Encoding": "identity"}, None),
             ({"Accept-Encoding": "br"}, None),
             ({"Accept-Encoding": "gzip;q=0"}, None),
             ({"Accept-Encoding": "gzip;q=0.5, identity"}, "gzip"),
             ({"Accept-Encoding": "*"}, "gzip")]
    for hdrs, want in cases:
        s, h, b = get(c, p, headers=hdrs)
        if h.get("content-encoding") != want:
            fail("%s with %s: Content-Encoding %s, want %s" %
                 (p, hdrs, h.get("content-encoding"), want))
        if "accept-encoding" not in h.get("vary", "").lower():
            fail("%s with %s: no Vary: Accept-Encoding" % (p, hdrs))
    for f, g in refs(m):
        for q in (f["path"], f["object"]):
            s, h, b = get(c, "/" + q)
            if "accept-encoding" not in h.get("vary", "").lower():
                fail("/%s: no Vary: Accept-Encoding" % q)

# Cache-Control by class.
def cmd_cache(url):
    c = conn(url)
    m, mb, mh = manifest(c)
    want = [("/manifest.json", "no-cache")]
    for f in m["files"]:
        want.append(("/" + f["path"], "public, max-age=60"))
        want.append(("/" + f["object"], "public, max-age=31536000, immutable"))
    s, h, b = get(c, "/changes.json")
    for seg in json.loads(b)["segments"][:3]:
        want.append(("/" + seg["path"], "public, max-age=31536000, immutable"))
    for p, cc in want:
        s, h, b = get(c, p)
        if s != 200 or h.get("cache-control") != cc:
            fail("%s: %d, Cache-Control %s, want %s" %
                 (p, s, h.get("cache-control"), cc))
        if p.endswith((".json", ".txt", ".yml", ".html")) and \
           "charset=utf-8" not in h.get("content-type", ""):
            fail("%s: Content-Type %s" % (p, h.get("content-type")))

# No path leaves the directory.
def cmd_escape(url):
    c = conn(url)
    for p in ("/../../../../etc/passwd", "/lists/../../db.sqlite",
              "/%2e%2e/db.sqlite", "/lists/%2e%2e/%2e%2e/admin.token",
              "/..%2fdb.sqlite", "//etc/passwd", "/lists/.%2e/manifest.json"):
        try:
            s, h, b = get(c, p)
        except (OSError, http.client.HTTPException):
            c = conn(url)
            continue
        if s == 200 or b"root:" in b or b"SQLite format" in b:
            fail("%s: %d, %d bytes" % (p, s, len(b)))

# nginx (gzip_static) sends the same bodies as the daemon.
def cmd_nginx(url, ng):
    a, b_ = conn(url), conn(ng)
    m, mb, mh = manifest(a)
    paths = ["/manifest.json", "/changes.json"]
    for f, g in refs(m):
        paths += ["/" + f["path"], "/" + f["object"]]
    for p in paths:
        for ae in ({}, {"Accept-Encoding": "gzip"}):
            s1, h1, x = get(a, p, headers=ae)
            s2, h2, y = get(b_, p, headers=ae)
            if s1 != 200 or s2 != 200 or x != y:
                fail("%s %s: daemon %d (%d bytes), nginx %d (%d bytes)" %
                     (p, ae, s1, len(x), s2, len(y)))
            if h1.get("content-encoding") != h2.get("content-encoding"):
                fail("%s %s: Content-Encoding %s, nginx %s" %
                     (p, ae, h1.get("content-encoding"),
                      h2.get("content-encoding")))

# A reader polls the manifest while N writes arrive from several clients.
def cmd_storm(url, token, n, out):
    n = int(n)
    lists = ["watch-keyword", "blacklist-keyword", "blacklist-username",
             "watch-number"]
    state = {"done": False, "maxv": 0, "errors": 0}
    lock = threading.Lock()

    def writer(k, nw):
        c = conn(url)
        for i in range(k, n, nw):
            li = lists[i % len(lists)]
            v = ("t0320-%d\\.example" % i) if li != "watch-number" \
                else "+1-555-%07d" % i
            body = json.dumps({"pattern": v})
            for attempt in range(3):
                try:
                    s, h, b = post(c, "/blacklists/" + li, token, body)
                    break
                except (OSError, http.client.HTTPException):
                    c = conn(url)
            else:
                s, b = 0, b""
            with lock:
                if s != 201:
                    state["errors"] += 1
                    if state["errors"] < 5:
                        print("POST %s %s: %d %s" % (li, v, s, b[:200]))
                else:
                    state["maxv"] = max(state["maxv"],
                                        json.loads(b)["version"])

    seen = {}          # sha256 of a manifest -> its order of reading
    checked = set()    # object paths verified
    reads = []         # (version, sha, previous)
    problems = []
    seg_problems = []  # change segments, reported apart

    def reader():
        c = conn(url)
        last_etag = None
        while True:
            finished = state["done"]
            try:
                hdr = {"If-None-Match": last_etag} if last_etag else {}
                s, h, b = get(c, "/manifest.json", headers=hdr)
                if s == 304:
                    if finished:
                        return
                    time.sleep(0.003)
                    continue
                m = json.loads(b)
                last_etag = h.get("etag")
                ms = sha(b)
                if ms not in seen:
                    seen[ms] = len(reads)
                    reads.append((m["version"], ms, m["previous"]))
                for f, g in refs(m):
                    for r in (f, g):
                        if r["object"] in checked:
                            continue
                        s2, h2, ob = get(c, "/" + r["object"])
                        if s2 != 200 or sha(ob) != r["sha256"] or \
                           len(ob) != r["bytes"]:
                            problems.append("v%d names %s: %d, %s" %
                                (m["version"], r["object"], s2, sha(ob)))
                        else:
                            checked.add(r["object"])
                for f in m["files"]:
                    if f["path"] != "changes.json":
                        continue
                    s2, h2, cb = get(c, "/" + f["object"])
                    for seg in json.loads(cb)["segments"]:
                        if seg["path"] in checked:
                            continue
                        s3, h3, sb = get(c, "/" + seg["path"])
                        if s3 != 200 or sha(sb) != seg["sha256"]:
                            seg_problems.append("v%d names %s: %d" %
                                (m["version"], seg["path"], s3))
                        else:
                            checked.add(seg["path"])
                if m["expires_at"] <= time.time():
                    problems.append("v%d has expired" % m["version"])
            except (OSError, ValueError, http.client.HTTPException) as e:
                problems.append("read: %r" % e)
                c = conn(url)
            if finished:
                return

    t0 = time.monotonic()
    rt = threading.Thread(target=reader)
    rt.start()
    ws = [threading.Thread(target=writer, args=(k, 8)) for k in range(8)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    tw = time.monotonic() - t0
    # Until the last write is published (bounded), then one more read.
    c = conn(url)
    while time.monotonic() - t0 < 40:
        if json.loads(get(c, "/manifest.json")[2])["version"] >= \
           state["maxv"]:
            break
        time.sleep(0.01)
    state["done"] = True
    rt.join()
    print("# %d writes in %.1f s; %d manifests read, %d files checked" %
          (n, tw, len(reads), len(checked)))
    for p in problems[:10]:
        fail(p)
    if state["errors"]:
        fail("%d writes failed" % state["errors"])
    if len(reads) < 3:
        fail("the reader saw only %d manifests" % len(reads))
    if reads and reads[-1][0] < state["maxv"]:
        fail("the last manifest read is v%d, the last write v%d" %
             (reads[-1][0], state["maxv"]))
    json.dump({"reads": reads, "maxv": state["maxv"],
               "seg_problems": seg_problems}, open(out, "w"))

# Every change segment that changes.json named was served with its hash.
def cmd_segments(out):
    p = json.load(open(out))["seg_problems"]
    for x in p[:10]:
        fail(x)
    if len(p) > 10:
        fail("... %d in all" % len(p))

# Versions never go backwards.
def cmd_monotonic(out):
    reads = json.load(open(out))["reads"]
    for a, b in zip(reads, reads[1:]):
        if b[0] < a[0]:
            fail("v%d read after v%d" % (b[0], a[0]))

# Each manifest's previous is the SHA-256 of the one before it.  Among
# the manifests the storm's reader saw, none names one read earlier than
# the one read just before; then, with writes spaced so that each is
# published alone, each manifest names exactly the one read before it.
def cmd_chain(out, url, token, n):
    reads = json.load(open(out))["reads"]
    order = {r[1]: i for i, r in enumerate(reads)}
    for i, (v, s, prev) in enumerate(reads):
        if i > 0 and prev is None:
            fail("v%d has no previous" % v)
        elif prev in order and order[prev] != i - 1:
            fail("v%d names as previous the manifest read %d reads before" %
                 (v, i - order[prev]))
    c = conn(url)
    m, last, h = manifest(c)
    for i in range(int(n)):
        body = json.dumps({"pattern": "t0320-chain-%d\\.example" % i})
        st, h, b = post(c, "/blacklists/blacklist-username", token, body)
        if st != 201:
            fail("POST: %d" % st)
            return
        v = json.loads(b)["version"]
        t0 = time.monotonic()
        while True:
            m, mb, h = manifest(c)
            if m["version"] >= v:
                break
            if time.monotonic() - t0 > 5:
                fail("v%d not published within 5 s" % v)
                return
            time.sleep(0.002)
        if m["version"] != v:
            fail("v%d published as v%d" % (v, m["version"]))
        if m["previous"] != sha(last):
            fail("v%d: previous %s, the manifest before is %s" %
                 (v, m["previous"], sha(last)))
        last = mb

cmds = {k[4:]: v for k, v in globals().items() if k.startswith("cmd_")}
cmds[sys.argv[1]](*sys.argv[2:])
sys.exit(bad)
EOF
check() { $PY "$T/serve.py" "$@"; }

# --- the daemon ---------------------------------------------------------
hl_daemon_start "$T" || { echo "not ok 1 - the daemon starts"; exit 1; }
t_ok "the daemon starts and publishes a first tree" \
    check wait "$HL_URL" 0 10
post() {	# LIST JSON: the version the POST made
	curl -s -X POST -H "Authorization: $HL_ADMIN" \
	    -H 'Content-Type: application/json' --data "$2" \
	    "$HL_URL/blacklists/$1" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])'
}
V=$(post watch-keyword '{"pattern":"t0320-first\\.example"}')
t_ok "a POST answers with a version" test "${V:-0}" -gt 0
t_ok "after a POST the new version is readable over HTTP within 5 s" \
    check wait "$HL_URL" "${V:-1}" 5
t_ok "the new pattern is in the published list" \
    sh -c "curl -s '$HL_URL/lists/watch-keyword.txt' |
        grep -q 't0320-first'"
t_ok "twenty writes in a row are each visible within 5 s" \
    check latency "$HL_URL" "$HL_ADMIN" 20

# --- serving ------------------------------------------------------------
t_ok "every file answers with the manifest's ETag and hashes, identity and gzip" \
    check etags "$HL_URL"
t_ok "every file is served with the Content-Type the manifest gives" \
    check ctype "$HL_URL"
t_ok "If-None-Match (strong, weak, list, *) and If-Modified-Since give 304 with no body" \
    check conditional "$HL_URL"
t_ok "HEAD gives the headers of GET and no body" check head "$HL_URL"
t_ok "gzip is sent only when accepted, with Vary: Accept-Encoding" \
    check encoding "$HL_URL"
t_ok "Cache-Control: manifest no-cache, lists a minute, objects immutable" \
    check cache "$HL_URL"
t_ok "no path leaves the published directory" check escape "$HL_URL"

# --- nginx on the same directory ----------------------------------------
NG_PORT=$(hl_port)
hl_nginx_start "$T/nginx" "
	access_log off;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $PUB;
		gzip_static on;
	}"
t_ok "nginx starts on a free port" hl_wait_http "http://127.0.0.1:$NG_PORT/"
t_ok "nginx sends the same bodies as the daemon, identity and gzip" \
    check nginx "$HL_URL" "http://127.0.0.1:$NG_PORT"
stop_nginx

# --- 1,000 writes under a reader ----------------------------------------
t_ok "a reader polling the manifest during 1,000 writes finds every file it names" \
    check storm "$HL_URL" "$HL_ADMIN" 1000 "$T/reads.json"
t_ok "every change segment changes.json named was served with its hash" \
    check segments "$T/reads.json"
t_ok "the versions the reader saw never go backwards" \
    check monotonic "$T/reads.json"
t_ok "each manifest names the one before it as previous" \
    check chain "$T/reads.json" "$HL_URL" "$HL_ADMIN" 5
expires=$(curl -s "$HL_URL/manifest.json" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["expires_at"])')
t_ok "the manifest expires in the future" test "${expires:-0}" -gt "$(date +%s)"
want=$(curl -s "$HL_URL/manifest.json" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
t_is "/healthz shows the published version" \
    "$(curl -s "$HL_URL/healthz" | $PY -c \
    'import json,sys; print(json.load(sys.stdin)["targets"][0]["version"])')" \
    "$want"
t_is "the published list holds every write" \
    "$(curl -s "$HL_URL/lists/watch-keyword.txt" | grep -c 't0320-[0-9]')" \
    250

hl_daemon_stop
t_is "SIGTERM ends the daemon with status 0" "$?" 0
t_done
