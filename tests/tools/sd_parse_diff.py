"""sd_parse_diff: what Helios reads in a plain or tsv list file against
what SmokeDetector's parsers read in the same bytes (tests/integration/
t0233).  SmokeDetector's BasicListParser.parse and TSVDictParser.parse
(blacklists.py) are quoted below as they are, Python's text mode and all.

  sd_parse_diff.py make DIR SEED N    writes DIR/bad_keywords.txt and
                                      DIR/watched_keywords.txt, N lines
                                      each, with the white space and line
                                      ends SmokeDetector's code strips,
                                      skips or splits on
  sd_parse_diff.py check DIR PUB [IMPORT_OUT]
                                      compares SmokeDetector's reading of
                                      DIR's files with the lists Helios
                                      published in PUB (lists/<id>.json),
                                      and the tsv lines its parser drops
                                      with those helios import reported

check prints the first differences and exits 1 when there is any.
"""
import json
import random
import sys

import regex

# White space Python's str.rstrip() and str.isspace() know, ASCII or not.
SPACES = [" ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0",
          "\u1680", "\u2003", "\u200a", "\u2028", "\u202f", "\u3000"]
WORDS = ["spam", "foo\\.com", "bar baz", "x+y", "caf\u00e9", "\u4e2d\u6587",
         "a#b", "q\\d{3}", "\u00e9t\u00e9"]


def line(rng, tsv):
    kind = rng.random()
    if kind < 0.1:
        return "#" + rng.choice(WORDS)
    if kind < 0.2:
        return "".join(rng.choice(SPACES) for _ in range(rng.randint(0, 3)))
    if tsv and kind < 0.25:
        # \x1c..\x1f are white space to str.isspace(), not to the regex
        # module's \s that TSVDictParser skips comment lines with.
        return rng.choice(SPACES[:2] + ["\x1c", "\x1f"]) + "# " + \
            rng.choice(WORDS)
    v = rng.choice(WORDS)
    if rng.random() < 0.7:
        v += str(rng.randint(0, 999))
    if rng.random() < 0.3:
        v += "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 3)))
    if tsv:
        return "%d\tuser %d\t%s" % (rng.randint(1, 2000000000),
                                     rng.randint(0, 9), v)
    return v


def make(d, seed, n):
    rng = random.Random(seed)
    for name, tsv in (("bad_keywords.txt", False),
                      ("watched_keywords.txt", True)):
        with open("%s/%s" % (d, name), "w", encoding="utf-8",
                  newline="") as f:
            for _ in range(n):
                f.write(line(rng, tsv) + rng.choice(["\n", "\n", "\r\n"]))


# --- SmokeDetector's parsers (blacklists.py), as they are -----------------
def basic_parse(filename):
    with open(filename, 'r', encoding='utf-8') as f:
        return [line.rstrip()
                for line in f if len(line.rstrip()) > 0 and line[0] != '#']


def tsv_parse(filename, dropped=None):
    # dropped, when given, counts the lines the parser logs and drops (not
    # three fields) or drops silently (a pattern starting with '#').
    dct = {}
    with open(filename, 'r', encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if regex.compile(r'^\s*(?:#|$)').match(line):
                continue
            try:
                when, by_whom, what = line.rstrip().split('\t')
            except ValueError:
                if dropped is not None:
                    dropped.append(lineno)
                continue
            if what[0] != "#":
                dct[what] = {'when': when, 'by': by_whom}
            elif dropped is not None:
                dropped.append(lineno)
    return dct
# --------------------------------------------------------------------------


def check(d, pub, import_out=None):
    bad = []
    items = json.load(open(pub + "/lists/blacklist-keyword.json"))["items"]
    helios = [i["text_pattern"] for i in items]
    sd = basic_parse(d + "/bad_keywords.txt")
    if helios != sd:
        for k in range(max(len(helios), len(sd))):
            h = helios[k] if k < len(helios) else None
            s = sd[k] if k < len(sd) else None
            if h != s:
                bad.append("bad_keywords.txt pattern %d: Helios %r, "
                           "SmokeDetector %r" % (k, h, s))
                break
    items = json.load(open(pub + "/lists/watch-keyword.json"))["items"]
    helios = {}
    for i in items:
        helios.setdefault(i["text_pattern"], i)
    dropped = []
    sd = tsv_parse(d + "/watched_keywords.txt", dropped)
    if list(helios) != list(sd):
        extra = [k for k in helios if k not in sd][:3]
        missing = [k for k in sd if k not in helios][:3]
        bad.append("watched_keywords.txt: Helios alone has %r, "
                   "SmokeDetector alone %r" % (extra, missing))
    if import_out is not None:
        # The import reports the lines SmokeDetector's parser drops.
        rep = [l for l in open(import_out)
               if "watched_keywords.txt:" in l and "lines new" in l][0]
        told = int(regex.search(r"(\d+) lines SmokeDetector skips", rep)
                   .group(1)) if "SmokeDetector skips" in rep else 0
        if told != len(dropped):
            bad.append("watched_keywords.txt: the import reports %d lines "
                       "SmokeDetector's parser drops, it drops %d" %
                       (told, len(dropped)))
    for b in bad:
        print(b)
    print("%d plain and %d tsv patterns compared" %
          (len(basic_parse(d + "/bad_keywords.txt")), len(sd)),
          file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        check(sys.argv[2], sys.argv[3],
              sys.argv[4] if len(sys.argv) > 4 else None)
