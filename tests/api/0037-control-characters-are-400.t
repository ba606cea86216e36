# control characters in a value answer 400
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api\u00010037"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api\n0037"}
STATUS  400
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api\u00000037"}
STATUS  400
