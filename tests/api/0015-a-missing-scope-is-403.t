# a write token may not mint, list or revoke tokens (403)
UNCHANGED
REQUEST POST /auth/create
AUTH    $WRITER
BODY    {"name":"api-0015"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"$STR"}
REQUEST GET /tokens
AUTH    $WRITER
STATUS  403
REQUEST DELETE /tokens/1
AUTH    $WRITER
STATUS  403
