//! Production mode: EdDSA tokens verified against the auth service's JWKS
//! (`{MANA_CORE_AUTH_URL}/api/v1/auth/jwks`). Keys are cached; an unknown `kid` triggers at most
//! one refetch per [`MIN_REFETCH_INTERVAL`], so no request can make the server hammer the auth
//! service.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::{Mutex, RwLock};

use super::{AuthError, Identity, MAX_TOKEN_BYTES, TokenClaims, TokenVerifier, invalid};

/// Shortest time between two JWKS fetches.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Longest a JWKS fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Verifies tokens against a remote JWKS.
pub struct JwksVerifier {
    client: reqwest::Client,
    jwks_url: String,
    validation: Validation,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    runtime: Option<tokio::runtime::Handle>,
}

impl JwksVerifier {
    /// A verifier for the auth service at `auth_url`, accepting `issuers` and `audience`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        auth_url: &str,
        issuers: &[String],
        audience: &str,
        leeway: Duration,
    ) -> Result<Self, reqwest::Error> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_audience(&[audience]);
        validation.set_issuer(issuers);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = leeway.as_secs();
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .connect_timeout(FETCH_TIMEOUT)
                .build()?,
            jwks_url: format!("{}/api/v1/auth/jwks", auth_url.trim_end_matches('/')),
            validation,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            runtime: None,
        })
    }

    /// Fetches the key set from `runtime` (see [`crate::outbound`]).
    #[must_use]
    pub fn sending_on(mut self, runtime: tokio::runtime::Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, AuthError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(Some(key.clone()));
        }
        self.refetch().await?;
        Ok(self.keys.read().await.get(kid).cloned())
    }

    /// Fetches the key set unless it was fetched within [`MIN_REFETCH_INTERVAL`]. Concurrent
    /// callers wait for one fetch.
    async fn refetch(&self) -> Result<(), AuthError> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let pending = self.client.get(&self.jwks_url).send();
        let sent = match &self.runtime {
            Some(runtime) => runtime.spawn(pending).await.map_err(|_| {
                AuthError::KeysUnavailable("the HTTP client's runtime stopped".to_owned())
            })?,
            None => pending.await,
        };
        let set: JwkSet = sent
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::KeysUnavailable(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::KeysUnavailable(e.without_url().to_string()))?;
        let keys: HashMap<_, _> = set
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_)))
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect();
        tracing::info!(keys = keys.len(), "fetched the auth service's JWKS");
        *self.keys.write().await = keys;
        Ok(())
    }
}

#[async_trait]
impl TokenVerifier for JwksVerifier {
    async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("token too large".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} refused",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid in header".into()))?;
        let key = self
            .key(&kid)
            .await?
            .ok_or_else(|| AuthError::Invalid("unknown kid".into()))?;
        jsonwebtoken::decode::<TokenClaims>(token, &key, &self.validation)
            .map_err(invalid)?
            .claims
            .into_identity()
    }
}
