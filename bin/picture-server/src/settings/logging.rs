//! What is logged, and in which format.

use picture_vars::{InvalidSetting, Source};

use super::AppEnvironment;

picture_vars::declare! {
    /// The log filter (default `info`).
    RUST_LOG,
    /// `pretty` or `json` (default `pretty` in development, `json` otherwise).
    LOG_FORMAT,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// [`RUST_LOG`].
    pub filter: String,
    /// [`LOG_FORMAT`].
    pub format: LogFormat,
}

impl LogSettings {
    /// Reads the group's variables; the format's default depends on `environment`.
    pub(super) fn from_source(
        source: &Source,
        environment: AppEnvironment,
    ) -> Result<Self, InvalidSetting> {
        let format = match source.text(LOG_FORMAT).map(|f| f.to_ascii_lowercase()) {
            Some(f) if f == "pretty" => LogFormat::Pretty,
            Some(f) if f == "json" => LogFormat::Json,
            Some(other) => {
                return Err(InvalidSetting::new(
                    LOG_FORMAT,
                    format!("expected pretty or json, got {other:?}"),
                ));
            }
            None if environment == AppEnvironment::Development => LogFormat::Pretty,
            None => LogFormat::Json,
        };
        Ok(Self {
            filter: source.text_or(RUST_LOG, "info"),
            format,
        })
    }
}
