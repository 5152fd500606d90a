//! The reconciler's work: generations left behind by a stopped server or a missed webhook.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::generation::Generation;

/// Generations for the reconciler, taken so that concurrent reconcilers (other instances)
/// take disjoint ones.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReconcilerQueue: Send + Sync {
    /// Takes up to `limit` generations for the reconciler, oldest first: those `processing`
    /// since before `older_than` that nobody holds a lease on, and those whose finaliser's
    /// lease ran out before `at` (its server stopped: they are taken at once, however young).
    /// Taken for `hold` as in [`stale_pending`](Self::stale_pending).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn stale_processing(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError>;

    /// Takes up to `limit` generations still `pending` (never submitted: their server stopped
    /// between recording and submitting them) created before `older_than`, oldest first, for
    /// `hold` from `at`: concurrent callers (the reconcilers of other instances) take
    /// disjoint rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and a taken row is not taken
    /// again before `at + hold`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn stale_pending(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError>;
}
