//! The credit ledger (local ledger in our database by default, the remote credits service in
//! production).

use async_trait::async_trait;

use crate::credits::CreditAmount;
use crate::ids::{GenerationId, UserId};

/// A user's credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditBalance {
    /// Spendable now (excluding holds).
    pub balance: CreditAmount,
    /// Ever granted or bought.
    pub total_earned: CreditAmount,
    /// Ever captured.
    pub total_spent: CreditAmount,
}

/// What a ledger operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The balance does not cover the amount.
    #[error("insufficient credits: {available} available")]
    Insufficient {
        /// What the user has.
        available: CreditAmount,
    },
    /// The generation has no hold to capture or release.
    #[error("no credit hold for this generation")]
    NoHold,
    /// The ledger could not be reached or did not answer in time.
    #[error("credit ledger unavailable: {0}")]
    Unavailable(String),
}

/// Holds, captures and releases credits, each exactly once per generation.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CreditLedger: Send + Sync {
    /// The user's balance. A user never seen has a zero balance.
    ///
    /// # Errors
    /// [`LedgerError::Unavailable`] when the ledger cannot be reached.
    async fn balance(&self, user: &UserId) -> Result<CreditBalance, LedgerError>;

    /// Holds `amount` credits of `user` for `generation`, atomically: the balance never goes
    /// below zero, and concurrent reservations cannot spend the same credits twice.
    /// Idempotent on `generation`: a second call for the same generation holds nothing more
    /// and succeeds.
    ///
    /// # Errors
    /// [`LedgerError::Insufficient`] when the balance is below `amount`;
    /// [`LedgerError::Unavailable`] when the ledger cannot be reached (nothing is held).
    async fn reserve(
        &self,
        user: &UserId,
        generation: GenerationId,
        amount: CreditAmount,
    ) -> Result<(), LedgerError>;

    /// Turns the hold of `generation` into a charge. Idempotent: capturing twice charges once.
    /// Capturing a released hold fails with [`LedgerError::NoHold`].
    ///
    /// # Errors
    /// [`LedgerError::NoHold`] without a hold; [`LedgerError::Unavailable`] when unreachable
    /// (the hold stays and the capture can be retried).
    async fn capture(&self, generation: GenerationId) -> Result<(), LedgerError>;

    /// Gives the hold of `generation` back to the user. Idempotent, and a no-op for a generation
    /// without a hold; never undoes a capture.
    ///
    /// # Errors
    /// [`LedgerError::Unavailable`] when unreachable (the release can be retried).
    async fn release(&self, generation: GenerationId) -> Result<(), LedgerError>;
}
