-- Full-text search over prompts for the explore feed: an external-content FTS5 table over
-- `images` (keyed by its rowid), kept in step by triggers. unicode61 without diacritics removal
-- tokenizes as PostgreSQL's `simple` configuration does (lower-cased words, no stemming).
-- Queries are built from the user's words as quoted prefix terms (`"word"*`), never raw FTS syntax.
-- `images` has no INTEGER PRIMARY KEY, so a VACUUM may renumber its rowids: after one, run
-- `INSERT INTO images_fts(images_fts) VALUES ('rebuild')`.
-- (PostgreSQL keeps the same index as the column `images.search_vector`; migration_drift.rs
-- lists both.)
CREATE VIRTUAL TABLE images_fts USING fts5 (
    prompt,
    content = 'images',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO images_fts (images_fts) VALUES ('rebuild');

CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_fts (rowid, prompt) VALUES (new.rowid, new.prompt);
END;
CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
END;
CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
    INSERT INTO images_fts (rowid, prompt) VALUES (new.rowid, new.prompt);
END;

-- Trending counts the likes of a recent window.
CREATE INDEX image_likes_created_idx ON image_likes (created_at);
