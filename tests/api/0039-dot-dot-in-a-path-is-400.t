# '..' in a path answers 400 and never reaches a file
REQUEST GET /blacklists/../../../../etc/passwd
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"bad_path","message":"$STR"}
REQUEST GET /../schema/openapi.json
STATUS  400
REQUEST GET /./healthz
STATUS  400
