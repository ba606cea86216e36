# deleting a value the list does not hold answers 404
UNCHANGED
REQUEST DELETE /blacklists/blacklist-username
AUTH    $WRITER
BODY    {"pattern":"api-0017-never-added"}
STATUS  404
EXPECT  {"items":[],"numItems":0,"error":"not_found","message":"$STR"}
