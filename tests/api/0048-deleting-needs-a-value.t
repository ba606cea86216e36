# DELETE without a body or ?pattern= answers 400
UNCHANGED
REQUEST DELETE /blacklists/watch-keyword
AUTH    $WRITER
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"$STR"}
