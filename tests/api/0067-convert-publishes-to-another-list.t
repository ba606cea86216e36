# convert publishes a blacklist request to a watchlist instead, with converted_from in its review
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0067-reviewer","scopes":"approve"}
STATUS  201
SAVE    A67 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0067\\.example","requester":"bob"}
STATUS  202
SAVE    ID67 proposal
REQUEST POST /proposals/$ID67/convert
AUTH    $A67
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"'list' is required"}
REQUEST POST /proposals/$ID67/convert
AUTH    $A67
BODY    {"list":"watch-cidr"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST POST /proposals/$ID67/convert
AUTH    $A67
BODY    {"list":"watch-keyword","comment":"watch it first"}
STATUS  200
EXPECT  {"items":[{"state":"converted","target":"watch-keyword","...":true}],"numItems":1,"message":"$STR","version":"$INT","item":{"type":"watch-keyword","text_pattern":"api-0067\\.example","created_by":"bob","review":{"converted_from":"blacklist-website","approver":"api-0067-reviewer","...":true},"...":true}}
REQUEST DELETE /blacklists/watch-keyword?pattern=api-0067%5C.example
AUTH    $WRITER
STATUS  200
