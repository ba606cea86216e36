# an admin mints a token whose secret appears once, in items[0].token
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0019","scopes":"admin,write"}
STATUS  201
EXPECT  {"items":[{"id":"$INT","name":"api-0019","scopes":"admin,write","created_at":"$INT","created_by":"admin","revoked_at":null,"last_used_at":null,"token":"$TOKEN"}],"numItems":1,"message":"$STR"}
SAVE    T items.0.token
SAVE    TID items.0.id
REQUEST GET /tokens
AUTH    $T
STATUS  200
MATCHES "name":"api-0019"
LACKS   $T
LACKS   "token":
REQUEST GET /test_auth
AUTH    $T
EXPECT  {"items":[{"name":"api-0019","...":true}],"numItems":1,"message":"$STR"}
IS      items.0.id $TID
LACKS   $T
