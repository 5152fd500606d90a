//! Settings of the OpenAI-compatible images adapter.

use std::time::Duration;

use secrecy::SecretString;

/// How to reach an OpenAI-compatible images API.
#[derive(Debug, Clone)]
pub struct OpenAiImagesConfig {
    /// The server's base, without `/v1`, e.g. `https://api.openai.com` (no trailing slash
    /// needed).
    pub base_url: String,
    /// The API key sent as `Authorization: Bearer …`; `None` for servers that need none.
    pub api_key: Option<SecretString>,
    /// The models this server is configured to run (e.g. `gpt-image-1`, `dall-e-3`); a
    /// submit for any other model is refused as unknown without a call.
    pub models: Vec<String>,
    /// Longest a whole generation call may take, answer body included.
    pub timeout: Duration,
    /// Largest answer body read; a larger answer fails the call as unavailable.
    pub max_answer_bytes: u64,
}

impl OpenAiImagesConfig {
    /// The default [`timeout`](Self::timeout): image models often take a minute.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// The longest [`timeout`](Self::timeout) accepted from the settings.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

    /// The default [`max_answer_bytes`](Self::max_answer_bytes): 64 MiB, room for a large
    /// image in base64.
    pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

    /// The defaults for `base_url` and `models`: no key,
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT),
    /// [`DEFAULT_MAX_ANSWER_BYTES`](Self::DEFAULT_MAX_ANSWER_BYTES).
    pub fn new(base_url: impl Into<String>, models: Vec<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            models,
            timeout: Self::DEFAULT_TIMEOUT,
            max_answer_bytes: Self::DEFAULT_MAX_ANSWER_BYTES,
        }
    }

    /// The longest a submit takes (the whole call is held open until the image is made): a
    /// generation still `pending` after this long was recorded by a server that stopped, so
    /// the server's pending timeout must exceed it.
    pub fn longest_submit(&self) -> Duration {
        self.timeout
    }

    /// Whether `model` is one of the configured [`models`](Self::models).
    pub fn serves(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == model)
    }
}
