DROP INDEX idempotency_keys_created_idx;
ALTER TABLE idempotency_keys ADD COLUMN free_generations_remaining INTEGER;
ALTER TABLE idempotency_keys DROP COLUMN response_body;
ALTER TABLE idempotency_keys DROP COLUMN response_status;
