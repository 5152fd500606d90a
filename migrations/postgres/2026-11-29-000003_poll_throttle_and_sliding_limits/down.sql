DROP TABLE rate_limit_events;
DROP TABLE rate_limit_scopes;
CREATE TABLE rate_counters (
    scope TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start)
);
ALTER TABLE image_generations DROP COLUMN provider_checked_at;
