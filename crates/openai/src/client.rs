//! [`OpenAiImagesProvider`]: the `ImageProvider` port over an OpenAI-compatible
//! `POST /v1/images/generations`.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use picture_domain::PredictionId;
use picture_domain::ports::{
    ImageProvider, ProviderError, ProviderRequest, ProviderState, Submission,
};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::answer::ImagesAnswer;
use crate::config::OpenAiImagesConfig;
use crate::errors::{from_status, from_transport};

/// The most of an error answer read: enough for any error object.
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// Generates images with an OpenAI-compatible images API, one synchronous call per image.
pub struct OpenAiImagesProvider {
    http: reqwest::Client,
    config: OpenAiImagesConfig,
    authorization: Option<HeaderValue>,
    runtime: Option<tokio::runtime::Handle>,
}

/// Why the provider cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
    /// The key holds characters an HTTP header cannot carry (the key is not shown).
    #[error("OPENAI_IMAGES_API_KEY holds characters an HTTP header cannot carry")]
    InvalidApiKey,
}

/// A call's answer: status, headers, body (cut at the cap for an error answer).
type Exchange = (StatusCode, HeaderMap, Vec<u8>);

/// Reads `response`'s body up to `max` bytes; `None` past it.
async fn read_capped(response: &mut Response, max: u64) -> Result<Option<Vec<u8>>, ProviderError> {
    if response.content_length().is_some_and(|length| length > max) {
        return Ok(None);
    }
    let expected = response.content_length().unwrap_or(0).min(max);
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(|e| from_transport(&e))? {
        if (body.len() + chunk.len()) as u64 > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Sends `request` and reads its answer, a success up to `max_answer_bytes`.
async fn exchange(
    request: RequestBuilder,
    max_answer_bytes: u64,
) -> Result<Exchange, ProviderError> {
    let mut response = request.send().await.map_err(|e| from_transport(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = if status.is_success() {
        read_capped(&mut response, max_answer_bytes)
            .await?
            .ok_or_else(|| {
                ProviderError::Unavailable(format!(
                    "the images API's answer is larger than {max_answer_bytes} bytes"
                ))
            })?
    } else {
        // An oversized error answer is not worth reading: its status still says enough.
        read_capped(&mut response, MAX_ERROR_BYTES)
            .await?
            .unwrap_or_default()
    };
    Ok((status, headers, body))
}

impl OpenAiImagesProvider {
    /// A provider for `config`.
    ///
    /// # Errors
    /// [`BuildError`] when the HTTP client cannot be built or the key cannot be a header.
    pub fn new(config: OpenAiImagesConfig) -> Result<Self, BuildError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("picture-backend/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(BuildError::Http)?;
        let authorization = config
            .api_key
            .as_ref()
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| BuildError::InvalidApiKey)?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        Ok(Self {
            http,
            config,
            authorization,
            runtime: None,
        })
    }

    /// Sends every request from `runtime`, so the pooled connections it opens are driven there
    /// and keep working for callers on other runtimes after the opener's runtime stops (an
    /// HTTP worker that stops at once on SIGTERM).
    #[must_use]
    pub fn sending_on(mut self, runtime: tokio::runtime::Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The request body: only the documented fields. `response_format` is not sent to the
    /// GPT image models: "This parameter isn't supported for `gpt-image-1` which will always
    /// return base64-encoded images" (OpenAI's API reference, `response_format` of
    /// `POST /v1/images/generations`, as generated into openai/openai-python
    /// `src/openai/types/image_generate_params.py`).
    fn body(request: &ProviderRequest) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model_ref));
        body.insert("prompt".into(), json!(request.prompt));
        body.insert("n".into(), json!(1));
        body.insert(
            "size".into(),
            json!(format!(
                "{}x{}",
                request.params.width, request.params.height
            )),
        );
        if !request.model_ref.starts_with("gpt-image") {
            body.insert("response_format".into(), json!("b64_json"));
        }
        Value::Object(body)
    }

    /// Posts `body` and reads the answer, from the sending runtime when there is one.
    async fn call(&self, body: &Value) -> Result<Exchange, ProviderError> {
        let url = format!(
            "{}/v1/images/generations",
            self.config.base_url.trim_end_matches('/')
        );
        let mut request = self.http.post(url).json(body).timeout(self.config.timeout);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let pending = exchange(request, self.config.max_answer_bytes);
        match &self.runtime {
            Some(runtime) => runtime.spawn(pending).await.map_err(|_| {
                ProviderError::Unavailable("the HTTP client's runtime stopped".to_owned())
            })?,
            None => pending.await,
        }
    }

    async fn generate(&self, request: &ProviderRequest) -> Result<Submission, ProviderError> {
        let started = Instant::now();
        let (status, headers, body) = self.call(&Self::body(request)).await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            let key = self.config.api_key.as_ref().map(|k| k.expose_secret());
            let error = from_status(&request.model_ref, status, &headers, &body, key);
            tracing::warn!(
                generation_id = %request.generation_id,
                model = %request.model_ref,
                %status,
                %error,
                "the images API refused the call"
            );
            return Err(error);
        }
        let answer = ImagesAnswer::parse(&body).map_err(|e| {
            ProviderError::Unavailable(format!("unexpected answer from the images API: {e}"))
        })?;
        answer.submission(&request.generation_id, elapsed)
    }
}

#[async_trait]
impl ImageProvider for OpenAiImagesProvider {
    async fn submit(&self, request: &ProviderRequest) -> Result<Submission, ProviderError> {
        if !self.config.serves(&request.model_ref) {
            return Err(ProviderError::UnknownModel(format!(
                "{:?} is not among the configured OPENAI_IMAGES_MODELS",
                request.model_ref
            )));
        }
        let started = Instant::now();
        let result = self.generate(request).await;
        metrics::histogram!(
            "picture_provider_request_duration_seconds",
            "provider" => crate::PROVIDER_LABEL,
            "call" => "generate"
        )
        .record(started.elapsed().as_secs_f64());
        match &result {
            Ok(submission) => tracing::info!(
                generation_id = %request.generation_id,
                prediction_id = %submission.prediction_id,
                model = %request.model_ref,
                elapsed_ms = started.elapsed().as_millis(),
                "image generated"
            ),
            Err(error) => metrics::counter!(
                "picture_provider_errors_total",
                "provider" => crate::PROVIDER_LABEL,
                "call" => "generate",
                "kind" => error.kind()
            )
            .increment(1),
        }
        result
    }

    /// Always [`ProviderError::NotFound`]: the API keeps nothing once its call has answered.
    async fn fetch(&self, _prediction_id: &PredictionId) -> Result<ProviderState, ProviderError> {
        Err(ProviderError::NotFound)
    }

    /// Nothing to do: the API cannot cancel a call.
    async fn cancel(&self, _prediction_id: &PredictionId) -> Result<(), ProviderError> {
        Ok(())
    }

    fn answers_in_submit(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use picture_domain::{GenerationId, GenerationParams};

    use super::*;

    fn request(model: &str) -> ProviderRequest {
        ProviderRequest {
            generation_id: GenerationId::new_random(),
            model_ref: model.into(),
            model_version: Some("ignored".into()),
            prompt: "a lighthouse at dusk".into(),
            negative_prompt: Some("blurry".into()),
            source_image_url: Some("https://example.com/in.png".into()),
            params: GenerationParams {
                width: 1024,
                height: 1536,
                steps: 30,
                guidance_scale: 7.0,
                seed: Some(1),
                generation_strength: Some(0.5),
            },
            webhook_url: None,
            wait: true,
        }
    }

    #[test]
    fn the_body_holds_only_documented_fields() {
        assert_eq!(
            OpenAiImagesProvider::body(&request("dall-e-3")),
            json!({"model": "dall-e-3", "prompt": "a lighthouse at dusk", "n": 1,
                   "size": "1024x1536", "response_format": "b64_json"})
        );
        assert_eq!(
            OpenAiImagesProvider::body(&request("gpt-image-1")),
            json!({"model": "gpt-image-1", "prompt": "a lighthouse at dusk", "n": 1,
                   "size": "1024x1536"})
        );
    }
}
