# DELETE takes the pattern from ?pattern=, percent-decoded
REQUEST POST /blacklists/blacklist-username
AUTH    $WRITER
BODY    {"pattern":"api-0016 spam\\.example"}
STATUS  201
REQUEST DELETE /blacklists/blacklist-username?pattern=api-0016%20spam%5C.example
AUTH    $WRITER
STATUS  200
EXPECT  {"items":[{"text_pattern":"api-0016 spam\\.example","...":true}],"numItems":1,"message":"removed","version":"$INT"}
