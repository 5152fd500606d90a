//! `POST /generate/webhook`: the provider's signed completion report.

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use picture_domain::services::{CallbackUrls, DeliveryGuard, FinalizeGeneration};
use picture_domain::{GenerationId, ProviderName};
use picture_replicate::{Prediction, TOLERANCE_SECS, WebhookHeaders, WebhookVerifier};
use serde::Deserialize;

use crate::dto::{ErrorDto, WebhookAckDto};
use crate::error::ApiError;

/// Largest webhook body accepted (predictions may carry data URIs and logs).
pub const MAX_WEBHOOK_BYTES: usize = 10 * 1024 * 1024;

/// Longest `webhook-id` accepted (Replicate's are `msg_` plus a short id).
const MAX_WEBHOOK_ID: usize = 256;

/// The URLs the provider calls back about each generation: this route under `base` (the
/// server's public base URL), with the generation's id in the query ([`WebhookQuery`]).
pub fn callback_urls(base: &str) -> CallbackUrls {
    let base = base.trim_end_matches('/').to_owned();
    CallbackUrls::new(move |id| format!("{base}/api/v1/generate/webhook?generation={id}"))
}

/// The query of the webhook URL we hand the provider.
#[derive(Debug, Deserialize)]
pub struct WebhookQuery {
    generation: Option<String>,
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> &'a str {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Whether the signature headers can belong to a delivery at `now`: present, a short id, a
/// timestamp within the tolerance and a `v1` signature. Checked before the body is read, so an
/// unsigned sender cannot hold a connection open with a body it never finishes.
fn plausible(headers: &WebhookHeaders<'_>, now: i64) -> bool {
    let id = headers.id.trim();
    let fresh = headers
        .timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|sent| now.abs_diff(sent) <= TOLERANCE_SECS.unsigned_abs());
    let signed = headers
        .signature
        .split_whitespace()
        .any(|entry| entry.starts_with("v1,"));
    !id.is_empty() && id.len() <= MAX_WEBHOOK_ID && fresh && signed
}

/// Refuses a body declared larger than the limit before reading any of it.
fn declared_too_large(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|length| length > MAX_WEBHOOK_BYTES as u64)
}

/// Reads the body, at most [`MAX_WEBHOOK_BYTES`] of it.
async fn read_body(payload: web::Payload) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(MAX_WEBHOOK_BYTES).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => {
            tracing::debug!(%error, "webhook body unreadable");
            Err(ApiError::Validation(vec![
                "The body could not be read".into(),
            ]))
        }
        Err(_) => Err(ApiError::PayloadTooLarge),
    }
}

/// Checks the signature headers, reads the raw body, verifies the signature on it, then
/// applies the report. 401 (nothing changes, and without reading the body when the headers
/// cannot be valid) for a missing, wrong or stale signature or when no secret is configured;
/// 413 `payload_too_large` past [`MAX_WEBHOOK_BYTES`]; 200 otherwise, also for unknown
/// predictions (so the provider stops retrying).
#[utoipa::path(tag = "generate",
    params(
        ("generation" = Option<String>, Query, description = "The generation the webhook URL was made for"),
        ("webhook-id" = String, Header, description = "Standard Webhooks message id"),
        ("webhook-timestamp" = String, Header, description = "Unix seconds"),
        ("webhook-signature" = String, Header, description = "v1,<base64 HMAC-SHA256>")),
    request_body(content = Object, description = "A Replicate prediction"),
    responses(
        (status = 200, description = "Accepted (also for unknown predictions and replays)", body = WebhookAckDto),
        (status = 401, description = "Missing, wrong or stale signature", body = ErrorDto),
        (status = 413, description = "Body over 10 MiB", body = ErrorDto)))]
#[post("/generate/webhook")]
pub async fn webhook(
    request: HttpRequest,
    query: web::Query<WebhookQuery>,
    payload: web::Payload,
    verifier: web::Data<Option<WebhookVerifier>>,
    service: web::Data<FinalizeGeneration>,
    deliveries: web::Data<DeliveryGuard>,
) -> Result<HttpResponse, ApiError> {
    let Some(verifier) = verifier.get_ref() else {
        return Err(ApiError::Unauthorized("Webhooks are not configured"));
    };
    let headers = WebhookHeaders {
        id: header(&request, "webhook-id"),
        timestamp: header(&request, "webhook-timestamp"),
        signature: header(&request, "webhook-signature"),
    };
    if !plausible(&headers, Utc::now().timestamp()) {
        tracing::warn!("webhook refused: missing, stale or malformed signature headers");
        return Err(ApiError::Unauthorized("Invalid webhook signature"));
    }
    if declared_too_large(&request) {
        return Err(ApiError::PayloadTooLarge);
    }
    let body = read_body(payload).await?;
    if let Err(error) = verifier.verify(&headers, &body, Utc::now().timestamp()) {
        tracing::warn!(%error, "webhook refused");
        return Err(ApiError::Unauthorized("Invalid webhook signature"));
    }
    let delivery = headers.id.trim();
    if deliveries.is_replay(delivery).await? {
        tracing::info!(webhook_id = delivery, "replayed webhook ignored");
        return Ok(HttpResponse::Ok().json(WebhookAckDto {
            received: true,
            duplicate: Some(true),
        }));
    }
    let answer = apply(&query, &body, &service).await?;
    deliveries.applied(delivery).await?;
    Ok(answer)
}

/// Applies a verified report; 200 whatever it concerned.
async fn apply(
    query: &WebhookQuery,
    body: &[u8],
    service: &FinalizeGeneration,
) -> Result<HttpResponse, ApiError> {
    let prediction = match Prediction::parse(body) {
        Ok(prediction) => prediction,
        Err(error) => {
            tracing::warn!(%error, "signed webhook with an unusable body");
            return Ok(HttpResponse::Ok().json(WebhookAckDto {
                received: false,
                duplicate: None,
            }));
        }
    };
    let Ok(prediction_id) = prediction.prediction_id() else {
        tracing::warn!("signed webhook without a usable prediction id");
        return Ok(HttpResponse::Ok().json(WebhookAckDto {
            received: false,
            duplicate: None,
        }));
    };
    let hint = query
        .generation
        .as_deref()
        .and_then(|g| g.parse::<GenerationId>().ok());
    match service
        .on_provider_report(
            &ProviderName::REPLICATE,
            &prediction_id,
            prediction.state(),
            hint,
        )
        .await?
    {
        Some(generation_id) => {
            tracing::info!(%generation_id, %prediction_id, status = %prediction.status, "webhook applied");
            Ok(HttpResponse::Ok().json(WebhookAckDto {
                received: true,
                duplicate: None,
            }))
        }
        None => {
            tracing::info!(%prediction_id, "webhook for an unknown prediction");
            Ok(HttpResponse::Ok().json(WebhookAckDto {
                received: false,
                duplicate: None,
            }))
        }
    }
}
