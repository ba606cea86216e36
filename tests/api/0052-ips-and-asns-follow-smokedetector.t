# an ip with a prefix or a leading zero and a reserved AS number are 400, as SmokeDetector's validate() refuses them
REQUEST POST /blacklists/blacklist-cidr
AUTH    $WRITER
BODY    {"ip": "192.0.2.0/24"}
STATUS  400
REQUEST POST /blacklists/watch-cidr
AUTH    $WRITER
BODY    {"ip": "192.0.2.010"}
STATUS  400
REQUEST POST /blacklists/watch-asn
AUTH    $WRITER
BODY    {"asn": 64512}
STATUS  400
REQUEST POST /blacklists/watch-asn
AUTH    $WRITER
BODY    {"asn": "23456"}
STATUS  400
UNCHANGED
