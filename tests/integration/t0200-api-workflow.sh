#!/bin/sh
# The workflow of the original proposal, against the real daemon: an admin
# creates a token, tests it, fetches every list, adds five patterns and
# deletes them (one through ?pattern=); a revoked token fails on its next
# request; SIGTERM ends the daemon with status 0.
. tests/lib.sh

dir=$(hl_tmp)
hl_daemon_start "$dir" || exit 1

# req METHOD PATH [TOKEN [BODY]]: prints the body, then the status on the
# last line.
req() {
	m=$1 p=$2 tok=${3:-} body=${4:-}
	set -- -s -S -w '\n%{http_code}' -X "$m"
	[ -n "$tok" ] && set -- "$@" -H "Authorization: $tok"
	[ -n "$body" ] && set -- "$@" -H 'Content-Type: application/json' \
	    --data-binary "$body"
	curl "$@" "$HL_URL$p"
}
status() { tail -n 1; }
field() { sed '$d' | jq -r "$1"; }

t_ok "the first admin token was written to a file only its owner reads" \
    test "$(stat -c %a "$dir/admin.token")" = 600

out=$(req POST /auth/create "$HL_ADMIN" '{"name":"smokey","scopes":"write"}')
t_is "an admin creates a write token" "$(echo "$out" | status)" 201
TOK=$(echo "$out" | field '.items[0].token')
TOKID=$(echo "$out" | field '.items[0].id')
t_ok "the new token is 64 hex digits" \
    sh -c "echo '$TOK' | grep -qE '^[0-9a-f]{64}\$'"

out=$(req GET /test_auth "Bearer $TOK")
t_is "the token passes /test_auth" "$(echo "$out" | status)" 200
t_is "/test_auth names the token's owner" \
    "$(echo "$out" | field '.items[0].name')" smokey

lists=$(req GET /blacklists | field '.items[].id')
n=0 bad=0
for l in $lists; do
	n=$((n + 1))
	s=$(req GET "/blacklists/$l" | status)
	[ "$s" = 200 ] || bad=$((bad + 1))
done
t_is "all eleven lists are listed" "$n" 11
t_is "every list can be fetched without a token" "$bad" 0

v0=$(req GET /healthz | field .version)
added=0
for i in 1 2 3 4 5; do
	s=$(req POST /blacklists/watch-keyword "$TOK" \
	    "{\"pattern\":\"workflow-$i\\\\.example\"}" | status)
	[ "$s" = 201 ] && added=$((added + 1))
done
t_is "five patterns are added" "$added" 5
t_is "the list holds the five patterns" \
    "$(req GET /blacklists/watch-keyword | field \
    '[.items[].text_pattern | select(startswith("workflow-"))] | length')" 5
t_is "each addition is one version" \
    "$(req GET /healthz | field .version)" $((v0 + 5))

deleted=0
for i in 1 2 3 4; do
	s=$(req DELETE /blacklists/watch-keyword "$TOK" \
	    "{\"pattern\":\"workflow-$i\\\\.example\"}" | status)
	[ "$s" = 200 ] && deleted=$((deleted + 1))
done
t_is "four patterns are deleted with a JSON body" "$deleted" 4
t_is "the fifth is deleted with ?pattern=" "$(req DELETE \
    '/blacklists/watch-keyword?pattern=workflow-5%5C.example' "$TOK" | \
    status)" 200
t_is "the list no longer holds them" \
    "$(req GET /blacklists/watch-keyword | field \
    '[.items[].text_pattern | select(startswith("workflow-"))] | length')" 0
t_is "the audit log has ten events since the start" \
    "$(req GET "/changes?since=$v0" | field .numItems)" 10

t_is "an admin revokes the token" \
    "$(req DELETE "/tokens/$TOKID" "$HL_ADMIN" | status)" 200
t_is "the revoked token fails on its next request" \
    "$(req POST /blacklists/watch-keyword "$TOK" \
    '{"pattern":"after-revoke"}' | status)" 401

# The first admin token is printed once, alone on its line, at start.
t_ok "the log names no token beyond that first print" sh -c \
    "! grep -vx '[0-9a-f]\{64\}' '$dir/daemon.log' | \
    grep -qe '$TOK' -e '$HL_ADMIN'"
t_ok "the access log has one line per request" \
    grep -q 'POST /blacklists/watch-keyword 201 ' "$dir/daemon.log"

hl_daemon_stop
t_is "SIGTERM ends the daemon with status 0" "$?" 0
t_done
