# /metrics speaks Prometheus text and /openapi.json describes the API
REQUEST GET /metrics
STATUS  200
HAS     Content-Type: text/plain; version=0.0.4; charset=utf-8
REQUEST GET /openapi.json
STATUS  200
EXPECT  {"openapi":"3.0.3","...":true}
