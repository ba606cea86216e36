# an unknown checks level is refused with 400, a gate with 422 and the gates-level checks; neither changes anything
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0076-spamalot","checks":"everything"}
STATUS  400
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"(a+)+$"}
STATUS  422
EXPECT  {"error":"$ANY","message":"$STR","checks":{"backtracking":{"ok":false,"...":true},"gates":["backtracking"],"level":"gates","...":true},"...":true}
UNCHANGED
