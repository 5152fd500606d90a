DROP INDEX image_likes_created_idx;
DROP TRIGGER images_fts_update;
DROP TRIGGER images_fts_delete;
DROP TRIGGER images_fts_insert;
DROP TABLE images_fts;
