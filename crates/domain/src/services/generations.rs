//! The generation pipeline: access decision, provider submission, and finalisation exactly
//! once, whoever gets there first — the waiting request, the provider's webhook, a status poll
//! or the reconciler (see architecture.md, "The generation lifecycle").
//!
//! One service per use case, each holding only the ports it calls:
//! - [`StartGeneration`] (`start.rs`, `once.rs`): decide access, record, submit, wait;
//! - [`FinalizeGeneration`] (`finalize.rs`, `finalize/lease.rs`): apply a provider's report,
//!   store the image under a finalisation lease;
//! - [`ReconcileGenerations`] (`reconcile.rs`): finish what requests and webhooks left;
//! - [`CancelGeneration`] (`cancel.rs`): a user's cancel, waiting for a finaliser;
//! - [`ReadGenerations`] (`read.rs`): status, one generation, history.
//!
//! [`GenerationServices::new`] builds all five from one set of ports.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::RepositoryError;
use crate::freemium::InsufficientCredits;
use crate::generation::Generation;
use crate::ids::GenerationId;
use crate::image::Image;
use crate::ports::{
    Background, Clock, GenerationRepository, IdempotencyStore, ImageRenderer, ImageRepository,
    ModelCatalog, ObjectStore, OutputFetcher, ProviderError, Providers,
};
use crate::services::credits::{CreditError, CreditService};

mod cancel;
mod finalize;
mod once;
mod read;
mod reconcile;
mod shared;
mod start;
#[cfg(test)]
mod tests;

pub use cancel::CancelGeneration;
pub use finalize::FinalizeGeneration;
pub use once::{IdempotencyKey, KeyedStart};
pub use read::{HistoryPage, ReadGenerations};
pub use reconcile::ReconcileGenerations;
pub(crate) use start::new_generation;
pub use start::{StartGeneration, Started};

/// The URL the provider calls back about a generation. The server builds it (it knows its
/// routes and its public address); the domain only hands it to the provider.
#[derive(Clone)]
pub struct CallbackUrls(Arc<dyn Fn(GenerationId) -> String + Send + Sync>);

impl CallbackUrls {
    /// Callback URLs made by `url_of`.
    pub fn new(url_of: impl Fn(GenerationId) -> String + Send + Sync + 'static) -> Self {
        Self(Arc::new(url_of))
    }

    /// The URL the provider calls back about generation `id`.
    pub fn url_for(&self, id: GenerationId) -> String {
        (self.0)(id)
    }
}

impl fmt::Debug for CallbackUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackUrls(..)")
    }
}

/// How the pipeline behaves.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// The URL the provider calls back for each generation; `None` when webhooks are not
    /// configured (polling and the reconciler finish).
    pub callbacks: Option<CallbackUrls>,
    /// How long a waiting request waits before answering `processing`.
    pub sync_timeout: Duration,
    /// How often a waiting request asks for news.
    pub poll_interval: Duration,
    /// How long one finaliser's lease on a generation lasts; the finaliser renews it every
    /// third of it while it downloads and stores, so a dead finaliser's lease runs out after
    /// at most this long. A cancel that arrives during finalisation waits about this long.
    pub finalize_lease: Duration,
    /// How long an `Idempotency-Key` and its first answer are kept.
    pub idempotency_ttl: Duration,
    /// The provider is asked about a processing generation at most once per this interval,
    /// by whichever status poll, waiting request or reconciler on any instance gets there
    /// first; the others answer from the database. Zero: every poll asks.
    pub provider_poll_min_interval: Duration,
    /// How long a generation may stay `pending` (recorded, not yet submitted) before the
    /// reconciler decides its server stopped and fails it: longer than any submit can take.
    pub pending_timeout: Duration,
    /// How often the reconciler runs: a row one pass takes is not taken by another instance's
    /// pass for this long.
    pub reconciler_interval: Duration,
}

/// Every port the generation services use, for [`GenerationServices::new`], which hands each
/// service the ones it calls.
#[derive(Clone)]
pub struct PipelinePorts {
    /// The model catalogue.
    pub models: Arc<dyn ModelCatalog>,
    /// Generations and their money.
    pub generations: Arc<dyn GenerationRepository>,
    /// Images.
    pub images: Arc<dyn ImageRepository>,
    /// The image providers, each under its name.
    pub providers: Providers,
    /// Output downloads.
    pub fetcher: Arc<dyn OutputFetcher>,
    /// Object storage.
    pub store: Arc<dyn ObjectStore>,
    /// Computes stored images' blurhash.
    pub renderer: Arc<dyn ImageRenderer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// `Idempotency-Key` records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Runs an inline provider's call after the request answered.
    pub background: Arc<dyn Background>,
}

/// What the generation services can fail with.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// No active model with that id.
    #[error("model not found")]
    ModelNotFound,
    /// The freemium rule refused.
    #[error(transparent)]
    Insufficient(#[from] InsufficientCredits),
    /// The remote credits service is needed and cannot be reached; nothing was recorded.
    #[error("the credits service is unavailable")]
    CreditsUnavailable,
    /// The provider refused or failed; the generation is `failed` and its access given back.
    #[error("provider")]
    Provider(#[source] ProviderError),
    /// The `Idempotency-Key` was used before with another request body.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// A request with this `Idempotency-Key` is still being started.
    #[error("a request with this idempotency key is in progress")]
    IdempotencyInProgress,
    /// The database failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl From<CreditError> for GenerateError {
    fn from(error: CreditError) -> Self {
        match error {
            CreditError::Repository(error) => Self::Repository(error),
            CreditError::Unavailable | CreditError::RemoteLedger => Self::CreditsUnavailable,
        }
    }
}

/// A generation and its image, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationView {
    /// The generation.
    pub generation: Generation,
    /// Its image, once completed.
    pub image: Option<Image>,
}

/// The generation use cases, built together from one set of ports.
#[derive(Clone)]
pub struct GenerationServices {
    /// Starting generations.
    pub start: StartGeneration,
    /// Applying the provider's reports.
    pub finalize: FinalizeGeneration,
    /// The reconciler's passes.
    pub reconcile: ReconcileGenerations,
    /// Users' cancels.
    pub cancel: CancelGeneration,
    /// Status, single generations and history.
    pub read: ReadGenerations,
    /// The credit service they decide and settle money through.
    pub credits: CreditService,
}

impl GenerationServices {
    /// The reconciler alone (with the finaliser it asks the provider through) over `ports`:
    /// for background work on a database pool of its own, where the request-serving services
    /// are not needed. `ports.models` and `ports.images` are not used.
    pub fn reconciler_only(
        ports: PipelinePorts,
        credits: CreditService,
        settings: &PipelineSettings,
    ) -> ReconcileGenerations {
        let finalize = FinalizeGeneration::new(
            Arc::clone(&ports.generations),
            ports.providers,
            ports.fetcher,
            ports.store,
            ports.renderer,
            Arc::clone(&ports.clock),
            credits.clone(),
            settings,
        );
        ReconcileGenerations::new(
            ports.generations,
            ports.idempotency,
            ports.clock,
            credits,
            finalize,
            settings,
        )
    }

    /// The five services over `ports`, deciding and settling money through `credits`.
    pub fn new(ports: PipelinePorts, credits: CreditService, settings: PipelineSettings) -> Self {
        let finalize = FinalizeGeneration::new(
            Arc::clone(&ports.generations),
            ports.providers.clone(),
            ports.fetcher,
            ports.store,
            ports.renderer,
            Arc::clone(&ports.clock),
            credits.clone(),
            &settings,
        );
        Self {
            start: StartGeneration::new(
                start::StartPorts {
                    models: ports.models,
                    lifecycle: ports.generations.clone(),
                    reads: ports.generations.clone(),
                    images: Arc::clone(&ports.images),
                    providers: ports.providers.clone(),
                    idempotency: Arc::clone(&ports.idempotency),
                    clock: Arc::clone(&ports.clock),
                    background: Arc::clone(&ports.background),
                },
                credits.clone(),
                finalize.clone(),
                settings.clone(),
            ),
            reconcile: ReconcileGenerations::new(
                Arc::clone(&ports.generations),
                ports.idempotency,
                Arc::clone(&ports.clock),
                credits.clone(),
                finalize.clone(),
                &settings,
            ),
            cancel: CancelGeneration::new(
                Arc::clone(&ports.generations),
                ports.providers,
                Arc::clone(&ports.clock),
                &settings,
            ),
            read: ReadGenerations::new(ports.generations, ports.images, finalize.clone()),
            finalize,
            credits,
        }
    }
}
