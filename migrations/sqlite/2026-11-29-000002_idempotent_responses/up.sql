-- An `Idempotency-Key` keeps the first answer it was given (status and body, byte for byte),
-- replayed to every retry; NULL while the first request is still running. It replaces the
-- freeGenerationsRemaining the retries were rebuilt from.
ALTER TABLE idempotency_keys ADD COLUMN response_status INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN response_body BLOB;
ALTER TABLE idempotency_keys DROP COLUMN free_generations_remaining;
-- Keys expire (IDEMPOTENCY_KEY_TTL_SECS); the reconciler deletes the oldest first.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
