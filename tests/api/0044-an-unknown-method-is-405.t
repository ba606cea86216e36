# a method a route does not take answers 405 with Allow
REQUEST PUT /blacklists/watch-keyword
AUTH    $WRITER
STATUS  405
HAS     Allow: GET, HEAD, POST, DELETE
EXPECT  {"items":[],"numItems":0,"error":"method_not_allowed","message":"PUT is not allowed on /blacklists/watch-keyword; allowed: GET, HEAD, POST, DELETE"}
REQUEST DELETE /healthz
STATUS  405
HAS     Allow: GET, HEAD
REQUEST GET /auth/create
STATUS  405
HAS     Allow: POST
REQUEST PATCH /notifications
STATUS  405
