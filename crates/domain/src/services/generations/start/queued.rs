//! Running a queued batch item: a generation recorded with its access when its batch was
//! created, claimed by a batch worker, and from then on run exactly as `POST /generate` runs
//! one — the same provider routing, submit, webhooks, finalisation and reconciler.

use std::sync::Arc;

use crate::error::ErrorChain;
use crate::ports::{ClaimedItem, Transition};

use super::super::shared::end;
use super::super::{GenerateError, GenerationView};
use super::{Asked, StartGeneration};

impl StartGeneration {
    /// Runs the claimed batch `item` and waits for its end up to the sync timeout: the
    /// generation as it then stands. An item claimed again after its worker stopped first asks
    /// the provider for a prediction that worker may have started
    /// ([`ImageProvider::find_submitted`](crate::ports::ImageProvider::find_submitted)) and follows it instead of starting a second one.
    /// An item whose model or provider is gone fails (its slot or hold given back).
    ///
    /// # Errors
    /// [`GenerateError::ModelNotFound`] (the item failed), [`GenerateError::Provider`] when the
    /// submit was refused (the item failed) or the earlier prediction could not be looked for
    /// (the item is untouched: the caller leaves it claimed until its lease ends), or
    /// [`GenerateError::Repository`].
    pub async fn run_claimed(&self, item: &ClaimedItem) -> Result<GenerationView, GenerateError> {
        let new = item.generation.record.clone();
        let id = new.id;
        let model = match new.model_id {
            Some(model_id) => self
                .ports
                .models
                .get(model_id)
                .await?
                .filter(|m| m.spec.is_active),
            None => None,
        };
        let provider = self.ports.providers.get(&new.provider).map(Arc::clone);
        let (Some(model), Some(provider)) = (model, provider) else {
            let failed = Transition::Failed {
                message: "The batch's model is no longer available".to_owned(),
            };
            end(
                &*self.ports.lifecycle,
                &new,
                &failed,
                self.ports.clock.now(),
            )
            .await?;
            return Err(GenerateError::ModelNotFound);
        };
        let found = match item.earlier_claim {
            Some(since) if !provider.answers_in_submit() => {
                match provider.find_submitted(id, since).await {
                    Ok(found) => found,
                    Err(error) => {
                        tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "cannot look for an earlier prediction; the item waits");
                        return Err(GenerateError::Provider(error));
                    }
                }
            }
            _ => None,
        };
        if let Some(found) = &found {
            tracing::warn!(generation_id = %id, prediction_id = %found.prediction_id, "following the prediction a stopped worker started");
        }
        let asked = Asked {
            model_version: item.model_version.clone(),
            source_image_url: None,
            wait: false,
        };
        let webhook_url = self.settings.callbacks.as_ref().map(|c| c.url_for(id));
        let request = asked.of(&new, &model, webhook_url);
        metrics::counter!(
            "picture_generations_started_total",
            "model" => model.spec.name.clone(),
            "mode" => "batch",
            "billing" => item.generation.billing.as_str()
        )
        .increment(1);
        let view = self
            .run(provider, new, item.generation.clone(), request, found)
            .await?;
        if view.generation.status.is_terminal() {
            return Ok(view);
        }
        Ok(self.wait_until_final(id).await?.unwrap_or(view))
    }
}
