# adding a pattern answers 201 with the record and it appears in the list
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0010-first\\.example"}
STATUS  201
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0010\\.example"}
STATUS  201
EXPECT  {"items":[{"id":"$INT","type":"watch-keyword","text_pattern":"api-0010\\.example","created_at":"$INT","created_by":"api-tests","modified_at":"$INT","modified_by":"api-tests","token_id":"$INT"}],"numItems":1,"message":"added to watch-keyword","version":"$INT","checks":{"compile":{"ok":true,"...":true},"broad":{"ok":true,"...":true},"backtracking":{"ok":true,"...":true},"gates":[],"level":"gates","ms":"$ANY"}}
SAVE    ID items.0.id
SAVE    V version
REQUEST GET /blacklists/watch-keyword
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"$STR","version":"$V"}
IS      items.-1.id $ID
IS      items.-1.text_pattern api-0010\.example
IS      items.-2.text_pattern api-0010-first\.example
REQUEST GET /changes?since=0&limit=1000
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"changes","version":"$V"}
IS      items.-1.version $V
IS      items.-1.op add
IS      items.-1.value api-0010\.example
