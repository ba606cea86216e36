# GET /test_auth says whom a token belongs to, with or without Bearer
REQUEST GET /test_auth
AUTH    $ADMIN
STATUS  200
EXPECT  {"items":[{"id":"$INT","name":"admin","scopes":"$STR","created_at":"$INT","...":true}],"numItems":1,"message":"$STR"}
REQUEST GET /test_auth
AUTH    Bearer $WRITER
STATUS  200
EXPECT  {"items":[{"name":"api-tests","scopes":"write","...":true}],"numItems":1,"message":"$STR"}
