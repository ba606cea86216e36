"""sd_parse_diff: what Helios reads in a plain or tsv list file against
what SmokeDetector's parsers read in the same bytes (tests/integration/
t0233).  SmokeDetector's BasicListParser.parse and TSVDictParser.parse
(blacklists.py) are quoted below as they are, Python's text mode and all.

  sd_parse_diff.py make DIR SEED N    writes DIR/bad_keywords.txt and
                                      DIR/watched_keywords.txt, N lines
                                      each, with the white space and line
                                      ends SmokeDetector's code strips,
                                      skips or splits on, and
                                      DIR/blacklisted_usernames.txt: every
                                      code point that has a case or that
                                      the capital sigma's rule skips, each
                                      beside spellings Python's
                                      str.lower() does or does not make
                                      the same
  sd_parse_diff.py check DIR PUB [IMPORT_OUT]
                                      compares SmokeDetector's reading of
                                      DIR's files with the lists Helios
                                      published in PUB (lists/<id>.json),
                                      and the tsv lines its parser drops
                                      with those helios import reported;
                                      and the copies Helios marks in the
                                      plain lists with the patterns
                                      BasicListParser.exists() would find
                                      already there

check prints the first differences and exits 1 when there is any.
"""
import json
import random
import sys
import unicodedata

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


def case_points():
    """The code points whose lowering can differ between readers: those
    with a case, and those the final sigma rule skips or stops at."""
    for c in range(0x21, 0x110000):
        ch = chr(c)
        if 0xD800 <= c < 0xE000 or ch.isspace() or ch in "\r\n":
            continue
        if ch.lower() != ch or ch.upper() != ch or ch in "'.:\u00b7" or \
                unicodedata.category(ch) in ("Mn", "Me", "Cf", "Lm", "Sk",
                                             "Lt"):
            yield ch


def case_lines():
    # Each code point, upper and lower, alone and between letters beside
    # a capital sigma, against spellings that lower alike, or nearly.
    # The number before each spelling is neither cased nor case-ignorable:
    # a capital sigma after it has nothing cased before it.
    out = []
    for k, ch in enumerate(case_points()):
        for v in (ch, ch.upper(), ch.lower(),
                  "\u0391" + ch + "\u03a3", "\u03b1" + ch.lower() +
                  "\u03c2", "\u03b1" + ch.lower() + "\u03c3",
                  "\u03a3" + ch + "\u0391", "\u03c3" + ch.lower() + "\u03b1",
                  ch + "\u03a3", ch.lower() + "\u03c3"):
            out.append("%d %s" % (k, v))
    return out


def make(d, seed, n):
    rng = random.Random(seed)
    with open("%s/blacklisted_usernames.txt" % d, "w", encoding="utf-8",
              newline="") as f:
        f.write("".join(v + "\n" for v in case_lines()))
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


def list_items(pub, list_id):
    """lists/<id>.json's items, from its segments when it has them."""
    doc = json.load(open("%s/lists/%s.json" % (pub, list_id)))
    if "segments" not in doc:
        return doc["items"]
    return [i for seg in doc["segments"] for i in json.load(
        open("%s/objects/%s" % (pub, seg["sha256"])))["items"]]


def copies(pub, list_id):
    """The copies Helios marks in a plain list against those Python's
    str.lower() makes: what BasicListParser.exists() finds already there
    (it lowers both sides)."""
    bad = []
    first = {}
    items = list_items(pub, list_id)
    for i in items:
        k = i["text_pattern"].lower()
        want = first.get(k)
        if i.get("dup_of") != want:
            bad.append("%s: %r is a copy of item %r for Python's lower(), "
                       "of %r for Helios" % (list_id, i["text_pattern"],
                                             want, i.get("dup_of")))
        first.setdefault(k, i["id"])
    return bad[:5], len(items), sum(1 for i in items if "dup_of" in i)


def check(d, pub, import_out=None):
    bad = []
    for list_id in ("blacklist-keyword", "blacklist-username"):
        b, n, dups = copies(pub, list_id)
        bad += b
        print("%s: %d patterns, %d copies compared" % (list_id, n, dups),
              file=sys.stderr)
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
