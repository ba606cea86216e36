#!/bin/sh
# The config keys, src/helios.conf.5 and src/helios.conf.example agree:
# every key src/config.c's parser accepts (each strcmp(key, "...")) has an
# entry `.It Ic key` in the manual page and a line `key =` or `#key =` in
# the example, and the page documents no key the parser refuses and
# marks each key Live or Restart as src/reload.c takes it on SIGHUP.
. tests/lib.sh
D=$(hl_tmp)

grep -oE 'strcmp\(key, "[a-z0-9_]+"\)' src/config.c |
    sed -E 's/.*"([a-z0-9_]+)".*/\1/' | sort -u > "$D/parser"
sed -nE 's/^\.It Ic ([a-z0-9_]+).*/\1/p' src/helios.conf.5 |
    sort -u > "$D/page"

t_ok "the parser of src/config.c accepts some keys" test -s "$D/parser"
for k in $(cat "$D/parser"); do
	t_ok "key $k is documented in src/helios.conf.5" \
	    grep -qE "^\.It Ic $k( |\$)" src/helios.conf.5
	t_ok "key $k is in src/helios.conf.example" \
	    grep -qE "^#?$k =" src/helios.conf.example
done
# Each entry says Live or Restart as src/reload.c has it: a key it lists
# as needing a restart is Restart, every other key is taken live.
grep -oE '"[a-z0-9_/]+"\)' src/reload.c | tr -d '")' | tr '/' '\n' |
    sort -u > "$D/restart"
mark() {
	awk -v k="$1" '
	    /^\.It Ic / { on = ($3 == k) }
	    on && /^(Live|Restart)\.$/ { sub(/\.$/, ""); print; exit }
	' src/helios.conf.5
}
t_ok "src/reload.c lists the keys that need a restart" test -s "$D/restart"
for k in $(cat "$D/parser"); do
	want=Live
	grep -qx "$k" "$D/restart" && want=Restart
	t_is "key $k is marked $want in src/helios.conf.5" "$(mark "$k")" "$want"
done
for k in $(cat "$D/page"); do
	t_ok "key $k of src/helios.conf.5 is accepted by src/config.c" \
	    grep -qx "$k" "$D/parser"
done
t_done
