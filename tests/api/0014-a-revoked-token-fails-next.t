# a revoked token fails on its very next request
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0014","scopes":["write"]}
STATUS  201
SAVE    T items.0.token
SAVE    TID items.0.id
REQUEST GET /test_auth
AUTH    $T
STATUS  200
REQUEST DELETE /tokens/$TID
AUTH    $ADMIN
STATUS  200
EXPECT  {"items":[{"id":"$TID","name":"api-0014","revoked_at":"$INT","...":true}],"numItems":1,"message":"$STR"}
REQUEST POST /blacklists/watch-keyword
AUTH    $T
BODY    {"pattern":"api-0014"}
STATUS  401
EXPECT  {"items":[],"numItems":0,"error":"unauthorized","message":"$STR"}
REQUEST DELETE /tokens/$TID
AUTH    $ADMIN
STATUS  404
