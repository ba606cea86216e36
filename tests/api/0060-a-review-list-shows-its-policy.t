# GET /blacklists shows each list's policy: blacklist-website is under review
REQUEST GET /blacklists
STATUS  200
EXPECT  {"items":[{"id":"blacklist-keyword","policy":"direct","...":true},{"id":"blacklist-website","policy":"review","...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true}],"numItems":11,"message":"$STR","version":"$INT"}
