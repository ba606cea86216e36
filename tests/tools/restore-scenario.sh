# restore-scenario.sh: the lost-server drill that each restore test
# (t0780 dir and web mirror, t0781 S3, t0782 git) runs against one target
# kind.  Sourced after tests/lib.sh, with D a test directory.
#
#   rs_publish TARGET KIND MIRROR
#       imports SmokeDetector's sample files into D/db.sqlite, starts the
#       daemon publishing to TARGET (and D/public), has a client pull
#       MIRROR (D/client.old), makes changes through the API (a tsv and a
#       plain pattern, a removal, a notification), waits until the target
#       holds the last one (RS_V) and has another client pull it
#       (D/client.new).  RS_PULLS: the two pulls' "rc version".
#   rs_pull NAME URL
#       one `helios pull` of URL into D/client.NAME; prints "rc version".
#   rs_lose
#       stops the daemon, keeps what it would export (D/exp.before) and
#       its lists' JSON (D/json.before), and deletes the database and the
#       public directory: the server is lost, the target is left.
#   rs_check KIND TARGET MIRROR
#       after a restore into D/db.sqlite: starts the daemon on it with
#       TARGET, and checks that every list exports byte for byte as
#       before, that provenance came back, that the next change gets a
#       version above RS_V, and that the clients pulled before the loss
#       (D/client.new at RS_V, D/client.old at an older version) follow
#       MIRROR across the restore without a failure or a step back.

rs_api() {	# METHOD PATH BODY: prints the answer's version
	curl -s -m 30 -X "$1" -H "Authorization: Bearer $HL_ADMIN" \
	    -H 'Content-Type: application/json' -d "$3" "$HL_URL$2" |
	    $PY -c 'import json,sys; print(json.load(sys.stdin).get("version", ""))'
}

rs_target_version() {	# KIND: the lowest version /healthz says a target
	curl -s -m 10 "$HL_URL/healthz" | $PY -c '
import json, sys
v = [t.get("version") or 0 for t in json.load(sys.stdin).get("targets", [])
     if t["kind"] == sys.argv[1]]
print(min(v) if v else "")' "$1" 2>/dev/null
}

rs_wait_target() {	# KIND VERSION: waits up to 60 s for the target
	end=$(($(date +%s) + 60))
	while :; do
		g=$(rs_target_version "$1")
		case "$g" in
		''|*[!0-9]*) ;;
		*) [ "$g" -ge "$2" ] && return 0 ;;
		esac
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

rs_publish() {
	"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null ||
	    return 1
	hl_daemon_start "$D" --target "$1" ${RS_SERVE_ARGS:-} || return 1
	RS_V0=$("$HELIOS" migrate --db "$D/db.sqlite" | sed 's/.*version //')
	rs_wait_target "$2" "$RS_V0" || return 1
	RS_PULLS=$(rs_pull old "$3")
	v1=$(rs_api POST /blacklists/watch-keyword \
	    '{"pattern":"restore-drill\\.example"}')
	v2=$(rs_api POST /blacklists/blacklist-website \
	    '{"pattern":"restore-drill-site\\.example"}')
	v3=$(rs_api DELETE /blacklists/watch-keyword \
	    '{"pattern":"restore-drill\\.example"}')
	v4=$(rs_api POST /notifications \
	    '{"user_id":4622463,"server":"stackexchange.com","room_id":11540,"site":"stackoverflow.com"}')
	v5=$(rs_api POST /blacklists/watch-keyword \
	    '{"pattern":"after-the-drill\\.example"}')
	RS_V=$v5
	echo "# versions: import $RS_V0, changes $v1 $v2 $v3 $v4 $v5"
	rs_wait_target "$2" "$RS_V" || return 1
	RS_PULLS="$RS_PULLS, $(rs_pull new "$3")"
}

rs_pull() {
	"$HELIOS" pull -q "$2" "$D/client.$1" >"$D/pull.$1.log" 2>&1
	rc=$?
	v=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
	    "$D/client.$1/.helios-state.json" 2>/dev/null)
	echo "$rc ${v:-none}"
}

rs_lose() {
	hl_daemon_stop
	"$HELIOS" export --db "$D/db.sqlite" "$D/exp.before" >/dev/null &&
	    cp -r "$D/public/lists" "$D/json.before" &&
	    rm -rf "$D/db.sqlite" "$D/db.sqlite-wal" "$D/db.sqlite-shm" \
	    "$D/public" "$D/admin.token"
}

# The lists' JSON, item by item, without what a restore renumbers (the
# item ids, and dup_of, which names one) or cannot know (token_id).
rs_provenance() {	# DIR
	$PY - "$1" <<'EOF'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    doc = json.load(open(f))
    for it in doc["items"]:
        for k in ("id", "dup_of", "token_id"):
            it.pop(k, None)
        print(os.path.basename(f), json.dumps(it, sort_keys=True))
EOF
}

rs_check() {
	kind=$1 target=$2 mirror=$3
	t_ok "the daemon starts on the restored database" \
	    hl_daemon_start "$D" --target "$target" ${RS_SERVE_ARGS:-}
	t_ok "it wrote a new admin token (none was restored)" \
	    test -n "$HL_ADMIN"
	"$HELIOS" export --db "$D/db.sqlite" "$D/exp.after" >/dev/null
	same=yes
	for f in "$D"/exp.before/*; do
		cmp -s "$f" "$D/exp.after/${f##*/}" ||
		    { same=no; echo "# ${f##*/} differs"; }
	done
	t_is "helios export gives every list byte for byte as before" \
	    "$same $(ls "$D/exp.before" | wc -l)" \
	    "yes $(ls "$D/exp.after" | wc -l)"
	rs_wait_target "$kind" "$RS_V"
	rs_provenance "$D/json.before" >"$D/prov.before"
	rs_provenance "$D/public/lists" >"$D/prov.after"
	t_ok "every item keeps who made it and when (lists/<id>.json)" \
	    cmp "$D/prov.before" "$D/prov.after"
	t_is "the notification came back" \
	    "$(curl -s "$HL_URL/notifications" | $PY -c 'import json,sys; print([n["room_id"] for n in json.load(sys.stdin)["items"]])')" \
	    "[11540]"
	t_is "a client at the last version pulls the restored server's tree" \
	    "$(rs_pull new "$mirror")" "0 $RS_V"
	nv=$(rs_api POST /blacklists/blacklist-keyword \
	    '{"pattern":"first-after-restore"}')
	t_ok "the next change gets a version above the last published" \
	    test "${nv:-0}" -gt "$RS_V"
	t_ok "the target publishes it" rs_wait_target "$kind" "$nv"
	t_is "that client follows to it" "$(rs_pull new "$mirror")" "0 $nv"
	t_is "a client left at an older version follows too" \
	    "$(rs_pull old "$mirror")" "0 $nv"
	"$HELIOS" export --db "$D/db.sqlite" "$D/exp.now" >/dev/null
	same=yes
	for f in "$D"/exp.now/*; do
		cmp -s "$f" "$D/client.old/${f##*/}" || same=no
		cmp -s "$f" "$D/client.new/${f##*/}" || same=no
	done
	t_is "both clients hold exactly the server's files" "$same" yes
	hl_daemon_stop
}
