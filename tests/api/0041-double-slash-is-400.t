# an empty path segment (//) answers 400
REQUEST GET //blacklists/watch-keyword
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"bad_path","message":"empty path segment (//)"}
REQUEST GET /blacklists//watch-keyword
STATUS  400
