# a body that is not valid UTF-8 answers 400 invalid_utf8
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODYHEX 7b227061747465726e223a2261c328227d
STATUS  400
EXPECT  {"items":[],"numItems":0,"error":"invalid_utf8","message":"$STR"}
