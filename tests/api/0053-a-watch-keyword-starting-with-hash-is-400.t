# a watch-keyword starting with '#' is 400: SmokeDetector's tsv parser would skip it
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"#api-0053"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
UNCHANGED
