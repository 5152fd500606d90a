DROP TRIGGER images_lock_boards ON images;
DROP FUNCTION images_lock_boards();
DROP TABLE board_items;
DROP TABLE boards;
DROP FUNCTION board_items_close_gaps();
