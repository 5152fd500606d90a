ALTER TABLE image_generations DROP COLUMN reconcile_until;
ALTER TABLE image_generations DROP COLUMN finalize_lease_owner;
