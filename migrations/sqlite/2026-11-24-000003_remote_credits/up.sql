-- Where a paid generation's credits live: 'local' (the ledger in this database) or 'remote'
-- (the mana-core credits service, charged after success through remote_charges).
ALTER TABLE image_generations ADD COLUMN ledger TEXT NOT NULL DEFAULT 'local'
    CHECK (ledger IN ('local', 'remote'));

-- Charges owed to the remote credits service: written in the transaction that completes a
-- remotely paid generation, settled once the service has answered. A charge whose outcome is
-- unknown stays 'due' and is retried with the same idempotency key (the generation id).
CREATE TABLE remote_charges (
    generation_id TEXT PRIMARY KEY REFERENCES image_generations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    state TEXT NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'charged', 'refused')),
    reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX remote_charges_due_idx ON remote_charges (state, created_at);
