-- Picture's schema (PostgreSQL). Column types are kept portable with the SQLite schema:
-- ids are UUIDs in text form, timestamps are milliseconds since the Unix epoch (UTC) in BIGINT,
-- credits are BIGINT. The columns follow the original backend's Drizzle schema, with its
-- defects fixed: text user ids everywhere, one image per generation, no nullable defaults.

CREATE TABLE models (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description TEXT,
    replicate_id TEXT NOT NULL,
    version TEXT,
    default_width INTEGER NOT NULL DEFAULT 1024,
    default_height INTEGER NOT NULL DEFAULT 1024,
    default_steps INTEGER NOT NULL DEFAULT 25,
    default_guidance_scale DOUBLE PRECISION NOT NULL DEFAULT 7.5,
    min_width INTEGER NOT NULL DEFAULT 512,
    min_height INTEGER NOT NULL DEFAULT 512,
    max_width INTEGER NOT NULL DEFAULT 2048,
    max_height INTEGER NOT NULL DEFAULT 2048,
    max_steps INTEGER NOT NULL DEFAULT 50,
    supports_negative_prompt BOOLEAN NOT NULL DEFAULT TRUE,
    supports_img2img BOOLEAN NOT NULL DEFAULT FALSE,
    supports_seed BOOLEAN NOT NULL DEFAULT TRUE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order INTEGER NOT NULL DEFAULT 0,
    cost_per_generation DOUBLE PRECISION,
    estimated_time_seconds INTEGER,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- At most one default model.
CREATE UNIQUE INDEX models_single_default_idx ON models (is_default) WHERE is_default;

CREATE TABLE image_generations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    model_id TEXT REFERENCES models (id) ON DELETE SET NULL,
    batch_id TEXT,
    prompt TEXT NOT NULL,
    negative_prompt TEXT,
    model TEXT,
    style TEXT,
    source_image_url TEXT,
    width INTEGER,
    height INTEGER,
    steps INTEGER,
    guidance_scale DOUBLE PRECISION,
    seed BIGINT,
    generation_strength DOUBLE PRECISION,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'queued', 'processing', 'completed', 'failed', 'cancelled')),
    replicate_prediction_id TEXT,
    error_message TEXT,
    generation_time_seconds INTEGER,
    retry_count INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0,
    -- How the generation is paid for: decided before the provider is called.
    billing TEXT NOT NULL DEFAULT 'none' CHECK (billing IN ('none', 'free', 'paid', 'unbilled')),
    credits_used BIGINT NOT NULL DEFAULT 0 CHECK (credits_used >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX image_generations_user_created_idx ON image_generations (user_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX image_generations_prediction_idx ON image_generations (replicate_prediction_id)
    WHERE replicate_prediction_id IS NOT NULL;
CREATE INDEX image_generations_status_updated_idx ON image_generations (status, updated_at);
CREATE INDEX image_generations_model_id_idx ON image_generations (model_id);

CREATE TABLE images (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    generation_id TEXT REFERENCES image_generations (id) ON DELETE SET NULL,
    source_image_id TEXT,
    prompt TEXT NOT NULL,
    negative_prompt TEXT,
    model TEXT,
    style TEXT,
    public_url TEXT,
    storage_path TEXT NOT NULL,
    filename TEXT NOT NULL,
    format TEXT,
    width INTEGER,
    height INTEGER,
    file_size BIGINT,
    blurhash TEXT,
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    is_favorite BOOLEAN NOT NULL DEFAULT FALSE,
    download_count INTEGER NOT NULL DEFAULT 0,
    rating INTEGER,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One image per generation: a duplicated finalisation cannot create a second one.
CREATE UNIQUE INDEX images_generation_id_idx ON images (generation_id) WHERE generation_id IS NOT NULL;
CREATE INDEX images_user_gallery_idx ON images (user_id, created_at DESC, id DESC);
CREATE INDEX images_public_created_idx ON images (created_at DESC, id DESC) WHERE is_public;
CREATE INDEX images_source_image_id_idx ON images (source_image_id);

CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    username TEXT,
    email TEXT NOT NULL,
    avatar_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The local credit ledger and free-tier accounting.
CREATE TABLE credit_accounts (
    user_id TEXT PRIMARY KEY,
    -- Spendable credits (holds already deducted); never negative.
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    -- Credits held for generations in flight.
    held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0),
    total_earned BIGINT NOT NULL DEFAULT 0 CHECK (total_earned >= 0),
    total_spent BIGINT NOT NULL DEFAULT 0 CHECK (total_spent >= 0),
    -- Free generations taken (a failed or cancelled one gives its slot back).
    free_generations_used INTEGER NOT NULL DEFAULT 0 CHECK (free_generations_used >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Append-only: every grant, hold, capture and release, each at most once per idempotency key
-- (`reserve:{generationId}`, `capture:{generationId}`, … or the caller's key for grants).
CREATE TABLE credit_entries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    generation_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'capture', 'release')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    reason TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_entries_user_created_idx ON credit_entries (user_id, created_at);
CREATE INDEX credit_entries_generation_idx ON credit_entries (generation_id);
