//! [`RemoteCredits`]: the `CreditLedger` port over the credits service's internal API.

use async_trait::async_trait;
use picture_domain::ports::{Charge, CreditBalance, CreditLedger, LedgerError};
use picture_domain::{CreditAmount, UserId};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;

use crate::config::CreditsConfig;
use crate::wire::{BalanceBody, ErrorBody, RefundBody, UseBody};

/// Talks to the mana-core credits service.
pub struct RemoteCredits {
    http: reqwest::Client,
    config: CreditsConfig,
    base: Url,
    runtime: Option<tokio::runtime::Handle>,
}

/// Which call, for logs and metrics.
#[derive(Debug, Clone, Copy)]
enum Call {
    Balance,
    Use,
    Refund,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Self::Balance => "balance",
            Self::Use => "use",
            Self::Refund => "refund",
        }
    }
}

/// Why building the adapter failed; the URL parser's or HTTP client's error is the `source()`.
#[derive(Debug, thiserror::Error)]
#[error("invalid credits service URL")]
pub struct InvalidBaseUrl(#[source] Box<dyn std::error::Error + Send + Sync>);

fn count_error(call: Call, kind: &'static str) {
    metrics::counter!(
        "picture_credits_service_errors_total",
        "call" => call.name(),
        "kind" => kind
    )
    .increment(1);
}

fn amount(value: i64) -> Result<CreditAmount, LedgerError> {
    CreditAmount::new(value).map_err(|_| {
        LedgerError::Unavailable(format!(
            "the credits service answered a negative amount {value}"
        ))
    })
}

impl RemoteCredits {
    /// An adapter for `config`.
    ///
    /// # Errors
    /// [`InvalidBaseUrl`] when `config.base_url` is not an http(s) URL, or the HTTP client
    /// cannot be built.
    pub fn new(config: CreditsConfig) -> Result<Self, InvalidBaseUrl> {
        let base = Url::parse(&config.base_url).map_err(|e| InvalidBaseUrl(e.into()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(InvalidBaseUrl("must be an http(s) URL".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("picture-backend/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .build()
            .map_err(|e| InvalidBaseUrl(e.into()))?;
        Ok(Self {
            http,
            config,
            base,
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

    /// `{base}/api/v1/internal/credits/{segments…}`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, LedgerError> {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| LedgerError::Unavailable("invalid credits URL".to_owned()))?;
            path.pop_if_empty()
                .extend(["api", "v1", "internal", "credits"])
                .extend(segments);
        }
        Ok(url)
    }

    /// Sends one call; `Ok(body)` for a 2xx answer.
    async fn send<B: Serialize + Sync>(
        &self,
        call: Call,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<Vec<u8>, LedgerError> {
        let mut request = self
            .http
            .request(method, url)
            .header("X-Service-Key", self.config.service_key.expose_secret())
            .header("X-App-Id", &self.config.app_id);
        if let Some(body) = body {
            request = request.json(body);
        }
        let pending = request.send();
        let sent = match &self.runtime {
            Some(runtime) => runtime.spawn(pending).await.map_err(|_| {
                count_error(call, "transport");
                LedgerError::Unavailable("the HTTP client's runtime stopped".to_owned())
            })?,
            None => pending.await,
        };
        let response = sent.map_err(|e| {
            let kind = if e.is_timeout() { "timeout" } else { "transport" };
            count_error(call, kind);
            tracing::warn!(call = call.name(), error = %picture_domain::ErrorChain(&e.without_url()), "credits service unreachable");
            LedgerError::Unavailable(format!("{kind} error calling the credits service"))
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            count_error(call, "transport");
            LedgerError::Unavailable(format!(
                "reading the answer failed: {}",
                picture_domain::ErrorChain(&e.without_url())
            ))
        })?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let error = Self::refusal(status, &bytes);
        count_error(call, kind_of(&error, status));
        tracing::warn!(call = call.name(), %status, %error, "credits service refused the call");
        Err(error)
    }

    /// Maps a non-2xx answer to the domain's error.
    fn refusal(status: StatusCode, body: &[u8]) -> LedgerError {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let message = parsed
            .message
            .map(|m| match m {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .unwrap_or_else(|| status.to_string());
        let message: String = message.chars().take(200).collect();
        match status {
            StatusCode::PAYMENT_REQUIRED => LedgerError::Insufficient {
                available: parsed
                    .details
                    .and_then(|d| d.available)
                    .and_then(|a| CreditAmount::new(a).ok()),
            },
            StatusCode::NOT_FOUND => LedgerError::UnknownUser,
            StatusCode::CONFLICT
            | StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::REQUEST_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS => {
                LedgerError::Unavailable(format!("{status}: {message}"))
            }
            s if s.is_client_error() => LedgerError::Rejected(format!("{status}: {message}")),
            _ => LedgerError::Unavailable(format!("{status}: {message}")),
        }
    }

    /// Gives `amount` credits back to `user` for `generation` (`POST …/refund`). The pipeline
    /// never needs it — it charges only after success — but operators can, e.g. after a
    /// complaint.
    ///
    /// # Errors
    /// As [`CreditLedger::charge`].
    pub async fn refund(
        &self,
        user: &UserId,
        generation: picture_domain::GenerationId,
        amount: CreditAmount,
        description: &str,
    ) -> Result<(), LedgerError> {
        let body = RefundBody {
            user_id: user.as_str(),
            amount: amount.get(),
            description: description.to_owned(),
            app_id: &self.config.app_id,
            metadata: json!({"operation": "image_generation", "generationId": generation.to_string()}),
        };
        self.send(
            Call::Refund,
            Method::POST,
            self.url(&["refund"])?,
            Some(&body),
        )
        .await?;
        Ok(())
    }
}

fn kind_of(error: &LedgerError, status: StatusCode) -> &'static str {
    match error {
        LedgerError::Insufficient { .. } => "insufficient",
        LedgerError::UnknownUser => "unknown_user",
        LedgerError::Rejected(_) => "rejected",
        LedgerError::Unavailable(_) if status == StatusCode::CONFLICT => "conflict",
        LedgerError::Unavailable(_) if status.is_client_error() => "refused",
        LedgerError::Unavailable(_) => "server_error",
    }
}

#[async_trait]
impl CreditLedger for RemoteCredits {
    async fn balance(&self, user: &UserId) -> Result<CreditBalance, LedgerError> {
        let url = self.url(&["balance", user.as_str()])?;
        let body = self
            .send::<()>(Call::Balance, Method::GET, url, None)
            .await?;
        let parsed: BalanceBody = serde_json::from_slice(&body).map_err(|e| {
            count_error(Call::Balance, "bad_answer");
            LedgerError::Unavailable(format!("unexpected balance answer: {e}"))
        })?;
        Ok(CreditBalance {
            balance: amount(parsed.balance)?,
            total_earned: amount(parsed.total_earned)?,
            total_spent: amount(parsed.total_spent)?,
        })
    }

    async fn charge(&self, charge: &Charge) -> Result<(), LedgerError> {
        let generation = charge.generation.to_string();
        let body = UseBody {
            user_id: charge.user.as_str(),
            amount: charge.amount.get(),
            app_id: &self.config.app_id,
            description: format!("Image generation: {generation}"),
            idempotency_key: generation.clone(),
            metadata: json!({"operation": "image_generation", "generationId": generation}),
        };
        self.send(Call::Use, Method::POST, self.url(&["use"])?, Some(&body))
            .await?;
        Ok(())
    }
}
