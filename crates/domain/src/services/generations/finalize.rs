//! Finalisation: moving a generation to where the provider says it is, exactly once, and
//! storing its image.

use std::time::Duration;

use crate::generation::Generation;
use crate::ids::{GenerationId, ImageId, PredictionId};
use crate::image::NewImage;
use crate::ports::{ObjectKey, ProviderError, ProviderState, StoreError, Transition};

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
                tracing::warn!(generation_id = %id, %error, "provider poll failed");
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
                    self.end(id, &failed, self.ports.clock.now()).await?;
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
            .map_err(|error| {
                // The key and the store's reason are for the log; the user sees neither.
                tracing::warn!(generation_id = %id, key = key.as_str(), %error, "storing the image failed");
                match error {
                    StoreError::TooLarge => "Storing the image failed: it is too large".to_owned(),
                    StoreError::Unavailable(_) => "Storing the image failed".to_owned(),
                }
            })?;
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
            Ok(Some(completion)) => {
                tracing::info!(generation_id = %id, bytes = size, "generation completed");
                count_finished(
                    generation.record.model_name.clone(),
                    crate::GenerationStatus::Completed,
                );
                if let Some(due) = completion.charge
                    && let Err(error) = self.credits.collect(&due).await
                {
                    tracing::warn!(generation_id = %id, %error, "charge left for the reconciler");
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => Err(format!("database error: {error}")),
        }
    }
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
