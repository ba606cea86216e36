# a body over 64 KiB answers 413, declared or chunked
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODYFILL 70000
STATUS  413
EXPECT  {"items":[],"numItems":0,"error":"too_large","message":"$STR"}
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
HEADER  Transfer-Encoding: chunked
BODYFILL 70000
STATUS  413
