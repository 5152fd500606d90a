//! Where and how the HTTP server listens, and how it stops.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// The address to listen on (default `0.0.0.0`).
    HOST,
    /// The port to listen on (default 3006; 0 picks a free port).
    PORT,
    /// Actix worker threads (default: the number of cores; at least 1).
    HTTP_WORKERS,
    /// The base of absolute URLs the server hands out (default `http://localhost:{PORT}`).
    PUBLIC_BASE_URL,
    /// Allowed browser origins, comma-separated (default [`DEFAULT_CORS_ORIGINS`]).
    CORS_ORIGINS,
    /// How long in-flight requests may finish after SIGTERM (default 30 s).
    SHUTDOWN_TIMEOUT_SECS,
}

/// The original web and mobile clients' development origins.
pub const DEFAULT_CORS_ORIGINS: [&str; 7] = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:5174",
    "http://localhost:5175",
    "http://localhost:8081",
    "exp://localhost:8081",
    "http://localhost:3001",
];

/// The HTTP server's settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// [`HOST`].
    pub host: String,
    /// [`PORT`].
    pub port: u16,
    /// [`HTTP_WORKERS`].
    pub workers: usize,
    /// [`PUBLIC_BASE_URL`], without a trailing slash.
    pub public_base_url: String,
    /// [`CORS_ORIGINS`].
    pub cors_origins: Vec<String>,
    /// [`SHUTDOWN_TIMEOUT_SECS`].
    pub shutdown_timeout: Duration,
}

impl HttpSettings {
    /// Reads the group's variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let port = source.parse(PORT, 3006u16, "a port number (0-65535)")?;
        let workers = source.parse(
            HTTP_WORKERS,
            std::thread::available_parallelism().map_or(2, usize::from),
            "a positive number",
        )?;
        if workers == 0 {
            return Err(InvalidSetting::new(HTTP_WORKERS, "must be at least 1"));
        }
        Ok(Self {
            host: source.text_or(HOST, "0.0.0.0"),
            port,
            workers,
            public_base_url: source
                .http_url(PUBLIC_BASE_URL)?
                .unwrap_or_else(|| format!("http://localhost:{port}")),
            cors_origins: source.list(CORS_ORIGINS).unwrap_or_else(|| {
                DEFAULT_CORS_ORIGINS
                    .iter()
                    .map(|origin| (*origin).to_owned())
                    .collect()
            }),
            shutdown_timeout: source.seconds(SHUTDOWN_TIMEOUT_SECS, 30)?,
        })
    }
}
