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
    position_x REAL NOT NULL DEFAULT 0,
    position_y REAL NOT NULL DEFAULT 0,
    scale_x REAL NOT NULL DEFAULT 1,
    scale_y REAL NOT NULL DEFAULT 1,
    rotation REAL NOT NULL DEFAULT 0,
    z_index INTEGER NOT NULL DEFAULT 0,
    opacity REAL NOT NULL DEFAULT 1,
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

-- Closes the gap a deleted item leaves in its board's stack (a deleted image takes its items
-- with it by cascade): SQLite runs row triggers as each row is deleted, with the row's current
-- place, so one decrement per row keeps the stack 0..n-1. A board's own deletion skips it (the
-- board row is gone before its items), so deleting a board stays linear.
CREATE TRIGGER board_items_close_gap AFTER DELETE ON board_items
FOR EACH ROW WHEN EXISTS (SELECT 1 FROM boards WHERE id = OLD.board_id)
BEGIN
    UPDATE board_items SET z_index = z_index - 1
    WHERE board_id = OLD.board_id AND z_index > OLD.z_index;
END;
