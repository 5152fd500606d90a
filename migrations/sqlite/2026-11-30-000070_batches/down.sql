DROP INDEX image_generations_batch_open_idx;
DROP INDEX image_generations_batch_idx;
ALTER TABLE image_generations DROP COLUMN claim_until;
ALTER TABLE image_generations DROP COLUMN claimed_at;
ALTER TABLE image_generations DROP COLUMN claim_owner;
DROP TABLE batch_generations;
