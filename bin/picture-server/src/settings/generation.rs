//! The generation pipeline's timing: waiting, polling, reconciling, crash recovery, and where
//! the provider calls back.

use std::time::Duration;

use picture_replicate::ReplicateConfig;
use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// The public base URL the provider calls back (default [`PUBLIC_BASE_URL`](super::http::PUBLIC_BASE_URL)).
    WEBHOOK_BASE_URL,
    /// How long `waitForResult` waits before answering `processing` (default 120 s).
    GENERATION_SYNC_TIMEOUT_SECS,
    /// How often a waiting request asks the provider (default 1000 ms).
    GENERATION_POLL_INTERVAL_MS,
    /// The provider is asked about one processing generation at most once per this interval,
    /// by all instances together (default 2000 ms; 0: no throttle).
    PROVIDER_POLL_MIN_INTERVAL_MS,
    /// How often the reconciler runs (default 30 s).
    RECONCILER_INTERVAL_SECS,
    /// How long `processing` must last before the reconciler asks the provider (default 120 s).
    RECONCILER_MIN_AGE_SECS,
    /// How long an `Idempotency-Key` and its first answer are kept (default 86,400 s, at
    /// least 1).
    IDEMPOTENCY_KEY_TTL_SECS,
    /// How long a generation may stay `pending` (recorded, not submitted) before the
    /// reconciler fails it and gives its access back (default 60 s); longer than the
    /// provider's longest submit.
    GENERATION_PENDING_TIMEOUT_SECS,
    /// A finaliser's lease, renewed every third of it while it works (default 15 s, at
    /// least 3).
    FINALIZE_LEASE_SECS,
}

/// The generation pipeline's settings.
#[derive(Debug, Clone)]
pub struct GenerationSettings {
    /// [`WEBHOOK_BASE_URL`], without a trailing slash.
    pub webhook_base_url: String,
    /// [`GENERATION_SYNC_TIMEOUT_SECS`].
    pub sync_timeout: Duration,
    /// [`GENERATION_POLL_INTERVAL_MS`].
    pub poll_interval: Duration,
    /// [`PROVIDER_POLL_MIN_INTERVAL_MS`].
    pub provider_poll_min_interval: Duration,
    /// [`RECONCILER_INTERVAL_SECS`].
    pub reconciler_interval: Duration,
    /// [`RECONCILER_MIN_AGE_SECS`].
    pub reconciler_min_age: Duration,
    /// [`IDEMPOTENCY_KEY_TTL_SECS`].
    pub idempotency_key_ttl: Duration,
    /// [`GENERATION_PENDING_TIMEOUT_SECS`].
    pub pending_timeout: Duration,
    /// [`FINALIZE_LEASE_SECS`].
    pub finalize_lease: Duration,
}

impl GenerationSettings {
    /// Reads the group's variables; the webhook base defaults to `public_base_url`.
    pub(super) fn from_source(
        source: &Source,
        public_base_url: &str,
    ) -> Result<Self, InvalidSetting> {
        let idempotency_key_ttl = source.seconds(IDEMPOTENCY_KEY_TTL_SECS, 86_400)?;
        if idempotency_key_ttl.is_zero() {
            return Err(InvalidSetting::new(
                IDEMPOTENCY_KEY_TTL_SECS,
                "must be at least 1 second",
            ));
        }
        Ok(Self {
            webhook_base_url: source
                .http_url(WEBHOOK_BASE_URL)?
                .unwrap_or_else(|| public_base_url.to_owned()),
            sync_timeout: source.seconds(GENERATION_SYNC_TIMEOUT_SECS, 120)?,
            poll_interval: Duration::from_millis(source.parse(
                GENERATION_POLL_INTERVAL_MS,
                1000u64,
                "a number of milliseconds",
            )?),
            provider_poll_min_interval: Duration::from_millis(source.parse(
                PROVIDER_POLL_MIN_INTERVAL_MS,
                2000u64,
                "a number of milliseconds (0 switches the throttle off)",
            )?),
            reconciler_interval: source.seconds(RECONCILER_INTERVAL_SECS, 30)?,
            reconciler_min_age: source.seconds(RECONCILER_MIN_AGE_SECS, 120)?,
            idempotency_key_ttl,
            pending_timeout: pending_timeout(source)?,
            finalize_lease: finalize_lease(source)?,
        })
    }
}

/// [`GENERATION_PENDING_TIMEOUT_SECS`]: must exceed the provider's longest submit.
fn pending_timeout(source: &Source) -> Result<Duration, InvalidSetting> {
    let pending = source.seconds(GENERATION_PENDING_TIMEOUT_SECS, 60)?;
    let longest_submit = ReplicateConfig::LONGEST_SUBMIT;
    if pending <= longest_submit {
        return Err(InvalidSetting::new(
            GENERATION_PENDING_TIMEOUT_SECS,
            format!(
                "must exceed the provider's longest submit ({} s), or live generations would \
                 be failed while they are being submitted",
                longest_submit.as_secs()
            ),
        ));
    }
    Ok(pending)
}

/// [`FINALIZE_LEASE_SECS`]: at least 3 s, since it is renewed every third.
fn finalize_lease(source: &Source) -> Result<Duration, InvalidSetting> {
    let lease = source.seconds(FINALIZE_LEASE_SECS, 15)?;
    if lease < Duration::from_secs(3) {
        return Err(InvalidSetting::new(
            FINALIZE_LEASE_SECS,
            "must be at least 3 seconds",
        ));
    }
    Ok(lease)
}
