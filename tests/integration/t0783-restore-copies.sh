#!/bin/sh
# t0783: a restore gives each copy of a duplicate its own provenance.  The
# tsv file SmokeDetector reads holds two lines of one pattern by different
# people at different times, and a plain list two spellings added a
# second apart; the restored database exports the same bytes and publishes
# the same who and when for every item.  A tree whose JSON was edited to
# disagree with its text is restored from the text: the files' bytes win.
. tests/lib.sh
D=$(hl_tmp)
mkdir -p "$D/in"
cd "$D" || exit 1

printf '1494568775\ttripleee\tessayssos\\.com\n# a comment\n1494592807\tArtOfCode\tessayssos\\.com\n1494592899\tMakyen\tother\\.example\n' \
    >in/watched_keywords.txt
printf 'spam\\W+pills\n' >in/bad_keywords.txt
t_ok "the files import" "$HELIOS" import --db db.sqlite in
sleep 1
printf 'spam\\W+pills\nSpam\\W+Pills\n' >in/bad_keywords.txt
t_ok "a second spelling imports a second later" \
    "$HELIOS" import --db db.sqlite in
t_ok "the server publishes to a directory" \
    "$HELIOS" publish --db db.sqlite --target "dir:$D/pub"

# PUB: the provenance of each item of the lists, in file order.
prov() {
	$PY - "$1" <<'EOF'
import json, sys
for lid in ("watch-keyword", "blacklist-keyword"):
    for it in json.load(open(f"{sys.argv[1]}/lists/{lid}.json"))["items"]:
        print(lid, it["text_pattern"], it["created_at"], it["created_by"],
              it["modified_at"], it["modified_by"])
EOF
}
want=$(prov pub)
t_ok "the copies have different provenance" \
    test "$(printf '%s\n' "$want" | awk '{print $3}' | sort -u | wc -l)" -ge 3

t_ok "the tree restores" "$HELIOS" restore --from-dir pub --db new.sqlite
mkdir out
t_ok "the restored database exports" "$HELIOS" export --db new.sqlite out
t_ok "the tsv file comes back byte for byte" \
    cmp in/watched_keywords.txt out/watched_keywords.txt
t_ok "the plain file comes back byte for byte" \
    cmp in/bad_keywords.txt out/bad_keywords.txt
t_ok "the restored database publishes" \
    "$HELIOS" publish --db new.sqlite --target "dir:$D/pub2"
t_is "each copy has its own provenance again" "$(prov pub2)" "$want"

# The JSON says another time and person for the tsv list's second copy;
# the manifest is made to agree (an unsigned tree), the text is as it was.
cp -r pub edited
$PY - edited <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
p = f"{d}/lists/watch-keyword.json"
j = json.load(open(p))
j["items"][1]["created_at"] = 1600000000
j["items"][1]["created_by"] = "mallory"
b = json.dumps(j, sort_keys=True, separators=(",", ":")).encode()
open(p, "wb").write(b)
m = json.load(open(f"{d}/manifest.json"))
for f in m["files"]:
    if f["path"] == "lists/watch-keyword.json":
        f["sha256"] = hashlib.sha256(b).hexdigest()
        f["bytes"] = len(b)
        f.pop("object", None)
open(f"{d}/manifest.json", "w").write(json.dumps(m, sort_keys=True))
EOF
t_ok "the edited tree restores" \
    "$HELIOS" restore --from-dir edited --db edited.sqlite
mkdir out2
"$HELIOS" export --db edited.sqlite out2 >/dev/null 2>&1
t_ok "its tsv file is the text's, not the JSON's" \
    cmp in/watched_keywords.txt out2/watched_keywords.txt
t_done
