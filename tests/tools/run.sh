#!/bin/sh
# `make run`: starts the daemon on 127.0.0.1:8080 with var/helios.sqlite and
# the public tree in var/public, in the foreground (Ctrl-C stops it).
set -e
BIN=${1:-build/helios}
mkdir -p var
cat <<MSG
helios: starting on http://127.0.0.1:8080/
  public tree (served at /):  var/public/   (manifest.json, lists/, changes/)
  database:                   var/helios.sqlite
  admin token:                var/admin.token (made on the first start)
  try:   curl http://127.0.0.1:8080/healthz
         curl -H "Authorization: Bearer \$(cat var/admin.token)" \\
              -H 'Content-Type: application/json' \\
              -d '{"pattern":"spam\\\\.example"}' \\
              http://127.0.0.1:8080/blacklists/watch-keyword
         $BIN import --db var/helios.sqlite PATH/TO/SmokeDetector/
                                   (loads its list files; published in 2 s)
  manual: man src/helios.1
MSG
exec "$BIN" serve --listen 127.0.0.1:8080 --db var/helios.sqlite \
    --public var/public --admin-token-file var/admin.token -d
