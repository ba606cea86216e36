# application/json; charset=utf-8 is accepted
REQUEST POST /blacklists/blacklist-username
AUTH    $WRITER
HEADER  Content-Type: application/json; charset=utf-8
BODY    {"pattern":"api-0046", "unknown":"fields are ignored"}
STATUS  201
