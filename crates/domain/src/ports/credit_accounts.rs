//! Users' credit accounts in our own database: the free-tier counter, credits held for
//! generations in flight, and — with the local ledger — the balance itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::credits::CreditAmount;
use crate::error::RepositoryError;
use crate::ids::UserId;
pub use crate::money::CreditAccount;

/// Credits added to a user's local balance by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Who receives them.
    pub user: UserId,
    /// How many.
    pub amount: CreditAmount,
    /// Why, for the ledger entry.
    pub reason: String,
    /// The operator's key: a grant is applied at most once per key.
    pub idempotency_key: String,
}

/// What a grant did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    /// `false` when the key was used before (nothing changed this time).
    pub applied: bool,
    /// The account after the grant.
    pub account: CreditAccount,
}

/// Credit accounts.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CreditAccounts: Send + Sync {
    /// The account of `user`; a user never seen has an empty one (nothing is written).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn account(&self, user: &UserId) -> Result<CreditAccount, RepositoryError>;

    /// Adds `grant.amount` to the user's local balance and to what they earned, in one
    /// transaction with an append-only ledger entry, at most once per `grant.idempotency_key`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn grant(&self, grant: &Grant, at: DateTime<Utc>) -> Result<Granted, RepositoryError>;
}
