//! Mapping the images API's error answers (`{"error": {"message", "type", "param", "code"}}`)
//! to the domain's errors.

use std::time::Duration;

use picture_domain::ports::ProviderError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde_json::Value;

/// Longest provider message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// What a refusal by the content filter tells the user.
pub(crate) const CONTENT_POLICY: &str = "The prompt was refused by the provider's content policy";

/// Codes of a prompt refused by the safety system (`dall-e-*` and `gpt-image-*`).
const POLICY_CODES: [&str; 2] = ["content_policy_violation", "moderation_blocked"];

/// Codes of an account that cannot pay.
const BILLING_CODES: [&str; 3] = [
    "insufficient_quota",
    "billing_hard_limit_reached",
    "billing_not_active",
];

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<Detail>,
    /// Some compatible servers answer `{"message": …}` or `{"detail": …}` instead.
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    detail: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Detail {
    #[serde(default)]
    message: Option<Value>,
    /// A string at OpenAI, a number at some compatible servers.
    #[serde(default)]
    code: Option<Value>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Null | Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

/// `message` trimmed to [`MAX_MESSAGE_CHARS`], without `secret`.
fn shorten(message: &str, secret: Option<&str>) -> String {
    let message = match secret {
        Some(secret) if !secret.is_empty() => message.replace(secret, "<redacted>"),
        _ => message.to_owned(),
    };
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        message
    } else {
        let mut short: String = message.chars().take(MAX_MESSAGE_CHARS - 1).collect();
        short.push('…');
        short
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    if let Some(ms) = header("retry-after-ms") {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    header(RETRY_AFTER.as_str()).and_then(|secs| Duration::try_from_secs_f64(secs).ok())
}

/// The domain error for a non-success answer to a generation for `model`. `secret` (the API
/// key) is removed from any message kept.
pub(crate) fn from_status(
    model: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    secret: Option<&str>,
) -> ProviderError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let detail = parsed.error.unwrap_or_default();
    let code = detail.code.as_ref().and_then(Value::as_str).unwrap_or("");
    let message = text(detail.message.as_ref())
        .or_else(|| text(parsed.message.as_ref()))
        .or_else(|| text(parsed.detail.as_ref()))
        .unwrap_or_else(|| status.to_string());
    let message = shorten(&message, secret);
    if BILLING_CODES.contains(&code) {
        return ProviderError::Billing;
    }
    match status.as_u16() {
        401 | 403 => ProviderError::Unauthorized,
        402 => ProviderError::Billing,
        400 | 422 if POLICY_CODES.contains(&code) => {
            ProviderError::Rejected(CONTENT_POLICY.to_owned())
        }
        400 | 422 if code == "model_not_found" => ProviderError::UnknownModel(model.to_owned()),
        400 | 422 => ProviderError::Rejected(message),
        404 => ProviderError::UnknownModel(model.to_owned()),
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        _ => ProviderError::Unavailable(format!("the images API answered {status}: {message}")),
    }
}

/// The domain error for a transport failure.
pub(crate) fn from_transport(error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable(format!(
            "cannot reach the images API: {}",
            without_url(error)
        ))
    }
}

/// The error text with its causes, without the URL (which keeps logs short).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = picture_domain::ErrorChain(error).to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    fn error(status: u16, body: &Value) -> ProviderError {
        from_status(
            "dall-e-3",
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.to_string().as_bytes(),
            Some("sk-secret"),
        )
    }

    #[test]
    fn codes_decide_before_statuses() {
        let coded = |code: &str| json!({"error": {"message": "m", "type": "t", "param": null, "code": code}});
        assert_eq!(
            error(400, &coded("billing_hard_limit_reached")),
            ProviderError::Billing
        );
        assert_eq!(
            error(429, &coded("insufficient_quota")),
            ProviderError::Billing
        );
        assert_eq!(
            error(400, &coded("moderation_blocked")),
            ProviderError::Rejected(CONTENT_POLICY.into())
        );
        assert_eq!(
            error(400, &coded("model_not_found")),
            ProviderError::UnknownModel("dall-e-3".into())
        );
        assert_eq!(
            error(429, &coded("rate_limit_exceeded")),
            ProviderError::RateLimited { retry_after: None }
        );
    }

    #[test]
    fn messages_are_shortened_and_never_hold_the_key() {
        let long = format!("bad key sk-secret {}", "x".repeat(1000));
        match error(400, &json!({"error": {"message": long, "code": 7}})) {
            ProviderError::Rejected(message) => {
                assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
                assert!(message.starts_with("bad key <redacted> x"));
                assert!(message.ends_with('…'));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            error(400, &json!({"detail": "size must be 512x512"})),
            ProviderError::Rejected("size must be 512x512".into())
        );
        assert_eq!(
            error(400, &json!("not an object")),
            ProviderError::Rejected("400 Bad Request".into())
        );
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("20"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(20)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
