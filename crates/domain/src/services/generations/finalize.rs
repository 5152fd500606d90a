//! Finalisation: moving a generation to where the provider says it is, exactly once, and
//! storing its image — for a provider's report (a webhook), and for the other services that
//! ask the provider (a waiting request, a status poll, the reconciler).

use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorChain;
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, ImageId, PredictionId};
use crate::image::NewImage;
use crate::ports::{
    ChargeOutcome, Clock, GenerationLifecycle, GenerationReads, GenerationRepository,
    ImageProvider, ImageRenderer, ImageSource, LeaseToken, ObjectKey, ObjectStore, OutputFetcher,
    ProviderError, ProviderRequest, ProviderState, Providers, StoreError, Submission, Transition,
};
use crate::provider_name::ProviderName;
use crate::services::credits::CreditService;
use crate::services::placeholders::placeholder_of;

use super::shared::{count_finished, end};
use super::{GenerateError, GenerationView, PipelineSettings};

mod lease;

/// Applies the provider's reports and finalises generations: holds the generations, the
/// providers (to ask where a prediction stands), the output downloader, the object store, the
/// clock, and the credit service (to charge a completed generation to the remote service).
#[derive(Clone)]
pub struct FinalizeGeneration {
    /// Generations moved through their lifecycle (and their money).
    lifecycle: Arc<dyn GenerationLifecycle>,
    /// Generations read back.
    reads: Arc<dyn GenerationReads>,
    /// The providers, each generation's own asked about it.
    providers: Providers,
    fetcher: Arc<dyn OutputFetcher>,
    store: Arc<dyn ObjectStore>,
    /// Computes the stored image's blurhash.
    renderer: Arc<dyn ImageRenderer>,
    clock: Arc<dyn Clock>,
    credits: CreditService,
    /// How long one finaliser's lease lasts.
    finalize_lease: Duration,
    /// The provider is asked about a generation at most once per this interval.
    provider_poll_min_interval: Duration,
}

/// What applying a provider's state came to.
#[derive(Debug)]
pub(super) enum Settled {
    /// This call completed the generation: it as completed, with its image.
    Completed(Box<GenerationView>),
    /// Anything else — still running, ended otherwise, or finalised by someone else: read it
    /// to know.
    Other,
}

/// How an inline provider's call ([`ImageProvider::answers_in_submit`]) came out.
#[derive(Debug)]
pub(super) enum Inline {
    /// The provider answered with an image, or its report was applied: as [`Settled`].
    Settled(Settled),
    /// The provider refused or failed: the generation is `failed`, its access given back.
    Refused(ProviderError),
}

/// How one finaliser's attempt ended.
#[derive(Debug)]
enum Finalised {
    /// It completed the generation, now as this view.
    Completed(Box<GenerationView>),
    /// The generation ended otherwise meanwhile (or another finaliser took the lease over).
    Lost,
    /// It failed, with the user-facing reason.
    Failed(String),
}

impl FinalizeGeneration {
    /// A finaliser over these ports, with the lease and poll interval of `settings`.
    pub(super) fn new(
        generations: Arc<dyn GenerationRepository>,
        providers: Providers,
        fetcher: Arc<dyn OutputFetcher>,
        store: Arc<dyn ObjectStore>,
        renderer: Arc<dyn ImageRenderer>,
        clock: Arc<dyn Clock>,
        credits: CreditService,
        settings: &PipelineSettings,
    ) -> Self {
        Self {
            lifecycle: generations.clone(),
            reads: generations,
            providers,
            fetcher,
            store,
            renderer,
            clock,
            credits,
            finalize_lease: settings.finalize_lease,
            provider_poll_min_interval: settings.provider_poll_min_interval,
        }
    }

    /// Applies a report (a verified webhook) of the provider `from` about `prediction_id`.
    /// `hint` is the generation id from the webhook URL: when the report arrives before the
    /// submit call has returned, the generation is still `pending` without a prediction id,
    /// and the report records it. `None` when no generation matches (the provider should stop
    /// retrying all the same). A report never moves a generation that belongs to another
    /// prediction or that another provider runs.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn on_provider_report(
        &self,
        from: &ProviderName,
        prediction_id: &PredictionId,
        state: ProviderState,
        hint: Option<GenerationId>,
    ) -> Result<Option<GenerationId>, GenerateError> {
        let generation = match self.reads.find_by_prediction(prediction_id).await? {
            Some(generation) if generation.record.provider == *from => generation,
            Some(_) => return Ok(None),
            None => {
                let Some(hinted) = hint else { return Ok(None) };
                match self.record_reported(hinted, from, prediction_id).await? {
                    Some(generation) => generation,
                    None => return Ok(None),
                }
            }
        };
        self.settle(&generation.record, prediction_id, state)
            .await?;
        Ok(Some(generation.record.id))
    }

    /// The generation `hinted` (from the webhook URL), recorded as submitted as
    /// `prediction_id` by this report when its submit call has not returned yet — or by that
    /// call meanwhile (the two race: either records it, and the report settles it either way).
    /// `None` when it does not exist, another provider runs it, or it has another prediction.
    async fn record_reported(
        &self,
        hinted: GenerationId,
        from: &ProviderName,
        prediction_id: &PredictionId,
    ) -> Result<Option<Generation>, GenerateError> {
        let Some(generation) = self.reads.find(hinted).await? else {
            return Ok(None);
        };
        if generation.record.provider != *from {
            return Ok(None);
        }
        let ours = |g: &Generation| g.prediction_id.as_ref() == Some(prediction_id);
        if generation.prediction_id.is_some() {
            return Ok(ours(&generation).then_some(generation));
        }
        let processing = Transition::Processing {
            prediction_id: prediction_id.clone(),
        };
        if self
            .lifecycle
            .transition(hinted, &processing, self.clock.now())
            .await?
        {
            return Ok(Some(generation));
        }
        // The submit call recorded it first (or the generation ended): read it again.
        Ok(self.reads.find(hinted).await?.filter(ours))
    }

    /// Asks the provider where `generation` stands and settles it there, unless someone (on
    /// any instance) asked within the provider poll interval. `None` when this call did not
    /// ask.
    pub(super) async fn poll_provider(
        &self,
        generation: &Generation,
    ) -> Result<Option<Settled>, GenerateError> {
        let Some(prediction_id) = &generation.prediction_id else {
            return Ok(None);
        };
        let record = &generation.record;
        let Some(provider) = self.providers.get(&record.provider) else {
            tracing::warn!(generation_id = %record.id, provider = %record.provider, "the generation's provider is not configured here; it is left as it is");
            return Ok(None);
        };
        let interval = self.provider_poll_min_interval;
        if !interval.is_zero()
            && !self
                .lifecycle
                .claim_provider_check(record.id, interval, self.clock.now())
                .await?
        {
            return Ok(None);
        }
        let settled = match provider.fetch(prediction_id).await {
            Ok(state) => self.settle(record, prediction_id, state).await?,
            Err(ProviderError::NotFound) => {
                let failed = Transition::Failed {
                    message: "The provider no longer knows this prediction".to_owned(),
                };
                end(&*self.lifecycle, record, &failed, self.clock.now()).await?;
                Settled::Other
            }
            Err(error) => {
                tracing::warn!(generation_id = %record.id, error = %ErrorChain(&error), "provider poll failed");
                Settled::Other
            }
        };
        Ok(Some(settled))
    }

    /// Moves the generation `record` describes to where the provider says it is. Terminal
    /// states are applied once: failures by compare-and-set, successes by the holder of the
    /// finalisation lease.
    pub(super) async fn settle(
        &self,
        record: &NewGeneration,
        prediction_id: &PredictionId,
        state: ProviderState,
    ) -> Result<Settled, GenerateError> {
        let id = record.id;
        let now = self.clock.now();
        match state {
            ProviderState::Starting | ProviderState::Processing { progress: None } => {
                Ok(Settled::Other)
            }
            ProviderState::Processing {
                progress: Some(progress),
            } => {
                // Progress is shown, never acted on: a failure to record it loses nothing.
                if let Err(error) = self.lifecycle.record_progress(id, progress, now).await {
                    tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "progress not recorded");
                }
                Ok(Settled::Other)
            }
            ProviderState::Failed { message } => {
                end(
                    &*self.lifecycle,
                    record,
                    &Transition::Failed { message },
                    now,
                )
                .await?;
                Ok(Settled::Other)
            }
            ProviderState::Canceled => {
                let cancelled = Transition::Cancelled {
                    message: "Cancelled by the provider".to_owned(),
                };
                end(&*self.lifecycle, record, &cancelled, now).await?;
                Ok(Settled::Other)
            }
            ProviderState::Succeeded {
                outputs,
                predict_time,
            } => {
                let Some(token) = self
                    .lifecycle
                    .claim_finalization(id, self.finalize_lease, now)
                    .await?
                else {
                    return Ok(Settled::Other);
                };
                let work = self.store_output(record, &token, &outputs, predict_time);
                let (outcome, stored) =
                    lease::while_renewing(work, self.renew_lease(id, &token)).await;
                self.conclude(record, prediction_id, &token, outcome, stored)
                    .await
            }
        }
    }

    /// Runs the call of an inline provider ([`ImageProvider::answers_in_submit`]) for the
    /// generation `record` describes, already `processing` as `prediction_id` with its
    /// finalisation lease held as `token` (renewed here for as long as the call takes, so no
    /// other request, status poll or reconciler ends it meanwhile), then stores the image and
    /// completes it — or fails it, giving its access back, when the provider refused.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub(super) async fn run_inline(
        &self,
        record: &NewGeneration,
        prediction_id: &PredictionId,
        token: &LeaseToken,
        provider: &dyn ImageProvider,
        request: &ProviderRequest,
    ) -> Result<Inline, GenerateError> {
        let work = async {
            match provider.submit(request).await {
                Ok(Submission {
                    state:
                        ProviderState::Succeeded {
                            outputs,
                            predict_time,
                        },
                    ..
                }) => {
                    let (outcome, stored) = self
                        .store_output(record, token, &outputs, predict_time)
                        .await;
                    (outcome, stored, None)
                }
                Ok(Submission { state, .. }) => {
                    let message = match state {
                        ProviderState::Failed { message } => message,
                        ProviderState::Canceled => "Cancelled by the provider".to_owned(),
                        _ => "The provider returned no image".to_owned(),
                    };
                    (Finalised::Failed(message), None, None)
                }
                Err(error) => {
                    tracing::warn!(generation_id = %record.id, error = %ErrorChain(&error), "provider refused the generation");
                    (Finalised::Failed(error.to_string()), None, Some(error))
                }
            }
        };
        let (outcome, stored, refused) =
            lease::while_renewing(work, self.renew_lease(record.id, token)).await;
        let settled = self
            .conclude(record, prediction_id, token, outcome, stored)
            .await?;
        Ok(match refused {
            Some(error) => Inline::Refused(error),
            None => Inline::Settled(settled),
        })
    }

    /// Applies how a finaliser holding `token` ended: a failure fails the generation (giving
    /// its access back), and an object it stored that no image row uses is deleted.
    async fn conclude(
        &self,
        record: &NewGeneration,
        prediction_id: &PredictionId,
        token: &LeaseToken,
        outcome: Finalised,
        stored: Option<ObjectKey>,
    ) -> Result<Settled, GenerateError> {
        let id = record.id;
        let settled = match outcome {
            Finalised::Completed(view) => return Ok(Settled::Completed(view)),
            Finalised::Lost => {
                tracing::info!(generation_id = %id, "another request ended the generation first");
                Settled::Other
            }
            Finalised::Failed(message) => {
                tracing::warn!(generation_id = %id, %prediction_id, %message, "finalisation failed");
                if self
                    .lifecycle
                    .fail_finalization(id, token, &message, self.clock.now())
                    .await?
                {
                    count_finished(record, GenerationStatus::Failed);
                }
                Settled::Other
            }
        };
        if let Some(key) = stored {
            self.discard_unless_used(id, &key).await;
        }
        Ok(settled)
    }

    /// Deletes the object stored under `key` for generation `id` unless an image row may point
    /// at it: kept when the generation is `completed` (another finaliser stored the same key)
    /// or still `processing` (another finaliser holds it and will store the same key or
    /// delete it); deleted when the generation ended without an image. A failed delete is
    /// logged (the reconciler's sweep of objects without an image row removes it later).
    async fn discard_unless_used(&self, id: GenerationId, key: &ObjectKey) {
        let used = match self.reads.find(id).await {
            Ok(Some(generation)) => matches!(
                generation.status,
                GenerationStatus::Completed | GenerationStatus::Processing
            ),
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), key = key.as_str(), "stored object left: its generation could not be read");
                return;
            }
        };
        if used {
            return;
        }
        match self.store.delete(key).await {
            Ok(()) => {
                tracing::info!(generation_id = %id, key = key.as_str(), "deleted the image of a generation that ended without it");
            }
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), key = key.as_str(), "could not delete the image of a generation that ended without it");
            }
        }
    }

    /// Downloads the first output, stores it and completes the generation `record` describes
    /// as the holder of `token`: how it ended, and the key of the object it stored, if it
    /// stored one.
    async fn store_output(
        &self,
        record: &NewGeneration,
        token: &LeaseToken,
        outputs: &[ImageSource],
        predict_time: Option<Duration>,
    ) -> (Finalised, Option<ObjectKey>) {
        let id = record.id;
        let Some(source) = outputs.first() else {
            return (
                Finalised::Failed("The provider returned no image".to_owned()),
                None,
            );
        };
        let fetched = match self.fetcher.fetch(source).await {
            Ok(fetched) => fetched,
            Err(error) => return (Finalised::Failed(error.to_string()), None),
        };
        let image_id = ImageId::from_uuid(id.as_uuid());
        let user = &record.user_id;
        let key = ObjectKey::for_image(user, image_id, fetched.extension);
        let size = fetched.bytes.len() as u64;
        let blurhash = placeholder_of(&*self.renderer, &fetched.bytes).await;
        if let Err(error) = self
            .store
            .put(&key, fetched.bytes, fetched.content_type)
            .await
        {
            // The key and the store's reason are for the log; the user sees neither.
            tracing::warn!(generation_id = %id, key = key.as_str(), error = %ErrorChain(&error), "storing the image failed");
            let message = match error {
                StoreError::TooLarge => "Storing the image failed: it is too large",
                StoreError::Unavailable(_) => "Storing the image failed",
            };
            return (Finalised::Failed(message.to_owned()), None);
        }
        let image = NewImage {
            id: image_id,
            user_id: user.clone(),
            generation_id: Some(id),
            prompt: record.prompt.clone(),
            negative_prompt: record.negative_prompt.clone(),
            model: record.model_name.clone(),
            style: record.style.clone(),
            public_url: Some(self.store.public_url(&key)),
            storage_path: key.as_str().to_owned(),
            filename: format!("generated-{id}.{}", fetched.extension),
            format: Some(fetched.extension.to_owned()),
            width: Some(fetched.width),
            height: Some(fetched.height),
            file_size: Some(size),
            blurhash,
            created_at: self.clock.now(),
        };
        let seconds = predict_time.map(|t| i32::try_from(t.as_secs()).unwrap_or(i32::MAX));
        let outcome = match self
            .lifecycle
            .complete(id, token, &image, seconds, self.clock.now())
            .await
        {
            Ok(Some(completion)) => {
                tracing::info!(generation_id = %id, bytes = size, "generation completed");
                count_finished(record, GenerationStatus::Completed);
                let mut generation = completion.generation;
                if let Some(due) = completion.charge {
                    match self.credits.collect(&due).await {
                        // As recorded by the charge: what it cost is the amount charged.
                        Ok(Some(ChargeOutcome::Charged)) => {
                            generation.credits_used = due.amount.get();
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "charge left for the reconciler");
                        }
                    }
                }
                Finalised::Completed(Box::new(GenerationView {
                    generation,
                    image: Some(completion.image),
                }))
            }
            Ok(None) => Finalised::Lost,
            Err(error) => Finalised::Failed(format!("database error: {}", ErrorChain(&error))),
        };
        (outcome, Some(key))
    }
}
