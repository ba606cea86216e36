# percent-encoded tricks (%2e%2e, %2f, %00, bad escapes) answer 400
REQUEST GET /%2e%2e/%2e%2e/etc/passwd
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"bad_path","message":"$STR"}
REQUEST GET /blacklists/%2E%2e
STATUS  400
REQUEST GET /blacklists%2fwatch-keyword
STATUS  400
REQUEST GET /blacklists/watch-keyword%00
STATUS  400
REQUEST GET /blacklists/%zz
STATUS  400
REQUEST GET /%5c..%5cetc
STATUS  400
