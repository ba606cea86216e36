# trailing junk after a route answers 404
REQUEST GET /blacklists/watch-keyword/extra
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"$STR"}
REQUEST GET /healthzz
STATUS  404
REQUEST GET /test_auth/
STATUS  404
REQUEST DELETE /tokens/
AUTH    $ADMIN
STATUS  404
