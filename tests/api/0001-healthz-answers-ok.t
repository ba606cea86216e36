# the health check answers ok with the current version
REQUEST GET /healthz
STATUS  200
EXPECT  {"items":[],"numItems":0,"message":"ok","status":"ok","version":"$INT","...":true}
