//! `ORPHAN_SWEEP_INTERVAL_SECS` and `ORPHAN_SWEEP_GRACE_SECS`: when the reconciler deletes
//! stored images that no image row points at.

use std::time::Duration;

use super::{RawSettings, SettingsError, invalid, parse};

/// The shortest grace accepted, in finalisation leases: a finaliser stores an image and then
/// commits the row pointing at it while it holds its lease, so an object younger than two
/// leases may still be about to get its row.
pub const MIN_ORPHAN_SWEEP_GRACE_LEASES: u32 = 2;

/// When the orphan sweep runs and what it may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrphanSweepTiming {
    /// `ORPHAN_SWEEP_INTERVAL_SECS`: the pause between two passes (default 300, at least 1).
    pub interval: Duration,
    /// `ORPHAN_SWEEP_GRACE_SECS`: how long ago an object must have been written before it may
    /// be deleted (default 600, at least [`MIN_ORPHAN_SWEEP_GRACE_LEASES`] finalisation leases).
    pub grace: Duration,
}

impl OrphanSweepTiming {
    /// Reads both variables from `raw`; the grace must cover two of `finalize_lease`.
    pub(super) fn from_raw(
        raw: &RawSettings,
        finalize_lease: Duration,
    ) -> Result<Self, SettingsError> {
        let interval = parse(
            "ORPHAN_SWEEP_INTERVAL_SECS",
            raw.orphan_sweep_interval_secs.clone(),
            300u64,
            "a number of seconds",
        )?;
        if interval == 0 {
            return Err(invalid("ORPHAN_SWEEP_INTERVAL_SECS", "must be at least 1"));
        }
        let grace = Duration::from_secs(parse(
            "ORPHAN_SWEEP_GRACE_SECS",
            raw.orphan_sweep_grace_secs.clone(),
            600u64,
            "a number of seconds",
        )?);
        let shortest = finalize_lease * MIN_ORPHAN_SWEEP_GRACE_LEASES;
        if grace < shortest {
            return Err(invalid(
                "ORPHAN_SWEEP_GRACE_SECS",
                format!(
                    "must be at least {} (two finalisation leases, FINALIZE_LEASE_SECS): a \
                     younger object may be an image whose row is about to be committed",
                    shortest.as_secs()
                ),
            ));
        }
        Ok(Self {
            interval: Duration::from_secs(interval),
            grace,
        })
    }
}
