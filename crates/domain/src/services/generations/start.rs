//! Starting a generation: the model, the access decision (a free slot or a credit hold, taken
//! atomically with recording it), the provider submit, and — when the client waits — the wait
//! for its end.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::credits::CreditAmount;
use crate::error::{ErrorChain, RepositoryError};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId, UserId};
use crate::model::Model;
use crate::params::GenerationRequest;
use crate::ports::{
    Background, Clock, Created, GenerationLifecycle, GenerationReads, IdempotencyStore,
    ImageProvider, ImageRepository, ModelCatalog, ProviderError, ProviderRequest, ProviderState,
    Providers, Refusal, Submission, Transition,
};
use crate::services::credits::CreditService;

use super::finalize::Settled;

mod inline;
mod queued;
use super::shared::{end, view_of};
use super::{FinalizeGeneration, GenerateError, GenerationView, PipelineSettings};

/// The ports starting a generation calls.
#[derive(Clone)]
pub(super) struct StartPorts {
    /// The model catalogue.
    pub(super) models: Arc<dyn ModelCatalog>,
    /// Generations: recorded with their access, moved to `processing` or `failed`.
    pub(super) lifecycle: Arc<dyn GenerationLifecycle>,
    /// Generations read back when another request completed them.
    pub(super) reads: Arc<dyn GenerationReads>,
    /// Images, for the answer of a generation this request did not complete itself.
    pub(super) images: Arc<dyn ImageRepository>,
    /// The providers: the model's own is asked to submit (and to cancel a prediction whose
    /// generation ended meanwhile).
    pub(super) providers: Providers,
    /// `Idempotency-Key` records.
    pub(super) idempotency: Arc<dyn IdempotencyStore>,
    /// Time.
    pub(super) clock: Arc<dyn Clock>,
    /// Runs an inline provider's call once the request has answered.
    pub(super) background: Arc<dyn Background>,
}

/// Starts generations: decides access through the credit service, submits to the provider,
/// and settles what the provider answered at once through the finaliser.
#[derive(Clone)]
pub struct StartGeneration {
    pub(super) ports: StartPorts,
    credits: CreditService,
    finalize: FinalizeGeneration,
    pub(super) settings: PipelineSettings,
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

impl StartGeneration {
    /// Starting over `ports`, deciding money through `credits`, settling through `finalize`.
    pub(super) fn new(
        ports: StartPorts,
        credits: CreditService,
        finalize: FinalizeGeneration,
        settings: PipelineSettings,
    ) -> Self {
        Self {
            ports,
            credits,
            finalize,
            settings,
        }
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

    /// [`start`](Self::start) with the generation id chosen by the caller.
    pub(super) async fn start_as(
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
        // A model whose provider this server lacks is not offered (see `catalog_seed`).
        let provider = Arc::clone(
            self.ports
                .providers
                .get(&model.spec.provider)
                .ok_or(GenerateError::ModelNotFound)?,
        );
        let new = new_generation(user, &request, &model, id, self.ports.clock.now());
        let created = self.create(&new).await?;
        metrics::counter!(
            "picture_generations_started_total",
            "model" => model.spec.name.clone(),
            "mode" => if request.wait_for_result { "sync" } else { "async" },
            "billing" => created.generation.billing.as_str()
        )
        .increment(1);
        let webhook_url = self.settings.callbacks.as_ref().map(|c| c.url_for(id));
        let provider_request = provider_request(&new, &request, &model, webhook_url);
        let view = self
            .run(
                provider,
                new,
                created.generation.clone(),
                provider_request,
                None,
            )
            .await?;
        Ok(Started {
            view,
            free_generations_remaining: created.free_generations_remaining,
            credit_balance: created.balance_after,
        })
    }

    /// Runs the recorded `generation` (described by `new`) on `provider` with `request`:
    /// submits it — or follows `found`, a prediction already started for it — records the
    /// prediction and settles what the provider answered; an inline provider's call is made
    /// as [`start_inline`](Self::start_inline) makes it. Answers where it stands then (after
    /// waiting for its end when `request.wait`).
    pub(super) async fn run(
        &self,
        provider: Arc<dyn ImageProvider>,
        new: NewGeneration,
        generation: Generation,
        request: ProviderRequest,
        found: Option<Submission>,
    ) -> Result<GenerationView, GenerateError> {
        let id = new.id;
        let wait = request.wait;
        if provider.answers_in_submit() {
            return self.start_inline(provider, new, generation, request).await;
        }
        let (submission, recorded) = self.submit(&*provider, &new, &request, found).await?;
        let running = recorded
            && matches!(
                submission.state,
                ProviderState::Starting | ProviderState::Processing { .. }
            );
        let settled = self
            .finalize
            .settle(&new, &submission.prediction_id, submission.state)
            .await?;
        Ok(match settled {
            // This request completed it: answer with what completing it returned.
            Settled::Completed(view) => *view,
            // Nothing this request did moved it past `processing`: answer with what it wrote
            // instead of reading it back (a webhook that finished it meanwhile shows on the
            // next read).
            Settled::Other if running && !wait => GenerationView {
                generation: Generation {
                    status: GenerationStatus::Processing,
                    prediction_id: Some(submission.prediction_id),
                    ..generation
                },
                image: None,
            },
            Settled::Other => self.read_back(id, wait).await?,
        })
    }

    /// Submits the generation `new` describes — unless `found` is a prediction already
    /// started for it — and records its prediction: the provider's answer, and whether this
    /// call moved it to `processing` (`false` when it ended meanwhile, or a webhook recorded
    /// the prediction first). A refused submit, or a prediction that cannot be recorded, fails
    /// the generation (its access is given back).
    async fn submit(
        &self,
        provider: &dyn ImageProvider,
        new: &NewGeneration,
        request: &ProviderRequest,
        found: Option<Submission>,
    ) -> Result<(Submission, bool), GenerateError> {
        let id = new.id;
        let submitted = match found {
            Some(found) => Ok(found),
            None => provider.submit(request).await,
        };
        let submission = match submitted {
            Ok(submission) => submission,
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider refused the generation");
                let failed = Transition::Failed {
                    message: error.to_string(),
                };
                end(&*self.ports.lifecycle, new, &failed, self.ports.clock.now()).await?;
                return Err(GenerateError::Provider(error));
            }
        };
        let processing = Transition::Processing {
            prediction_id: submission.prediction_id.clone(),
        };
        let recorded = match self
            .ports
            .lifecycle
            .transition(id, &processing, self.ports.clock.now())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.cancel_if_ended(provider, id, &submission.prediction_id)
                    .await?;
                false
            }
            Err(error) => {
                // A prediction id that another generation already has: never attach it here.
                tracing::error!(generation_id = %id, error = %ErrorChain(&error), "cannot record the prediction");
                let failed = Transition::Failed {
                    message: "The provider's answer could not be recorded".to_owned(),
                };
                end(&*self.ports.lifecycle, new, &failed, self.ports.clock.now()).await?;
                return Err(GenerateError::Provider(ProviderError::Unavailable(
                    ErrorChain(&error).to_string(),
                )));
            }
        };
        tracing::info!(generation_id = %id, prediction_id = %submission.prediction_id, "generation submitted");
        Ok((submission, recorded))
    }

    /// The generation `id` as it stands now, after waiting for its end when `wait`: for a
    /// generation that someone else moved (or that this request did not complete itself).
    async fn read_back(
        &self,
        id: GenerationId,
        wait: bool,
    ) -> Result<GenerationView, GenerateError> {
        let found = if wait {
            self.wait_until_final(id).await?
        } else {
            match self.ports.reads.find(id).await? {
                Some(generation) => Some(view_of(&*self.ports.images, generation).await?),
                None => None,
            }
        };
        Ok(found.ok_or(RepositoryError::Other(
            "generation vanished after creation".into(),
        ))?)
    }

    /// Cancels `prediction_id` at the provider when generation `id` ended while it was being
    /// submitted (cancelled by its user, or failed by the reconciler's pending timeout), so
    /// the prediction does not run for nothing. A webhook that recorded the prediction first
    /// leaves it `processing`: then nothing is cancelled.
    async fn cancel_if_ended(
        &self,
        provider: &dyn ImageProvider,
        id: GenerationId,
        prediction_id: &PredictionId,
    ) -> Result<(), RepositoryError> {
        let ended = self.ports.reads.find(id).await?.is_none_or(|generation| {
            matches!(
                generation.status,
                GenerationStatus::Failed | GenerationStatus::Cancelled
            )
        });
        if ended {
            tracing::warn!(generation_id = %id, %prediction_id, "generation ended during its submit; cancelling the prediction");
            if let Err(error) = provider.cancel(prediction_id).await {
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
            match self.ports.lifecycle.create(new, policy, funds).await? {
                Ok(created) => return Ok(created),
                Err(Refusal::Insufficient(refusal)) => {
                    tracing::info!(
                        target: "picture::ledger",
                        op = crate::money::MoneyOp::Reserve.as_str(), user_id = %new.user_id, generation_id = %new.id,
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

    /// Reads `id` until it is final or the sync timeout has passed, asking the provider
    /// between reads (through the same per-interval throttle as status polls): the last read
    /// with its image, or what completing it returned when this request completed it (`None`
    /// when the generation is gone).
    async fn wait_until_final(
        &self,
        id: GenerationId,
    ) -> Result<Option<GenerationView>, GenerateError> {
        let deadline = self.ports.clock.now()
            + chrono::Duration::from_std(self.settings.sync_timeout)
                .unwrap_or_else(|_| chrono::Duration::zero());
        loop {
            let Some(generation) = self.ports.reads.find(id).await? else {
                return Ok(None);
            };
            if generation.status.is_terminal() || self.ports.clock.now() >= deadline {
                return Ok(Some(view_of(&*self.ports.images, generation).await?));
            }
            self.ports.clock.sleep(self.settings.poll_interval).await;
            if let Some(Settled::Completed(view)) = self.finalize.poll_provider(&generation).await?
            {
                return Ok(Some(*view));
            }
        }
    }
}

/// The generation `user` asks for with `request`, on `model`, as it is recorded.
pub(crate) fn new_generation(
    user: &UserId,
    request: &GenerationRequest,
    model: &Model,
    id: GenerationId,
    at: DateTime<Utc>,
) -> NewGeneration {
    NewGeneration {
        id,
        user_id: user.clone(),
        model_id: Some(model.id),
        model_name: Some(model.spec.name.clone()),
        provider: model.spec.provider.clone(),
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
        params: request.resolve(model),
        created_at: at,
    }
}

/// What the provider is asked for the generation `new` describes, from `request`.
fn provider_request(
    new: &NewGeneration,
    request: &GenerationRequest,
    model: &Model,
    webhook_url: Option<String>,
) -> ProviderRequest {
    let asked = Asked {
        model_version: request
            .model_version
            .as_ref()
            .map(|v| v.as_str().to_owned()),
        // The URL the generation records, or what stands in for it (a data URI of one of
        // this server's own files the provider could not reach).
        source_image_url: request
            .source_image_url
            .as_ref()
            .map(|source| source.for_provider().to_owned()),
        wait: request.wait_for_result,
    };
    asked.of(new, model, webhook_url)
}

/// What a client asked for beyond what a generation records.
pub(super) struct Asked {
    /// The provider model version asked for, if any.
    pub(super) model_version: Option<String>,
    /// The source image as the provider is to fetch it, if any.
    pub(super) source_image_url: Option<String>,
    /// Whether the caller waits for the result.
    pub(super) wait: bool,
}

impl Asked {
    /// What the provider is asked for the generation `new` describes: the model's reference
    /// and version (the asked version first), the negative prompt only where the model takes
    /// one, and where to call back.
    pub(super) fn of(
        self,
        new: &NewGeneration,
        model: &Model,
        webhook_url: Option<String>,
    ) -> ProviderRequest {
        ProviderRequest {
            generation_id: new.id,
            model_ref: model.spec.model_ref.clone(),
            model_version: self.model_version.or_else(|| model.spec.version.clone()),
            prompt: new.prompt.clone(),
            negative_prompt: new
                .negative_prompt
                .clone()
                .filter(|_| model.spec.supports_negative_prompt),
            source_image_url: self.source_image_url,
            params: new.params.clone(),
            webhook_url,
            wait: self.wait,
        }
    }
}
