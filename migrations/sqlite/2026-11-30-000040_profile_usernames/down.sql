DROP INDEX profiles_username_key_idx;
ALTER TABLE profiles DROP COLUMN username_key;
