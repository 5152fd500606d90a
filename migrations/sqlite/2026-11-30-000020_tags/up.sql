-- Each user's tags. `name_key` is the name in lower case (Unicode, folded by the server so
-- both databases compare alike): a user's tag names are unique without regard to case.
CREATE TABLE tags (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    color TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The uniqueness rule, and the user's tag list in name order.
CREATE UNIQUE INDEX tags_user_name_key_idx ON tags (user_id, name_key);

-- Which tag is on which image. Deleting an image or a tag deletes its links.
CREATE TABLE image_tags (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    tag_id TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (image_id, tag_id)
);
-- The gallery's tag filter looks images up by tag; a tag's deletion cascades through it.
CREATE INDEX image_tags_tag_id_idx ON image_tags (tag_id, image_id);
