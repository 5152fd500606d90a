//! The generation pipeline: access decision, provider submission, and finalisation exactly
//! once, whoever gets there first — the waiting request, the provider's webhook, a status poll
//! or the reconciler (see architecture.md, "The generation lifecycle").

use std::sync::Arc;
use std::time::Duration;

use crate::credits::CreditAmount;
use crate::error::{ErrorChain, RepositoryError};
use crate::freemium::{FreemiumPolicy, InsufficientCredits};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId, UserId};
use crate::image::Image;
use crate::params::GenerationRequest;
use crate::ports::{
    Clock, Created, GenerationRepository, IdempotencyStore, ImageProvider, ImageRepository,
    ModelCatalog, ObjectStore, OutputFetcher, ProviderError, ProviderRequest, ProviderState,
    Refusal, Transition,
};
use crate::services::credits::{CreditError, CreditService};

mod finalize;
mod once;
#[cfg(test)]
mod tests;

pub use once::{IdempotencyKey, KeyedStart};

/// The shortest pause between two reads of a cancel waiting for a finaliser.
const CANCEL_POLL_MIN: Duration = Duration::from_millis(50);

/// How the pipeline behaves.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Public base URL the provider calls back (`…/api/v1/generate/webhook?generation={id}` is
    /// appended); `None` when webhooks are not configured (polling and the reconciler finish).
    pub webhook_base_url: Option<String>,
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

/// The ports the pipeline uses.
#[derive(Clone)]
pub struct PipelinePorts {
    /// The model catalogue.
    pub models: Arc<dyn ModelCatalog>,
    /// Generations and their money.
    pub generations: Arc<dyn GenerationRepository>,
    /// Images.
    pub images: Arc<dyn ImageRepository>,
    /// The image provider.
    pub provider: Arc<dyn ImageProvider>,
    /// Output downloads.
    pub fetcher: Arc<dyn OutputFetcher>,
    /// Object storage.
    pub store: Arc<dyn ObjectStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// `Idempotency-Key` records.
    pub idempotency: Arc<dyn IdempotencyStore>,
}

/// What starting a generation can fail with.
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

/// A generation and its image, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationView {
    /// The generation.
    pub generation: Generation,
    /// Its image, once completed.
    pub image: Option<Image>,
}

impl From<CreditError> for GenerateError {
    fn from(error: CreditError) -> Self {
        match error {
            CreditError::Repository(error) => Self::Repository(error),
            CreditError::Unavailable | CreditError::RemoteLedger => Self::CreditsUnavailable,
        }
    }
}

/// A generation just started.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// Where it stands now.
    pub view: GenerationView,
    /// Free generations left for the user.
    pub free_generations_remaining: u32,
    /// The user's local balance after this generation's hold (local ledger only).
    pub credit_balance: Option<CreditAmount>,
}

/// One page of a user's generations.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// The generations, newest first, each with its image once completed.
    pub items: Vec<GenerationView>,
    /// How many generations the user has in all.
    pub total: u64,
}

/// Runs generations.
#[derive(Clone)]
pub struct GenerationService {
    ports: PipelinePorts,
    credits: CreditService,
    settings: PipelineSettings,
}

impl GenerationService {
    /// A pipeline over `ports` that decides and settles money through `credits`.
    pub fn new(ports: PipelinePorts, credits: CreditService, settings: PipelineSettings) -> Self {
        Self {
            ports,
            credits,
            settings,
        }
    }

    /// The freemium rule in force.
    pub fn policy(&self) -> &FreemiumPolicy {
        self.credits.policy()
    }

    /// The credit service the pipeline charges through.
    pub fn credits(&self) -> &CreditService {
        &self.credits
    }

    /// Starts a generation for `user`: decides access (free slot or credit hold) atomically
    /// with recording it, submits it, and — when `request.wait_for_result` — waits for it up to
    /// the sync timeout.
    ///
    /// # Errors
    /// [`GenerateError::ModelNotFound`], [`GenerateError::Insufficient`] (nothing recorded),
    /// [`GenerateError::Provider`] (recorded as failed, access given back), or
    /// [`GenerateError::Repository`].
    pub async fn start(
        &self,
        user: &UserId,
        request: GenerationRequest,
    ) -> Result<Started, GenerateError> {
        self.start_as(user, request, GenerationId::new_random())
            .await
    }

    async fn start_as(
        &self,
        user: &UserId,
        request: GenerationRequest,
        id: GenerationId,
    ) -> Result<Started, GenerateError> {
        let model = self
            .ports
            .models
            .get(request.model_id)
            .await?
            .filter(|m| m.spec.is_active)
            .ok_or(GenerateError::ModelNotFound)?;
        let params = request.resolve(&model);
        let new = NewGeneration {
            id,
            user_id: user.clone(),
            model_id: Some(model.id),
            model_name: Some(model.spec.name.clone()),
            prompt: request.prompt.as_str().to_owned(),
            negative_prompt: request
                .negative_prompt
                .as_ref()
                .map(|n| n.as_str().to_owned()),
            style: request.style.as_ref().map(|s| s.as_str().to_owned()),
            source_image_url: request
                .source_image_url
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            params: params.clone(),
            created_at: self.ports.clock.now(),
        };
        let created = self.create(&new).await?;
        metrics::counter!(
            "picture_generations_started_total",
            "model" => model.spec.name.clone(),
            "mode" => if request.wait_for_result { "sync" } else { "async" },
            "billing" => created.generation.billing.as_str()
        )
        .increment(1);
        let provider_request = ProviderRequest {
            generation_id: id,
            model_ref: model.spec.replicate_id.clone(),
            model_version: request
                .model_version
                .as_ref()
                .map(|v| v.as_str().to_owned())
                .or_else(|| model.spec.version.clone()),
            prompt: new.prompt.clone(),
            negative_prompt: new
                .negative_prompt
                .clone()
                .filter(|_| model.spec.supports_negative_prompt),
            source_image_url: new.source_image_url.clone(),
            params,
            webhook_url: self.settings.webhook_base_url.as_ref().map(|base| {
                format!(
                    "{}/api/v1/generate/webhook?generation={id}",
                    base.trim_end_matches('/')
                )
            }),
            wait: request.wait_for_result,
        };
        let submission = match self.ports.provider.submit(&provider_request).await {
            Ok(submission) => submission,
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider refused the generation");
                let failed = Transition::Failed {
                    message: error.to_string(),
                };
                self.end(id, &failed, self.ports.clock.now()).await?;
                return Err(GenerateError::Provider(error));
            }
        };
        let processing = Transition::Processing {
            prediction_id: submission.prediction_id.clone(),
        };
        let recorded = match self
            .ports
            .generations
            .transition(id, &processing, self.ports.clock.now())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.cancel_if_ended(id, &submission.prediction_id).await?;
                false
            }
            Err(error) => {
                // A prediction id that another generation already has: never attach it here.
                tracing::error!(generation_id = %id, error = %ErrorChain(&error), "cannot record the prediction");
                let failed = Transition::Failed {
                    message: "The provider's answer could not be recorded".to_owned(),
                };
                self.end(id, &failed, self.ports.clock.now()).await?;
                return Err(GenerateError::Provider(ProviderError::Unavailable(
                    ErrorChain(&error).to_string(),
                )));
            }
        };
        tracing::info!(generation_id = %id, prediction_id = %submission.prediction_id, "generation submitted");
        let running = recorded
            && matches!(
                submission.state,
                ProviderState::Starting | ProviderState::Processing
            );
        self.settle(id, &submission.prediction_id, submission.state)
            .await?;
        let view = if running && !request.wait_for_result {
            // Nothing this request did moved it past `processing`: answer with what it wrote
            // instead of reading it back (a webhook that finished it meanwhile shows on the
            // next read).
            GenerationView {
                generation: Generation {
                    status: GenerationStatus::Processing,
                    prediction_id: Some(submission.prediction_id),
                    ..created.generation
                },
                image: None,
            }
        } else {
            let found = if request.wait_for_result {
                self.wait_until_final(id).await?
            } else {
                self.ports.generations.find(id).await?
            };
            let generation = found.ok_or(RepositoryError::Other(
                "generation vanished after creation".into(),
            ))?;
            self.view_of(generation).await?
        };
        Ok(Started {
            view,
            free_generations_remaining: created.free_generations_remaining,
            credit_balance: created.balance_after,
        })
    }

    /// Cancels `prediction_id` at the provider when generation `id` ended while it was being
    /// submitted (cancelled by its user, or failed by the reconciler's pending timeout), so
    /// the prediction does not run for nothing. A webhook that recorded the prediction first
    /// leaves it `processing`: then nothing is cancelled.
    async fn cancel_if_ended(
        &self,
        id: GenerationId,
        prediction_id: &PredictionId,
    ) -> Result<(), RepositoryError> {
        let ended = self
            .ports
            .generations
            .find(id)
            .await?
            .is_none_or(|generation| {
                matches!(
                    generation.status,
                    GenerationStatus::Failed | GenerationStatus::Cancelled
                )
            });
        if ended {
            tracing::warn!(generation_id = %id, %prediction_id, "generation ended during its submit; cancelling the prediction");
            if let Err(error) = self.ports.provider.cancel(prediction_id).await {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider cancel failed");
            }
        }
        Ok(())
    }

    /// Records the generation with the funds the decision needs: asks the remote credits
    /// service only when the user has no free slot left (again if the slot went meanwhile).
    async fn create(&self, new: &NewGeneration) -> Result<Created, GenerateError> {
        let policy = self.credits.policy();
        let mut funds = self.credits.funds_for(&new.user_id).await?;
        loop {
            match self.ports.generations.create(new, policy, funds).await? {
                Ok(created) => return Ok(created),
                Err(Refusal::Insufficient(refusal)) => {
                    tracing::info!(
                        target: "picture::ledger",
                        op = "reserve", user_id = %new.user_id, generation_id = %new.id,
                        amount = refusal.required.get(), balance = refusal.balance.get(),
                        outcome = "insufficient", "generation refused: insufficient credits"
                    );
                    return Err(GenerateError::Insufficient(refusal));
                }
                Err(Refusal::BalanceNeeded) => {
                    funds = self.credits.remote_funds(&new.user_id).await?;
                }
            }
        }
    }

    /// The generation `id` of `user` with its image. A processing generation is first asked
    /// about at the provider when no one has asked within the provider poll interval (so
    /// polling clients see progress without a webhook, and many polls cost one provider call);
    /// otherwise it is answered from the database.
    ///
    /// # Errors
    /// [`GenerateError::Repository`]; provider failures are logged, not returned.
    pub async fn status(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<GenerationView>, GenerateError> {
        let Some(generation) = self.ports.generations.find_for_user(user, id).await? else {
            return Ok(None);
        };
        if generation.status == GenerationStatus::Processing
            && self.poll_provider(&generation).await?
        {
            return Ok(self.view(id).await?);
        }
        Ok(Some(self.view_of(generation).await?))
    }

    /// The generation `id` of `user` as stored, without asking the provider.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn find(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, GenerateError> {
        Ok(self.ports.generations.find_for_user(user, id).await?)
    }

    /// Cancels `user`'s generation `id` if it is not final: asks the provider to cancel (a
    /// failure is logged) and gives the access back. `false` when there is no such generation.
    ///
    /// Once a finaliser holds the generation (the provider succeeded and its image is being
    /// downloaded and stored), the finaliser wins: the cancel waits, polling the row for about
    /// one finalisation lease, until the generation is final. It then ends `completed` and
    /// paid (the cancel came too late), or `cancelled` when the finaliser's lease ran out (its
    /// server stopped). A finaliser still at work after that wait completes the generation
    /// after the cancel has answered.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn cancel(&self, user: &UserId, id: GenerationId) -> Result<bool, GenerateError> {
        let Some(generation) = self.ports.generations.find_for_user(user, id).await? else {
            return Ok(false);
        };
        if generation.status.is_terminal() {
            return Ok(true);
        }
        if let Some(prediction_id) = &generation.prediction_id
            && let Err(error) = self.ports.provider.cancel(prediction_id).await
        {
            tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider cancel failed");
        }
        let cancelled = Transition::Cancelled {
            message: "Cancelled by user".to_owned(),
        };
        let pause = self.settings.poll_interval.max(CANCEL_POLL_MIN);
        let attempts = self.settings.finalize_lease.as_millis() / pause.as_millis().max(1) + 2;
        for attempt in 0..attempts {
            if self.end(id, &cancelled, self.ports.clock.now()).await? {
                return Ok(true);
            }
            match self.ports.generations.find(id).await? {
                Some(now) if !now.status.is_terminal() && attempt + 1 < attempts => {
                    // A finaliser holds it: wait for it to finish or for its lease to run out.
                    self.ports.clock.sleep(pause).await;
                }
                _ => return Ok(true),
            }
        }
        Ok(true)
    }

    /// Applies a provider's report (a verified webhook) about `prediction_id`. `hint` is the
    /// generation id from the webhook URL: when the report arrives before the submit call has
    /// returned, the generation is still `pending` without a prediction id, and the report
    /// records it. `None` when no generation matches (the provider should stop retrying all
    /// the same). A report never moves a generation that belongs to another prediction.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn on_provider_report(
        &self,
        prediction_id: &PredictionId,
        state: ProviderState,
        hint: Option<GenerationId>,
    ) -> Result<Option<GenerationId>, GenerateError> {
        let generation = match self
            .ports
            .generations
            .find_by_prediction(prediction_id)
            .await?
        {
            Some(generation) => generation,
            None => {
                let Some(hinted) = hint else { return Ok(None) };
                let Some(generation) = self.ports.generations.find(hinted).await? else {
                    return Ok(None);
                };
                if generation.prediction_id.is_some() {
                    return Ok(None);
                }
                let processing = Transition::Processing {
                    prediction_id: prediction_id.clone(),
                };
                if !self
                    .ports
                    .generations
                    .transition(hinted, &processing, self.ports.clock.now())
                    .await?
                {
                    return Ok(None);
                }
                generation
            }
        };
        let id = generation.record.id;
        self.settle(id, prediction_id, state).await?;
        Ok(Some(id))
    }

    /// One page of `user`'s generations, newest first, each with its image (two queries,
    /// whatever the page size).
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<HistoryPage, GenerateError> {
        let (generations, total) = self.ports.generations.history(user, offset, limit).await?;
        let completed: Vec<GenerationId> = generations
            .iter()
            .filter(|g| g.status == GenerationStatus::Completed)
            .map(|g| g.record.id)
            .collect();
        let mut images = if completed.is_empty() {
            Vec::new()
        } else {
            self.ports.images.find_for_generations(&completed).await?
        };
        let items = generations
            .into_iter()
            .map(|generation| {
                let position = images
                    .iter()
                    .position(|i| i.record.generation_id == Some(generation.record.id));
                let image = position.map(|p| images.swap_remove(p));
                GenerationView { generation, image }
            })
            .collect();
        Ok(HistoryPage { items, total })
    }

    /// Finalises up to `limit` generations stuck in `processing` for longer than `min_age`
    /// (missed webhooks, restarts) or whose finaliser's lease ran out (its server stopped) by
    /// asking the provider, fails those left `pending` for longer than the pending timeout
    /// (their server stopped before submitting them; their free slot or hold is given back),
    /// and retries up to `limit` charges still owed to the remote credits service. Rows are
    /// taken so that the reconcilers of several instances share them instead of each polling
    /// every row. Returns how many generations became final.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn reconcile(&self, min_age: Duration, limit: u32) -> Result<usize, GenerateError> {
        let now = self.ports.clock.now();
        let older_than =
            now - chrono::Duration::from_std(min_age).unwrap_or_else(|_| chrono::Duration::zero());
        let hold = self.settings.reconciler_interval;
        let stale = self
            .ports
            .generations
            .stale_processing(older_than, now, hold, limit)
            .await?;
        let mut finished = 0;
        for generation in stale {
            self.poll_provider(&generation).await?;
            if let Some(after) = self.ports.generations.find(generation.record.id).await?
                && after.status.is_terminal()
            {
                finished += 1;
            }
        }
        let interrupted = now
            - chrono::Duration::from_std(self.settings.pending_timeout)
                .unwrap_or_else(|_| chrono::Duration::zero());
        for generation in self
            .ports
            .generations
            .stale_pending(interrupted, now, hold, limit)
            .await?
        {
            let failed = Transition::Failed {
                message: "The generation was interrupted before it reached the provider".to_owned(),
            };
            if self
                .end(generation.record.id, &failed, self.ports.clock.now())
                .await?
            {
                tracing::warn!(generation_id = %generation.record.id, "interrupted generation failed; its access was given back");
                finished += 1;
            }
        }
        self.credits.collect_due(min_age, limit).await?;
        Ok(finished)
    }

    async fn view(&self, id: GenerationId) -> Result<Option<GenerationView>, RepositoryError> {
        match self.ports.generations.find(id).await? {
            Some(generation) => Ok(Some(self.view_of(generation).await?)),
            None => Ok(None),
        }
    }

    /// `generation` with its image when it is completed.
    async fn view_of(&self, generation: Generation) -> Result<GenerationView, RepositoryError> {
        let image = if generation.status == GenerationStatus::Completed {
            self.ports
                .images
                .find_for_generation(generation.record.id)
                .await?
        } else {
            None
        };
        Ok(GenerationView { generation, image })
    }
}
