//! Fixed-window counters shared by every instance (rate limits that hold across a cluster).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;

/// Counts hits per scope and window.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Adds one hit to `scope`'s window starting at `window_start` and returns the window's
    /// hits including this one, atomically (concurrent hits each see a distinct count).
    /// Windows of `scope` that started before `forget_before` are deleted.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn hit(
        &self,
        scope: &str,
        window_start: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u32, RepositoryError>;
}
