#!/bin/sh
# t0605: a list that keeps a value twice in different case ("Spam", then
# "spam" further down: SmokeDetector's files have such copies) is patched,
# not downloaded, when one copy goes.  A delete event names the value it
# removes; the clients (helios pull, site/docs/helios_client.py) take the
# line that holds that value itself before one that only lowers to it,
# which would remove the other copy, fail the hash and download the list.
. tests/lib.sh

T=$(hl_tmp)
mkdir -p "$T/in" "$T/py"
# 3,000 more patterns: on a list this small a client downloads the file,
# which costs less than the change files.
seq -f 'filler-%g\.example' 1 3000 >"$T/filler"
files() {	# LINE...: bad_keywords.txt with these lines, then the filler
	{ printf '%s\n' "$@"; cat "$T/filler"; } >"$T/in/bad_keywords.txt"
}
py_sync() {	# DIR: helios_client.py syncs DIR from the tree; what it did
	$PY - "file://$T/pub" "$1" <<'PY'
import sys
sys.path.insert(0, "site/docs")
import helios_client
r = helios_client.ListSync(sys.argv[1], sys.argv[2]).sync()
print("patched=%s downloaded=%s" % (r.patched, r.downloaded))
PY
}
lower=$(printf 'caf\303\251')	# café
upper=$(printf 'CAF\303\211')	# CAFÉ
files "# the keywords" "Spam" "$lower" "other" "spam" "$upper"
"$HELIOS" import --db "$T/db.sqlite" "$T/in" >"$T/import.out" 2>&1
t_ok "a file with copies in other case imports, the copies reported" \
    grep -q "2 duplicates" "$T/import.out"
"$HELIOS" publish --db "$T/db.sqlite" --target "dir:$T/pub" >/dev/null 2>&1
"$HELIOS" pull -q "file://$T/pub" "$T/c" && py_sync "$T/py" >/dev/null
t_is "both clients take the tree" "$?" 0

# The copy goes, then the first; then the same in Unicode.
for gone in spam Spam "$upper" "$lower"; do
	case $gone in
	spam)	files "# the keywords" "Spam" "$lower" "other" "$upper" ;;
	Spam)	files "# the keywords" "$lower" "other" "$upper" ;;
	"$upper") files "# the keywords" "$lower" "other" ;;
	*)	files "# the keywords" "other" ;;
	esac
	"$HELIOS" import --mirror --db "$T/db.sqlite" "$T/in" >/dev/null 2>&1
	"$HELIOS" publish --db "$T/db.sqlite" --target "dir:$T/pub" \
	    >/dev/null 2>&1
	"$HELIOS" pull --stats "file://$T/pub" "$T/c" >"$T/out" 2>&1
	t_ok "with $gone gone, helios pull patches the list" \
	    grep -q "1 list patched, 0 files downloaded" "$T/out"
	t_ok "and its file is the one the store holds" \
	    cmp "$T/in/bad_keywords.txt" "$T/c/bad_keywords.txt"
	t_is "with $gone gone, helios_client.py patches it too" \
	    "$(py_sync "$T/py" 2>&1)" "patched=['bad_keywords.txt'] downloaded=[]"
	t_ok "to the same bytes" \
	    cmp "$T/in/bad_keywords.txt" "$T/py/bad_keywords.txt"
done
t_done
