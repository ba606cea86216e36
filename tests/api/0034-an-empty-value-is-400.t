# an empty value answers 400
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":""}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
