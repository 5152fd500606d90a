-- Image variants (issue 21): blurhash placeholders and the leases that let one instance at a
-- time render a variant.

-- The blurhash of a board's stored thumbnail (`thumbnail_key`); NULL for a thumbnail URL a
-- client set, and whenever the thumbnail changes by any other way than a stored upload.
ALTER TABLE boards ADD COLUMN thumbnail_blurhash TEXT;

-- Named, expiring leases shared by every instance: `holder` has `name` until `until_ms`
-- (milliseconds since the epoch). An expired row is taken over by the next holder.
CREATE TABLE render_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- What the blurhash backfill still has to do, in id order (its keyset), without reading the
-- rows that are done.
CREATE INDEX images_missing_blurhash_idx ON images (id) WHERE blurhash IS NULL;
CREATE INDEX boards_missing_blurhash_idx ON boards (id)
    WHERE thumbnail_key IS NOT NULL AND thumbnail_blurhash IS NULL;
