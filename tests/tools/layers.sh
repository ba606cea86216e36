#!/bin/sh
# layers: checks that every #include "x.h" in src/ and gen/ points down or
# sideways, never up.  The layers, lowest first, and what each may include:
#
#   src/base      the base alone
#   src/store     base, store
#   gen           base, gen              (rows handed in; never the store)
#   gen/targets   base, targets
#   src           base, store, gen, targets, src (the daemon and CLI)
#   src/client    base, client           (apart: the published protocol)
#
# and src/main.c, the entry point, also dispatches to the client.  Prints
# one line per include that breaks a rule and exits 1 if there is any.
#
#   sh tests/tools/layers.sh
allowed() {	# FILE: the folders its includes may come from
	case $1 in
	src/main.c)	echo "src/base src/store gen gen/targets src src/client" ;;
	src/base/*)	echo "src/base" ;;
	src/store/*)	echo "src/base src/store" ;;
	gen/targets/*)	echo "src/base gen/targets" ;;
	gen/*)		echo "src/base gen" ;;
	src/client/*)	echo "src/base src/client" ;;
	src/*)		echo "src/base src/store gen gen/targets src" ;;
	esac
}
where() {	# HEADER: the folder that holds it
	for d in src/base src/store gen gen/targets src src/client; do
		[ -f "$d/$1" ] && { echo "$d"; return; }
	done
	echo "?"
}
bad=0
for f in src/base/*.[ch] src/store/*.[ch] gen/*.[ch] gen/targets/*.[ch] \
    src/*.[ch] src/client/*.[ch]; do
	[ -f "$f" ] || continue
	ok=$(allowed "$f")
	for h in $(sed -n 's/^#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f"); do
		d=$(where "$h")
		case " $ok " in *" $d "*) continue ;; esac
		echo "$f includes $h ($d): not below it"
		bad=1
	done
done
exit $bad
