//! Mapping Replicate's error answers (RFC 7807 problem details) to the domain's errors.

use std::time::Duration;

use picture_domain::ports::ProviderError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct Problem {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Which call failed: a 404 means an unknown model on create, an unknown prediction otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Create,
    Read,
}

impl Call {
    /// The call's name in metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The domain error for a non-success answer.
pub(crate) fn from_status(
    call: Call,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ProviderError {
    let problem: Problem = serde_json::from_slice(body).unwrap_or_default();
    let detail = problem
        .detail
        .or(problem.title.clone())
        .unwrap_or_else(|| status.to_string());
    let about_version = problem
        .title
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("version"))
        || detail.to_ascii_lowercase().contains("version");
    match status.as_u16() {
        401 | 403 => ProviderError::Unauthorized,
        402 => ProviderError::Billing,
        404 if call == Call::Create => ProviderError::UnknownModel(detail),
        404 => ProviderError::NotFound,
        422 if about_version => ProviderError::UnknownModel(detail),
        400 | 422 => ProviderError::Rejected(detail),
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        _ => ProviderError::Unavailable(format!("Replicate answered {status}: {detail}")),
    }
}

/// The domain error for a transport failure.
pub(crate) fn from_transport(error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable(format!("cannot reach Replicate: {}", without_url(error)))
    }
}

/// The error text with its causes (`error sending request: connection refused`), without the
/// URL (which is ours, but keeps logs short and free of queries). The port's error carries a
/// message, so the chain is kept in it.
pub(crate) fn without_url(error: &reqwest::Error) -> String {
    let mut text = picture_domain::ErrorChain(error).to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}
