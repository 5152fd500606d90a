//! When the reconciler deletes stored images that no image row points at.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// The pause between two passes of the orphan sweep (default 300 s, at least 1).
    ORPHAN_SWEEP_INTERVAL_SECS,
    /// How long ago an object must have been written before it may be deleted (default 600 s,
    /// at least [`MIN_ORPHAN_SWEEP_GRACE_LEASES`] finalisation leases).
    ORPHAN_SWEEP_GRACE_SECS,
}

/// The shortest grace accepted, in finalisation leases: a finaliser stores an image and then
/// commits the row pointing at it while it holds its lease, so an object younger than two
/// leases may still be about to get its row.
pub const MIN_ORPHAN_SWEEP_GRACE_LEASES: u32 = 2;

/// When the orphan sweep runs and what it may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrphanSweepTiming {
    /// [`ORPHAN_SWEEP_INTERVAL_SECS`].
    pub interval: Duration,
    /// [`ORPHAN_SWEEP_GRACE_SECS`].
    pub grace: Duration,
}

impl OrphanSweepTiming {
    /// Reads both variables; [`covering`](Self::covering) checks the grace against the lease.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let interval = source.seconds(ORPHAN_SWEEP_INTERVAL_SECS, 300)?;
        if interval.is_zero() {
            return Err(InvalidSetting::new(
                ORPHAN_SWEEP_INTERVAL_SECS,
                "must be at least 1",
            ));
        }
        Ok(Self {
            interval,
            grace: source.seconds(ORPHAN_SWEEP_GRACE_SECS, 600)?,
        })
    }

    /// This timing, when its grace covers [`MIN_ORPHAN_SWEEP_GRACE_LEASES`] of
    /// `finalize_lease` (`FINALIZE_LEASE_SECS`).
    pub(super) fn covering(self, finalize_lease: Duration) -> Result<Self, InvalidSetting> {
        let shortest = finalize_lease * MIN_ORPHAN_SWEEP_GRACE_LEASES;
        if self.grace < shortest {
            return Err(InvalidSetting::new(
                ORPHAN_SWEEP_GRACE_SECS,
                format!(
                    "must be at least {} (two finalisation leases, FINALIZE_LEASE_SECS): a \
                     younger object may be an image whose row is about to be committed",
                    shortest.as_secs()
                ),
            ));
        }
        Ok(self)
    }
}
