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
                    // Escaped (`UserId`'s `Display`): a subject's bidirectional or zero-width
                    // characters must not reach the log as they are.
                    tracing::Span::current()
                        .record("user_id", tracing::field::display(&identity.user));
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::{App, HttpResponse, test};
    use secrecy::SecretString;
    use tracing_actix_web::TracingLogger;

    use super::*;
    use crate::auth::LocalTokens;
    use crate::log_capture::LogCapture;
    use crate::telemetry::PictureRootSpan;

    async fn handler(user: AuthenticatedUser) -> HttpResponse {
        tracing::info!(me = %user.id, "handled");
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn the_subject_reaches_the_request_span_escaped() {
        let tokens = LocalTokens::new(&SecretString::from("a".repeat(32)), "aud", Duration::ZERO);
        let subject = "abc\u{202e}gnp.exe\u{200b}";
        let token = tokens
            .issue(
                &UserId::parse(subject).unwrap(),
                None,
                Duration::from_secs(60),
            )
            .unwrap();
        let verifier: Verifier = Arc::new(tokens);
        let app = test::init_service(
            App::new()
                .wrap(TracingLogger::<PictureRootSpan>::new())
                .app_data(web::Data::new(verifier))
                .route("/me", web::get().to(handler)),
        )
        .await;
        let (logs, _guard) = LogCapture::start();
        let request = test::TestRequest::get()
            .uri("/me")
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .to_request();
        assert_eq!(test::call_service(&app, request).await.status(), 200);
        let escaped = "abc\\u{202e}gnp.exe\\u{200b}";
        let handled = logs
            .lines()
            .into_iter()
            .find(|line| line["message"] == "handled")
            .unwrap();
        assert_eq!(handled["span"]["user_id"], escaped, "{handled}");
        assert_eq!(handled["me"], escaped, "{handled}");
        let text = logs.text();
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{200b}'),
            "{text}"
        );
    }
}
