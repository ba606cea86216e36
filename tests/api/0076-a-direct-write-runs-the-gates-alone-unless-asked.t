# a direct write runs the publish gates alone unless it asks for the full checks
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0076-spam\\w*"}
STATUS  201
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0076-spammy"}
STATUS  201
EXPECT  {"items":"$ANY","numItems":1,"message":"$STR","version":"$INT","checks":{"compile":{"ok":true,"...":true},"broad":{"ok":true,"...":true},"backtracking":{"ok":true,"...":true},"gates":[],"level":"gates","ms":"$ANY"}}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0076-spamfest","checks":"gates"}
STATUS  201
IS      checks.level gates
