//! Abuse limits: connections, request bodies and request rates.

use std::time::Duration;

use picture_domain::services::GenerationQuota;
use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// How long a request's whole body may take to arrive, counted from its head (default
    /// 15 s, at least 1).
    REQUEST_BODY_TIMEOUT_SECS,
    /// Open connections of this instance, all workers together (default 10,000, at least 1).
    MAX_CONNECTIONS,
    /// Open connections per client address (default 64; 0: no limit).
    MAX_CONNECTIONS_PER_IP,
    /// Requests per client address and minute (default 600; 0: no limit).
    RATE_LIMIT_IP_PER_MINUTE,
    /// Generations a user may start in any 60 s (default 30; 0: no limit).
    RATE_LIMIT_GENERATIONS_PER_MINUTE,
    /// Generations a user may start in any 24 h (default 1000; 0: no limit).
    RATE_LIMIT_GENERATIONS_PER_DAY,
    /// Largest uploaded file, in bytes (default 10 MiB, at least 1); a bigger one is refused
    /// with 413 as soon as that many bytes have arrived.
    UPLOAD_MAX_BYTES,
}

/// What a counted limit that 0 switches off expects.
const OFF_AT_ZERO: &str = "a whole number (0 switches the limit off)";

/// The abuse limits.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// [`REQUEST_BODY_TIMEOUT_SECS`].
    pub request_body_timeout: Duration,
    /// [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// [`MAX_CONNECTIONS_PER_IP`].
    pub max_connections_per_ip: usize,
    /// [`RATE_LIMIT_IP_PER_MINUTE`].
    pub ip_requests_per_minute: u32,
    /// [`RATE_LIMIT_GENERATIONS_PER_MINUTE`], [`RATE_LIMIT_GENERATIONS_PER_DAY`].
    pub generation_quota: GenerationQuota,
    /// [`UPLOAD_MAX_BYTES`].
    pub upload_max_bytes: u64,
}

impl LimitSettings {
    /// Reads the group's variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let request_body_timeout = source.seconds(REQUEST_BODY_TIMEOUT_SECS, 15)?;
        if request_body_timeout.is_zero() {
            return Err(InvalidSetting::new(
                REQUEST_BODY_TIMEOUT_SECS,
                "must be at least 1",
            ));
        }
        let max_connections = source.parse(MAX_CONNECTIONS, 10_000usize, "a positive number")?;
        if max_connections == 0 {
            return Err(InvalidSetting::new(MAX_CONNECTIONS, "must be at least 1"));
        }
        let upload_max_bytes =
            source.parse(UPLOAD_MAX_BYTES, 10 * 1024 * 1024u64, "a positive number")?;
        if upload_max_bytes == 0 {
            return Err(InvalidSetting::new(UPLOAD_MAX_BYTES, "must be at least 1"));
        }
        Ok(Self {
            request_body_timeout,
            upload_max_bytes,
            max_connections,
            max_connections_per_ip: source.parse(MAX_CONNECTIONS_PER_IP, 64, OFF_AT_ZERO)?,
            ip_requests_per_minute: source.parse(RATE_LIMIT_IP_PER_MINUTE, 600, OFF_AT_ZERO)?,
            generation_quota: GenerationQuota {
                per_minute: source.parse(RATE_LIMIT_GENERATIONS_PER_MINUTE, 30, OFF_AT_ZERO)?,
                per_day: source.parse(RATE_LIMIT_GENERATIONS_PER_DAY, 1000, OFF_AT_ZERO)?,
            },
        })
    }
}
