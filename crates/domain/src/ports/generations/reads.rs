//! Reading generations.

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::generation::Generation;
use crate::ids::{GenerationId, PredictionId, UserId};

/// Generations as stored: one by id, by owner, by prediction, and a user's history.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GenerationReads: Send + Sync {
    /// The generation with `id`, whoever owns it (webhooks and the reconciler).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find(&self, id: GenerationId) -> Result<Option<Generation>, RepositoryError>;

    /// The generation with `id` if it belongs to `user`; another user's is `Ok(None)`, exactly
    /// as a missing one, so its existence is not revealed.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_for_user(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, RepositoryError>;

    /// The generation submitted as `prediction_id`, if any.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_by_prediction(
        &self,
        prediction_id: &PredictionId,
    ) -> Result<Option<Generation>, RepositoryError>;

    /// One page of `user`'s generations, newest first, skipping `offset`, and how many they
    /// have in all.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Generation>, u64), RepositoryError>;

    /// `user`'s unfinished generations (`pending`, `queued`, `processing`, batch items
    /// included), oldest first, at most `limit`: the first paint of a queue view.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn active(&self, user: &UserId, limit: u32) -> Result<Vec<Generation>, RepositoryError>;
}
