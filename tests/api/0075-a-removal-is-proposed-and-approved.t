# on a review list a write token's DELETE proposes the removal (202); the item goes only when it is approved
REQUEST POST /blacklists/blacklist-website
AUTH    $ADMIN
BODY    {"pattern":"api-0075\\.example"}
STATUS  201
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0075-reviewer","scopes":"approve"}
STATUS  201
SAVE    A75 items.0.token
REQUEST DELETE /blacklists/blacklist-website?pattern=API-0075%5C.example
AUTH    $WRITER
STATUS  202
EXPECT  {"items":[{"op":"delete","value":"api-0075\\.example","state":"pending","...":true}],"numItems":1,"message":"$STR","version":"$INT","proposal":"$INT"}
SAVE    ID75 proposal
REQUEST GET /blacklists/blacklist-website
STATUS  200
EXPECT  {"items":[{"text_pattern":"api-0063\\.example","...":true},{"text_pattern":"api-0075\\.example","...":true}],"numItems":2,"message":"$STR","version":"$INT"}
REQUEST POST /proposals/$ID75/convert
AUTH    $A75
BODY    {"list":"watch-keyword"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"only a proposed addition can be converted"}
REQUEST POST /proposals/$ID75/approve
AUTH    $A75
STATUS  200
EXPECT  {"items":[{"state":"approved","op":"delete","...":true}],"numItems":1,"message":"$STR","version":"$INT","item":{"text_pattern":"api-0075\\.example","...":true}}
REQUEST GET /blacklists/blacklist-website
STATUS  200
EXPECT  {"items":[{"text_pattern":"api-0063\\.example","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
