-- Each model names the provider that serves it, and each generation the provider that runs
-- it, so one server routes submit, status, cancel and webhooks to several providers.
-- Existing rows: the offline preview and generations the offline renderer ran (their
-- prediction ids start with `offline-`) are `offline`; everything else ran on Replicate.
ALTER TABLE models ADD COLUMN provider TEXT NOT NULL DEFAULT 'replicate';
UPDATE models SET provider = 'offline' WHERE replicate_id LIKE 'offline/%';
ALTER TABLE image_generations ADD COLUMN provider TEXT NOT NULL DEFAULT 'replicate';
UPDATE image_generations SET provider = 'offline' WHERE replicate_prediction_id LIKE 'offline-%';
