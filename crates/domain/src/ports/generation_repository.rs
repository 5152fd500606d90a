//! Generations and their lifecycle.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId, UserId};

/// A forward move in a generation's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Submitted to the provider: `pending → processing`, recording the prediction id.
    Processing {
        /// The provider's id for the prediction.
        prediction_id: PredictionId,
    },
    /// The image is stored: `pending | processing → completed`.
    Completed {
        /// How long the provider took, in whole seconds.
        generation_time_seconds: Option<i32>,
    },
    /// It failed: `pending | processing → failed`.
    Failed {
        /// Why, safe to show to the user.
        message: String,
    },
    /// The user cancelled it: `pending | processing → cancelled`.
    Cancelled {
        /// Why, e.g. "Cancelled by user".
        message: String,
    },
}

impl Transition {
    /// The status the generation ends in.
    pub fn target(&self) -> GenerationStatus {
        match self {
            Self::Processing { .. } => GenerationStatus::Processing,
            Self::Completed { .. } => GenerationStatus::Completed,
            Self::Failed { .. } => GenerationStatus::Failed,
            Self::Cancelled { .. } => GenerationStatus::Cancelled,
        }
    }
}

/// Stored generations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GenerationRepository: Send + Sync {
    /// Records a new generation in `pending`.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when a generation with that id exists;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn insert(&self, generation: &NewGeneration) -> Result<Generation, RepositoryError>;

    /// The generation with `id`, whoever owns it (webhooks and the reconciler); `Ok(None)` when
    /// there is none.
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

    /// Applies `transition` at `at` as one compare-and-set: only from a status that
    /// [`GenerationStatus::can_move_to`] the target. Returns `true` when this call moved the
    /// generation, `false` when it was already elsewhere (another caller won, or it is final);
    /// then nothing changes. Of any number of concurrent calls, at most one returns `true`.
    /// Terminal transitions set `completed_at` to `at`.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when the prediction id already belongs to another
    /// generation; [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn transition(
        &self,
        id: GenerationId,
        transition: &Transition,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;
}
