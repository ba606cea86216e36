# an approve token approves: the item is published with requester, approver, reason, evidence and proposal id; a second decision is 409
REQUEST POST /auth/create
AUTH    $ADMIN
BODY    {"name":"api-0063-reviewer","scopes":["approve"]}
STATUS  201
SAVE    A63 items.0.token
REQUEST POST /blacklists/blacklist-website
AUTH    $WRITER
BODY    {"pattern":"api-0063\\.example","requester":"tripleee","reason":"spam wave","evidence":{"links":["https://example.org/ms/1"],"tp":5}}
STATUS  202
SAVE    ID63 proposal
REQUEST POST /proposals/$ID63/approve
AUTH    $A63
BODY    {"comment":"clear spam","by":"Makyen"}
STATUS  200
EXPECT  {"items":[{"id":"$ID63","state":"approved","decided_by":"Makyen","decision":"clear spam","decided_at":"$INT","target":"blacklist-website","item_id":"$INT","...":true}],"numItems":1,"message":"$STR","version":"$INT","item":{"text_pattern":"api-0063\\.example","created_by":"tripleee","review":{"proposal":"$ID63","requester":"tripleee","requester_token":"api-tests","approver":"Makyen","comment":"clear spam","reason":"spam wave","evidence":{"links":["https://example.org/ms/1"],"tp":5}},"...":true}}
REQUEST GET /blacklists/blacklist-website
STATUS  200
EXPECT  {"items":[{"text_pattern":"api-0063\\.example","review":{"proposal":"$ID63","approver":"Makyen","...":true},"...":true}],"numItems":1,"message":"$STR","version":"$INT"}
REQUEST GET /proposals?state=approved&list=blacklist-website
STATUS  200
EXPECT  {"items":[{"id":"$ID63","state":"approved","...":true}],"numItems":1,"message":"$STR","version":"$INT"}
REQUEST POST /proposals/$ID63/reject
AUTH    $A63
BODY    {"reason":"changed my mind"}
STATUS  409
EXPECT  {"items":[{"id":"$ID63","state":"approved","...":true}],"numItems":1,"error":"conflict","message":"$STR"}
