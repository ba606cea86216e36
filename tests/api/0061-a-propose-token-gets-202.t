# any write of a propose token answers 202 with a pending proposal, public to read, never in the list
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0061-bot","scopes":"propose"}
STATUS  201
SAVE    P61 items.0.token
REQUEST POST /blacklists/watch-keyword
AUTH    $P61
BODY    {"pattern":"api-0061\\.example","requester":"tripleee","reason":"three hits","evidence":{"links":["https://metasmoke.erwaysoftware.com/search?body=api-0061"],"tp":3,"fp":0,"naa":1}}
STATUS  202
EXPECT  {"items":[{"id":"$INT","list":"watch-keyword","op":"add","value":"api-0061\\.example","requester":"tripleee","token":"api-0061-bot","token_id":"$INT","reason":"three hits","evidence":{"links":["https://metasmoke.erwaysoftware.com/search?body=api-0061"],"tp":3,"fp":0,"naa":1},"checks":{"compile":{"ok":true,"...":true},"covered":"$ANY","broad":{"ok":true,"...":true},"backtracking":{"ok":true,"work":"$INT","...":true},"ham":{"lines":5,"matched":0,"...":true},"gates":[],"level":"full","ms":"$ANY"},"state":"pending","created_at":"$INT"}],"numItems":1,"message":"$STR","version":"$INT","proposal":"$INT"}
SAVE    ID61 proposal
REQUEST GET /proposals/$ID61
STATUS  200
EXPECT  {"items":[{"id":"$ID61","state":"pending","requester":"tripleee","...":true}],"numItems":1,"message":"$STR"}
REQUEST GET /proposals?state=pending&list=watch-keyword
STATUS  200
EXPECT  {"items":[{"id":"$ID61","value":"api-0061\\.example","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
REQUEST GET /blacklists/watch-keyword?pattern=x
STATUS  200
SAVE    WK61 numItems
REQUEST POST /blacklists/watch-keyword
AUTH    $P61
BODY    {"pattern":"api-0061\\.example"}
STATUS  409
EXPECT  {"items":[{"id":"$ID61","...":true}],"numItems":1,"error":"duplicate","message":"$STR"}
