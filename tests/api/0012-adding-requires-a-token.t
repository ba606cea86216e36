# adding a pattern without a token answers 401 and changes nothing
UNCHANGED
REQUEST POST /blacklists/watch-keyword
BODY    {"pattern":"api-0012"}
STATUS  401
EXPECT  {"items":[],"numItems":0,"error":"unauthorized","message":"$STR"}
