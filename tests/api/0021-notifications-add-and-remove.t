# a notification is added, refused twice, and removed
REQUEST POST /notifications
AUTH    $WRITER
BODY    {"user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0021.example"}
STATUS  201
EXPECT  {"items":[{"id":"$INT","user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0021.example","always_ping":false,"created_at":"$INT","created_by":"api-tests","token_id":"$INT"}],"numItems":1,"message":"added","version":"$INT"}
REQUEST POST /notifications
AUTH    $WRITER
BODY    {"user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0021.example","always_ping":true}
STATUS  409
EXPECT  {"items":[{"always_ping":false,"...":true}],"numItems":1,"error":"duplicate","message":"$STR"}
REQUEST DELETE /notifications
AUTH    $WRITER
BODY    {"user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0021.example"}
STATUS  200
REQUEST DELETE /notifications
AUTH    $WRITER
BODY    {"user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0021.example"}
STATUS  404
