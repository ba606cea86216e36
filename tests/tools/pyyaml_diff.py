"""pyyaml_diff: Helios's yaml lists against PyYAML, the library
SmokeDetector reads and writes them with (tests/integration/t0232).

  pyyaml_diff.py post URL TOKEN SEED N   adds N items with tricky comments
                                         to watch-ns, blacklist-cidr and
                                         watch-asn; prints what it added
                                         as JSON
  pyyaml_diff.py check ADDED DIR         compares DIR's exported files with
                                         that JSON: yaml.safe_load must give
                                         the items back, and yaml.dump of
                                         them must give the file's bytes
  pyyaml_diff.py files DIR PUB           for each yaml list file in DIR,
                                         what yaml.safe_load reads in it
                                         against lists/<id>.json in PUB
                                         (the import's reading): values,
                                         comments, disable and pass as
                                         SmokeDetector tests them

  pyyaml_diff.py mutants SAMPLES OUT SEED N
                                         writes N variants of the sample
                                         yaml files (a tab, a tag, a quote
                                         or a '#' put in), OUT/<k>/<file>
  pyyaml_diff.py accepted DIR PUB        a file Helios imported must load
                                         in PyYAML, to what Helios holds

check, files and accepted print one line per mismatch (the first few)
and exit 1 when there is any.
"""
import json
import os
import random
import sys
import urllib.error
import urllib.request

import yaml

LISTS = {
    # list id: (file, key, value of item i)
    "watch-ns": ("watched_nses.yml", "ns", lambda i: "ns%d.example.com." % i),
    "blacklist-ns": ("blacklisted_nses.yml", "ns", None),
    "watch-cidr": ("watched_cidrs.yml", "ip", None),
    "blacklist-cidr": ("blacklisted_cidrs.yml", "ip",
                       lambda i: "198.51.%d.%d" % (i // 250, i % 250 + 1)),
    "watch-asn": ("watched_asns.yml", "asn", lambda i: str(200000 + i)),
}
SCHEMA = {"watch-ns": "yaml_ns", "blacklist-cidr": "yaml_cidr",
          "watch-asn": "yaml_asn"}

# Pieces a comment is made of: what PyYAML's emitter and resolver treat
# specially (indicators, words it resolves to bools, nulls, numbers and
# dates, quotes, escapes, non-ASCII, white space at the ends, line breaks).
PIECES = [
    "spam", "FP", "by", "tripleee", "see", "https://example.com/a?b=c#d",
    " ", "  ", ":", ": ", "#", " #", "-", "- ", "?", "? ", "!", "&", "*",
    "|", ">", "'", '"', "\\", "%", "@", "`", ",", "[", "]", "{", "}", "=",
    "<<", "~", "yes", "No", "on", "OFF", "null", "NULL", "true", "1.5",
    "0x1f", "0o17", "1_000", "-3", "+4", "2020-01-01", ".inf", "-.nan",
    "é", "ü", "中文", "\u00a0", "\u2019", "😀", "\n", "\n\n", "...", "---",
]


def comment(rng):
    n = rng.choice([1, 1, 2, 3, 5, 8, 20, 40])
    s = "".join(rng.choice(PIECES) for _ in range(n))
    return s if s.strip() != "" else s + "x"


def post(url, token, seed, n):
    rng = random.Random(seed)
    added = {lid: [] for lid in LISTS if LISTS[lid][2] is not None}
    refused = []
    for i in range(n):
        for lid, (_, key, value) in LISTS.items():
            if value is None:
                continue
            item = {key: value(i)}
            body = dict(item)
            if key == "asn":
                body[key] = int(value(i))
            if key == "ns" and i % 3 == 1:
                item[key] = [value(i), "b" + value(i)]
                body[key] = item[key]
            item["comment"] = body["comment"] = comment(rng)
            if i % 5 == 2:
                item["disable"] = body["disable"] = True
            if i % 7 == 3 and key != "ip":
                item["pass"] = body["pass"] = True
            req = urllib.request.Request(
                "%s/blacklists/%s" % (url, lid),
                data=json.dumps(body).encode(), method="POST",
                headers={"Authorization": "Bearer " + token,
                         "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req) as r:
                    r.read()
            except urllib.error.HTTPError as e:
                # A comment the API refuses (validate.c) is not added.
                if e.code not in (400, 422):
                    raise
                refused.append((lid, body, e.read().decode()))
                continue
            added[lid].append(item)
    json.dump(added, sys.stdout)
    for r in refused[:5]:
        print("refused: %r" % (r,), file=sys.stderr)
    print("%d refused" % len(refused), file=sys.stderr)


def check(added_file, d):
    added = json.load(open(added_file))
    bad = []
    total = 0
    for lid, items in added.items():
        fname = LISTS[lid][0]
        raw = open("%s/%s" % (d, fname), "rb").read()
        text = raw.decode("utf-8")
        doc = yaml.safe_load(text)
        total += len(items)
        if doc.get("Schema") != SCHEMA[lid] or doc.get("items") != items:
            got = doc.get("items") or []
            for k, want in enumerate(items):
                if k >= len(got) or got[k] != want:
                    bad.append("%s item %d: PyYAML reads %r, was %r" %
                               (fname, k, got[k] if k < len(got) else None,
                                want))
                    break
            else:
                bad.append("%s: PyYAML reads other items" % fname)
        dump = yaml.dump(doc)
        if dump != text:
            a, b = dump.splitlines(True), text.splitlines(True)
            for k in range(max(len(a), len(b))):
                if k >= len(a) or k >= len(b) or a[k] != b[k]:
                    bad.append("%s line %d: yaml.dump writes %r, Helios %r"
                               % (fname, k + 1, a[k] if k < len(a) else "",
                                  b[k] if k < len(b) else ""))
                    break
    for b in bad[:5]:
        print(b)
    print("%d items compared" % total, file=sys.stderr)
    sys.exit(1 if bad else 0)


def files(d, pub):
    bad = []
    total = 0
    for lid, (fname, key, _) in sorted(LISTS.items()):
        try:
            text = open("%s/%s" % (d, fname), encoding="utf-8").read()
        except FileNotFoundError:
            continue
        sd = yaml.safe_load(text)["items"] or []
        js = json.load(open("%s/lists/%s.json" % (pub, lid)))["items"]
        total += len(sd)
        if len(sd) != len(js):
            bad.append("%s: PyYAML reads %d items, Helios %d" %
                       (fname, len(sd), len(js)))
            continue
        for k, (a, h) in enumerate(zip(sd, js)):
            want = a[key] if isinstance(a[key], list) or key != "ns" \
                else [a[key]]
            got = h.get(key)
            if key == "asn":
                want = str(want)
            if (got != want or a.get("comment") != h.get("comment") or
                    bool(a.get("disable")) != bool(h.get("disable")) or
                    bool(a.get("pass")) != bool(h.get("pass"))):
                bad.append("%s item %d: PyYAML reads %r, Helios %r" %
                           (fname, k, a, h))
                break
    for b in bad[:5]:
        print(b)
    print("%d yaml items compared" % total, file=sys.stderr)
    sys.exit(1 if bad else 0)


def mutants(samples, out, seed, n):
    """Writes n variants of the sample yaml files, out/<k>/<file>: a tab,
    a tag, a quote or a '#' put where hand edits put them."""
    rng = random.Random(seed)
    names = sorted(f for f in os.listdir(samples) if f.endswith(".yml"))
    for k in range(n):
        name = rng.choice(names)
        text = open(os.path.join(samples, name), encoding="utf-8").read()
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(text))
            piece = rng.choice(["\t", "\t", " \t", "!x ", "!!str ", "'",
                                "# ", " #\t", "\t# n", "!!int "])
            text = text[:i] + piece + text[i:]
        os.makedirs("%s/%d" % (out, k))
        with open("%s/%d/%s" % (out, k, name), "w", encoding="utf-8",
                  newline="") as f:
            f.write(text)


def accepted(d, pub):
    """A file Helios imported (published in pub) must be one PyYAML
    loads, holding what Helios holds (files() compares)."""
    for lid, (fname, _, _) in LISTS.items():
        try:
            text = open("%s/%s" % (d, fname), encoding="utf-8").read()
        except FileNotFoundError:
            continue
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as e:
            print("%s/%s: Helios imports it, PyYAML cannot load it: %s" %
                  (d, fname, str(e).split("\n")[0]))
            sys.exit(1)
    files(d, pub)


if __name__ == "__main__":
    if sys.argv[1] == "post":
        post(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "files":
        files(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "mutants":
        mutants(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "accepted":
        accepted(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], sys.argv[3])
