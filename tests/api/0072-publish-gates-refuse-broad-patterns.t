# publish gates refuse .*, a|, ^, (?:), (a+)+$ and (a|aa)+$ with 422 and the checks, on direct lists and as proposals; 0.0.0.0/0 is no IP SmokeDetector takes (400)
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":".*"}
STATUS  422
EXPECT  {"items":[],"numItems":0,"error":"failed_check","message":"$STR","checks":{"broad":{"ok":false,"matches_empty":true,"...":true},"gates":["broad"],"...":true}}
REQUEST POST /blacklists/watch-keyword
AUTH    $ADMIN
BODY    {"pattern":"a|"}
STATUS  422
EXPECT  {"items":[],"numItems":0,"error":"failed_check","message":"$STR","checks":{"gates":["broad"],"...":true}}
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"^"}
STATUS  422
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"(?:)"}
STATUS  422
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(a+)+$"}
STATUS  422
EXPECT  {"items":[],"numItems":0,"error":"failed_check","message":"$STR","checks":{"backtracking":{"ok":false,"work":"$INT","worst_input":"$STR","...":true},"gates":["backtracking"],"...":true}}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(a|aa)+$"}
STATUS  422
REQUEST POST /blacklists/watch-cidr
AUTH    $WRITER
BODY    {"ip":"0.0.0.0/0"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":".*"}
STATUS  422
