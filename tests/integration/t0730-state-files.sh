#!/bin/sh
# The daemon's files: the database and its -wal and -shm are 0600 (token
# hashes, the audit log); a first start killed between committing the
# admin token and writing its file is repaired at the next start; stale
# temporary files in the published tree are removed and files that
# disagree with the manifest are written again before anything is served.
. tests/lib.sh
D=$(hl_tmp)
hl_daemon_start "$D" || exit 1
curl -s -o /dev/null -X POST -H "Authorization: Bearer $HL_ADMIN" \
    -H 'Content-Type: application/json' -d '{"pattern":"mode\\.example"}' \
    "$HL_URL/blacklists/watch-keyword"
modes() { stat -c %a "$D/db.sqlite" "$D/db.sqlite-wal" "$D/db.sqlite-shm" |
    tr '\n' ' '; }
t_is "the database, its -wal and -shm are 0600" "$(modes)" "600 600 600 "
t_is "the admin token file is 0600" "$(stat -c %a "$D/admin.token")" 600
hl_daemon_stop
chmod 0644 "$D/db.sqlite" "$D/db.sqlite-wal" "$D/db.sqlite-shm" 2>/dev/null
hl_daemon_start "$D" || exit 1
t_is "a database left 0644 is made 0600 at start" \
    "$(stat -c %a "$D/db.sqlite")" 600
hl_daemon_stop

# The state a kill -9 between the commit and the file left: a valid
# admin token that no file holds and no one used.
S=$D
D=$(hl_tmp)
hl_daemon_start "$D" || exit 1
hl_daemon_stop
old=$HL_ADMIN
rm -f "$D/admin.token"
hl_daemon_start "$D" || { echo "not ok - no token file after restart"; exit 1; }
t_ok "a restart without the token file writes a new one" \
    test -s "$D/admin.token"
t_is "the new token works" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $HL_ADMIN" "$HL_URL/test_auth")" 200
t_is "the token no one could hold is revoked" \
    "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $old" "$HL_URL/test_auth")" 401
hl_daemon_stop
cp "$D/admin.token" "$D/admin.kept"
hl_daemon_start "$D" || exit 1
t_is "a restart with the file keeps the token" "$HL_ADMIN" \
    "$(cat "$D/admin.kept")"
hl_daemon_stop

# Stale temporary files and a damaged published file.
D=$S
sh -c 'exit 0' & dead=$!; wait $dead
tmp="$D/public/lists/blacklist-keyword.txt.tmp.$dead.7"
: >"$tmp"
# A list file and the object copy of its .gz, as a lost write leaves them.
f=$(cd "$D/public" && ls lists/*.txt | head -1)
set -- $($PY -c 'import json,sys
m = json.load(open(sys.argv[1]))
x = [x for x in m["files"] if x["path"] == sys.argv[2]][0]
print(x["sha256"], x["gz"]["object"], x["gz"]["sha256"])' \
    "$D/public/manifest.json" "$f")
want=$1 gzobj=$2 gzwant=$3
printf 'tampered\n' >>"$D/public/$f"
rm -f "$D/public/$gzobj"
printf 'tampered\n' >"$D/public/$gzobj"
hl_daemon_start "$D" || exit 1
t_ok "a stale temporary file is removed at start" test ! -e "$tmp"
t_is "a file that disagreed with the manifest was written again before" \
    "$(sha256sum <"$D/public/$f" | cut -d' ' -f1)" "$want"
t_is "and it is served whole" "$(curl -s "$HL_URL/$f" | sha256sum |
    cut -d' ' -f1)" "$want"
t_is "an object copy that disagreed was written again" \
    "$(sha256sum <"$D/public/$gzobj" | cut -d' ' -f1)" "$gzwant"
t_ok "SIGTERM stops the daemon with status 0" hl_daemon_stop
t_done
