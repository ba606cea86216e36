# reading notifications needs a token, since they name chat users
REQUEST GET /notifications
STATUS  401
REQUEST GET /notifications
AUTH    $WRITER
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"notifications","version":"$INT"}
