DROP TABLE board_items;
DROP TABLE boards;
DROP FUNCTION board_items_close_gaps();
