# POST /test answers which patterns of the regex lists match a text, with PCRE2
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0050-(?:cheap|best)\\W+pills"}
STATUS  201
SAVE    ID items.0.id
REQUEST POST /test
BODY    {"text":"Buy API-0050-BEST   pills today"}
STATUS  200
EXPECT  {"items":[{"list":"watch-keyword","id":"$ID","pattern":"api-0050-(?:cheap|best)\\W+pills","match":"API-0050-BEST   pills"}],"numItems":1,"message":"1 pattern matches","unchecked":[],"lists":"$ANY","engine":"PCRE2"}
REQUEST POST /test
BODY    {"text":"api-0050-worst pills"}
STATUS  200
EXPECT  {"items":[],"numItems":0,"message":"0 patterns match","...":true}
