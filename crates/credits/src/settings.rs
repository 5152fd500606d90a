//! The variables this adapter reads, and how: declared here once each, listed in
//! [`VARIABLES`] for the server's list of known variables.

use picture_vars::{InvalidSetting, Source};

use crate::CreditsConfig;

picture_vars::declare! {
    /// The remote credits service (falls back to the auth service's URL); with
    /// [`MANA_CORE_SERVICE_KEY`] it replaces the local ledger.
    MANA_CREDITS_URL,
    /// Sent as `X-Service-Key` to the credits service.
    MANA_CORE_SERVICE_KEY,
    /// Sent as `X-App-Id` and as a charge's `appId` (default `picture-app`).
    APP_ID,
}

impl CreditsConfig {
    /// [`APP_ID`], else `picture-app`.
    pub fn app_id(source: &Source) -> String {
        source.text_or(APP_ID, "picture-app")
    }

    /// The remote credits service's settings, when a URL ([`MANA_CREDITS_URL`], else
    /// `auth_url`, the auth service's checked URL) and a [`MANA_CORE_SERVICE_KEY`] are set;
    /// `None` for the local ledger.
    ///
    /// # Errors
    /// [`InvalidSetting`] for a URL that is not `http(s)`, or a URL without a key.
    pub fn from_source(
        source: &Source,
        auth_url: Option<&str>,
    ) -> Result<Option<Self>, InvalidSetting> {
        let Some(key) = source.secret(MANA_CORE_SERVICE_KEY) else {
            return match source.text(MANA_CREDITS_URL) {
                Some(_) => Err(InvalidSetting::new(
                    MANA_CORE_SERVICE_KEY,
                    "required when MANA_CREDITS_URL is set",
                )),
                None => Ok(None),
            };
        };
        let url = match source.http_url(MANA_CREDITS_URL)? {
            Some(url) => url,
            None => match auth_url {
                Some(url) => url.to_owned(),
                None => return Ok(None),
            },
        };
        Ok(Some(Self::new(url, key, Self::app_id(source))))
    }
}
