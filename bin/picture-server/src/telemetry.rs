//! Logging: human-readable in development, one JSON object per line otherwise, every request
//! in a span carrying its request id and (once authenticated) the user id — never the token —
//! and closed by one `request finished` line with route, status and duration (see
//! `metrics::RequestMetrics`).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use std::io::BufWriter;

use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::settings::{LogFormat, LogSettings, SettingsError};

/// Keeps the log writer's thread running; dropping it writes out what is still buffered.
/// Hold it until the process ends.
#[must_use = "logs still buffered are lost when this is dropped"]
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// actix-http's HTTP/1 dispatcher logs every malformed request a client sends (a URI over
/// 64 KiB, too many headers, a broken request line, a reset connection) as an ERROR line
/// (`stream error: …`), so any client could write ERROR lines at will. It is switched off unless
/// `RUST_LOG` names `actix_http` itself. Most such heads never reach it now (the protocol guard
/// answers them, see `protocol_guard`); the rest (a reset connection, a URI `http::Uri` rejects
/// for its characters) are answered by actix with their 4xx status and counted nowhere else.
const QUIET_DISPATCHER: &str = "actix_http::h1::dispatcher=off";

/// The filter of `RUST_LOG`, with `actix_http::h1::dispatcher=off` unless it mentions
/// `actix_http`.
pub fn effective_filter(filter: &str) -> String {
    if filter.contains("actix_http") {
        filter.to_owned()
    } else if filter.trim().is_empty() {
        QUIET_DISPATCHER.to_owned()
    } else {
        format!("{filter},{QUIET_DISPATCHER}")
    }
}

/// Installs the global subscriber. A second call (tests) keeps the first one.
///
/// Lines are formatted on the calling thread and written to stderr by a dedicated thread
/// through a buffer that it flushes after each batch: one `write` per batch instead of one per
/// line (a synchronous `write` per request cost about a sixth of the gallery's throughput; see
/// bench/README.md). No line is dropped: a full queue makes callers wait.
///
/// # Errors
/// [`SettingsError::Invalid`] naming `RUST_LOG` when the filter does not parse.
pub fn init(settings: &LogSettings) -> Result<LogGuard, SettingsError> {
    let filter = EnvFilter::try_new(effective_filter(&settings.filter)).map_err(|e| {
        SettingsError::Invalid {
            variable: "RUST_LOG",
            reason: e.to_string(),
        }
    })?;
    let (writer, worker) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("picture-log-writer")
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(writer);
    // An already installed subscriber (several servers in one test process) is fine.
    let _ = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // The one request span is already in `span`; a `spans` list would repeat it.
            .with_span_list(false)
            .try_init(),
    };
    Ok(LogGuard { _worker: worker })
}

/// The root span of every request: its request id, and `user_id` once the authentication
/// extractor has recorded it. Method, route, status and duration are on the `request finished`
/// line; the span stays this small because every line logged inside the request repeats it
/// (tracing-actix-web's default span has some fifteen fields, and formatting them on every line
/// cost more than the gallery's JSON; see bench/README.md).
pub struct PictureRootSpan;

impl RootSpanBuilder for PictureRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        match request_id {
            Some(id) => tracing::info_span!(
                "request",
                request_id = %id,
                user_id = tracing::field::Empty
            ),
            None => tracing::info_span!("request", user_id = tracing::field::Empty),
        }
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::effective_filter;

    #[test]
    fn the_dispatchers_error_lines_are_off_unless_asked_for() {
        assert_eq!(
            effective_filter("info"),
            "info,actix_http::h1::dispatcher=off"
        );
        assert_eq!(effective_filter(""), "actix_http::h1::dispatcher=off");
        assert_eq!(effective_filter("actix_http=debug"), "actix_http=debug");
    }
}
