//! The image provider (Replicate in production, the offline renderer by default).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{GenerationId, PredictionId};
use crate::live::Progress;
use crate::params::GenerationParams;

/// Where a finished prediction's image can be fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An `https://` URL to download (from an allowed host only).
    Url(String),
    /// A `data:` URI carrying the bytes inline.
    DataUri(String),
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRequest {
    /// Our generation id (for logs and the webhook URL).
    pub generation_id: GenerationId,
    /// The provider's model reference, e.g. `black-forest-labs/flux-schnell`.
    pub model_ref: String,
    /// The version to run, if pinned.
    pub model_version: Option<String>,
    /// The prompt.
    pub prompt: String,
    /// The negative prompt, for models that support it.
    pub negative_prompt: Option<String>,
    /// The source image, for image-to-image.
    pub source_image_url: Option<String>,
    /// The resolved parameters.
    pub params: GenerationParams,
    /// Where the provider should report completion; `None` means the caller polls.
    pub webhook_url: Option<String>,
    /// Whether the caller waits for the result: the provider may hold the submit call open
    /// for a short while (Replicate's `Prefer: wait`) so fast models answer in one round trip.
    pub wait: bool,
}

/// The provider's view of a prediction, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderState {
    /// Accepted, not started.
    Starting,
    /// Running.
    Processing {
        /// How far it is, when the provider reports it (Replicate: step counters in its logs).
        progress: Option<Progress>,
    },
    /// Done; at least one image.
    Succeeded {
        /// The images, in the provider's order.
        outputs: Vec<ImageSource>,
        /// How long the provider worked, if it says.
        predict_time: Option<Duration>,
    },
    /// Failed with the provider's message.
    Failed {
        /// The reason, safe to show to the user.
        message: String,
    },
    /// Cancelled.
    Canceled,
}

/// A submitted prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The provider's id for it.
    pub prediction_id: PredictionId,
    /// Its state when the submit call returned (may already be final).
    pub state: ProviderState,
}

/// What a provider call can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Our credentials were refused (401/403). An operator must fix the configuration.
    #[error("provider refused our credentials")]
    Unauthorized,
    /// The model or version does not exist at the provider.
    #[error("unknown model or version: {0}")]
    UnknownModel(String),
    /// The provider account cannot pay for the prediction.
    #[error("provider billing problem")]
    Billing,
    /// The provider throttled us; retry after the given time if known.
    #[error("provider rate limit")]
    RateLimited {
        /// The provider's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The input was refused (422): the message says why.
    #[error("provider rejected the input: {0}")]
    Rejected(String),
    /// No prediction with that id.
    #[error("prediction not found")]
    NotFound,
    /// The call did not finish in time. For a submit, whether a prediction was created is
    /// unknown: it must not be retried blindly.
    #[error("provider call timed out")]
    Timeout,
    /// The provider failed (5xx, connection error, malformed answer).
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

impl ProviderError {
    /// A short stable name of the kind of failure, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::UnknownModel(_) => "unknown_model",
            Self::Billing => "billing",
            Self::RateLimited { .. } => "rate_limited",
            Self::Rejected(_) => "rejected",
            Self::NotFound => "not_found",
            Self::Timeout => "timeout",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

/// Runs generations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ImageProvider: Send + Sync {
    /// Starts a prediction for `request`. Called at most once per generation: an implementation
    /// never retries a submit by itself (a retried create could bill twice).
    ///
    /// # Errors
    /// [`ProviderError::UnknownModel`] for an unknown model or version,
    /// [`ProviderError::Rejected`] for invalid input, [`ProviderError::Unauthorized`],
    /// [`ProviderError::Billing`], [`ProviderError::RateLimited`] as the provider says;
    /// [`ProviderError::Timeout`] when it does not answer in time;
    /// [`ProviderError::Unavailable`] for 5xx and transport failures.
    async fn submit(&self, request: &ProviderRequest) -> Result<Submission, ProviderError>;

    /// The current state of a prediction. Read-only and safe to repeat.
    ///
    /// # Errors
    /// [`ProviderError::NotFound`] for an unknown id; otherwise as [`submit`](Self::submit).
    async fn fetch(&self, prediction_id: &PredictionId) -> Result<ProviderState, ProviderError>;

    /// Asks the provider to cancel a prediction. Idempotent: cancelling a finished or already
    /// cancelled prediction succeeds.
    ///
    /// # Errors
    /// [`ProviderError::NotFound`] for an unknown id; otherwise as [`submit`](Self::submit).
    async fn cancel(&self, prediction_id: &PredictionId) -> Result<(), ProviderError>;

    /// The prediction already started for generation `generation_id` at or after `since`, if
    /// the provider can tell: a submit whose server stopped before it recorded the answer
    /// (the prediction may or may not have been created). A queued batch item claimed again
    /// after such a stop asks this first and follows what it finds instead of starting the
    /// prediction a second time. Read-only and safe to repeat. Default: `Ok(None)` (the
    /// provider cannot tell; the item is submitted again).
    ///
    /// # Errors
    /// As [`fetch`](Self::fetch); the caller then leaves the item for a later claim rather
    /// than risk a second prediction.
    async fn find_submitted(
        &self,
        generation_id: GenerationId,
        since: DateTime<Utc>,
    ) -> Result<Option<Submission>, ProviderError> {
        let _ = (generation_id, since);
        Ok(None)
    }

    /// Whether [`submit`](Self::submit) returns only once the image is made, with it in
    /// [`ProviderState::Succeeded`] (OpenAI's images API), rather than a
    /// prediction to follow by webhook or [`fetch`](Self::fetch). The pipeline then records the
    /// generation as `processing` and holds its finalisation lease *before* the call, runs the
    /// call in the background when the client does not wait, and never asks `fetch` about a
    /// live call; such a provider's `fetch` answers [`ProviderError::NotFound`] for a call it
    /// no longer runs, which fails a generation whose server stopped mid-call (giving its
    /// access back). Default: `false`.
    fn answers_in_submit(&self) -> bool {
        false
    }
}
