# a write token asking for review ("propose": true) on a direct list is refused (409); on a review list it proposes
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0071\\.example","propose":true}
STATUS  409
EXPECT  {"items":[],"numItems":0,"error":"conflict","message":"watch-keyword is a direct list: this token writes it without review"}
REQUEST POST /blacklists/blacklist-website
AUTH    $ADMIN
BODY    {"pattern":"api-0071\\.example","propose":true}
STATUS  202
EXPECT  {"items":[{"token":"admin","state":"pending","...":true}],"numItems":1,"message":"$STR","version":"$INT","proposal":"$INT"}
