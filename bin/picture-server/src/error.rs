//! The one place errors become HTTP responses.
//!
//! Error types by layer: domain newtypes return `ValidationErrors`; ports return their own
//! enums (`RepositoryError`, …); handlers convert those into [`ApiError`], whose
//! `ResponseError` impl below is the only mapping to status codes and bodies. Bodies keep the
//! NestJS shape the existing clients read (`statusCode`, `error`, `message`) plus a stable
//! `code`. 5xx bodies are generic: the cause goes to the log, never to the client.
//!
//! Errors keep what caused them as their `source()`, from the adapters through the domain to
//! [`ApiError`]; the one place that logs the whole chain (`a: b: c`, one line) is
//! [`ApiError::error_response`] for a 500 or a dependency's 503.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, error::JsonPayloadError, web};
use picture_domain::money::BatchShortfall;
use picture_domain::ports::ProviderError;
use picture_domain::services::{CreditError, GenerateError};
use picture_domain::{ErrorChain, InsufficientCredits, RepositoryError, ValidationErrors};

use crate::dto::{ErrorDto, ErrorMessage, InsufficientDetails};

mod batches;
mod boards;
mod uploads;
mod variants;

/// Every error a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `validation_failed`: the messages, all of them.
    #[error("validation failed: {0:?}")]
    Validation(Vec<String>),
    /// 401 `unauthorized`.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 404 `not_found`.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409 `conflict`.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 402 `insufficient_credits`, with `details {required, balance, freeGenerationsRemaining}`.
    #[error("{0}")]
    InsufficientCredits(InsufficientCredits),
    /// 402 `insufficient_credits` for a batch, with `details {required, balance,
    /// freeGenerationsRemaining, items}`.
    #[error("insufficient credits for the batch")]
    BatchInsufficient(BatchShortfall),
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 429 `too_many_streams`, with `Retry-After`: the caller (or this instance) holds as many
    /// event streams as allowed.
    #[error("too many event streams")]
    TooManyStreams(&'static str),
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`: an upload that is not a PNG, JPEG or WebP image.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 400 `invalid_image`: an upload that starts like an image but is damaged or cut short.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// 400 `image_too_large`: an upload with more pixels than the limit (a decompression bomb).
    #[error("image too large: {0}")]
    ImageTooLarge(String),
    /// 503 `storage_error`: the object store failed; nothing was recorded.
    #[error("storage unavailable")]
    Storage(#[source] Cause),
    /// 408 `request_timeout`: the request's body did not arrive in time.
    #[error("request body timed out")]
    RequestTimeout,
    /// 400 `bad_request`: the request is not valid HTTP/1.1 (answered before any route runs).
    #[error("malformed request")]
    MalformedRequest,
    /// 414 `uri_too_long`: the request URI is over 65,534 bytes.
    #[error("URI too long")]
    UriTooLong,
    /// 431 `headers_too_large`: over 96 headers, or a request head over 120 KiB.
    #[error("request headers too large")]
    HeadersTooLarge,
    /// 502 `provider_error`: the image provider refused (configuration, billing, input).
    #[error("provider error: {0}")]
    ProviderError(String),
    /// 503 `provider_unavailable`: the image provider is down, slow or throttling us.
    #[error("provider unavailable: {message}")]
    ProviderUnavailable {
        /// What happened, safe to show.
        message: String,
        /// When to retry, if the provider said.
        retry_after: Option<u64>,
    },
    /// 503 `renderer_busy`, with `Retry-After`: every image render slot stayed busy, or a render
    /// took longer than its time limit.
    #[error("renderer busy")]
    RendererBusy,
    /// 503 `credits_unavailable`: the remote credits service is needed and cannot be reached.
    #[error("credits service unavailable")]
    CreditsUnavailable,
    /// 503 `service_unavailable`: a dependency (the database) is down; retry later.
    #[error("unavailable")]
    Unavailable(#[source] Cause),
    /// 500 `internal`: a bug or an unexpected failure. The cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// The cause of a 5xx: it reads (`Display`, `source()`) as the error it wraps, but its `Debug`
/// is terse, so the chain that [`ApiError::error_response`] logs is not repeated by whoever
/// prints the error's `Debug` (tracing-actix-web's line about the failed request does).
pub struct Cause(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(logged)")
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// What the server was doing when `cause` happened.
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
struct While {
    doing: &'static str,
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync>,
}

impl ApiError {
    /// An internal error with a cause for the log: an error (its own causes are kept) or a
    /// message.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Cause(cause.into()))
    }

    /// A 503 `service_unavailable` for `cause` (logged, never shown).
    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(Cause(cause.into()))
    }

    /// An internal error while `doing` something, caused by `cause`.
    pub fn internal_while(
        doing: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::internal(While {
            doing,
            cause: cause.into(),
        })
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::InsufficientCredits(_) | Self::BatchInsufficient(_) => "insufficient_credits",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::InvalidImage(_) => "invalid_image",
            Self::ImageTooLarge(_) => "image_too_large",
            Self::Storage(_) => "storage_error",
            Self::RequestTimeout => "request_timeout",
            Self::MalformedRequest => "bad_request",
            Self::UriTooLong => "uri_too_long",
            Self::HeadersTooLarge => "headers_too_large",
            Self::ProviderError(_) => "provider_error",
            Self::ProviderUnavailable { .. } => "provider_unavailable",
            Self::CreditsUnavailable => "credits_unavailable",
            Self::RendererBusy => "renderer_busy",
            Self::RateLimited { .. } => "rate_limited",
            Self::TooManyStreams(_) => "too_many_streams",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn message(&self) -> ErrorMessage {
        let text = |t: &str| ErrorMessage::Text(t.to_owned());
        match self {
            Self::Validation(messages) => ErrorMessage::List(messages.clone()),
            Self::Unauthorized(message) => text(message),
            Self::NotFound(message) | Self::Conflict(message) => text(message),
            Self::InsufficientCredits(refusal) => ErrorMessage::Text(refusal.to_string()),
            Self::BatchInsufficient(shortfall) => ErrorMessage::Text(format!(
                "Insufficient credits for the batch: its {} items need {} credits beyond the free generations, the balance is {}",
                shortfall.items,
                shortfall.required.get(),
                shortfall.balance.get()
            )),
            Self::PayloadTooLarge => text("Payload too large"),
            Self::UnsupportedMediaType(message)
            | Self::InvalidImage(message)
            | Self::ImageTooLarge(message) => text(message),
            Self::Storage(_) => text("Storing the file failed, please retry"),
            Self::RequestTimeout => text("The request body did not arrive in time"),
            Self::MalformedRequest => text("The request is not valid HTTP/1.1"),
            Self::UriTooLong => text("The request URI is too long"),
            Self::HeadersTooLarge => text("The request headers are too large"),
            Self::ProviderError(message) => text(message),
            Self::ProviderUnavailable { message, .. } => text(message),
            Self::CreditsUnavailable => {
                text("The credits service is unavailable, please retry shortly")
            }
            Self::RendererBusy => text("Image rendering is busy, please retry shortly"),
            Self::RateLimited { retry_after } => {
                ErrorMessage::Text(format!("Too many requests, retry in {retry_after} s"))
            }
            Self::TooManyStreams(message) => text(message),
            Self::Unavailable(_) => text("Service temporarily unavailable, please retry"),
            Self::Internal(_) => text("Internal server error"),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors.into_messages())
    }
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::RateLimited { retry_after } => Self::ProviderUnavailable {
                message: "The image provider is busy; please retry shortly".into(),
                retry_after: retry_after.map(|d| d.as_secs().max(1)),
            },
            ProviderError::Timeout | ProviderError::Unavailable(_) => Self::ProviderUnavailable {
                message: "The image provider is unavailable; please retry shortly".into(),
                retry_after: None,
            },
            ProviderError::Unauthorized => {
                Self::ProviderError("The image provider refused our credentials".into())
            }
            ProviderError::Billing => {
                Self::ProviderError("The image provider account cannot pay for this".into())
            }
            ProviderError::UnknownModel(detail) => Self::ProviderError(format!(
                "The image provider does not know this model: {detail}"
            )),
            ProviderError::Rejected(detail) => {
                Self::ProviderError(format!("The image provider rejected the input: {detail}"))
            }
            ProviderError::NotFound => {
                Self::ProviderError("The image provider lost the prediction".into())
            }
        }
    }
}

impl From<GenerateError> for ApiError {
    fn from(error: GenerateError) -> Self {
        match error {
            GenerateError::ModelNotFound => Self::NotFound("Model not found".into()),
            GenerateError::Insufficient(refusal) => Self::InsufficientCredits(refusal),
            GenerateError::CreditsUnavailable => Self::CreditsUnavailable,
            GenerateError::Provider(error) => error.into(),
            GenerateError::IdempotencyMismatch => {
                Self::Conflict("This Idempotency-Key was used with a different request".into())
            }
            GenerateError::IdempotencyInProgress => Self::Conflict(
                "A request with this Idempotency-Key is still in progress; retry shortly".into(),
            ),
            GenerateError::Repository(error) => error.into(),
        }
    }
}

impl From<CreditError> for ApiError {
    fn from(error: CreditError) -> Self {
        match error {
            CreditError::Unavailable => Self::CreditsUnavailable,
            CreditError::RemoteLedger => Self::Conflict(
                "Credits are managed by the remote credits service; grant them there".into(),
            ),
            CreditError::Repository(error) => error.into(),
        }
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match error {
            unavailable @ RepositoryError::Unavailable(_) => {
                Self::Unavailable(Cause(Box::new(unavailable)))
            }
            other => Self::internal(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::InsufficientCredits(_) | Self::BatchInsufficient(_) => {
                StatusCode::PAYMENT_REQUIRED
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidImage(_) | Self::ImageTooLarge(_) => StatusCode::BAD_REQUEST,
            Self::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::MalformedRequest => StatusCode::BAD_REQUEST,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::RateLimited { .. } | Self::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::ProviderError(_) => StatusCode::BAD_GATEWAY,
            Self::ProviderUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable(_) | Self::CreditsUnavailable | Self::RendererBusy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Internal(_) => tracing::error!(cause = %ErrorChain(self), "internal error"),
            Self::Unavailable(_) | Self::Storage(_) => {
                tracing::warn!(cause = %ErrorChain(self), "dependency unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Self::RateLimited { retry_after } = self {
            response.insert_header(("Retry-After", retry_after.to_string()));
        }
        if let Self::TooManyStreams(_) = self {
            response.insert_header(("Retry-After", "5"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let seconds = match self {
                Self::ProviderUnavailable {
                    retry_after: Some(seconds),
                    ..
                } => *seconds,
                _ => 5,
            };
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        let details = match self {
            Self::InsufficientCredits(refusal) => {
                metrics::counter!("picture_insufficient_credits_total").increment(1);
                Some(InsufficientDetails {
                    required: refusal.required.get(),
                    balance: refusal.balance.get(),
                    free_generations_remaining: refusal.free_generations_remaining,
                    items: None,
                })
            }
            Self::BatchInsufficient(shortfall) => {
                metrics::counter!("picture_insufficient_credits_total").increment(1);
                Some(InsufficientDetails {
                    required: shortfall.required.get(),
                    balance: shortfall.balance.get(),
                    free_generations_remaining: shortfall.free_generations_remaining,
                    items: Some(shortfall.items),
                })
            }
            _ => None,
        };
        response.json(ErrorDto {
            status_code: status.as_u16(),
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
            code: self.code().to_owned(),
            message: self.message(),
            details,
        })
    }
}

/// Malformed JSON bodies: 413 past the size limit, 400 `validation_failed` otherwise.
pub fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            ApiError::Validation(vec!["Content-Type must be application/json".into()])
        }
        JsonPayloadError::Deserialize(e) => ApiError::Validation(vec![e.to_string()]),
        other => ApiError::Validation(vec![format!("invalid JSON body: {other}")]),
    };
    api.into()
}

/// Malformed query strings: 400 `validation_failed`.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    ApiError::Validation(vec![error.to_string()]).into()
}

/// Path segments that do not parse (a malformed UUID): 404, never 500.
pub fn path_error(_: actix_web::error::PathError, request: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("Cannot {} {}", request.method(), request.path())).into()
}

/// Unknown routes, in NestJS's words: `Cannot GET /api/v1/xyz`.
pub async fn route_not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "Cannot {} {}",
        request.method(),
        request.path()
    )))
}

/// Registers the extractor error handlers and body limits on an app or scope.
pub fn configure_extractors(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::JsonConfig::default()
                .limit(1024 * 1024)
                .error_handler(json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error));
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use serde_json::{Value, json};

    use super::*;

    async fn body(error: ApiError) -> (StatusCode, Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn validation_errors_carry_every_message_and_the_nest_shape() {
        let (status, body) = body(ApiError::Validation(vec!["a".into(), "b".into()])).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"statusCode": 400, "error": "Bad Request", "code": "validation_failed",
                   "message": ["a", "b"]})
        );
    }

    #[actix_web::test]
    async fn internal_errors_never_leak_their_cause() {
        let (status, body) = body(ApiError::internal(
            "relation \"models\" does not exist at SELECT …",
        ))
        .await;
        assert_eq!(status, 500);
        assert_eq!(body["message"], "Internal server error");
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("relation"));
    }

    /// A repository failure whose own cause is a library error, as persistence builds it.
    fn deep_failure() -> ApiError {
        let library = std::io::Error::other("relation \"images\" does not exist");
        ApiError::from(RepositoryError::Other(Box::new(library)))
    }

    #[actix_web::test]
    async fn a_5xx_logs_its_whole_chain_once_and_the_body_leaks_nothing() {
        async fn failing() -> Result<HttpResponse, ApiError> {
            Err(deep_failure())
        }
        let app = actix_web::test::init_service(
            actix_web::App::new()
                .wrap(tracing_actix_web::TracingLogger::<
                    crate::telemetry::PictureRootSpan,
                >::new())
                .route("/", web::get().to(failing)),
        )
        .await;
        let (logs, _guard) = crate::log_capture::LogCapture::start();

        let response = actix_web::test::call_service(
            &app,
            actix_web::test::TestRequest::get().uri("/").to_request(),
        )
        .await;

        assert_eq!(response.status(), 500);
        let body: Value = actix_web::test::read_body_json(response).await;
        assert_eq!(body["message"], "Internal server error");
        assert!(!body.to_string().contains("relation"), "{body}");
        let chain = "internal error: database error: relation \"images\" does not exist";
        let text = logs.text();
        assert_eq!(text.matches("does not exist").count(), 1, "{text}");
        let line = logs
            .lines()
            .into_iter()
            .find(|line| line["message"] == "internal error")
            .unwrap();
        assert_eq!(line["cause"], chain, "{line}");
        assert_eq!(line["level"], "ERROR");
    }

    #[actix_web::test]
    async fn an_unreachable_database_is_a_generic_503() {
        let (status, body) =
            body(RepositoryError::Unavailable("pool timed out".into()).into()).await;
        assert_eq!(status, 503);
        assert_eq!(body["code"], "service_unavailable");
        assert!(!body.to_string().contains("pool"));
    }
}
