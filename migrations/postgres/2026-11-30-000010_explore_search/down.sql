DROP INDEX image_likes_created_idx;
DROP INDEX images_search_idx;
ALTER TABLE images DROP COLUMN search_vector;
