-- Each image's like count, stored, so the explore feed's popular order reads an index instead of
-- counting the likes of every public image per page. Kept exact by triggers on `image_likes`
-- (in the statement that adds or removes the like, whoever writes it: the API, a seeder, a
-- cascade), backfilled here.
ALTER TABLE images ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
UPDATE images SET like_count = (SELECT COUNT(*) FROM image_likes WHERE image_likes.image_id = images.id);

-- The public feed by likes, then newest.
CREATE INDEX images_public_popular_idx ON images (like_count DESC, created_at DESC, id DESC)
    WHERE is_public AND archived_at IS NULL;

CREATE TRIGGER image_likes_count_insert AFTER INSERT ON image_likes BEGIN
    UPDATE images SET like_count = like_count + 1 WHERE id = new.image_id;
END;
CREATE TRIGGER image_likes_count_delete AFTER DELETE ON image_likes BEGIN
    UPDATE images SET like_count = like_count - 1 WHERE id = old.image_id;
END;
CREATE TRIGGER image_likes_count_update AFTER UPDATE OF image_id ON image_likes BEGIN
    UPDATE images SET like_count = like_count - 1 WHERE id = old.image_id;
    UPDATE images SET like_count = like_count + 1 WHERE id = new.image_id;
END;

-- Trending groups the likes of a recent window by image: covered by one index.
DROP INDEX image_likes_created_idx;
CREATE INDEX image_likes_window_idx ON image_likes (created_at, image_id);
