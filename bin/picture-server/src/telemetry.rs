//! Logging: human-readable in development, one JSON object per line otherwise, every request
//! in a span carrying its request id and (once authenticated) the user id — never the token —
//! and closed by one `request finished` line with route, status and duration (see
//! `metrics::RequestMetrics`).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::settings::{LogFormat, LogSettings, SettingsError};

/// Installs the global subscriber. A second call (tests) keeps the first one.
///
/// # Errors
/// [`SettingsError::Invalid`] naming `RUST_LOG` when the filter does not parse.
pub fn init(settings: &LogSettings) -> Result<(), SettingsError> {
    let filter = EnvFilter::try_new(&settings.filter).map_err(|e| SettingsError::Invalid {
        variable: "RUST_LOG",
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(std::io::stderr);
    // An already installed subscriber (several servers in one test process) is fine.
    let _ = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    Ok(())
}

/// The root span of every request: tracing-actix-web's fields (method, route, status, request
/// id, …) plus `user_id`, recorded by the authentication extractor.
pub struct PictureRootSpan;

impl RootSpanBuilder for PictureRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing_actix_web::root_span!(request, user_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
