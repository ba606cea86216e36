# a write token without approve proposes on a review list (202); the list does not change
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0062\\.example","requester":"alice"}
STATUS  202
EXPECT  {"items":[{"list":"blacklist-website","op":"add","requester":"alice","token":"api-tests","state":"pending","...":true}],"numItems":1,"message":"$STR","version":"$INT","proposal":"$INT"}
REQUEST GET /blacklists/blacklist-website
STATUS  200
EXPECT  {"items":[],"numItems":0,"message":"$STR","version":"$INT"}
REQUEST DELETE /blacklists/blacklist-website?pattern=api-0062%5C.example
AUTH    $WRITER
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"$STR"}
