-- Helios schema, migration 2: lossless round trips and SmokeDetector's own
-- duplicate rules.
--
-- src is the exact text an item was read from (its lines, with their
-- '\n'), kept only when rendering the item would not give it back (a
-- folded yaml block scalar, a hand-wrapped comment, trailing spaces); an
-- item the API has not touched is written back as read.
--
-- dup_of is the id of the item a duplicate repeats (the same value twice
-- in a file, as the format's own rule compares them).  A duplicate keeps
-- its place in the file and is not counted; its vkey is
-- "\x02<occurrence>:<key>" so that the first copy keeps the plain key.
ALTER TABLE items ADD COLUMN src TEXT;
ALTER TABLE items ADD COLUMN dup_of INTEGER;
CREATE INDEX items_dup_of ON items (dup_of) WHERE dup_of IS NOT NULL;

-- SmokeDetector compares tsv patterns and yaml keys exactly (only the
-- plain lists compare case-insensitively): the keys of those lists become
-- the values themselves.  Keys that were unique case-insensitively are
-- unique exactly too.
UPDATE items SET vkey = value
	WHERE verbatim = 0 AND list_id IN
	    (SELECT id FROM lists WHERE format IN ('tsv', 'yaml_ns'));
