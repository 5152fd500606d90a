//! Charges owed to the remote credits service for completed paid generations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::credits::CreditAmount;
use crate::error::RepositoryError;
use crate::ids::{GenerationId, UserId};
use crate::money::ChargeOutcome;

/// A charge owed to the remote credits service for a completed paid generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCharge {
    /// The generation paid for.
    pub generation_id: GenerationId,
    /// Whose credits.
    pub user_id: UserId,
    /// How much.
    pub amount: CreditAmount,
}

/// The queue of charges owed to the remote credits service: a completed paid generation's
/// charge stays due until its outcome is recorded.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RemoteChargeQueue: Send + Sync {
    /// Up to `limit` charges owed to the remote credits service since before `older_than`,
    /// oldest first (charges whose first attempt failed or whose server stopped before making
    /// it; younger ones are left to the request that is collecting them).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn due_charges(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCharge>, RepositoryError>;

    /// Records how the due charge of generation `id` ended, once: `true` when this call
    /// recorded it, `false` when it was no longer due.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn settle_charge(
        &self,
        id: GenerationId,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;
}
