# a field of the wrong type answers 400 wrong_type
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":["api-0033"]}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"wrong_type","message":"'pattern' must be a string"}
REQUEST POST /notifications
AUTH    $WRITER
BODY    {"user_id":"1","server":"stackexchange.com","room_id":1,"site":"x"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"wrong_type","message":"'user_id' must be an integer"}
REQUEST POST /blacklists/watch-asn
AUTH    $WRITER
BODY    {"asn":1,"disable":"yes"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"wrong_type","message":"'disable' must be true or false"}
