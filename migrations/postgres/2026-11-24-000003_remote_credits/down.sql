DROP TABLE remote_charges;
ALTER TABLE image_generations DROP COLUMN ledger;
