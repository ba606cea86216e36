# /metrics speaks Prometheus text and /openapi.json describes the API
REQUEST GET /healthz
STATUS  200
SAVE    V version
REQUEST GET /metrics
STATUS  200
HAS     Content-Type: text/plain; version=0.0.4; charset=utf-8
LINES   (# (HELP|TYPE) helios_[a-z_]+ .+|helios_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? -?[0-9.e+-]+)
MATCHES ^helios_version $V$
MATCHES ^helios_writes_total [1-9][0-9]*$
MATCHES ^helios_store_commits_total [1-9][0-9]*$
MATCHES ^helios_store_changes_total [1-9][0-9]*$
MATCHES ^helios_http_requests_total\{code="2xx"\} [1-9][0-9]*$
MATCHES ^helios_http_requests_total\{code="4xx"\} [1-9][0-9]*$
MATCHES ^helios_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9][0-9]*$
MATCHES ^helios_target_version\{target="dir:[^"]+",kind="dir"\} [0-9]+$
REQUEST GET /openapi.json
STATUS  200
EXPECT  {"openapi":"3.0.3","...":true}
