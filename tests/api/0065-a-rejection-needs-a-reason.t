# rejecting needs a reason (400 without); a rejected proposal leaves the queue and never reaches the list
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0065-reviewer","scopes":"approve"}
STATUS  201
SAVE    A65 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0065\\.example"}
STATUS  202
SAVE    ID65 proposal
REQUEST POST /proposals/$ID65/reject
AUTH    $A65
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"'reason' is required"}
REQUEST POST /proposals/$ID65/reject
AUTH    $A65
BODY    {"comment":"no"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"'reason' is required"}
REQUEST POST /proposals/$ID65/reject
AUTH    $A65
BODY    {"reason":"only two hits so far"}
STATUS  200
EXPECT  {"items":[{"id":"$ID65","state":"rejected","decision":"only two hits so far","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
REQUEST GET /proposals?list=blacklist-website
STATUS  200
SAVE    PEND65 numItems
REQUEST GET /proposals?state=rejected
STATUS  200
EXPECT  {"items":[{"id":"$ID65","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
REQUEST POST /proposals/$ID65/approve
AUTH    $A65
STATUS  409
EXPECT  {"items":[{"state":"rejected","...":true}],"numItems":1,"error":"conflict","message":"$STR"}
