# a value added to a blacklist leaves watch-keyword and watch-number in the same change, as SmokeDetector's add_to_blacklist takes it out of the watch files; an approved proposal does too
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0078\\.example"}
STATUS  201
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0078\\.example"}
STATUS  201
REQUEST GET /blacklists/watch-keyword
STATUS  200
LACKS   api-0078\\.example
REQUEST GET /changes?since=0&limit=1000
STATUS  200
MATCHES "op": ?"delete"[^}]*"list": ?"watch-keyword"
REQUEST POST /blacklists/watch-number
AUTH    $WRITER
BODY    {"pattern":"5550178078"}
STATUS  201
REQUEST POST /blacklists/blacklist-number
AUTH    $WRITER
BODY    {"pattern":"5550178078"}
STATUS  201
REQUEST GET /blacklists/watch-number
STATUS  200
LACKS   5550178078
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0078-b\\.example"}
STATUS  201
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0078-reviewer","scopes":"approve"}
STATUS  201
SAVE    A78 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0078-b\\.example"}
STATUS  202
SAVE    ID78 proposal
REQUEST GET /blacklists/watch-keyword
STATUS  200
MATCHES api-0078-b
REQUEST POST /proposals/$ID78/approve
AUTH    $A78
STATUS  200
REQUEST GET /blacklists/watch-keyword
STATUS  200
LACKS   api-0078-b
