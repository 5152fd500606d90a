-- The owner of a finalisation lease: a random token drawn by each claim, so only the holder
-- renews the lease, completes the generation or fails it while the lease is live.
ALTER TABLE image_generations ADD COLUMN finalize_lease_owner TEXT;
-- Until when a reconciler pass has taken the row: the reconcilers of several instances take
-- disjoint rows instead of each polling every row.
ALTER TABLE image_generations ADD COLUMN reconcile_until BIGINT;
