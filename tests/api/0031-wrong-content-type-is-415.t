# a body that is not application/json answers 415
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
HEADER  Content-Type: application/x-www-form-urlencoded
BODY    {"pattern":"api-0031"}
STATUS  415
EXPECT  {"items":[],"numItems":0,"error":"unsupported_media_type","message":"$STR"}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
HEADER  Content-Type: application/json; charset=latin1
BODY    {"pattern":"api-0031"}
STATUS  415
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
HEADER  Content-Type: application/yaml
BODY    {"pattern":"api-0031"}
STATUS  415
