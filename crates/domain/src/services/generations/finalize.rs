//! Finalisation: moving a generation to where the provider says it is, exactly once, and
//! storing its image.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use crate::error::ErrorChain;
use crate::generation::Generation;
use crate::ids::{GenerationId, ImageId, PredictionId};
use crate::image::NewImage;
use crate::ports::{LeaseToken, ObjectKey, ProviderError, ProviderState, StoreError, Transition};

use super::{GenerateError, GenerationService};

impl GenerationService {
    /// Applies a terminal `transition` (failed or cancelled) and counts it when this call moved
    /// the generation. `true` when it did.
    pub(super) async fn end(
        &self,
        id: GenerationId,
        transition: &Transition,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, crate::error::RepositoryError> {
        let moved = self
            .ports
            .generations
            .transition(id, transition, at)
            .await?;
        if moved {
            let model = match self.ports.generations.find(id).await {
                Ok(Some(generation)) => generation.record.model_name,
                _ => None,
            };
            count_finished(model, transition.target());
        }
        Ok(moved)
    }

    /// Asks the provider where `generation` stands and settles it there, unless someone (on
    /// any instance) asked within the provider poll interval. `true` when this call asked.
    pub(super) async fn poll_provider(
        &self,
        generation: &Generation,
    ) -> Result<bool, GenerateError> {
        let Some(prediction_id) = &generation.prediction_id else {
            return Ok(false);
        };
        let id = generation.record.id;
        let interval = self.settings.provider_poll_min_interval;
        if !interval.is_zero()
            && !self
                .ports
                .generations
                .claim_provider_check(id, interval, self.ports.clock.now())
                .await?
        {
            return Ok(false);
        }
        match self.ports.provider.fetch(prediction_id).await {
            Ok(state) => self.settle(id, prediction_id, state).await?,
            Err(ProviderError::NotFound) => {
                let failed = Transition::Failed {
                    message: "The provider no longer knows this prediction".to_owned(),
                };
                self.end(id, &failed, self.ports.clock.now()).await?;
            }
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider poll failed");
            }
        }
        Ok(true)
    }

    /// Reads `id` until it is final or the sync timeout has passed, asking the provider
    /// between reads (through the same per-interval throttle as status polls): the last read
    /// (`None` when the generation is gone).
    pub(super) async fn wait_until_final(
        &self,
        id: GenerationId,
    ) -> Result<Option<Generation>, GenerateError> {
        let deadline = self.ports.clock.now()
            + chrono::Duration::from_std(self.settings.sync_timeout)
                .unwrap_or_else(|_| chrono::Duration::zero());
        loop {
            let Some(generation) = self.ports.generations.find(id).await? else {
                return Ok(None);
            };
            if generation.status.is_terminal() || self.ports.clock.now() >= deadline {
                return Ok(Some(generation));
            }
            self.ports.clock.sleep(self.settings.poll_interval).await;
            self.poll_provider(&generation).await?;
        }
    }

    /// Moves a generation to where the provider says it is. Terminal states are applied once:
    /// failures by compare-and-set, successes by the holder of the finalisation lease.
    pub(super) async fn settle(
        &self,
        id: GenerationId,
        prediction_id: &PredictionId,
        state: ProviderState,
    ) -> Result<(), GenerateError> {
        let now = self.ports.clock.now();
        match state {
            ProviderState::Starting | ProviderState::Processing => Ok(()),
            ProviderState::Failed { message } => {
                self.end(id, &Transition::Failed { message }, now).await?;
                Ok(())
            }
            ProviderState::Canceled => {
                let cancelled = Transition::Cancelled {
                    message: "Cancelled by the provider".to_owned(),
                };
                self.end(id, &cancelled, now).await?;
                Ok(())
            }
            ProviderState::Succeeded {
                outputs,
                predict_time,
            } => {
                let Some(token) = self
                    .ports
                    .generations
                    .claim_finalization(id, self.settings.finalize_lease, now)
                    .await?
                else {
                    return Ok(());
                };
                let work = self.store_output(id, &token, &outputs, predict_time);
                let (outcome, stored) = while_renewing(work, self.renew_lease(id, &token)).await;
                match &outcome {
                    Finalised::Completed => {}
                    Finalised::Lost => {
                        tracing::info!(generation_id = %id, "another request ended the generation first");
                    }
                    Finalised::Failed(message) => {
                        tracing::warn!(generation_id = %id, %prediction_id, %message, "finalisation failed");
                        let moved = self
                            .ports
                            .generations
                            .fail_finalization(id, &token, message, self.ports.clock.now())
                            .await?;
                        if moved {
                            let model = match self.ports.generations.find(id).await {
                                Ok(Some(generation)) => generation.record.model_name,
                                _ => None,
                            };
                            count_finished(model, crate::GenerationStatus::Failed);
                        }
                    }
                }
                if let Some(key) = stored
                    && !matches!(outcome, Finalised::Completed)
                {
                    self.discard_unless_used(id, &key).await;
                }
                Ok(())
            }
        }
    }

    /// Renews the finalisation lease `token` holds every third of the lease, for as long as it
    /// is polled; stops renewing (and stays pending) once the lease is lost.
    async fn renew_lease(&self, id: GenerationId, token: &LeaseToken) {
        let every = self.settings.finalize_lease / 3;
        loop {
            self.ports.clock.sleep(every).await;
            match self
                .ports
                .generations
                .renew_finalization(
                    id,
                    token,
                    self.settings.finalize_lease,
                    self.ports.clock.now(),
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(generation_id = %id, "finalisation lease lost");
                    break;
                }
                Err(error) => {
                    tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "finalisation lease not renewed");
                }
            }
        }
        std::future::pending::<()>().await;
    }

    /// Deletes the object stored under `key` for generation `id` unless an image row may point
    /// at it: kept when the generation is `completed` (another finaliser stored the same key)
    /// or still `processing` (another finaliser holds it and will store the same key or
    /// delete it); deleted when the generation ended without an image. A failed delete is
    /// logged (the reconciler's sweep of objects without an image row removes it later).
    async fn discard_unless_used(&self, id: GenerationId, key: &ObjectKey) {
        let used = match self.ports.generations.find(id).await {
            Ok(Some(generation)) => matches!(
                generation.status,
                crate::GenerationStatus::Completed | crate::GenerationStatus::Processing
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
        match self.ports.store.delete(key).await {
            Ok(()) => {
                tracing::info!(generation_id = %id, key = key.as_str(), "deleted the image of a generation that ended without it");
            }
            Err(error) => {
                tracing::warn!(generation_id = %id, error = %ErrorChain(&error), key = key.as_str(), "could not delete the image of a generation that ended without it");
            }
        }
    }

    /// Downloads the first output, stores it and completes the generation as the holder of
    /// `token`: how it ended, and the key of the object it stored, if it stored one.
    async fn store_output(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        outputs: &[crate::ports::ImageSource],
        predict_time: Option<Duration>,
    ) -> (Finalised, Option<ObjectKey>) {
        let generation = match self.ports.generations.find(id).await {
            Ok(Some(generation)) => generation,
            Ok(None) => {
                return (
                    Finalised::Failed("the generation disappeared".to_owned()),
                    None,
                );
            }
            Err(error) => {
                return (
                    Finalised::Failed(format!("database error: {}", ErrorChain(&error))),
                    None,
                );
            }
        };
        let Some(source) = outputs.first() else {
            return (
                Finalised::Failed("The provider returned no image".to_owned()),
                None,
            );
        };
        let fetched = match self.ports.fetcher.fetch(source).await {
            Ok(fetched) => fetched,
            Err(error) => return (Finalised::Failed(error.to_string()), None),
        };
        let image_id = ImageId::from_uuid(id.as_uuid());
        let user = &generation.record.user_id;
        let key = ObjectKey::for_image(user, image_id, fetched.extension);
        let size = fetched.bytes.len() as u64;
        if let Err(error) = self
            .ports
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
        let outcome = match self
            .ports
            .generations
            .complete(id, token, &image, seconds, self.ports.clock.now())
            .await
        {
            Ok(Some(completion)) => {
                tracing::info!(generation_id = %id, bytes = size, "generation completed");
                count_finished(
                    generation.record.model_name.clone(),
                    crate::GenerationStatus::Completed,
                );
                if let Some(due) = completion.charge
                    && let Err(error) = self.credits.collect(&due).await
                {
                    tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "charge left for the reconciler");
                }
                Finalised::Completed
            }
            Ok(None) => Finalised::Lost,
            Err(error) => Finalised::Failed(format!("database error: {}", ErrorChain(&error))),
        };
        (outcome, Some(key))
    }
}

/// How one finaliser's attempt ended.
#[derive(Debug)]
enum Finalised {
    /// It completed the generation.
    Completed,
    /// The generation ended otherwise meanwhile (or another finaliser took the lease over).
    Lost,
    /// It failed, with the user-facing reason.
    Failed(String),
}

/// Runs `work` to its end while polling `renewal` alongside (which never ends by itself),
/// without a runtime: the domain spawns nothing.
async fn while_renewing<T>(work: impl Future<Output = T>, renewal: impl Future<Output = ()>) -> T {
    let mut work = std::pin::pin!(work);
    let mut renewal = std::pin::pin!(renewal);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        // The renewal only ends with `pending()`: its readiness means nothing.
        let _ = renewal.as_mut().poll(cx);
        Poll::Pending
    })
    .await
}

/// Counts a generation that became final, by model and status
/// (`picture_generations_finished_total`).
fn count_finished(model: Option<String>, status: crate::GenerationStatus) {
    metrics::counter!(
        "picture_generations_finished_total",
        "model" => model.unwrap_or_default(),
        "status" => status.as_str()
    )
    .increment(1);
}
