# a requester cannot approve its own proposal: not with the same token, not by naming itself (403), and nothing changes
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0064-both","scopes":"propose,approve"}
STATUS  201
SAVE    B64 items.0.token
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0064-other","scopes":"approve"}
STATUS  201
SAVE    O64 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $B64
BODY    {"pattern":"api-0064\\.example","requester":"mallory"}
STATUS  202
SAVE    ID64 proposal
REQUEST POST /proposals/$ID64/approve
AUTH    $B64
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"self_approval","message":"$STR"}
REQUEST POST /proposals/$ID64/convert
AUTH    $O64
BODY    {"list":"watch-keyword","by":"Mallory"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"self_approval","message":"$STR"}
REQUEST GET /proposals/$ID64
STATUS  200
EXPECT  {"items":[{"state":"pending","...":true}],"numItems":1,"message":"$STR"}
