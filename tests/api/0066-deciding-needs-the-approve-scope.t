# deciding needs a token (401) with the approve scope (403); an unknown action or id is 404, a bad id 400
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0066\\.example"}
STATUS  202
SAVE    ID66 proposal
REQUEST POST /proposals/$ID66/approve
STATUS  401
EXPECT  {"items":[],"numItems":0,"error":"unauthorized","message":"$STR"}
REQUEST POST /proposals/$ID66/approve
AUTH    $WRITER
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"deciding on a proposal needs the approve scope"}
REQUEST POST /proposals/$ID66/merge
AUTH    $ADMIN
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"$STR"}
REQUEST POST /proposals/999999/approve
AUTH    $ADMIN
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"no proposal 999999"}
REQUEST GET /proposals/abc
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST GET /proposals?state=merged
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST DELETE /proposals/$ID66
AUTH    $ADMIN
STATUS  405
