-- The explore feed's scored orders without counting every public image's likes per page.
-- Both columns below are kept by triggers, so they hold whoever writes a like (the API, a
-- seeder, a cascade), in the statement that writes it.

-- Each image's like count, for the popular order (by a partial index).
ALTER TABLE images ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
UPDATE images SET like_count = (SELECT COUNT(*) FROM image_likes WHERE image_likes.image_id = images.id);
CREATE INDEX images_public_popular_idx ON images (like_count DESC, created_at DESC, id DESC)
    WHERE is_public AND archived_at IS NULL;

-- The liked image's creation time on each like, so trending ranks the images liked in its
-- window (count, then recency) from one index of `image_likes` before it reads any image.
ALTER TABLE image_likes ADD COLUMN image_created_at BIGINT NOT NULL DEFAULT 0;
UPDATE image_likes SET image_created_at = (SELECT created_at FROM images WHERE images.id = image_likes.image_id);
DROP INDEX image_likes_created_idx;
CREATE INDEX image_likes_window_idx ON image_likes (created_at, image_id, image_created_at);

CREATE TRIGGER image_likes_count_insert AFTER INSERT ON image_likes BEGIN
    UPDATE image_likes SET image_created_at = (SELECT created_at FROM images WHERE id = new.image_id)
        WHERE rowid = new.rowid;
    UPDATE images SET like_count = like_count + 1 WHERE id = new.image_id;
END;
CREATE TRIGGER image_likes_count_delete AFTER DELETE ON image_likes BEGIN
    UPDATE images SET like_count = like_count - 1 WHERE id = old.image_id;
END;
CREATE TRIGGER image_likes_count_update AFTER UPDATE OF image_id ON image_likes BEGIN
    UPDATE image_likes SET image_created_at = (SELECT created_at FROM images WHERE id = new.image_id)
        WHERE rowid = new.rowid;
    UPDATE images SET like_count = like_count - 1 WHERE id = old.image_id;
    UPDATE images SET like_count = like_count + 1 WHERE id = new.image_id;
END;
CREATE TRIGGER images_restamp_likes AFTER UPDATE OF created_at ON images
    WHEN old.created_at IS NOT new.created_at BEGIN
    UPDATE image_likes SET image_created_at = new.created_at WHERE image_id = new.id;
END;
