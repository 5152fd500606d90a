DROP TABLE board_items;
DROP TABLE boards;
