# asked for, the full checks say which entry already covers a value and which lines of the ham corpus it matches
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0074-spam\\w*"}
STATUS  201
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0074-spammy","checks":"full"}
STATUS  201
EXPECT  {"items":"$ANY","numItems":1,"message":"$STR","version":"$INT","checks":{"covered":{"ok":false,"count":1,"by":[{"value":"api-0074-spam\\w*","how":"matches","id":"$INT"}],"...":true},"gates":[],"level":"full","...":true}}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0074-hamword","checks":"full"}
STATUS  201
EXPECT  {"items":"$ANY","numItems":1,"message":"$STR","version":"$INT","checks":{"ham":{"ok":false,"lines":5,"matched":1,"examples":[{"line":4,"text":"The api-0074-hamword appears in one legitimate post only."}],"ms":"$ANY"},"...":true}}
