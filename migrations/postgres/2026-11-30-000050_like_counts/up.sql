-- Each image's like count, stored, so the explore feed's popular order reads an index instead of
-- counting the likes of every public image per page. Kept exact by a trigger on `image_likes`
-- (in the statement that adds or removes the like, whoever writes it: the API, a seeder, a
-- cascade), backfilled here.
ALTER TABLE images ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
UPDATE images SET like_count = counted.n
FROM (SELECT image_id, COUNT(*) AS n FROM image_likes GROUP BY image_id) AS counted
WHERE counted.image_id = images.id;

-- The public feed by likes, then newest.
CREATE INDEX images_public_popular_idx ON images (like_count DESC, created_at DESC, id DESC)
    WHERE is_public AND archived_at IS NULL;

CREATE FUNCTION image_likes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE images SET like_count = like_count + 1 WHERE id = NEW.image_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE images SET like_count = like_count - 1 WHERE id = OLD.image_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER image_likes_count AFTER INSERT OR DELETE OR UPDATE OF image_id ON image_likes
    FOR EACH ROW EXECUTE FUNCTION image_likes_count();

-- Trending groups the likes of a recent window by image: covered by one index.
DROP INDEX image_likes_created_idx;
CREATE INDEX image_likes_window_idx ON image_likes (created_at, image_id);
