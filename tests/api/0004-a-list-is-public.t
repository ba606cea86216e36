# a list can be read without a token
REQUEST GET /blacklists/watch-keyword
STATUS  200
EXPECT  {"items":"$ANY","numItems":"$INT","message":"watch-keyword","version":"$INT"}
REQUEST HEAD /blacklists/watch-keyword
STATUS  200
