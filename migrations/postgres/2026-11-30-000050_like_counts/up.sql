-- The explore feed's scored orders without counting every public image's likes per page.
-- Both columns below are kept by triggers, so they hold whoever writes a like (the API, a
-- seeder, a cascade), in the statement that writes it.

-- Each image's like count, for the popular order (by a partial index).
ALTER TABLE images ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
UPDATE images SET like_count = counted.n
FROM (SELECT image_id, COUNT(*) AS n FROM image_likes GROUP BY image_id) AS counted
WHERE counted.image_id = images.id;
CREATE INDEX images_public_popular_idx ON images (like_count DESC, created_at DESC, id DESC)
    WHERE is_public AND archived_at IS NULL;

-- The liked image's creation time on each like, so trending ranks the images liked in its
-- window (count, then recency) from one index of `image_likes` before it reads any image.
ALTER TABLE image_likes ADD COLUMN image_created_at BIGINT NOT NULL DEFAULT 0;
UPDATE image_likes SET image_created_at = images.created_at
FROM images WHERE images.id = image_likes.image_id;
DROP INDEX image_likes_created_idx;
CREATE INDEX image_likes_window_idx ON image_likes (created_at, image_id, image_created_at);

CREATE FUNCTION image_likes_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.image_created_at := (SELECT created_at FROM images WHERE id = NEW.image_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER image_likes_stamp BEFORE INSERT OR UPDATE OF image_id ON image_likes
    FOR EACH ROW EXECUTE FUNCTION image_likes_stamp();

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

CREATE FUNCTION images_restamp_likes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE image_likes SET image_created_at = NEW.created_at WHERE image_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER images_restamp_likes AFTER UPDATE OF created_at ON images
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION images_restamp_likes();
