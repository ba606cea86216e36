# a plain pattern is a duplicate when Python's str.lower() makes it one, as SmokeDetector's exists() compares: in Unicode, final sigma and all
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0056-café"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"API-0056-CAFÉ"}
STATUS  409
EXPECT  {"items":[{"text_pattern":"api-0056-café","...":true}],"numItems":1,"error":"duplicate","message":"$STR"}
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0056-μάιος"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"API-0056-ΜΆΙΟΣ"}
STATUS  409
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0056-ασ"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"API-0056-ΑΣ"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0056-i̇"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"API-0056-İ"}
STATUS  409
REQUEST DELETE /blacklists/blacklist-keyword?pattern=API-0056-CAF%C3%89
AUTH    $WRITER
STATUS  200
EXPECT  {"items":[{"text_pattern":"api-0056-café","...":true}],"numItems":1,"message":"removed","version":"$INT"}
