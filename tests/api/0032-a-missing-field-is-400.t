# a missing field answers 400 missing_field
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"patern":"api-0032"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"'pattern' is required"}
REQUEST POST /notifications
AUTH    $WRITER
BODY    {"user_id":1,"server":"stackexchange.com","site":"x"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"missing_field","message":"'room_id' is required"}
