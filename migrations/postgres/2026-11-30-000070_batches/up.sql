-- Batches that run (issue 19). A batch is its shared settings; its items are its generations
-- (`image_generations.batch_id`, `priority` = the prompt's index), so its counts and status
-- are derived from them on every read and never drift. The original schema's counters and
-- status columns are not kept.
CREATE TABLE batch_generations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    model_id TEXT,
    model_version TEXT,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    guidance_scale DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX batch_generations_user_created_idx ON batch_generations (user_id, created_at DESC, id DESC);

-- The durable queue: a batch item is `queued` until a worker claims it. A claim names its
-- worker and lasts until `claim_until` (ms); a claim whose worker stopped before recording a
-- prediction is taken again after it. `claimed_at` is when the current claim began.
ALTER TABLE image_generations ADD COLUMN claim_owner TEXT;
ALTER TABLE image_generations ADD COLUMN claimed_at BIGINT;
ALTER TABLE image_generations ADD COLUMN claim_until BIGINT;
-- A batch's items in order.
CREATE INDEX image_generations_batch_idx ON image_generations (batch_id, priority)
    WHERE batch_id IS NOT NULL;
-- The queue and the per-user count of items in flight read only unfinished batch items.
CREATE INDEX image_generations_batch_open_idx ON image_generations (user_id, created_at, priority)
    WHERE batch_id IS NOT NULL AND status IN ('queued', 'processing');
