-- A short lease taken by whoever finalises a generation (download, store, record), so racing
-- finalisers (sync waiter, webhook, status poll, reconciler) download and store it once.
ALTER TABLE image_generations ADD COLUMN finalize_lease_until BIGINT;
