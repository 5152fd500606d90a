ALTER TABLE image_generations DROP COLUMN provider;
ALTER TABLE models DROP COLUMN provider;
