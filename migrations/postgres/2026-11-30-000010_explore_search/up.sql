-- Full-text search over prompts for the explore feed: a generated tsvector (the `simple`
-- configuration: lower-cased words, no stemming, no stop words, as SQLite's unicode61 tokenizer)
-- with a GIN index. Queries are built from the user's words as prefix terms (`'word':*`).
-- (SQLite keeps the same index in the FTS5 table `images_fts`; migration_drift.rs lists both.)
ALTER TABLE images
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', prompt)) STORED;
CREATE INDEX images_search_idx ON images USING gin (search_vector);

-- Trending counts the likes of a recent window.
CREATE INDEX image_likes_created_idx ON image_likes (created_at);
