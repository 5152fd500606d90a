-- When an instance last asked the provider about a processing generation (epoch ms). Pollers
-- claim it by compare-and-set, so the provider is asked at most once per generation and
-- interval whoever polls and on whichever instance.
ALTER TABLE image_generations ADD COLUMN provider_checked_at BIGINT;

-- Sliding-window rate limits replace the fixed-window counters.
DROP TABLE rate_counters;

-- One row per limited scope (e.g. a user's generation starts). Every admission attempt
-- updates it first, which serialises the attempts of one scope across instances; `attempts`
-- numbers them.
CREATE TABLE rate_limit_scopes (
    scope TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL
);

-- The admitted events of a scope (epoch ms) within its longest window; older ones are
-- deleted by the next attempt.
CREATE TABLE rate_limit_events (
    scope TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (scope, attempt)
);
CREATE INDEX rate_limit_events_scope_at_idx ON rate_limit_events (scope, at);
