ALTER TABLE image_generations DROP COLUMN finalize_lease_until;
