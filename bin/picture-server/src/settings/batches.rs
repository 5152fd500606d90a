//! How this instance runs queued batch items.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// Most batch items of one user in flight at once, across every instance (default 2, at
    /// least 1).
    BATCH_CONCURRENCY_PER_USER,
    /// Batch workers of this instance: items it runs at once, whoever's (default 4; 0 runs no
    /// batch items here, another instance does).
    BATCH_WORKERS,
    /// How long a worker's claim on an item lasts before another worker may take it, in
    /// seconds (default 120, at least 10): longer than a provider submit can take.
    BATCH_CLAIM_LEASE_SECS,
}

/// The batch workers' settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// [`BATCH_CONCURRENCY_PER_USER`].
    pub per_user: u32,
    /// [`BATCH_WORKERS`].
    pub workers: u32,
    /// [`BATCH_CLAIM_LEASE_SECS`].
    pub lease: Duration,
}

impl BatchSettings {
    /// Reads the three variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let per_user: u32 = source.parse(BATCH_CONCURRENCY_PER_USER, 2, "a whole number")?;
        if per_user == 0 {
            return Err(InvalidSetting::new(
                BATCH_CONCURRENCY_PER_USER,
                "must be at least 1",
            ));
        }
        let lease = source.seconds(BATCH_CLAIM_LEASE_SECS, 120)?;
        if lease < Duration::from_secs(10) {
            return Err(InvalidSetting::new(
                BATCH_CLAIM_LEASE_SECS,
                "must be at least 10",
            ));
        }
        Ok(Self {
            per_user,
            workers: source.parse(BATCH_WORKERS, 4, "a whole number")?,
            lease,
        })
    }
}
