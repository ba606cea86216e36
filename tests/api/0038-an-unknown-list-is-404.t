# an unknown list id answers 404
UNCHANGED
REQUEST GET /blacklists/no-such-list
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"$STR"}
REQUEST POST /blacklists/no-such-list
AUTH    $WRITER
BODY    {"pattern":"api-0038"}
STATUS  404
