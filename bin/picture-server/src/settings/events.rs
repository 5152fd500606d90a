//! Live progress: the event streams' limits, heartbeat, replay window and stream tokens.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};
use secrecy::SecretString;

picture_vars::declare! {
    /// Most event streams one user may hold open at once, across every instance (default 8, at
    /// least 1); one more is 429.
    EVENT_STREAMS_PER_USER,
    /// Most event streams this instance holds open at once (default 10000, at least 1); one
    /// more is 429. Each also counts against `MAX_CONNECTIONS`.
    EVENT_STREAMS_PER_INSTANCE,
    /// How long events are kept for replay after a reconnect (`Last-Event-ID`), in seconds
    /// (default 600, at least 60).
    EVENT_REPLAY_WINDOW_SECS,
    /// Seconds between heartbeat comments on an idle stream (default 15, 1 to 300).
    EVENT_HEARTBEAT_SECS,
    /// Events buffered for one stream before a reader that does not keep up is dropped
    /// (default 64, at least 1).
    EVENT_STREAM_BUFFER,
    /// How long a stream token (`POST /generate/events/token`) opens streams, in seconds
    /// (default 60, 5 to 3600).
    EVENT_TOKEN_TTL_SECS,
    /// The key stream tokens are signed with (at least 32 bytes). Default: a random key kept in
    /// the database, shared by every instance on it.
    EVENT_TOKEN_SECRET,
}

/// The event streams' settings.
#[derive(Debug, Clone)]
pub struct EventSettings {
    /// [`EVENT_STREAMS_PER_USER`].
    pub per_user: u32,
    /// [`EVENT_STREAMS_PER_INSTANCE`].
    pub per_instance: usize,
    /// [`EVENT_REPLAY_WINDOW_SECS`].
    pub replay_window: Duration,
    /// [`EVENT_HEARTBEAT_SECS`].
    pub heartbeat: Duration,
    /// [`EVENT_STREAM_BUFFER`].
    pub buffer: usize,
    /// [`EVENT_TOKEN_TTL_SECS`].
    pub token_ttl: Duration,
    /// [`EVENT_TOKEN_SECRET`], if set.
    pub token_secret: Option<SecretString>,
}

fn at_least<T: PartialOrd + Copy>(
    var: picture_vars::Var,
    value: T,
    min: T,
    reason: &str,
) -> Result<T, InvalidSetting> {
    if value < min {
        return Err(InvalidSetting::new(var, reason));
    }
    Ok(value)
}

impl EventSettings {
    /// Reads the variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let per_user: u32 = source.parse(EVENT_STREAMS_PER_USER, 8, "a whole number")?;
        let per_instance: usize =
            source.parse(EVENT_STREAMS_PER_INSTANCE, 10_000, "a whole number")?;
        let replay_window = source.seconds(EVENT_REPLAY_WINDOW_SECS, 600)?;
        let heartbeat = source.seconds(EVENT_HEARTBEAT_SECS, 15)?;
        if heartbeat.is_zero() || heartbeat > Duration::from_secs(300) {
            return Err(InvalidSetting::new(
                EVENT_HEARTBEAT_SECS,
                "must be 1 to 300",
            ));
        }
        let buffer: usize = source.parse(EVENT_STREAM_BUFFER, 64, "a whole number")?;
        let token_ttl = source.seconds(EVENT_TOKEN_TTL_SECS, 60)?;
        if token_ttl < Duration::from_secs(5) || token_ttl > Duration::from_secs(3600) {
            return Err(InvalidSetting::new(
                EVENT_TOKEN_TTL_SECS,
                "must be 5 to 3600",
            ));
        }
        let token_secret = source.secret(EVENT_TOKEN_SECRET);
        if let Some(secret) = &token_secret {
            use secrecy::ExposeSecret;
            if secret.expose_secret().len() < 32 {
                return Err(InvalidSetting::new(
                    EVENT_TOKEN_SECRET,
                    "must be at least 32 bytes",
                ));
            }
        }
        Ok(Self {
            per_user: at_least(EVENT_STREAMS_PER_USER, per_user, 1, "must be at least 1")?,
            per_instance: at_least(
                EVENT_STREAMS_PER_INSTANCE,
                per_instance,
                1,
                "must be at least 1",
            )?,
            replay_window: at_least(
                EVENT_REPLAY_WINDOW_SECS,
                replay_window,
                Duration::from_secs(60),
                "must be at least 60",
            )?,
            heartbeat,
            buffer: at_least(EVENT_STREAM_BUFFER, buffer, 1, "must be at least 1")?,
            token_ttl,
            token_secret,
        })
    }
}
