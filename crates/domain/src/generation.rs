//! Generations: one request to turn a prompt into an image, and its lifecycle.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{GenerationId, ModelId, PredictionId, UserId};
pub use crate::money::Billing;
use crate::money::Ledger;
use crate::params::GenerationParams;
use crate::provider_name::ProviderName;
use crate::validation::ValidationErrors;

/// Where a generation is in its lifecycle.
///
/// `pending → processing → completed | failed | cancelled`; `pending` may also go straight to
/// `failed` or `cancelled`. A batch item starts `queued` (waiting for a batch worker) and moves
/// on like `pending`. The last three are terminal: nothing moves a generation out of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationStatus {
    /// Recorded, not yet submitted to the provider.
    Pending,
    /// A batch item waiting for a batch worker to claim and submit it.
    Queued,
    /// Submitted; the provider is working on it.
    Processing,
    /// The image is stored.
    Completed,
    /// It failed; see the error message.
    Failed,
    /// The user cancelled it.
    Cancelled,
}

impl GenerationStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Queued,
        Self::Processing,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether nothing can change the generation any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// Whether the lifecycle allows going from `self` to `next`. Only forward moves are allowed.
    pub fn can_move_to(self, next: Self) -> bool {
        match self {
            Self::Pending | Self::Queued => matches!(
                next,
                Self::Processing | Self::Completed | Self::Failed | Self::Cancelled
            ),
            Self::Processing => next.is_terminal(),
            Self::Completed | Self::Failed | Self::Cancelled => false,
        }
    }

    /// The statuses from which `next` can be reached: the `WHERE status IN (…)` of a
    /// compare-and-set transition.
    pub fn predecessors_of(next: Self) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|from| from.can_move_to(next))
            .collect()
    }
}

impl fmt::Display for GenerationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GenerationStatus {
    type Err = ValidationErrors;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationErrors::single(format!("unknown generation status {raw:?}")))
    }
}

/// A generation to record, before it has an id in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGeneration {
    /// Its id, chosen before it is stored so it can travel in the webhook URL.
    pub id: GenerationId,
    /// Who asked for it.
    pub user_id: UserId,
    /// Which model (`None` only for historic rows whose model was removed).
    pub model_id: Option<ModelId>,
    /// The model's name at the time.
    pub model_name: Option<String>,
    /// The provider that runs it (its model's provider at the time): its status, cancel and
    /// webhooks go there.
    pub provider: ProviderName,
    /// The prompt.
    pub prompt: String,
    /// The negative prompt.
    pub negative_prompt: Option<String>,
    /// The style hint.
    pub style: Option<String>,
    /// The source image.
    pub source_image_url: Option<String>,
    /// The resolved parameters.
    pub params: GenerationParams,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
}

/// A recorded generation: what was asked for, and where it is in its lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// What was recorded when it was asked for (id, owner, prompt, parameters, time).
    pub record: NewGeneration,
    /// Where it is in its lifecycle.
    pub status: GenerationStatus,
    /// The provider's prediction, once submitted.
    pub prediction_id: Option<PredictionId>,
    /// Why it failed or was cancelled.
    pub error_message: Option<String>,
    /// How long the provider took, in whole seconds.
    pub generation_time_seconds: Option<i32>,
    /// How it is paid for, decided when it was created.
    pub billing: Billing,
    /// Where its credits are kept, decided when it was created.
    pub ledger: Ledger,
    /// Credits captured for it (0 for free or unbilled generations, and until it completes).
    pub credits_used: i64,
    /// When it reached a terminal status.
    pub completed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for status in GenerationStatus::ALL {
            assert_eq!(status.as_str().parse::<GenerationStatus>().unwrap(), status);
        }
        assert!("done".parse::<GenerationStatus>().is_err());
    }

    #[test]
    fn only_forward_moves_are_allowed() {
        use GenerationStatus::*;
        assert!(Pending.can_move_to(Processing));
        assert!(Processing.can_move_to(Completed));
        assert!(Processing.can_move_to(Cancelled));
        assert!(!Processing.can_move_to(Pending));
        assert!(!Completed.can_move_to(Failed));
        assert!(!Failed.can_move_to(Completed));
        assert!(!Cancelled.can_move_to(Processing));
    }

    #[test]
    fn predecessors_are_the_compare_and_set_guard() {
        use GenerationStatus::*;
        assert_eq!(
            GenerationStatus::predecessors_of(Completed),
            vec![Pending, Queued, Processing]
        );
        assert_eq!(
            GenerationStatus::predecessors_of(Processing),
            vec![Pending, Queued]
        );
        assert!(GenerationStatus::predecessors_of(Pending).is_empty());
    }
}
