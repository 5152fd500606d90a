DROP TRIGGER images_restamp_likes;
DROP TRIGGER image_likes_count_update;
DROP TRIGGER image_likes_count_delete;
DROP TRIGGER image_likes_count_insert;
DROP INDEX image_likes_window_idx;
CREATE INDEX image_likes_created_idx ON image_likes (created_at);
ALTER TABLE image_likes DROP COLUMN image_created_at;
DROP INDEX images_public_popular_idx;
ALTER TABLE images DROP COLUMN like_count;
