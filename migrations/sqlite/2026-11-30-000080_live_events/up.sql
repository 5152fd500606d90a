-- Live progress (issue 20): the event log behind the event streams. Every change a client can
-- watch is written here by triggers, in the transaction that makes the change. SQLite has one
-- writer at a time, so ids are taken in commit order: `seq` is the id.
CREATE TABLE live_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    generation_id TEXT,
    batch_id TEXT,
    status TEXT,
    progress REAL,
    created_at BIGINT NOT NULL
);
CREATE INDEX live_events_user_seq_idx ON live_events (user_id, seq);
CREATE INDEX live_events_generation_seq_idx ON live_events (generation_id, seq)
    WHERE generation_id IS NOT NULL;
CREATE INDEX live_events_created_idx ON live_events (created_at);
-- The oldest retained event (`horizon`: a reconnect older than it may have missed some).
CREATE INDEX live_events_seq_idx ON live_events (seq);

CREATE TRIGGER live_events_seq AFTER INSERT ON live_events
BEGIN
    UPDATE live_events SET seq = NEW.id WHERE id = NEW.id;
END;

CREATE TRIGGER image_generations_live_insert AFTER INSERT ON image_generations
BEGIN
    INSERT INTO live_events (user_id, kind, generation_id, batch_id, status, created_at)
    VALUES (NEW.user_id, 'generation', NEW.id, NEW.batch_id, NEW.status,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER image_generations_live_status AFTER UPDATE OF status ON image_generations
    WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO live_events (user_id, kind, generation_id, batch_id, status, created_at)
    VALUES (NEW.user_id, 'generation', NEW.id, NEW.batch_id, NEW.status,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER credit_accounts_live_insert AFTER INSERT ON credit_accounts
BEGIN
    INSERT INTO live_events (user_id, kind, created_at)
    VALUES (NEW.user_id, 'credits', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER credit_accounts_live_update AFTER UPDATE ON credit_accounts
    WHEN NEW.balance IS NOT OLD.balance OR NEW.held IS NOT OLD.held
        OR NEW.free_generations_used IS NOT OLD.free_generations_used
BEGIN
    INSERT INTO live_events (user_id, kind, created_at)
    VALUES (NEW.user_id, 'credits', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TABLE live_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    opened_at BIGINT NOT NULL
);
CREATE INDEX live_streams_user_idx ON live_streams (user_id);
CREATE INDEX live_streams_instance_idx ON live_streams (instance_id);
CREATE TABLE live_instances (
    instance_id TEXT PRIMARY KEY,
    alive_until BIGINT NOT NULL
);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
