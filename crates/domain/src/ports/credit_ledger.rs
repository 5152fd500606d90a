//! The remote credits service: where a user's paid credits live in production (mana-core
//! credits). It has no holds, so the domain holds credits locally while a generation runs (see
//! [`GenerationLifecycle::create`](crate::ports::GenerationLifecycle::create) with
//! [`Funds::Remote`](crate::money::Funds::Remote)) and charges the service once the image is
//! stored.
//!
//! The embedded default, the local ledger, is not behind this port: its holds, captures and
//! releases are written in the same database transactions as the generation's status (see
//! [`crate::money`]), which is stronger than any call
//! to a separate service can be.

use async_trait::async_trait;

use crate::credits::CreditAmount;
use crate::ids::{GenerationId, UserId};

/// A user's credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreditBalance {
    /// Spendable now.
    pub balance: CreditAmount,
    /// Ever granted or bought.
    pub total_earned: CreditAmount,
    /// Ever spent.
    pub total_spent: CreditAmount,
}

/// A charge for one generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Whose credits.
    pub user: UserId,
    /// The generation paid for; the charge's idempotency key.
    pub generation: GenerationId,
    /// How much.
    pub amount: CreditAmount,
}

/// What a ledger call can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The balance does not cover the amount (nothing was charged).
    #[error("insufficient credits")]
    Insufficient {
        /// What the user has, when the ledger said.
        available: Option<CreditAmount>,
    },
    /// The ledger does not know the user (nothing was charged).
    #[error("the credits service does not know this user")]
    UnknownUser,
    /// The ledger refused the request for another reason (nothing was charged; retrying the
    /// same request will not help).
    #[error("the credits service refused: {0}")]
    Rejected(String),
    /// The ledger could not be reached, did not answer in time, or answered with a server
    /// error or a conflict. Whether a charge happened is unknown; retrying with the same
    /// generation is safe.
    #[error("credits service unavailable: {0}")]
    Unavailable(String),
}

impl LedgerError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// A credits service that reads balances and charges generations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CreditLedger: Send + Sync {
    /// The user's balance. A user the service has never seen has a zero balance (the service
    /// may create their account on this call).
    ///
    /// # Errors
    /// [`LedgerError::Unavailable`] when the service cannot be reached or fails.
    async fn balance(&self, user: &UserId) -> Result<CreditBalance, LedgerError>;

    /// Charges `charge.amount` to `charge.user` for `charge.generation`, at most once per
    /// generation: repeating a successful charge charges nothing more and succeeds.
    ///
    /// # Errors
    /// [`LedgerError::Insufficient`], [`LedgerError::UnknownUser`] or
    /// [`LedgerError::Rejected`] when nothing was charged and retrying will not help;
    /// [`LedgerError::Unavailable`] when the outcome is unknown (retry with the same charge).
    async fn charge(&self, charge: &Charge) -> Result<(), LedgerError>;
}
