-- Helios schema, version 1.  Applied once, in a transaction, by
-- hl_store_open; PRAGMA user_version counts the migrations applied.

-- The lists: data, not code.  format names the text format of
-- SmokeDetector's file; version is that of the list's last change; count
-- is the number of its items (verbatim lines excluded), kept in the same
-- transaction as each change so that reading it costs nothing.
CREATE TABLE lists (
	id	TEXT PRIMARY KEY,
	file	TEXT NOT NULL UNIQUE,
	format	TEXT NOT NULL CHECK (format IN
		    ('plain', 'tsv', 'yaml_cidr', 'yaml_ns', 'yaml_asn')),
	version	INTEGER NOT NULL DEFAULT 0,
	count	INTEGER NOT NULL DEFAULT 0,
	ord	INTEGER NOT NULL
);
INSERT INTO lists (id, file, format, ord) VALUES
	('blacklist-keyword',  'bad_keywords.txt',          'plain',     1),
	('blacklist-website',  'blacklisted_websites.txt',  'plain',     2),
	('blacklist-username', 'blacklisted_usernames.txt', 'plain',     3),
	('blacklist-number',   'blacklisted_numbers.txt',   'plain',     4),
	('watch-keyword',      'watched_keywords.txt',      'tsv',       5),
	('watch-number',       'watched_numbers.txt',       'tsv',       6),
	('blacklist-cidr',     'blacklisted_cidrs.yml',     'yaml_cidr', 7),
	('watch-cidr',         'watched_cidrs.yml',         'yaml_cidr', 8),
	('blacklist-ns',       'blacklisted_nses.yml',      'yaml_ns',   9),
	('watch-ns',           'watched_nses.yml',          'yaml_ns',   10),
	('watch-asn',          'watched_asns.yml',          'yaml_asn',  11);

-- API tokens.  Only the SHA-256 of the secret is kept.  scopes is a
-- comma-separated subset of admin, write, approve.
CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL,
	hash		BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
	scopes		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	created_by	TEXT NOT NULL,
	revoked_at	INTEGER,
	last_used_at	INTEGER
);

-- List items in file order (pos).  vkey is the duplicate key
-- (hl_item_key): unique within a list.  Verbatim rows are the lines
-- SmokeDetector skips (comments, blank lines), kept for byte-exact export;
-- their vkey is "\x01<occurrence>:<line>" so that re-imports match them.
CREATE TABLE items (
	id		INTEGER PRIMARY KEY,
	list_id		TEXT NOT NULL REFERENCES lists(id),
	pos		INTEGER NOT NULL,
	value		TEXT NOT NULL,
	vkey		TEXT NOT NULL,
	verbatim	INTEGER NOT NULL DEFAULT 0,
	comment		TEXT,
	disabled	INTEGER NOT NULL DEFAULT 0,
	pass		INTEGER NOT NULL DEFAULT 0,
	ns_seq		INTEGER NOT NULL DEFAULT 0,
	yaml_keys	TEXT,	-- key order of a hand-edited yaml item
	created_at	INTEGER NOT NULL,
	created_by	TEXT NOT NULL,
	modified_at	INTEGER NOT NULL,
	modified_by	TEXT NOT NULL,
	token_id	INTEGER REFERENCES tokens(id),
	UNIQUE (list_id, vkey)
);
CREATE INDEX items_pos ON items (list_id, pos);

-- Chat notifications, one record set (not a list file).
CREATE TABLE notifications (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL,
	server		TEXT NOT NULL,
	room_id		INTEGER NOT NULL,
	site		TEXT NOT NULL,
	always_ping	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	created_by	TEXT NOT NULL,
	token_id	INTEGER REFERENCES tokens(id),
	UNIQUE (user_id, server, room_id, site)
);

-- The audit log.  Each committed change appends one row in the same
-- transaction; its version is the new version of the data.  record is the
-- JSON of the item after an add, or before a delete.
CREATE TABLE events (
	version		INTEGER PRIMARY KEY AUTOINCREMENT,
	at		INTEGER NOT NULL,
	op		TEXT NOT NULL CHECK (op IN ('add', 'delete')),
	list_id		TEXT NOT NULL,
	value		TEXT NOT NULL,
	record		TEXT NOT NULL,
	actor		TEXT NOT NULL,
	token_id	INTEGER
);

-- Small named values: notifications_version.
CREATE TABLE meta (
	key	TEXT PRIMARY KEY,
	value	TEXT NOT NULL
);
INSERT INTO meta VALUES ('notifications_version', '0');

-- Publication state per target (URL without credentials).
CREATE TABLE targets (
	name		TEXT PRIMARY KEY,
	version		INTEGER NOT NULL DEFAULT 0,
	published_at	INTEGER,
	attempted_at	INTEGER,
	last_error	TEXT
);
