# the yaml lists take their own fields: ns as an array, asn as a number, ip
REQUEST POST /blacklists/watch-ns
AUTH    $WRITER
BODY    {"ns":["ns1.api-0018.example.","ns2.api-0018.example."],"comment":"a pair"}
STATUS  201
EXPECT  {"items":[{"ns":["ns1.api-0018.example.","ns2.api-0018.example."],"comment":"a pair","...":true}],"numItems":1,"message":"$STR","version":"$INT","checks":"$ANY"}
REQUEST POST /blacklists/watch-asn
AUTH    $WRITER
BODY    {"asn":45018,"disable":true}
STATUS  201
EXPECT  {"items":[{"asn":"45018","disable":true,"...":true}],"numItems":1,"message":"$STR","version":"$INT","checks":"$ANY"}
REQUEST POST /blacklists/blacklist-cidr
AUTH    $WRITER
BODY    {"ip":"198.51.100.18","pass":true}
STATUS  201
REQUEST DELETE /blacklists/blacklist-cidr?ip=198.51.100.18
AUTH    $WRITER
STATUS  200
