# notifications are public by default, as notifications.json is
REQUEST GET /notifications
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"notifications","version":"$INT"}
REQUEST GET /notifications
AUTH    $WRITER
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"notifications","version":"$INT"}
REQUEST POST /notifications
BODY    {"user_id":21,"server":"stackexchange.com","room_id":11540,"site":"api-0020.example"}
STATUS  401
