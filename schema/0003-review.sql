-- Review before publish: per-list policy, limited and expiring tokens,
-- proposals and the provenance of approved items.

-- A list's policy: 'direct' (a write publishes at once) or 'review' (a
-- write by a token without approve becomes a proposal).  Set from the
-- config file's review_lists when the daemon starts.
ALTER TABLE lists ADD COLUMN policy TEXT NOT NULL DEFAULT 'direct'
	CHECK (policy IN ('direct', 'review'));

-- lists: comma-separated list ids or shell patterns ("watch-*") the token
-- may act on; NULL for all.  expires_at: a token is refused from then on;
-- NULL for never.  scopes may now also hold propose.
ALTER TABLE tokens ADD COLUMN lists TEXT;
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;

-- The review record of an item published by approving a proposal (JSON:
-- proposal, requester, approver, reason, evidence, comment); NULL for a
-- direct write.
ALTER TABLE items ADD COLUMN review TEXT;

-- Proposals.  op 'add' proposes value for list_id; 'delete' its removal.
-- checks is the JSON of the automatic checks, evidence the client's JSON
-- ({links, tp, fp, naa}).  A decision sets state, decided_*, and for an
-- approval or a conversion the list the item went to (target) and its id.
CREATE TABLE proposals (
	id		INTEGER PRIMARY KEY,
	list_id		TEXT NOT NULL REFERENCES lists(id),
	op		TEXT NOT NULL DEFAULT 'add' CHECK (op IN ('add', 'delete')),
	value		TEXT NOT NULL,
	comment		TEXT,
	disabled	INTEGER NOT NULL DEFAULT 0,
	pass		INTEGER NOT NULL DEFAULT 0,
	ns_seq		INTEGER NOT NULL DEFAULT 0,
	requester	TEXT NOT NULL,
	token_id	INTEGER REFERENCES tokens(id),
	token_name	TEXT NOT NULL,
	reason		TEXT,
	evidence	TEXT,
	checks		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
			    ('pending', 'approved', 'rejected', 'converted',
			     'withdrawn')),
	created_at	INTEGER NOT NULL,
	decided_at	INTEGER,
	decided_by	TEXT,
	decided_token_id INTEGER,
	decision	TEXT,
	target		TEXT,
	item_id		INTEGER
);
CREATE INDEX proposals_state ON proposals (state, list_id);

INSERT INTO meta VALUES ('proposals_version', '0');
