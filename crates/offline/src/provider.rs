//! [`OfflineRenderer`]: the `ImageProvider` port, answered locally.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::PredictionId;
use picture_domain::ports::{
    ImageProvider, ImageSource, ProviderError, ProviderRequest, ProviderState, Submission,
};

use crate::render::render_png;

/// How many finished previews `fetch` can still answer for.
const REMEMBERED: usize = 64;

/// Renders previews locally; see the crate documentation.
#[derive(Default)]
pub struct OfflineRenderer {
    finished: Mutex<VecDeque<(PredictionId, ProviderState)>>,
}

impl OfflineRenderer {
    /// A renderer with nothing remembered.
    pub fn new() -> Self {
        Self::default()
    }

    fn remember(&self, id: &PredictionId, state: &ProviderState) {
        if let Ok(mut finished) = self.finished.lock() {
            if finished.len() == REMEMBERED {
                finished.pop_front();
            }
            finished.push_back((id.clone(), state.clone()));
        }
    }
}

#[async_trait]
impl ImageProvider for OfflineRenderer {
    async fn submit(&self, request: &ProviderRequest) -> Result<Submission, ProviderError> {
        let prediction_id = PredictionId::parse(format!("offline-{}", request.generation_id))
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let (prompt, seed) = (request.prompt.clone(), request.params.seed);
        let (width, height) = (request.params.width, request.params.height);
        let started = std::time::Instant::now();
        let rendered =
            tokio::task::spawn_blocking(move || render_png(&prompt, seed, width, height))
                .await
                .map_err(|e| ProviderError::Unavailable(format!("renderer task failed: {e}")))?;
        let state = match rendered {
            Ok(png) => ProviderState::Succeeded {
                outputs: vec![ImageSource::DataUri(format!(
                    "data:image/png;base64,{}",
                    STANDARD.encode(png)
                ))],
                predict_time: Some(started.elapsed()),
            },
            Err(error) => return Err(ProviderError::Rejected(error.to_string())),
        };
        self.remember(&prediction_id, &state);
        Ok(Submission {
            prediction_id,
            state,
        })
    }

    async fn fetch(&self, prediction_id: &PredictionId) -> Result<ProviderState, ProviderError> {
        if !prediction_id.as_str().starts_with("offline-") {
            return Err(ProviderError::NotFound);
        }
        let remembered = self.finished.lock().ok().and_then(|finished| {
            finished
                .iter()
                .find(|(id, _)| id == prediction_id)
                .map(|(_, state)| state.clone())
        });
        Ok(remembered.unwrap_or_else(|| ProviderState::Failed {
            message: "The offline preview was lost (the server restarted); please generate again"
                .to_owned(),
        }))
    }

    async fn cancel(&self, prediction_id: &PredictionId) -> Result<(), ProviderError> {
        if prediction_id.as_str().starts_with("offline-") {
            Ok(())
        } else {
            Err(ProviderError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use picture_domain::{GenerationId, GenerationParams};

    use super::*;

    fn request() -> ProviderRequest {
        ProviderRequest {
            generation_id: GenerationId::new_random(),
            model_ref: "offline/preview".into(),
            model_version: None,
            prompt: "a lighthouse at dusk".into(),
            negative_prompt: None,
            source_image_url: None,
            params: GenerationParams {
                width: 256,
                height: 256,
                steps: 1,
                guidance_scale: 0.0,
                seed: Some(3),
                generation_strength: None,
            },
            webhook_url: None,
            wait: true,
        }
    }

    #[tokio::test]
    async fn submit_succeeds_at_once_with_a_png_data_uri() {
        let renderer = OfflineRenderer::new();
        let submission = renderer.submit(&request()).await.unwrap();
        assert!(submission.prediction_id.as_str().starts_with("offline-"));
        let ProviderState::Succeeded { outputs, .. } = &submission.state else {
            panic!("expected success, got {:?}", submission.state);
        };
        let [ImageSource::DataUri(uri)] = outputs.as_slice() else {
            panic!("expected one data URI");
        };
        let png = STANDARD
            .decode(uri.strip_prefix("data:image/png;base64,").unwrap())
            .unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        assert_eq!(
            renderer.fetch(&submission.prediction_id).await.unwrap(),
            submission.state
        );
    }

    #[tokio::test]
    async fn a_forgotten_preview_fails_instead_of_hanging() {
        let renderer = OfflineRenderer::new();
        let id = PredictionId::parse("offline-unknown").unwrap();
        assert!(matches!(
            renderer.fetch(&id).await.unwrap(),
            ProviderState::Failed { .. }
        ));
        assert_eq!(
            renderer.fetch(&PredictionId::parse("r8-id").unwrap()).await,
            Err(ProviderError::NotFound)
        );
        renderer.cancel(&id).await.unwrap();
    }
}
