//! Settings of the Replicate adapter.

use std::time::Duration;

use secrecy::SecretString;

/// How to reach Replicate.
#[derive(Debug, Clone)]
pub struct ReplicateConfig {
    /// API base, e.g. `https://api.replicate.com/v1` (no trailing slash needed).
    pub base_url: String,
    /// The API token (`r8_…`).
    pub token: SecretString,
    /// Longest a create may take (including a `Prefer: wait` hold).
    pub create_timeout: Duration,
    /// Longest a read of a prediction may take.
    pub get_timeout: Duration,
    /// Longest a cancel may take.
    pub cancel_timeout: Duration,
    /// How long Replicate may hold a create open when the caller waits (1–60 s).
    pub sync_wait: Duration,
    /// Whether webhooks also report a running prediction's start and its logs (its progress),
    /// not only its end: see [`webhook_events`](Self::webhook_events).
    pub webhook_progress: bool,
}

impl ReplicateConfig {
    /// Replicate's public API base.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.replicate.com/v1";

    /// The default longest a create may take, without the wait.
    pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30);

    /// The default longest Replicate may hold a create open when the caller waits.
    pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(10);

    /// The longest a submit (a create, waiting or not) takes with the defaults: a generation
    /// still `pending` after this long was recorded by a server that stopped.
    pub const LONGEST_SUBMIT: Duration = Duration::from_secs(
        Self::DEFAULT_CREATE_TIMEOUT.as_secs() + Self::DEFAULT_SYNC_WAIT.as_secs(),
    );

    /// Whether webhooks report progress by default (the crate's README measures what it costs).
    pub const DEFAULT_WEBHOOK_PROGRESS: bool = true;

    /// The defaults for `token`: the public API, 30 s create (plus the wait), 30 s get, 10 s
    /// cancel, 10 s sync wait, webhooks with progress ([`Self::DEFAULT_WEBHOOK_PROGRESS`]).
    pub fn new(token: SecretString) -> Self {
        Self {
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            token,
            create_timeout: Self::DEFAULT_CREATE_TIMEOUT,
            get_timeout: Duration::from_secs(30),
            cancel_timeout: Duration::from_secs(10),
            sync_wait: Self::DEFAULT_SYNC_WAIT,
            webhook_progress: Self::DEFAULT_WEBHOOK_PROGRESS,
        }
    }

    /// The `webhook_events_filter` of a create: `start`, `logs` and `completed` with
    /// [`webhook_progress`](Self::webhook_progress) (Replicate sends `logs` at most every
    /// 500 ms, `start` and `completed` always), else `completed` only.
    pub fn webhook_events(&self) -> &'static [&'static str] {
        if self.webhook_progress {
            &["start", "logs", "completed"]
        } else {
            &["completed"]
        }
    }
}
