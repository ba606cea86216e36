# a pattern that does not compile answers 400 with the compiler's message
UNCHANGED
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0045(unclosed"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
