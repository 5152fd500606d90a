-- Likes of images (one per user and image).
CREATE TABLE image_likes (
    id TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (image_id, user_id)
);
CREATE INDEX image_likes_image_id_idx ON image_likes (image_id);

-- `Idempotency-Key` of POST /generate: a retried request with the same key and body returns
-- the first generation and starts nothing new.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    -- The first response's freeGenerationsRemaining, once the generation has started.
    free_generations_remaining INTEGER,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
