#!/bin/sh
# t0790: the publisher's workers run at a lower CPU priority than the
# threads that answer requests, so a publish never takes a core from an
# acknowledged write (figures: `make bench`, section 1); the directory
# target's keeper of spare files (gen/targets/spares.h), housework, at
# the lowest; its stager, which writes a build's objects while the build
# goes on (pub_dir.c), and the build's second thread (gen/par.h), at the
# publisher's own.
. tests/lib.sh
T=$(hl_tmp)
D=$T/d
mkdir -p "$D"
hl_daemon_start "$D" || exit 1
n=0	# the first publish, which starts the stager, is done
while ! [ -f "$D/public/manifest.json" ] && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done

nice_of() {	# /proc/.../stat: field 19, after the name in parentheses
	sed 's/^.*) //' "$1" | awk '{ print $17 }'
}
MAIN=$(nice_of /proc/"$HL_PID"/stat)
WANT=$((MAIN + 10 > 19 ? 19 : MAIN + 10))
PUB="" SPARES="" STAGE="" PAR=""
for t in /proc/"$HL_PID"/task/*; do
	case $(cat "$t/comm" 2>/dev/null) in
	hl-publish) PUB="$PUB $(nice_of "$t/stat")" ;;
	hl-spares) SPARES="$SPARES $(nice_of "$t/stat")" ;;
	hl-stage) STAGE="$STAGE $(nice_of "$t/stat")" ;;
	hl-par) PAR="$PAR $(nice_of "$t/stat")" ;;
	esac
done
t_ok "the daemon answers" curl -sf "$HL_URL/healthz"
t_is "one thread, hl-publish, publishes at nice 10 above the process's" \
    "$(echo $PUB)" "$WANT"
others_keep_nice() {	# a thread that ends meanwhile is skipped
	for t in /proc/"$HL_PID"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null) || continue
		n=$(nice_of "$t/stat" 2>/dev/null)
		[ -n "$n" ] || continue
		[ "$c" = hl-publish ] || [ "$c" = hl-spares ] ||
		    [ "$c" = hl-stage ] || [ "$c" = hl-par ] ||
		    [ "$n" = "$MAIN" ] || return 1
	done
}
t_is "one thread, hl-spares, keeps the target's spare files at nice 19" \
    "$(echo $SPARES)" 19
t_is "one thread, hl-stage, writes objects ahead at the publisher's nice" \
    "$(echo $STAGE)" "$WANT"
t_is "one thread, hl-par, renders beside the publish at the publisher's nice" \
    "$(echo $PAR)" "$WANT"
t_ok "the process's other threads keep its nice ($MAIN)" others_keep_nice
t_ok "SIGTERM ends the daemon with status 0" hl_daemon_stop
t_done
