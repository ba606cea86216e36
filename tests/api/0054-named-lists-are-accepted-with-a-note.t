# a pattern using the regex module's named list \L<city> is accepted with a note
REQUEST POST /blacklists/watch-keyword
AUTH    $WRITER
BODY    {"pattern":"escorts?\\W+in\\W+\\L<city>0054"}
STATUS  201
EXPECT  {"items":[{"text_pattern":"escorts?\\W+in\\W+\\L<city>0054","...":true}],"numItems":1,"message":"$STR","...":true}
