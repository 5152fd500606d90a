DROP INDEX images_storage_path_idx;
