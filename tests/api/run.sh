#!/bin/sh
# Data-driven API tests (after curl's tests/data/testNNNN).  Starts one
# `helios serve` on a free loopback port with a temporary database, then
# plays each tests/api/NNNN-<slug>.t in order and prints one TAP line per
# file: "ok N - <the file's first comment line>", then one for the daemon's
# clean exit; the plan "1..N" comes first.
#
#   sh tests/api/run.sh [PATTERN]     only the .t files whose name has PATTERN
#
# Format of a .t file: lines "KEYWORD  argument"; '#' lines are comments
# (the first one is the test's name).  A file holds one or more requests;
# each starts with REQUEST, and the lines after it apply to it.
#
#   REQUEST  METHOD /path?query      sent as is (curl --path-as-is)
#   AUTH     VALUE                   Authorization: VALUE ($ADMIN expands)
#   HEADER   Name: value             an extra request header; "Name:" alone
#                                    removes a header curl would send
#   BODY     text                    the body, verbatim after expansion;
#                                    Content-Type: application/json unless
#                                    a HEADER sets one
#   BODYHEX  7b22...                 the body as hex bytes (bad UTF-8)
#   BODYFILL N                       {"pattern":"aaa..."} of N bytes
#   STATUS   code                    the expected status
#   EXPECT   json                    the expected body, compared as JSON:
#                                    "$INT" any integer, "$STR" any string,
#                                    "$TOKEN" 64 hex digits, "$ANY" anything,
#                                    "$NAME" a saved value; an object with
#                                    "...": true may have more keys
#   HAS      Name: value             a response header (name any case)
#   SAVE     NAME path.0.key         keeps a value of the response as $NAME
#   IS       path.0.key VALUE        that value of the response is VALUE
#                                    (after expansion: IS items.0.id $ID)
#   LACKS    text                    the body does not hold text (a secret)
#   MATCHES  regex                   a line of the body matches (Python re,
#                                    multi-line: ^ and $ at each line)
#   LINES    regex                   every non-empty line of the body
#                                    matches, whole
#   UNCHANGED                        the store's version is the same as at
#                                    the start of the file
#   SLEEP    seconds                 waits before the next request
#
# The daemon runs with review_lists = blacklist-website and the ham corpus
# tests/api/ham.txt.
#
# Variables: $ADMIN (the first admin token), $WRITER (a write-scope token
# made at start), $NONE (a well-formed token that does not exist).
. tests/lib.sh

PAT=${1:-}
nt=0
for f in tests/api/[0-9][0-9][0-9][0-9]-*.t; do
	case "$(basename "$f")" in *"$PAT"*) nt=$((nt + 1)) ;; esac
done
echo "1..$((nt + 1))"
dir=$(hl_tmp)
# blacklist-website is under review; the others are direct.
printf 'review_lists = blacklist-website\nham_corpus = %s/tests/api/ham.txt\n' \
    "$PWD" >"$dir/helios.conf"
hl_daemon_start "$dir" --config "$dir/helios.conf" || { echo "not ok 1 - the daemon starts"; exit 1; }
export HL_URL HL_ADMIN HL_DIR
python3 - "$PAT" tests/api/[0-9][0-9][0-9][0-9]-*.t <<'EOF'
import json, os, re, subprocess, sys, time

URL = os.environ["HL_URL"]
V = {"ADMIN": os.environ["HL_ADMIN"], "NONE": "0" * 64}

def curl(method, path, headers, body):
    args = ["curl", "-s", "-S", "--path-as-is", "-X", method, "-D", "-",
            "-o", "-", "--max-time", "10"]
    if method == "HEAD":
        args = ["curl", "-s", "-S", "--path-as-is", "-I", "--max-time", "10"]
    for h in headers:
        args += ["-H", h]
    if body is not None:
        args += ["--data-binary", "@-"]
    args.append(URL + path)
    p = subprocess.run(args, input=body, capture_output=True)
    raw = p.stdout
    head, _, rest = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, rest = rest.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest

def expand(s):
    return re.sub(r"\$([A-Z][A-Z0-9_]*)",
                  lambda m: V.get(m.group(1), m.group(0)), s)

def match(want, got, where="$"):
    if isinstance(want, str) and want.startswith("$"):
        if want == "$ANY":
            return None
        if want == "$INT":
            return None if type(got) is int else f"{where}: want an integer, got {got!r}"
        if want == "$STR":
            return None if isinstance(got, str) else f"{where}: want a string, got {got!r}"
        if want == "$TOKEN":
            return None if isinstance(got, str) and re.fullmatch("[0-9a-f]{64}", got) else f"{where}: want a token, got {got!r}"
        name = want[1:]
        if name in V:
            return None if str(got) == V[name] else f"{where}: want {V[name]!r}, got {got!r}"
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{where}: want an object, got {got!r}"
        loose = want.get("...") is True
        for k, w in want.items():
            if k == "...":
                continue
            if k not in got:
                return f"{where}: missing key {k!r}"
            e = match(w, got[k], f"{where}.{k}")
            if e:
                return e
        if not loose:
            extra = set(got) - set(want)
            if extra:
                return f"{where}: unexpected keys {sorted(extra)}"
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{where}: want {len(want)} elements, got {got!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            e = match(w, g, f"{where}[{i}]")
            if e:
                return e
        return None
    if want != got or type(want) is not type(got):
        return f"{where}: want {want!r}, got {got!r}"
    return None

def dig(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj

def version():
    s, _, b = curl("GET", "/healthz", [], None)
    return json.loads(b)["version"]

# A write-scope token for the tests.
s, _, b = curl("POST", "/auth/create", ["Authorization: " + V["ADMIN"],
               "Content-Type: application/json"],
               b'{"name":"api-tests","scopes":"write"}')
V["WRITER"] = json.loads(b)["items"][0]["token"] if s == 201 else "x"

def run(path):
    errs = []
    name = None
    reqs = []
    unchanged = False
    for ln in open(path, encoding="utf-8"):
        ln = ln.rstrip("\n")
        if ln.startswith("#"):
            if name is None:
                name = re.sub(r"^#\s*(\d+\s+)?", "", ln).strip()
            continue
        if not ln.strip():
            continue
        kw, _, arg = ln.partition(" ")
        arg = arg.strip()
        if kw == "UNCHANGED":
            unchanged = True
        elif kw == "REQUEST":
            m, _, p = arg.partition(" ")
            reqs.append({"method": m, "path": p.strip(), "headers": [],
                         "body": None, "checks": []})
        elif kw == "SLEEP":
            reqs.append({"sleep": float(arg)})
        elif not reqs:
            errs.append(f"{kw} before REQUEST")
        elif kw == "AUTH":
            reqs[-1]["headers"].append("Authorization: " + arg)
        elif kw == "HEADER":
            reqs[-1]["headers"].append(arg)
        elif kw == "BODY":
            reqs[-1]["body"] = arg
        elif kw == "BODYHEX":
            reqs[-1]["body"] = bytes.fromhex(arg)
        elif kw == "BODYFILL":
            n = int(arg)
            reqs[-1]["body"] = b'{"pattern":"' + b"a" * (n - 14) + b'"}'
        elif kw in ("STATUS", "EXPECT", "HAS", "SAVE", "IS", "LACKS",
                    "MATCHES", "LINES"):
            reqs[-1]["checks"].append((kw, arg))
        else:
            errs.append(f"unknown keyword {kw}")
    v0 = version() if unchanged else None
    for i, r in enumerate(reqs, 1):
        if "sleep" in r:
            time.sleep(r["sleep"])
            continue
        hdrs = [expand(h) for h in r["headers"]]
        body = r["body"]
        if isinstance(body, str):
            body = expand(body).encode("utf-8")
        if body is not None and not any(h.lower().startswith("content-type:") for h in hdrs):
            hdrs.append("Content-Type: application/json")
        status, rh, rb = curl(r["method"], expand(r["path"]), hdrs, body)
        try:
            j = json.loads(rb) if rb else None
        except ValueError:
            j = None
        for kw, arg in r["checks"]:
            if kw == "STATUS" and status != int(arg):
                errs.append(f"request {i}: status {status}, want {arg}: {rb[:300]!r}")
            elif kw == "EXPECT":
                e = match(json.loads(arg), j) if j is not None else "body is not JSON: %r" % rb[:200]
                if e:
                    errs.append(f"request {i}: {e}")
            elif kw == "HAS":
                k, _, v = arg.partition(":")
                if rh.get(k.strip().lower()) != v.strip():
                    errs.append(f"request {i}: header {k}: {rh.get(k.strip().lower())!r}, want {v.strip()!r}")
            elif kw == "IS":
                p, _, want = arg.partition(" ")
                want = expand(want.strip())
                try:
                    got = dig(j, p)
                except Exception:
                    errs.append(f"request {i}: no {p} in the response")
                    continue
                if str(got) != want:
                    errs.append(f"request {i}: {p} is {got!r}, want {want!r}")
            elif kw in ("LACKS", "MATCHES", "LINES"):
                text = rb.decode("utf-8", "replace")
                want = expand(arg)
                if kw == "LACKS" and want in text:
                    errs.append(f"request {i}: the body holds {want[:20]!r}...")
                elif kw == "MATCHES" and not re.search(want, text, re.M):
                    errs.append(f"request {i}: no line matches {want!r}")
                elif kw == "LINES":
                    bad = [l for l in text.split("\n")
                           if l and not re.fullmatch(want, l)]
                    if bad or not text:
                        errs.append(f"request {i}: line {bad[:1]!r} does not match {want!r}")
            elif kw == "SAVE":
                n, _, p = arg.partition(" ")
                try:
                    V[n] = str(dig(j, p.strip()))
                except Exception:
                    errs.append(f"request {i}: cannot SAVE {p}")
    if unchanged and version() != v0:
        errs.append(f"the version moved from {v0} to {version()}")
    return name or os.path.basename(path), errs

pat = sys.argv[1]
n = fails = 0
for path in sys.argv[2:]:
    if pat and pat not in os.path.basename(path):
        continue
    n += 1
    name, errs = run(path)
    if errs:
        fails += 1
        print(f"not ok {n} - {name}")
        for e in errs[:5]:
            print("#   " + e)
    else:
        print(f"ok {n} - {name}")
sys.exit(1 if fails else 0)
EOF
rc=$?
if hl_daemon_stop; then
	echo "ok $((nt + 1)) - the daemon exits cleanly on SIGTERM"
else
	echo "not ok $((nt + 1)) - the daemon exits cleanly on SIGTERM"
	rc=1
fi
exit $rc
