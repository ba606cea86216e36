#!/bin/sh
# t0710: the mass-change gate.  helios import --mirror makes a list equal
# to a file; a removal of more than 5% or 100 items of a list, or of all
# of it, is held (nothing is written) until confirmed with a reason, and
# a single removal always goes through.
. tests/lib.sh

T=$(hl_tmp)
DB=$T/db.sqlite
lines() {	# FROM TO: watched_keywords lines
	i=$1
	while [ "$i" -le "$2" ]; do
		printf '1494568775\ttripleee\tt0710-%03d\\.example\n' "$i"
		i=$((i + 1))
	done
}
count() {
	"$HELIOS" export --db "$DB" "$T/exp" >/dev/null &&
	    grep -c t0710- "$T/exp/watched_keywords.txt"
}
version() {
	sqlite3 "$DB" "SELECT COALESCE(MAX(version), 0) FROM events"
}
imp() {	# FILE [ARGS]: import --mirror of FILE into watch-keyword
	f=$1; shift
	"$HELIOS" import --db "$DB" --mirror "$@" --list watch-keyword "$f"
}

lines 1 100 >"$T/all"
t_ok "100 keywords are imported" "$HELIOS" import --db "$DB" \
    --list watch-keyword "$T/all"
lines 1 94 >"$T/minus6"
V=$(version)
t_ok "removing 6 of 100 (over 5%) is held" sh -c "! '$HELIOS' import --db '$DB' --mirror --list watch-keyword '$T/minus6' 2>'$T/err'"
t_ok "the refusal says why and how to confirm" grep -q "held: --mirror would remove 6 of the 100 items.*--confirm REASON" "$T/err"
t_is "nothing was written" "$(version) $(count)" "$V 100"
lines 1 95 >"$T/minus5"
t_ok "removing 5 of 100 (5%) goes through" imp "$T/minus5"
t_is "95 remain" "$(count)" 95
lines 1 94 >"$T/minus1"
t_ok "a single removal goes through" imp "$T/minus1"
t_is "94 remain" "$(count)" 94
: >"$T/empty"
t_ok "emptying the list is held" sh -c "! '$HELIOS' import --db '$DB' --mirror --list watch-keyword '$T/empty' 2>/dev/null"
t_is "the list is untouched" "$(count)" 94
t_ok "--confirm without --mirror is refused" sh -c "! '$HELIOS' import --db '$DB' --confirm x --list watch-keyword '$T/empty' 2>/dev/null"
t_ok "a confirmed mirror that removes nothing goes through" \
    imp "$T/minus6" --confirm "drop the t0710 tail"
t_is "94 remain (nothing to remove beyond 94)" "$(count)" 94
lines 1 10 >"$T/ten"
t_ok "removing 84 of 94 is confirmed with a reason" \
    imp "$T/ten" --confirm "cleanup after a spam wave"
t_is "10 remain" "$(count)" 10
t_is "the audit log names the reason" \
    "$(sqlite3 "$DB" "SELECT DISTINCT actor FROM events WHERE op = 'delete' ORDER BY version DESC LIMIT 1")" \
    "import --mirror, confirmed: cleanup after a spam wave"
printf 'mass_change_share = 50\n' >"$T/conf"
lines 1 6 >"$T/six"
t_ok "mass_change_share in the config moves the bar" \
    "$HELIOS" import --config "$T/conf" --db "$DB" --mirror \
    --list watch-keyword "$T/six"
t_is "6 remain" "$(count)" 6
t_done
