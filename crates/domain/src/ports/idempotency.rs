//! `Idempotency-Key` records of generation requests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::{GenerationId, UserId};

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new: this request owns it and starts `generation_id`.
    New,
    /// The key was used before.
    Existing {
        /// Hash of the first request's body.
        request_hash: String,
        /// The generation the first request started.
        generation_id: GenerationId,
        /// The first response's `freeGenerationsRemaining`, once it was answered.
        free_generations_remaining: Option<u32>,
    },
}

/// Remembers which generation a user's `Idempotency-Key` started.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `user` for `generation_id`, atomically: of concurrent claims exactly one
    /// gets [`IdempotencyClaim::New`]; the others see the winner's record.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn claim(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        generation_id: GenerationId,
        at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, RepositoryError>;

    /// Records the first response's `freeGenerationsRemaining`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn answered(
        &self,
        user: &UserId,
        key: &str,
        free_generations_remaining: u32,
    ) -> Result<(), RepositoryError>;

    /// Forgets `key` of `user` (the request failed before starting anything, so a retry may
    /// try again).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn forget(&self, user: &UserId, key: &str) -> Result<(), RepositoryError>;
}
