-- The orphan sweep asks which of a page of stored keys an image row holds
-- (`storage_path IN (…)`, up to 1000 keys a page): without this index every page scans the table.
CREATE INDEX images_storage_path_idx ON images (storage_path);
