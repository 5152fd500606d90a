//! The variables this adapter reads, and how: declared here once each, listed in
//! [`VARIABLES`] for the server's list of known variables.

use picture_vars::{InvalidSetting, Source};
use secrecy::ExposeSecret;

use crate::{ReplicateConfig, WebhookVerifier};

picture_vars::declare! {
    /// The API token (`r8_…`); when set Replicate generates, unset the offline renderer does.
    REPLICATE_API_TOKEN,
    /// The API base (default [`ReplicateConfig::DEFAULT_BASE_URL`]).
    REPLICATE_API_BASE_URL,
    /// The Standard Webhooks secret (`whsec_…`) of incoming webhooks; unset: webhooks are
    /// refused and polling and the reconciler finish generations.
    REPLICATE_WEBHOOK_SECRET,
    /// Whether Replicate's webhooks also report a prediction's start and progress (`logs`,
    /// at most every 500 ms) rather than only its end (default
    /// [`ReplicateConfig::DEFAULT_WEBHOOK_PROGRESS`]).
    REPLICATE_WEBHOOK_PROGRESS,
}

/// Replicate, as configured: the client's settings when a token is set, and the verifier of
/// incoming webhooks when a secret is set.
#[derive(Debug, Clone)]
pub struct ReplicateSettings {
    /// [`REPLICATE_API_TOKEN`], [`REPLICATE_API_BASE_URL`] and [`REPLICATE_WEBHOOK_PROGRESS`];
    /// `None` without a token.
    pub api: Option<ReplicateConfig>,
    /// [`REPLICATE_WEBHOOK_SECRET`], checked.
    pub webhooks: Option<WebhookVerifier>,
}

impl ReplicateSettings {
    /// Reads the four variables (the base URL and the progress flag are checked even without
    /// a token).
    ///
    /// # Errors
    /// [`InvalidSetting`] for a base URL that is not `http(s)`, a progress flag that is not
    /// `true` or `false`, or a secret that is not `whsec_<base64>` (the secret itself is not
    /// shown).
    pub fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let base_url = source
            .http_url(REPLICATE_API_BASE_URL)?
            .unwrap_or_else(|| ReplicateConfig::DEFAULT_BASE_URL.to_owned());
        let webhook_progress = source.flag(
            REPLICATE_WEBHOOK_PROGRESS,
            ReplicateConfig::DEFAULT_WEBHOOK_PROGRESS,
        )?;
        let webhooks = source
            .secret(REPLICATE_WEBHOOK_SECRET)
            .map(|secret| {
                WebhookVerifier::new(secret.expose_secret()).map_err(|_| {
                    InvalidSetting::new(
                        REPLICATE_WEBHOOK_SECRET,
                        "expected a whsec_<base64> secret",
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            api: source.secret(REPLICATE_API_TOKEN).map(|token| {
                let mut config = ReplicateConfig::new(token);
                config.base_url = base_url;
                config.webhook_progress = webhook_progress;
                config
            }),
            webhooks,
        })
    }
}
