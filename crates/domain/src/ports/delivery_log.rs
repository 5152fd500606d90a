//! Webhook deliveries already applied, shared by every instance, so a replayed `webhook-id` is
//! recognised wherever it arrives.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;

/// The ids of applied webhook deliveries, kept for a while.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Whether a delivery with `id` was recorded at or after `since`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn seen(&self, id: &str, since: DateTime<Utc>) -> Result<bool, RepositoryError>;

    /// Records delivery `id` at `at` (a second record of one id keeps the first) and forgets
    /// every delivery recorded before `forget_before`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn record(
        &self,
        id: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), RepositoryError>;
}
