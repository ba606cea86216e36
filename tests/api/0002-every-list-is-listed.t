# GET /blacklists names the eleven lists with their files and formats
REQUEST GET /blacklists
STATUS  200
EXPECT  {"items":[{"id":"blacklist-keyword","file":"bad_keywords.txt","format":"plain","policy":"direct","version":"$INT","count":"$INT"},{"...":true},{"...":true},{"...":true},{"id":"watch-keyword","file":"watched_keywords.txt","format":"tsv","policy":"direct","version":"$INT","count":"$INT"},{"...":true},{"...":true},{"...":true},{"...":true},{"...":true},{"id":"watch-asn","file":"watched_asns.yml","format":"yaml_asn","policy":"direct","version":"$INT","count":"$INT"}],"numItems":11,"message":"$STR","version":"$INT"}
