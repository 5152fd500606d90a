//! Authentication: `Authorization: Bearer <JWT>`, verified by a [`TokenVerifier`] chosen from
//! the settings — HS256 with a local secret in embedded mode, EdDSA against the auth service's
//! JWKS in production. Algorithms are pinned per key source; anything else is a 401.

mod extractor;
mod jwks;
mod local;
mod secret_file;

use async_trait::async_trait;
use picture_domain::UserId;
use serde::Deserialize;

pub use extractor::AuthenticatedUser;
pub use jwks::JwksVerifier;
pub use local::LocalTokens;
pub use secret_file::load_or_create_secret;

/// Largest token accepted, in bytes; longer ones are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim.
    pub user: UserId,
    /// The `email` claim, if present.
    pub email: Option<String>,
}

/// Why a token was refused. Each maps to a 401; the variants only serve the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("no token provided")]
    Missing,
    /// The token is malformed, forged, expired, for another audience or issuer, or too large.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The keys to check it could not be obtained (auth service unreachable).
    #[error("token keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// Verifies bearer tokens.
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The identity of a valid token.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for any token that is not valid for this server;
    /// [`AuthError::KeysUnavailable`] when its keys cannot be fetched.
    async fn verify(&self, token: &str) -> Result<Identity, AuthError>;
}

/// The claims Picture reads; `exp`, `nbf`, `aud` and `iss` are checked by the verifier.
#[derive(Debug, Deserialize)]
struct TokenClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
}

impl TokenClaims {
    fn into_identity(self) -> Result<Identity, AuthError> {
        let user = UserId::parse(self.sub)
            .map_err(|_| AuthError::Invalid("unusable subject claim".into()))?;
        Ok(Identity {
            user,
            email: self.email.filter(|e| !e.is_empty()),
        })
    }
}

fn invalid(error: impl std::fmt::Display) -> AuthError {
    AuthError::Invalid(error.to_string())
}
