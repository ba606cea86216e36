-- Helios schema, migration 4: where an item imported from SmokeDetector's
-- git repository came from.
--
-- origin is the JSON (compact, sorted keys) of the commit that added the
-- item: {"author", "commit", "requester"?, "subject", "time"}, published in
-- the item's JSON; NULL for items that did not come from git.  The last
-- commit imported is kept in meta under 'git_sync' (helios import --git
-- --sync continues from it).
ALTER TABLE items ADD COLUMN origin TEXT;
