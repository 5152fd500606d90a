//! Settings of the credits adapter.

use std::time::Duration;

use secrecy::SecretString;

/// How to reach the credits service.
#[derive(Debug, Clone)]
pub struct CreditsConfig {
    /// Service base URL (`MANA_CREDITS_URL`, else `MANA_CORE_AUTH_URL`), without `/api/v1`.
    pub base_url: String,
    /// Sent as `X-Service-Key` (`MANA_CORE_SERVICE_KEY`).
    pub service_key: SecretString,
    /// Sent as `X-App-Id` and as the charge's `appId` (`APP_ID`).
    pub app_id: String,
    /// Longest one call may take.
    pub timeout: Duration,
}

impl CreditsConfig {
    /// The default timeout of one call.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration with the default timeout.
    pub fn new(base_url: String, service_key: SecretString, app_id: String) -> Self {
        Self {
            base_url,
            service_key,
            app_id,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}
