//! The `AuthenticatedUser` extractor: every handler that takes one requires a valid token.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use picture_domain::UserId;

use super::{AuthError, TokenVerifier};
use crate::error::ApiError;

/// The caller, authenticated by their bearer token.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    /// The user (`sub`).
    pub id: UserId,
    /// Their e-mail, if the token carries one.
    pub email: Option<String>,
}

/// The shared verifier, as registered in the app data.
pub type Verifier = Arc<dyn TokenVerifier>;

fn bearer(request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = request.app_data::<web::Data<Verifier>>().cloned();
        let token = bearer(request);
        Box::pin(async move {
            let verifier = verifier.ok_or_else(|| ApiError::internal("no token verifier"))?;
            let token = token.ok_or(ApiError::Unauthorized("No token provided"))?;
            match verifier.verify(&token).await {
                Ok(identity) => {
                    tracing::Span::current().record("user_id", identity.user.as_str());
                    Ok(Self {
                        id: identity.user,
                        email: identity.email,
                    })
                }
                Err(AuthError::KeysUnavailable(reason)) => {
                    tracing::warn!(%reason, "cannot verify tokens: auth keys unavailable");
                    Err(ApiError::Unauthorized("Token validation failed"))
                }
                Err(error) => {
                    tracing::debug!(%error, "token refused");
                    Err(ApiError::Unauthorized("Invalid token"))
                }
            }
        })
    }
}
