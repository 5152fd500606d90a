-- Webhook deliveries already applied (`webhook-id`), kept for a few minutes, so a replay is
-- recognised by whichever instance it reaches.
CREATE TABLE webhook_deliveries (
    webhook_id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at);

-- Fixed-window counters of rate limits shared by every instance: one row per scope (e.g. a
-- user's generations per minute) and window start (epoch ms).
CREATE TABLE rate_counters (
    scope TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start)
);
