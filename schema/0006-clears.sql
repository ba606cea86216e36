-- Helios schema, migration 6: a value added to a blacklist leaves the
-- watchlists, as SmokeDetector's GitManager.add_to_blacklist takes it out
-- of watched_keywords.txt and watched_numbers.txt in the same commit.
--
-- clears names, space-separated, the lists from which an add to this list
-- deletes the same value (by that list's key, with its copies) in the
-- same transaction, each delete its own audit event by the same actor.
-- Only adds through the API and approved proposals do; imports, git
-- replays and restores take the files as they are.
ALTER TABLE lists ADD COLUMN clears TEXT;
UPDATE lists SET clears = 'watch-keyword watch-number'
    WHERE id IN ('blacklist-keyword', 'blacklist-website',
	'blacklist-username', 'blacklist-number');
