# an unknown or malformed token answers 401
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $NONE
BODY    {"pattern":"api-0013"}
STATUS  401
EXPECT  {"items":[],"numItems":0,"error":"unauthorized","message":"the token is unknown or revoked"}
REQUEST GET /test_auth
AUTH    Bearer
STATUS  401
REQUEST GET /test_auth
AUTH    Basic dXNlcjpwYXNz
STATUS  401
