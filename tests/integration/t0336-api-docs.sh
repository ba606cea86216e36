#!/bin/sh
# The API reference: every route of src/api.c's router is in
# schema/openapi.json with the same methods, every documented route is in
# the router, and the site's api.html has a section for each.
. tests/lib.sh
D=$(hl_tmp)
"$HELIOS" import --db "$D/db.sqlite" "$(hl_samples)" >/dev/null
"$HELIOS" publish --db "$D/db.sqlite" --target "dir:$D/pub" >/dev/null 2>&1
out=$($PY - src/api.c schema/openapi.json "$D/pub/api.html" <<'PY'
import json, re, sys
src = open(sys.argv[1]).read()
table = re.search(r"static const struct route routes\[\] = \{(.*?)\n\};", src, re.S).group(1)
router = {}
for pat, methods in re.findall(r'\{\s*"([^"]+)",\s*([^,]+),', table):
    ms = {m.lower() for m in re.findall(r"M_(GET|POST|DELETE|PUT|PATCH)", methods)}
    router["/" + pat.replace("*", "{}")] = ms
doc = json.load(open(sys.argv[2]))
documented = {}
for path, item in doc["paths"].items():
    key = re.sub(r"\{[^}]+\}", "{}", path)
    documented[key] = {m for m in item if m in ("get", "post", "delete", "put", "patch")}
page = open(sys.argv[3]).read()
def covers(route, path):
    """A router pattern's "{}" segment stands for any one segment."""
    a, b = route.split("/"), path.split("/")
    return len(a) == len(b) and all(x in ("{}", y) for x, y in zip(a, b))
for r, ms in sorted(router.items()):
    for m in sorted(ms):
        if not any(covers(r, d) and m in dm for d, dm in documented.items()):
            print("undocumented", m.upper(), r)
for d, ms in sorted(documented.items()):
    for m in sorted(ms):
        if not any(covers(r, d) and m in rm for r, rm in router.items()):
            print("not routed", m.upper(), d)
for path, item in doc["paths"].items():
    for m in item:
        if m not in ("get", "post", "delete", "put", "patch"):
            continue
        anchor = m + "".join("-" + w for w in re.findall(r"[a-z0-9]+", path))
        if 'id="%s"' % anchor not in page:
            print("not on api.html", m.upper(), path)
print("routes", len(router))
PY
)
echo "$out" | sed 's/^/# /'
t_ok "the router has routes" sh -c "echo '$out' | grep -q '^routes [1-9]'"
t_is "every route of the router is documented in openapi.json" \
    "$(echo "$out" | grep -c '^undocumented')" 0
t_is "every documented route is in the router" \
    "$(echo "$out" | grep -c '^not routed')" 0
t_is "api.html has a section for every documented endpoint" \
    "$(echo "$out" | grep -c '^not on api.html')" 0
t_ok "api.html shows an example and the errors of POST /blacklists/{id}" \
    sh -c "grep -q 'curl -X POST' '$D/pub/api.html' && grep -q '<code>409</code>' '$D/pub/api.html'"
t_done
