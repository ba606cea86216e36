# malformed JSON answers 400 invalid_json and changes nothing
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern": "api-0030"
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid_json","message":"$STR"}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    ["api-0030"]
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid_json","message":"the body must be a JSON object"}
