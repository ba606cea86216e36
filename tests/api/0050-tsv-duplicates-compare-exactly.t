# a watch-list pattern that differs in case only is no duplicate, as in SmokeDetector's tsv parser
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(?-i:AbC)0050"}
STATUS  201
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(?-i:aBc)0050"}
STATUS  201
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(?-i:aBc)0050"}
STATUS  409
EXPECT  {"items":[{"text_pattern":"(?-i:aBc)0050","...":true}],"numItems":1,"error":"duplicate","message":"$STR"}
