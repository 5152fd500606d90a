-- User names are unique regardless of case: the repository writes the lower-case name (names
-- are ASCII, so Rust's lowering is the same on both databases) beside the name as chosen.
ALTER TABLE profiles ADD COLUMN username_key TEXT;
UPDATE profiles SET username_key = lower(username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX profiles_username_key_idx ON profiles (username_key);
