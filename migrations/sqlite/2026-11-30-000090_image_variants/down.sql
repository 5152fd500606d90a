DROP INDEX boards_missing_blurhash_idx;
DROP INDEX images_missing_blurhash_idx;
DROP TABLE render_leases;
ALTER TABLE boards DROP COLUMN thumbnail_blurhash;
