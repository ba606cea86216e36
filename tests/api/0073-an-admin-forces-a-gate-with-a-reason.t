# only an admin forces a write past a gate, and the item records who and why
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"\\w","force":"testing"}
STATUS  403
EXPECT  {"items":[],"numItems":0,"error":"forbidden","message":"only an admin token may force a write past the checks"}
REQUEST POST /blacklists/watch-keyword
AUTH    $ADMIN
BODY    {"pattern":"\\w","force":"a drill; removed below"}
STATUS  201
EXPECT  {"items":[{"text_pattern":"\\w","review":{"forced_by":"admin","force_reason":"a drill; removed below","gates":["broad"]},"...":true}],"numItems":1,"message":"$STR","version":"$INT","checks":{"gates":["broad"],"...":true}}
REQUEST DELETE /blacklists/watch-keyword?pattern=%5Cw
AUTH    $ADMIN
STATUS  200
