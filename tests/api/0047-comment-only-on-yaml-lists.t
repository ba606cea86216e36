# comment, disable and pass are refused on the pattern lists
UNCHANGED
REQUEST POST /blacklists/blacklist-keyword
AUTH    $WRITER
BODY    {"pattern":"api-0047","comment":"why"}
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid","message":"comment, disable and pass apply only to the yaml lists"}
