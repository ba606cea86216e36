# a value over 4096 bytes answers 413 too_large
UNCHANGED
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODYFILL 5000
STATUS  413
EXPECT  {"items":[],"numItems":0,"error":"too_large","message":"$STR"}
