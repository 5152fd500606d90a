-- Live progress (issue 20): the event log behind the event streams. Every change a client can
-- watch is written here by triggers, in the transaction that makes the change, so no code path
-- can change a generation or an account without its event, and a rolled-back change has none.
CREATE TABLE live_events (
    -- Insertion order only (a sequence value is taken when the row is inserted, not when its
    -- transaction commits).
    id BIGSERIAL PRIMARY KEY,
    -- The SSE `id:`: taken when the transaction commits (the deferred trigger below), under a
    -- per-user lock, so one user's events are numbered in commit order and "every event after
    -- N" misses none. NULL only inside the writing transaction.
    seq BIGINT,
    user_id TEXT NOT NULL,
    -- 'generation' (a status change or reported progress) or 'credits'.
    kind TEXT NOT NULL,
    generation_id TEXT,
    batch_id TEXT,
    status TEXT,
    -- 0..1, when the provider reported progress.
    progress DOUBLE PRECISION,
    -- ms since the epoch (for pruning after the replay window).
    created_at BIGINT NOT NULL
);
CREATE SEQUENCE live_event_seq;
CREATE INDEX live_events_user_seq_idx ON live_events (user_id, seq);
CREATE INDEX live_events_generation_seq_idx ON live_events (generation_id, seq)
    WHERE generation_id IS NOT NULL;
CREATE INDEX live_events_created_idx ON live_events (created_at);
-- The oldest retained event (`horizon`: a reconnect older than it may have missed some).
CREATE INDEX live_events_seq_idx ON live_events (seq);

CREATE FUNCTION live_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS
    $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;

-- A generation created, or its status changed.
CREATE FUNCTION live_generation_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO live_events (user_id, kind, generation_id, batch_id, status, created_at)
        VALUES (NEW.user_id, 'generation', NEW.id, NEW.batch_id, NEW.status, live_now_ms());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER image_generations_live AFTER INSERT OR UPDATE OF status ON image_generations
    FOR EACH ROW EXECUTE FUNCTION live_generation_event();

-- A user's balance, holds or free generations changed.
CREATE FUNCTION live_credits_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
        OR NEW.balance IS DISTINCT FROM OLD.balance
        OR NEW.held IS DISTINCT FROM OLD.held
        OR NEW.free_generations_used IS DISTINCT FROM OLD.free_generations_used THEN
        INSERT INTO live_events (user_id, kind, created_at)
        VALUES (NEW.user_id, 'credits', live_now_ms());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER credit_accounts_live AFTER INSERT OR UPDATE ON credit_accounts
    FOR EACH ROW EXECUTE FUNCTION live_credits_event();

-- At commit: number the event under the user's lock (taken last, when every other lock of the
-- transaction is already held, so it cannot take part in a deadlock) and announce it to every
-- instance. NOTIFY is delivered when the transaction commits, in commit order.
CREATE FUNCTION live_event_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1885695079, hashtext(NEW.user_id));
    n := nextval('live_event_seq');
    UPDATE live_events SET seq = n WHERE id = NEW.id;
    PERFORM pg_notify('picture_live', json_build_object(
        'seq', n, 'user', NEW.user_id, 'kind', NEW.kind, 'generation', NEW.generation_id,
        'batch', NEW.batch_id, 'status', NEW.status, 'progress', NEW.progress)::text);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER live_events_commit AFTER INSERT ON live_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_event_commit();

-- The open event streams of every instance, for the per-user cap across instances. A stream
-- counts while its instance is alive (`live_instances.alive_until`, renewed by the instance).
CREATE TABLE live_streams (
    id BIGSERIAL PRIMARY KEY,
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

-- Secrets the instances share (the stream-token key when none is configured): created once by
-- whichever instance comes first, read by all.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
