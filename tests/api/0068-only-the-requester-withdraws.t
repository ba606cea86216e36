# only the token that proposed (or an admin) withdraws a proposal
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0068-bot","scopes":"propose"}
STATUS  201
SAVE    P68 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $P68
BODY    {"pattern":"api-0068\\.example","requester":"carol"}
STATUS  202
SAVE    ID68 proposal
REQUEST POST /proposals/$ID68/withdraw
AUTH    $WRITER
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"$STR"}
REQUEST POST /proposals/$ID68/withdraw
AUTH    $P68
BODY    {"by":"dave"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"only carol may withdraw this proposal"}
REQUEST POST /proposals/$ID68/withdraw
AUTH    $P68
BODY    {"by":"carol","reason":"typo"}
STATUS  200
EXPECT  {"items":[{"state":"withdrawn","decided_by":"carol","decision":"typo","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
