# a yaml comment with line breaks (as a folded block scalar gives) is accepted, as import accepts it
REQUEST POST /blacklists/watch-asn
AUTH    $WRITER
BODY    {"asn": "3223", "comment": "watched since 2023,\nsee the FP list\n"}
STATUS  201
EXPECT  {"items":[{"asn":"3223","comment":"watched since 2023,\nsee the FP list\n","...":true}],"...":true}
