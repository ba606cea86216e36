#!/bin/sh
# One-way layers: tests/tools/layers.sh finds no include that points up in
# the tree (one check per layer), and it does catch one: in a copy of the
# sources, an upward include added to each layer in turn is reported and
# makes it exit 1.
. tests/lib.sh
D=$(hl_tmp)

out=$(sh tests/tools/layers.sh 2>&1)
rc=$?
t_is "layers.sh finds no upward include in the tree" "$rc" 0
# layers.sh prints "FILE includes H (DIR): not below it" per violation.
for l in src/base src/store gen gen/targets src src/client; do
	case $l in
	src)	got=$(echo "$out" | grep -E '^src/[^/]+\.[ch] ') ;;
	gen)	got=$(echo "$out" | grep -E '^gen/[^/]+\.[ch] ') ;;
	*)	got=$(echo "$out" | grep "^$l/") ;;
	esac
	t_is "no file of $l includes a header of a layer above it" "$got" ""
done
t_is "gen/snapshot.h does not include the store" \
    "$(grep -c '^#[ \t]*include[ \t]*"store.h"' gen/snapshot.h)" 0

# The checker itself: an upward include in each layer makes it fail.
# FILE HEADER: the file of a layer and a header it must not include.
mkdir -p "$D/tools"
cp tests/tools/layers.sh "$D/tools/"
while read -r f h; do
	rm -rf "$D/src" "$D/gen"
	cp -R src gen "$D/"
	printf '#include "%s"\n' "$h" >>"$D/$f"
	got=$(cd "$D" && sh tools/layers.sh 2>&1; echo "rc=$?")
	t_is "layers.sh reports $f including $h and exits 1" "$got" \
	    "$(printf '%s includes %s (%s): not below it\nrc=1' "$f" "$h" \
	    "$(dirname "$(cd "$D" && ls src/*/"$h" src/"$h" gen/"$h" \
	    gen/*/"$h" 2>/dev/null | head -1)")")"
done <<'CASES'
src/base/buf.c store.h
src/store/store.c snapshot.h
gen/site.c store.h
gen/snapshot.h publisher.h
gen/targets/target.c snapshot.h
src/api.c fetch.h
src/client/pull.c target.h
CASES
t_done
