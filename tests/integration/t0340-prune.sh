#!/bin/sh
# Old objects are pruned from the local directory after the retention
# time, but never one that a recent manifest still names.
. tests/lib.sh
D=$(hl_tmp)
# Retention 4 s: room for two publishes on a loaded machine between
# "second" and "third", whose objects must be kept.
export HELIOS_RETENTION=4
hl_daemon_start "$D" || exit 1
post() {	# PATTERN: adds it, waits until its version is published
	v=$(curl -s -X POST -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "{\"pattern\":\"$1\"}" \
	    "$HL_URL/blacklists/watch-keyword" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
	# (no manifest yet, as when the start-up publish is slow: waits)
	hl_wait_version "$v" || return 1
	cp "$D/public/manifest.json" "$D/manifest.$2"
}
objects() {	# MANIFEST: the object paths it names, one a line
	$PY -c '
import json, sys
m = json.load(open(sys.argv[1]))
for f in m["files"]:
    print(f["object"]); print(f["gz"]["object"])' "$1" | sort -u
}
post "first" 1
# Changes go on until the first manifest's own objects are pruned (its
# retention): a wait on the outcome, up to 30 s, not on a timer.
k=0
while :; do
	k=$((k + 1))
	post "filler-$k" f || break
	objects "$D/manifest.1" >"$D/o1"
	objects "$D/manifest.f" >"$D/of"
	left=0
	for o in $(comm -23 "$D/o1" "$D/of"); do
		[ -e "$D/public/$o" ] && left=$((left + 1))
	done
	[ "$left" -eq 0 ] || [ $k -ge 250 ] && break
	sleep 0.1
done
post "second" 2
post "third" 3
only1=$(comm -23 "$(objects "$D/manifest.1" >"$D/o1"; echo "$D/o1")" \
    "$(objects "$D/manifest.2" >"$D/o2"; echo "$D/o2")")
only2=$(comm -23 "$D/o2" "$(objects "$D/manifest.3" >"$D/o3"; echo "$D/o3")")
gone=0
for o in $only1; do [ -e "$D/public/$o" ] || gone=$((gone + 1)); done
t_ok "objects named only by a manifest older than the retention are pruned" \
    test "$gone" -gt 0 -a "$gone" -eq "$(echo $only1 | wc -w)"
kept=0
for o in $only2; do [ -e "$D/public/$o" ] && kept=$((kept + 1)); done
t_ok "objects that a manifest within the retention named are kept" \
    test "$kept" -gt 0 -a "$kept" -eq "$(echo $only2 | wc -w)"
t_ok "the current tree is whole" "$HELIOS" verify "$D/public"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
