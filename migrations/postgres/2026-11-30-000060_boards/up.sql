-- Mood boards: a canvas of a user's images and text. Anyone signed in reads a public board;
-- only its owner changes it. Times are milliseconds since the epoch, as everywhere.
CREATE TABLE boards (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    thumbnail_url TEXT,
    -- The stored thumbnail's object key, deleted with the board or on the next upload.
    thumbnail_key TEXT,
    canvas_width INTEGER NOT NULL DEFAULT 2000,
    canvas_height INTEGER NOT NULL DEFAULT 1500,
    background_color TEXT NOT NULL DEFAULT '#ffffff',
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A user's boards, newest change first.
CREATE INDEX boards_user_updated_idx ON boards (user_id, updated_at DESC, id DESC);
-- Public boards, newest change first.
CREATE INDEX boards_public_updated_idx ON boards (updated_at DESC, id DESC) WHERE is_public;

-- What lies on a board. `item_type` is 'image' (with `image_id`) or 'text' (with
-- `text_content`). `z_index` is the stacking order, dense from 0 and unique per board (kept
-- so by every write, which locks the board first). `properties` is a JSON object, as text.
-- Deleting a board deletes its items; deleting an image deletes the items showing it.
CREATE TABLE board_items (
    id TEXT PRIMARY KEY,
    board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    image_id TEXT REFERENCES images (id) ON DELETE CASCADE,
    item_type TEXT NOT NULL,
    position_x DOUBLE PRECISION NOT NULL DEFAULT 0,
    position_y DOUBLE PRECISION NOT NULL DEFAULT 0,
    scale_x DOUBLE PRECISION NOT NULL DEFAULT 1,
    scale_y DOUBLE PRECISION NOT NULL DEFAULT 1,
    rotation DOUBLE PRECISION NOT NULL DEFAULT 0,
    z_index INTEGER NOT NULL DEFAULT 0,
    opacity DOUBLE PRECISION NOT NULL DEFAULT 1,
    width INTEGER,
    height INTEGER,
    text_content TEXT,
    font_size INTEGER,
    color TEXT,
    properties TEXT,
    created_at BIGINT NOT NULL
);
-- A board's items in stacking order.
CREATE INDEX board_items_board_z_idx ON board_items (board_id, z_index);
-- An image's deletion cascades through it; "is this image on the board" looks it up.
CREATE INDEX board_items_image_idx ON board_items (image_id, board_id);

-- Closes the gaps a deletion leaves in the boards' stacks (a deleted image takes its items
-- with it by cascade): once per statement, with the deleted rows as a transition table, the
-- touched boards are locked (in id order) and their items renumbered 0..n-1 in stacking order.
-- Per-row triggers would not do on PostgreSQL: they run after the whole statement with the
-- rows' old places, so a decrement per deleted row miscounts adjacent deletions. A deleted
-- board's items are all gone, so its cascade renumbers nothing.
CREATE FUNCTION board_items_close_gaps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM boards WHERE id IN (SELECT board_id FROM gone) ORDER BY id FOR UPDATE;
    UPDATE board_items AS item
    SET z_index = ranked.place
    FROM (
        SELECT id,
               (ROW_NUMBER() OVER (PARTITION BY board_id ORDER BY z_index, created_at, id) - 1)::INTEGER AS place
        FROM board_items
        WHERE board_id IN (SELECT board_id FROM gone)
    ) AS ranked
    WHERE item.id = ranked.id AND item.z_index <> ranked.place;
    RETURN NULL;
END;
$$;
CREATE TRIGGER board_items_close_gaps AFTER DELETE ON board_items
REFERENCING OLD TABLE AS gone
FOR EACH STATEMENT EXECUTE FUNCTION board_items_close_gaps();

-- The lock order of every writer of boards and items: an image before a board before items.
-- An image's deletion holds the image (its row is locked before a BEFORE trigger runs) and then
-- would delete its items by cascade before the trigger above locks their boards, while a writer
-- holding a board updates those boards' items (a move, the renumbering): a cycle. So the boards
-- showing the image are locked here first, in id order. An item showing the image cannot be
-- added meanwhile: adding one holds the image `FOR KEY SHARE` before locking its board.
CREATE FUNCTION images_lock_boards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM boards
    WHERE id IN (SELECT board_id FROM board_items WHERE image_id = OLD.id)
    ORDER BY id FOR UPDATE;
    RETURN OLD;
END;
$$;
CREATE TRIGGER images_lock_boards BEFORE DELETE ON images
FOR EACH ROW EXECUTE FUNCTION images_lock_boards();
