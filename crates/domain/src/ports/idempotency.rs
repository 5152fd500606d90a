//! `Idempotency-Key` records of generation requests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::{GenerationId, UserId};

/// The first answer to a key, as it was sent: what every retry with that key gets back. Opaque
/// to the domain (the HTTP layer renders it once and records it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedResponse {
    /// Its status code.
    pub status: u16,
    /// Its body, byte for byte.
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or its previous record had expired): this request owns it.
    New,
    /// The key was used before and has not expired.
    Existing {
        /// Hash of the first request's body.
        request_hash: String,
        /// The first request's answer; `None` while the first request is still running.
        response: Option<RecordedResponse>,
    },
}

/// Remembers each user's `Idempotency-Key`s and the first answer given to each.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `user` for `generation_id` at `at`, atomically: of concurrent claims
    /// exactly one gets [`IdempotencyClaim::New`]; the others see the winner's record. A
    /// record created before `expired_before` counts as absent: it is replaced.
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
        expired_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, RepositoryError>;

    /// Records the first answer to `key` of `user`. Only the first recorded answer is kept.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn record(
        &self,
        user: &UserId,
        key: &str,
        response: &RecordedResponse,
    ) -> Result<(), RepositoryError>;

    /// Forgets `key` of `user` (the request failed before starting anything, so a retry may
    /// try again).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn forget(&self, user: &UserId, key: &str) -> Result<(), RepositoryError>;

    /// Deletes the oldest records created before `before`: about `limit` of them (records
    /// created in the same millisecond as the last one go too). Returns how many went.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn purge_expired(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError>;
}
