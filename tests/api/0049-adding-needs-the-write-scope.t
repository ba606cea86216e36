# a token without the write scope may not add or delete patterns (403)
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0049","scopes":"approve"}
STATUS  201
SAVE    A items.0.token
REQUEST POST /blacklists/blacklist-keyword
AUTH    $A
BODY    {"pattern":"api-0049-nope"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"$STR"}
REQUEST DELETE /blacklists/blacklist-keyword?pattern=api-0049-nope
AUTH    $A
STATUS  403
REQUEST GET /blacklists/blacklist-keyword
STATUS  200
LACKS   api-0049-nope
