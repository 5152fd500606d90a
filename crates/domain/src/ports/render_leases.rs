//! Leases that let one render of a variant happen at a time across every instance.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;

/// Named, expiring leases shared by every instance (a database table).
///
/// Contract: at any moment at most one holder has an unexpired lease on a name. Taking a lease
/// whose previous holder let it expire (a crashed instance) succeeds. Releasing removes only the
/// caller's own lease.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RenderLeases: Send + Sync {
    /// Takes the lease on `name` for `holder` until `now + ttl`, unless another holder's lease
    /// on it is unexpired at `now`. `true` when `holder` has it now (also when it already had
    /// it: the lease is extended).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn try_take(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Gives `holder`'s lease on `name` back; nothing happens when `holder` has none.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn release(&self, name: &str, holder: &str) -> Result<(), RepositoryError>;
}
