# a token that has expired answers 401, for a proposal as for anything else
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0069-short","scopes":"propose","expires_in":1}
STATUS  201
EXPECT  {"items":[{"expires_at":"$INT","token":"$TOKEN","...":true}],"numItems":1,"message":"$STR"}
SAVE    E69 items.0.token
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0069-bad","expires_in":"soon"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
SLEEP   2.1
REQUEST POST /blacklists/blacklist-website
AUTH    $E69
BODY    {"pattern":"api-0069\\.example"}
STATUS  401
EXPECT  {"items":[],"numItems":0,"error":"unauthorized","message":"$STR"}
REQUEST GET /test_auth
AUTH    $E69
STATUS  401
