//! Embedded mode: HS256 tokens signed with a local secret.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use picture_domain::UserId;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{AuthError, Identity, MAX_TOKEN_BYTES, TokenClaims, TokenVerifier, invalid};

/// The issuer of locally signed tokens.
pub const LOCAL_ISSUER: &str = "picture-local";

/// Issues and verifies HS256 tokens with one secret.
pub struct LocalTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
}

impl LocalTokens {
    /// Tokens signed with `secret`, for `audience`, tolerating `leeway` of clock skew.
    pub fn new(secret: &SecretString, audience: &str, leeway: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[audience]);
        validation.set_issuer(&[LOCAL_ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = leeway.as_secs();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            audience: audience.to_owned(),
        }
    }

    /// A token for `user`, valid for `ttl`.
    ///
    /// # Errors
    /// When signing fails (it does not with an HMAC key, but the library says it may).
    pub fn issue(
        &self,
        user: &UserId,
        email: Option<&str>,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = IssuedClaims {
            sub: user.as_str(),
            email,
            iss: LOCAL_ISSUER,
            aud: &self.audience,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }
}

#[async_trait]
impl TokenVerifier for LocalTokens {
    async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("token too large".into()));
        }
        jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map_err(invalid)?
            .claims
            .into_identity()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn tokens() -> LocalTokens {
        LocalTokens::new(
            &SecretString::from("a".repeat(32)),
            "manacore",
            Duration::from_secs(0),
        )
    }

    #[tokio::test]
    async fn issued_tokens_verify() {
        let user = UserId::parse("user-1").unwrap();
        let token = tokens()
            .issue(&user, Some("u@example.com"), Duration::from_secs(60))
            .unwrap();
        let identity = tokens().verify(&token).await.unwrap();
        assert_eq!(identity.user, user);
        assert_eq!(identity.email.as_deref(), Some("u@example.com"));
    }

    #[tokio::test]
    async fn another_secret_or_audience_is_refused() {
        let user = UserId::parse("user-1").unwrap();
        let token = tokens()
            .issue(&user, None, Duration::from_secs(60))
            .unwrap();
        let other = LocalTokens::new(
            &SecretString::from("b".repeat(32)),
            "manacore",
            Duration::ZERO,
        );
        assert!(other.verify(&token).await.is_err());
        let other_aud =
            LocalTokens::new(&SecretString::from("a".repeat(32)), "other", Duration::ZERO);
        assert!(other_aud.verify(&token).await.is_err());
    }

    #[tokio::test]
    async fn alg_none_and_oversized_tokens_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"u","aud":"manacore","iss":"picture-local","exp":{}}}"#,
            Utc::now().timestamp() + 600
        ));
        assert!(
            tokens()
                .verify(&format!("{header}.{claims}."))
                .await
                .is_err()
        );
        assert!(
            tokens()
                .verify(&"a".repeat(MAX_TOKEN_BYTES + 1))
                .await
                .is_err()
        );
    }
}
