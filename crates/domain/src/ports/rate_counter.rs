//! Sliding-window admission counters shared by every instance (rate limits that hold across a
//! cluster at any moment, not per calendar minute).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;

/// A sliding window: at most `limit` admissions in any span of `length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingWindow {
    /// The span.
    pub length: Duration,
    /// Admissions allowed in any span of `length` (at least 1).
    pub limit: u32,
}

/// What an admission attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Admitted and recorded at the attempt's time.
    Admitted,
    /// Refused, nothing recorded: a window is full until `until` (the earliest time at which
    /// every window has room again, unless more are admitted meanwhile).
    Refused {
        /// When the last full window gets room.
        until: DateTime<Utc>,
    },
}

/// How much of a sliding window is used at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUsage {
    /// Events of the scope admitted within the window.
    pub used: u32,
    /// The oldest of them, if any: when it leaves the window, one more event fits.
    pub oldest: Option<DateTime<Utc>>,
}

/// Admits events per scope under sliding windows.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Admits one event of `scope` at `at` when, for every window, fewer than `limit` events of
    /// `scope` were admitted in `(at - length, at]` (events stamped later than `at` by another
    /// instance's clock count too); then records it. Attempts on one scope are serialised
    /// across instances, so concurrent attempts never admit more than a window allows.
    /// Events older than the longest window may be forgotten. A refused attempt records
    /// nothing and returns when room appears: for each full window, the time its
    /// `limit`-th newest event leaves it, the latest of those.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn admit(
        &self,
        scope: &str,
        windows: &[SlidingWindow],
        at: DateTime<Utc>,
    ) -> Result<Admission, RepositoryError>;

    /// How many events of `scope` [`admit`](Self::admit) would count in a window of `length`
    /// at `at` — those admitted in `(at - length, at]` and any stamped later — and the oldest
    /// of them. Reads only: nothing is recorded or forgotten.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn usage(
        &self,
        scope: &str,
        length: Duration,
        at: DateTime<Utc>,
    ) -> Result<WindowUsage, RepositoryError>;
}
