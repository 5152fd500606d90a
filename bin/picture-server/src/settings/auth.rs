//! How tokens are verified, and the key of the admin routes.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};
use secrecy::{ExposeSecret, SecretString};

picture_vars::declare! {
    /// The auth service; when set, tokens are EdDSA JWTs verified against its JWKS; unset:
    /// the embedded mode.
    MANA_CORE_AUTH_URL,
    /// The HS256 secret of the embedded mode (at least 32 characters; default: one generated
    /// once into the data directory).
    JWT_SECRET,
    /// The expected `aud` (default `manacore`).
    JWT_AUDIENCE,
    /// Accepted issuers, comma-separated (default: the auth URL).
    JWT_ISSUERS,
    /// Clock skew tolerated on `exp` and `nbf` (default 30 s, at most 300).
    JWT_LEEWAY_SECS,
    /// The `X-Service-Key` of the admin routes; unset: they answer 404.
    ADMIN_SERVICE_KEY,
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Embedded mode: HS256 tokens signed with a local secret ([`JWT_SECRET`], or one generated
    /// once and kept in the data directory).
    Local {
        /// The configured secret, if any.
        secret: Option<SecretString>,
    },
    /// Production: EdDSA tokens verified against the auth service's JWKS.
    Jwks {
        /// [`MANA_CORE_AUTH_URL`], without a trailing slash.
        auth_url: String,
        /// Accepted issuers ([`JWT_ISSUERS`]).
        issuers: Vec<String>,
    },
}

/// Token verification settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Local secret or JWKS.
    pub mode: AuthMode,
    /// [`JWT_AUDIENCE`].
    pub audience: String,
    /// [`JWT_LEEWAY_SECS`].
    pub leeway: Duration,
    /// [`ADMIN_SERVICE_KEY`]; `None` hides the admin routes.
    pub admin_service_key: Option<SecretString>,
}

impl AuthSettings {
    /// Reads the group's variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let leeway = source.seconds(JWT_LEEWAY_SECS, 30)?;
        if leeway > Duration::from_secs(300) {
            return Err(InvalidSetting::new(
                JWT_LEEWAY_SECS,
                "must be at most 300 seconds",
            ));
        }
        let mode = match source.http_url(MANA_CORE_AUTH_URL)? {
            Some(auth_url) => AuthMode::Jwks {
                issuers: source
                    .list(JWT_ISSUERS)
                    .unwrap_or_else(|| vec![auth_url.clone()]),
                auth_url,
            },
            None => {
                let secret = source.secret(JWT_SECRET);
                if secret
                    .as_ref()
                    .is_some_and(|s| s.expose_secret().len() < 32)
                {
                    return Err(InvalidSetting::new(
                        JWT_SECRET,
                        "must be at least 32 characters",
                    ));
                }
                AuthMode::Local { secret }
            }
        };
        Ok(Self {
            mode,
            audience: source.text_or(JWT_AUDIENCE, "manacore"),
            leeway,
            admin_service_key: source.secret(ADMIN_SERVICE_KEY),
        })
    }

    /// The auth service's URL in JWKS mode.
    pub fn auth_url(&self) -> Option<&str> {
        match &self.mode {
            AuthMode::Jwks { auth_url, .. } => Some(auth_url),
            AuthMode::Local { .. } => None,
        }
    }
}
