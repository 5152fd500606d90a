//! The generation pipeline: access decision, provider submission, and finalisation exactly
//! once, whoever gets there first — the waiting request, the provider's webhook, a status poll
//! or the reconciler (see architecture.md, "The generation lifecycle").

use std::sync::Arc;
use std::time::Duration;

use crate::error::RepositoryError;
use crate::freemium::{FreemiumPolicy, InsufficientCredits};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, ImageId, PredictionId, UserId};
use crate::image::{Image, NewImage};
use crate::params::GenerationRequest;
use crate::ports::{
    Clock, GenerationRepository, IdempotencyClaim, IdempotencyStore, ImageProvider,
    ImageRepository, ModelCatalog, ObjectKey, ObjectStore, OutputFetcher, ProviderError,
    ProviderRequest, ProviderState, Transition,
};

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
    /// How long one finaliser may hold a generation.
    pub finalize_lease: Duration,
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

/// A client's `Idempotency-Key` and the hash of the request body it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key.
    pub key: String,
    /// A hash of the request body (canonical JSON).
    pub request_hash: String,
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
    /// The provider refused or failed; the generation is `failed` and its access given back.
    #[error("provider: {0}")]
    Provider(ProviderError),
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

/// A generation just started.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// Where it stands now.
    pub view: GenerationView,
    /// Free generations left for the user.
    pub free_generations_remaining: u32,
}

/// Runs generations.
#[derive(Clone)]
pub struct GenerationService {
    ports: PipelinePorts,
    policy: FreemiumPolicy,
    settings: PipelineSettings,
}

impl GenerationService {
    /// A pipeline over `ports` with the freemium `policy`.
    pub fn new(ports: PipelinePorts, policy: FreemiumPolicy, settings: PipelineSettings) -> Self {
        Self {
            ports,
            policy,
            settings,
        }
    }

    /// The freemium rule in force.
    pub fn policy(&self) -> &FreemiumPolicy {
        &self.policy
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

    /// Like [`start`](Self::start), at most once per `key`: a retry with the same key and body
    /// answers with the first request's generation (as it stands now) and starts nothing; a
    /// key that did not start anything (the first attempt failed) can be used again.
    ///
    /// # Errors
    /// As [`start`](Self::start); [`GenerateError::IdempotencyMismatch`] for the same key with
    /// another body; [`GenerateError::IdempotencyInProgress`] while the first attempt runs.
    pub async fn start_once(
        &self,
        user: &UserId,
        request: GenerationRequest,
        key: IdempotencyKey,
    ) -> Result<Started, GenerateError> {
        let id = GenerationId::new_random();
        let claim = self
            .ports
            .idempotency
            .claim(
                user,
                &key.key,
                &key.request_hash,
                id,
                self.ports.clock.now(),
            )
            .await?;
        match claim {
            IdempotencyClaim::New => match self.start_as(user, request, id).await {
                Ok(started) => {
                    self.ports
                        .idempotency
                        .answered(user, &key.key, started.free_generations_remaining)
                        .await?;
                    Ok(started)
                }
                Err(error) => {
                    if let Err(forgotten) = self.ports.idempotency.forget(user, &key.key).await {
                        tracing::warn!(%forgotten, "idempotency key not released");
                    }
                    Err(error)
                }
            },
            IdempotencyClaim::Existing { request_hash, .. } if request_hash != key.request_hash => {
                Err(GenerateError::IdempotencyMismatch)
            }
            IdempotencyClaim::Existing {
                generation_id,
                free_generations_remaining,
                ..
            } => match (self.view(generation_id).await?, free_generations_remaining) {
                (Some(view), Some(free_generations_remaining)) => Ok(Started {
                    view,
                    free_generations_remaining,
                }),
                _ => Err(GenerateError::IdempotencyInProgress),
            },
        }
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
        let created = self.ports.generations.create(&new, &self.policy).await??;
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
                tracing::warn!(generation_id = %id, %error, "provider refused the generation");
                let failed = Transition::Failed {
                    message: error.to_string(),
                };
                self.ports
                    .generations
                    .transition(id, &failed, self.ports.clock.now())
                    .await?;
                return Err(GenerateError::Provider(error));
            }
        };
        let processing = Transition::Processing {
            prediction_id: submission.prediction_id.clone(),
        };
        if let Err(error) = self
            .ports
            .generations
            .transition(id, &processing, self.ports.clock.now())
            .await
        {
            // A prediction id that another generation already has: never attach it here.
            tracing::error!(generation_id = %id, %error, "cannot record the prediction");
            let failed = Transition::Failed {
                message: "The provider's answer could not be recorded".to_owned(),
            };
            self.ports
                .generations
                .transition(id, &failed, self.ports.clock.now())
                .await?;
            return Err(GenerateError::Provider(ProviderError::Unavailable(
                error.to_string(),
            )));
        }
        tracing::info!(generation_id = %id, prediction_id = %submission.prediction_id, "generation submitted");
        self.settle(id, &submission.prediction_id, submission.state)
            .await?;
        if request.wait_for_result {
            self.wait_until_final(id).await?;
        }
        Ok(Started {
            view: self.view(id).await?.ok_or(RepositoryError::Other(
                "generation vanished after creation".into(),
            ))?,
            free_generations_remaining: created.free_generations_remaining,
        })
    }

    /// The generation `id` of `user` with its image, after asking the provider once if it is
    /// still processing (so polling clients see progress without a webhook).
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
        if generation.status == GenerationStatus::Processing {
            self.poll_provider(&generation).await?;
        }
        Ok(self.view(id).await?)
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
            tracing::warn!(generation_id = %id, %error, "provider cancel failed");
        }
        let cancelled = Transition::Cancelled {
            message: "Cancelled by user".to_owned(),
        };
        self.ports
            .generations
            .transition(id, &cancelled, self.ports.clock.now())
            .await?;
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

    /// Finalises up to `limit` generations stuck in `processing` for longer than `min_age`
    /// (missed webhooks, restarts) by asking the provider. Returns how many became final.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn reconcile(&self, min_age: Duration, limit: u32) -> Result<usize, GenerateError> {
        let now = self.ports.clock.now();
        let older_than =
            now - chrono::Duration::from_std(min_age).unwrap_or_else(|_| chrono::Duration::zero());
        let stale = self
            .ports
            .generations
            .stale_processing(older_than, now, limit)
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
        Ok(finished)
    }

    async fn view(&self, id: GenerationId) -> Result<Option<GenerationView>, RepositoryError> {
        let Some(generation) = self.ports.generations.find(id).await? else {
            return Ok(None);
        };
        let image = if generation.status == GenerationStatus::Completed {
            self.ports.images.find_for_generation(id).await?
        } else {
            None
        };
        Ok(Some(GenerationView { generation, image }))
    }

    async fn poll_provider(&self, generation: &Generation) -> Result<(), GenerateError> {
        let Some(prediction_id) = &generation.prediction_id else {
            return Ok(());
        };
        match self.ports.provider.fetch(prediction_id).await {
            Ok(state) => {
                self.settle(generation.record.id, prediction_id, state)
                    .await
            }
            Err(ProviderError::NotFound) => {
                let failed = Transition::Failed {
                    message: "The provider no longer knows this prediction".to_owned(),
                };
                self.ports
                    .generations
                    .transition(generation.record.id, &failed, self.ports.clock.now())
                    .await?;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(generation_id = %generation.record.id, %error, "provider poll failed");
                Ok(())
            }
        }
    }

    async fn wait_until_final(&self, id: GenerationId) -> Result<(), GenerateError> {
        let deadline = self.ports.clock.now()
            + chrono::Duration::from_std(self.settings.sync_timeout)
                .unwrap_or_else(|_| chrono::Duration::zero());
        loop {
            let Some(generation) = self.ports.generations.find(id).await? else {
                return Ok(());
            };
            if generation.status.is_terminal() || self.ports.clock.now() >= deadline {
                return Ok(());
            }
            self.ports.clock.sleep(self.settings.poll_interval).await;
            self.poll_provider(&generation).await?;
        }
    }

    /// Moves a generation to where the provider says it is. Terminal states are applied once:
    /// failures by compare-and-set, successes by the holder of the finalisation lease.
    async fn settle(
        &self,
        id: GenerationId,
        prediction_id: &PredictionId,
        state: ProviderState,
    ) -> Result<(), GenerateError> {
        let now = self.ports.clock.now();
        match state {
            ProviderState::Starting | ProviderState::Processing => Ok(()),
            ProviderState::Failed { message } => {
                self.ports
                    .generations
                    .transition(id, &Transition::Failed { message }, now)
                    .await?;
                Ok(())
            }
            ProviderState::Canceled => {
                let cancelled = Transition::Cancelled {
                    message: "Cancelled by the provider".to_owned(),
                };
                self.ports
                    .generations
                    .transition(id, &cancelled, now)
                    .await?;
                Ok(())
            }
            ProviderState::Succeeded {
                outputs,
                predict_time,
            } => {
                if !self
                    .ports
                    .generations
                    .claim_finalization(id, self.settings.finalize_lease, now)
                    .await?
                {
                    return Ok(());
                }
                let result = self.store_output(id, &outputs, predict_time).await;
                if let Err(message) = result {
                    tracing::warn!(generation_id = %id, %prediction_id, %message, "finalisation failed");
                    let failed = Transition::Failed { message };
                    self.ports
                        .generations
                        .transition(id, &failed, self.ports.clock.now())
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Downloads the first output, stores it and completes the generation. `Err` carries the
    /// user-facing reason the generation failed.
    async fn store_output(
        &self,
        id: GenerationId,
        outputs: &[crate::ports::ImageSource],
        predict_time: Option<Duration>,
    ) -> Result<(), String> {
        let generation = match self.ports.generations.find(id).await {
            Ok(Some(generation)) => generation,
            Ok(None) => return Err("the generation disappeared".to_owned()),
            Err(error) => return Err(format!("database error: {error}")),
        };
        let source = outputs
            .first()
            .ok_or_else(|| "The provider returned no image".to_owned())?;
        let fetched = self
            .ports
            .fetcher
            .fetch(source)
            .await
            .map_err(|e| e.to_string())?;
        let image_id = ImageId::from_uuid(id.as_uuid());
        let user = &generation.record.user_id;
        let key = ObjectKey::for_image(user, image_id, fetched.extension);
        let size = fetched.bytes.len() as u64;
        self.ports
            .store
            .put(&key, fetched.bytes, fetched.content_type)
            .await
            .map_err(|e| format!("Storing the image failed: {e}"))?;
        let image = NewImage {
            id: image_id,
            user_id: user.clone(),
            generation_id: Some(id),
            prompt: generation.record.prompt.clone(),
            negative_prompt: generation.record.negative_prompt.clone(),
            model: generation.record.model_name.clone(),
            style: generation.record.style.clone(),
            public_url: Some(self.ports.store.public_url(&key)),
            storage_path: key.as_str().to_owned(),
            filename: format!("generated-{id}.{}", fetched.extension),
            format: Some(fetched.extension.to_owned()),
            width: Some(fetched.width),
            height: Some(fetched.height),
            file_size: Some(size),
            created_at: self.ports.clock.now(),
        };
        let seconds = predict_time.map(|t| i32::try_from(t.as_secs()).unwrap_or(i32::MAX));
        match self
            .ports
            .generations
            .complete(id, &image, seconds, self.ports.clock.now())
            .await
        {
            Ok(Some(_)) => {
                tracing::info!(generation_id = %id, bytes = size, "generation completed");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => Err(format!("database error: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::freemium::AccessDecision;
    use crate::generation::Billing;
    use crate::model::tests::sample_model;
    use crate::params::RawGenerationRequest;
    use crate::ports::{
        Created, MockClock, MockGenerationRepository, MockIdempotencyStore, MockImageProvider,
        MockImageRepository, MockModelCatalog, MockObjectStore, MockOutputFetcher,
    };
    use crate::{CreditAmount, Enforcement};

    struct Mocks {
        models: MockModelCatalog,
        generations: MockGenerationRepository,
        provider: MockImageProvider,
        fetcher: MockOutputFetcher,
    }

    impl Mocks {
        fn new() -> Self {
            Self {
                models: MockModelCatalog::new(),
                generations: MockGenerationRepository::new(),
                provider: MockImageProvider::new(),
                fetcher: MockOutputFetcher::new(),
            }
        }

        fn service(self) -> GenerationService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(DateTime::UNIX_EPOCH);
            let ports = PipelinePorts {
                models: Arc::new(self.models),
                generations: Arc::new(self.generations),
                images: Arc::new(MockImageRepository::new()),
                provider: Arc::new(self.provider),
                fetcher: Arc::new(self.fetcher),
                store: Arc::new(MockObjectStore::new()),
                clock: Arc::new(clock),
                idempotency: Arc::new(MockIdempotencyStore::new()),
            };
            GenerationService::new(
                ports,
                FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce),
                PipelineSettings {
                    webhook_base_url: None,
                    sync_timeout: Duration::ZERO,
                    poll_interval: Duration::ZERO,
                    finalize_lease: Duration::from_secs(60),
                },
            )
        }
    }

    fn request(model: &crate::Model) -> GenerationRequest {
        GenerationRequest::parse(RawGenerationRequest {
            prompt: Some("a cat".into()),
            model_id: Some(model.id.to_string()),
            ..RawGenerationRequest::default()
        })
        .unwrap()
    }

    fn generation_for(new: &NewGeneration) -> Generation {
        Generation {
            record: new.clone(),
            status: GenerationStatus::Pending,
            prediction_id: None,
            error_message: None,
            generation_time_seconds: None,
            billing: Billing::Free,
            credits_used: 0,
            completed_at: None,
        }
    }

    fn user() -> UserId {
        UserId::parse("u").unwrap()
    }

    #[tokio::test]
    async fn an_inactive_model_is_not_found_and_nothing_is_recorded() {
        let mut mocks = Mocks::new();
        let mut model = sample_model();
        model.spec.is_active = false;
        let found = model.clone();
        mocks
            .models
            .expect_get()
            .returning(move |_| Ok(Some(found.clone())));
        mocks.generations.expect_create().times(0);
        let result = mocks.service().start(&user(), request(&model)).await;
        assert!(matches!(result, Err(GenerateError::ModelNotFound)));
    }

    #[tokio::test]
    async fn a_refusal_submits_nothing() {
        let mut mocks = Mocks::new();
        let model = sample_model();
        let found = model.clone();
        mocks
            .models
            .expect_get()
            .returning(move |_| Ok(Some(found.clone())));
        mocks
            .generations
            .expect_create()
            .times(1)
            .returning(|_, _| {
                Ok(Err(InsufficientCredits {
                    required: CreditAmount::new(10).unwrap(),
                    balance: CreditAmount::ZERO,
                    free_generations_remaining: 0,
                }))
            });
        mocks.provider.expect_submit().times(0);
        let result = mocks.service().start(&user(), request(&model)).await;
        assert!(matches!(result, Err(GenerateError::Insufficient(_))));
    }

    #[tokio::test]
    async fn a_provider_refusal_fails_the_generation_which_gives_its_access_back() {
        let mut mocks = Mocks::new();
        let model = sample_model();
        let found = model.clone();
        mocks
            .models
            .expect_get()
            .returning(move |_| Ok(Some(found.clone())));
        mocks.generations.expect_create().returning(|new, _| {
            Ok(Ok(Created {
                generation: generation_for(new),
                decision: AccessDecision::Free { remaining_after: 2 },
                free_generations_remaining: 2,
            }))
        });
        mocks
            .provider
            .expect_submit()
            .withf(|r| r.model_ref == "owner/sample" && r.negative_prompt.is_none())
            .times(1)
            .returning(|_| Err(ProviderError::Unauthorized));
        mocks
            .generations
            .expect_transition()
            .withf(|_, t, _| matches!(t, Transition::Failed { .. }))
            .times(1)
            .returning(|_, _, _| Ok(true));
        let result = mocks.service().start(&user(), request(&model)).await;
        assert!(matches!(
            result,
            Err(GenerateError::Provider(ProviderError::Unauthorized))
        ));
    }

    #[tokio::test]
    async fn a_success_report_without_the_claim_downloads_nothing() {
        let mut mocks = Mocks::new();
        let new = NewGeneration {
            id: GenerationId::new_random(),
            user_id: user(),
            model_id: None,
            model_name: None,
            prompt: "p".into(),
            negative_prompt: None,
            style: None,
            source_image_url: None,
            params: request(&sample_model()).resolve(&sample_model()),
            created_at: DateTime::UNIX_EPOCH,
        };
        let mut processing = generation_for(&new);
        processing.status = GenerationStatus::Processing;
        mocks
            .generations
            .expect_find_by_prediction()
            .returning(move |_| Ok(Some(processing.clone())));
        mocks
            .generations
            .expect_claim_finalization()
            .times(1)
            .returning(|_, _, _| Ok(false));
        mocks.fetcher.expect_fetch().times(0);
        let state = ProviderState::Succeeded {
            outputs: vec![crate::ports::ImageSource::Url(
                "https://replicate.delivery/a.png".into(),
            )],
            predict_time: None,
        };
        let prediction = PredictionId::parse("p").unwrap();
        let applied = mocks
            .service()
            .on_provider_report(&prediction, state, None)
            .await
            .unwrap();
        assert_eq!(applied, Some(new.id));
    }

    #[tokio::test]
    async fn a_report_for_an_unknown_prediction_changes_nothing() {
        let mut mocks = Mocks::new();
        mocks
            .generations
            .expect_find_by_prediction()
            .returning(|_| Ok(None));
        mocks.generations.expect_transition().times(0);
        let prediction = PredictionId::parse("stranger").unwrap();
        let applied = mocks
            .service()
            .on_provider_report(&prediction, ProviderState::Canceled, None)
            .await
            .unwrap();
        assert_eq!(applied, None);
    }
}
