# a token limited to some lists gets 403 on any other, to write, propose or decide
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0070-watch","scopes":"propose,approve","lists":"watch-*"}
STATUS  201
EXPECT  {"items":[{"lists":"watch-*","...":true}],"numItems":1,"message":"$STR"}
SAVE    L70 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $L70
BODY    {"pattern":"api-0070\\.example"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"this token is limited to lists watch-*"}
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0070\\.example"}
STATUS  202
SAVE    ID70 proposal
REQUEST POST /proposals/$ID70/approve
AUTH    $L70
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"this token is limited to lists watch-*"}
REQUEST GET /proposals/$ID70
STATUS  200
EXPECT  {"items":[{"state":"pending","...":true}],"numItems":1,"message":"$STR"}
