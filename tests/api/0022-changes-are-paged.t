# /changes pages through the audit log with a next cursor
REQUEST POST /blacklists/blacklist-number
AUTH    $WRITER
BODY    {"pattern":"555 0022 001"}
STATUS  201
REQUEST POST /blacklists/blacklist-number
AUTH    $WRITER
BODY    {"pattern":"555 0022 002"}
STATUS  201
SAVE    V version
REQUEST GET /changes?since=0&limit=1
STATUS  200
EXPECT  {"items":[{"version":1,"at":"$INT","op":"$STR","list":"$STR","value":"$STR","actor":"$STR","record":"$ANY","...":true}],"numItems":1,"message":"changes","version":"$INT","next":1}
REQUEST GET /changes?since=$V
STATUS  200
EXPECT  {"items":[],"numItems":0,"message":"changes","version":"$V"}
