# a name server SmokeDetector's host rule refuses (upper case, one label) is 400
REQUEST POST /blacklists/watch-ns
AUTH    $WRITER
BODY    {"ns": "NS3.Example.com."}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"$STR"}
REQUEST POST /blacklists/blacklist-ns
AUTH    $WRITER
BODY    {"ns": ["ns1.example0051.com.", "com."]}
STATUS  400
UNCHANGED
