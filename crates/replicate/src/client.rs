//! [`ReplicateProvider`]: the `ImageProvider` port over Replicate's HTTP API.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use picture_domain::ports::{
    ImageProvider, ProviderError, ProviderRequest, ProviderState, Submission,
};
use picture_domain::{GenerationId, PredictionId};
use reqwest::RequestBuilder;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::config::ReplicateConfig;
use crate::errors::{Call, from_status, from_transport};
use crate::input::model_input;
use crate::prediction::Prediction;

mod listing;

/// Talks to Replicate.
pub struct ReplicateProvider {
    http: reqwest::Client,
    config: ReplicateConfig,
    runtime: Option<tokio::runtime::Handle>,
}

fn is_path_segment(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && text != "."
        && text != ".."
}

impl ReplicateProvider {
    /// A provider for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: ReplicateConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("picture-backend/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            config,
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    async fn send(
        &self,
        call: Call,
        request: RequestBuilder,
        timeout: Duration,
    ) -> Result<Prediction, ProviderError> {
        self.send_for(call, request, timeout, Prediction::parse)
            .await
    }

    /// Sends `request` with our token and `timeout`, maps a refusal to the domain's error and
    /// reads a successful answer with `parse` (a body it refuses is `Unavailable`).
    async fn send_for<T, E: std::fmt::Display>(
        &self,
        call: Call,
        request: RequestBuilder,
        timeout: Duration,
        parse: impl FnOnce(&[u8]) -> Result<T, E> + Send,
    ) -> Result<T, ProviderError> {
        let started = std::time::Instant::now();
        let result = self.send_timed(call, request, timeout, parse).await;
        metrics::histogram!("picture_provider_request_duration_seconds", "call" => call.name())
            .record(started.elapsed().as_secs_f64());
        if let Err(error) = &result {
            metrics::counter!(
                "picture_provider_errors_total",
                "call" => call.name(),
                "kind" => error.kind()
            )
            .increment(1);
        }
        result
    }

    async fn send_timed<T, E: std::fmt::Display>(
        &self,
        call: Call,
        request: RequestBuilder,
        timeout: Duration,
        parse: impl FnOnce(&[u8]) -> Result<T, E> + Send,
    ) -> Result<T, ProviderError> {
        let pending = request
            .bearer_auth(self.config.token.expose_secret())
            .timeout(timeout)
            .send();
        let sent = match &self.runtime {
            Some(runtime) => runtime.spawn(pending).await.map_err(|_| {
                ProviderError::Unavailable("the HTTP client's runtime stopped".to_owned())
            })?,
            None => pending.await,
        };
        let response = sent.map_err(|e| from_transport(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| from_transport(&e))?;
        if !status.is_success() {
            let error = from_status(call, status, &headers, &body);
            tracing::warn!(%status, %error, "Replicate refused the call");
            return Err(error);
        }
        parse(&body).map_err(|e| {
            ProviderError::Unavailable(format!("unexpected answer from Replicate: {e}"))
        })
    }

    fn prediction_path(id: &PredictionId, suffix: &str) -> Result<String, ProviderError> {
        if is_path_segment(id.as_str()) {
            Ok(format!("/predictions/{}{suffix}", id.as_str()))
        } else {
            Err(ProviderError::NotFound)
        }
    }
}

#[async_trait]
impl ImageProvider for ReplicateProvider {
    async fn submit(&self, request: &ProviderRequest) -> Result<Submission, ProviderError> {
        let mut body = Map::new();
        body.insert("input".into(), model_input(request));
        if let Some(webhook) = &request.webhook_url {
            body.insert("webhook".into(), json!(webhook));
            body.insert(
                "webhook_events_filter".into(),
                json!(self.config.webhook_events()),
            );
        }
        let path = match &request.model_version {
            Some(version) => {
                body.insert("version".into(), json!(version));
                "/predictions".to_owned()
            }
            None => match request.model_ref.split_once('/') {
                Some((owner, name)) if is_path_segment(owner) && is_path_segment(name) => {
                    format!("/models/{owner}/{name}/predictions")
                }
                _ => {
                    return Err(ProviderError::UnknownModel(format!(
                        "{:?} is not an owner/name model reference",
                        request.model_ref
                    )));
                }
            },
        };
        let mut http = self.http.post(self.url(&path)).json(&Value::Object(body));
        let mut timeout = self.config.create_timeout;
        if request.wait {
            let wait = self.config.sync_wait.as_secs().clamp(1, 60);
            http = http.header("Prefer", format!("wait={wait}"));
            timeout += Duration::from_secs(wait);
        }
        let prediction = self.send(Call::Create, http, timeout).await?;
        let prediction_id = prediction.prediction_id().map_err(|e| {
            ProviderError::Unavailable(format!("unexpected answer from Replicate: {e}"))
        })?;
        tracing::info!(
            generation_id = %request.generation_id,
            prediction_id = %prediction_id,
            status = %prediction.status,
            "prediction created"
        );
        Ok(Submission {
            prediction_id,
            state: prediction.state(),
        })
    }

    async fn fetch(&self, prediction_id: &PredictionId) -> Result<ProviderState, ProviderError> {
        let path = Self::prediction_path(prediction_id, "")?;
        let prediction = self
            .send(
                Call::Read,
                self.http.get(self.url(&path)),
                self.config.get_timeout,
            )
            .await?;
        Ok(prediction.state())
    }

    async fn cancel(&self, prediction_id: &PredictionId) -> Result<(), ProviderError> {
        let path = Self::prediction_path(prediction_id, "/cancel")?;
        self.send(
            Call::Read,
            self.http.post(self.url(&path)),
            self.config.cancel_timeout,
        )
        .await
        .map(|_| ())
    }

    async fn find_submitted(
        &self,
        generation_id: GenerationId,
        since: DateTime<Utc>,
    ) -> Result<Option<Submission>, ProviderError> {
        self.find_listed(generation_id, since).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_segments_reach_a_url_path() {
        assert!(is_path_segment("black-forest-labs"));
        assert!(is_path_segment("flux-1.1-pro"));
        assert!(!is_path_segment(".."));
        assert!(!is_path_segment("a/b"));
        assert!(!is_path_segment("a?b"));
        assert!(!is_path_segment(""));
    }
}
