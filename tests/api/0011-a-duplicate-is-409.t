# a duplicate answers 409 with the existing record, case-insensitively
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0011-dup"}
STATUS  201
SAVE    ID items.0.id
REQUEST POST /blacklists/blacklist-keyword
AUTH    $ADMIN
BODY    {"pattern":"API-0011-DUP"}
STATUS  409
EXPECT  {"items":[{"id":"$ID","type":"blacklist-keyword","text_pattern":"api-0011-dup","created_by":"api-tests","...":true}],"numItems":1,"error":"duplicate","message":"$STR"}
