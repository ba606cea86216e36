# POST /test refuses a body without text, one not JSON, another media type, and GET
UNCHANGED
REQUEST POST /test
BODY    {"txt":"x"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"$STR"}
REQUEST POST /test
BODY    {"text":
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid_json","message":"$STR"}
REQUEST POST /test
HEADER  Content-Type: text/plain
BODY    {"text":"x"}
STATUS  415
EXPECT  {"items":[],"numItems":0,"error":"unsupported_media_type","message":"$STR"}
REQUEST GET /test
STATUS  405
HAS     Allow: POST
