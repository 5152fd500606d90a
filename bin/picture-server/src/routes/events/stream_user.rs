//! Who opens a stream: the bearer token as on every route, or — for browsers' `EventSource`,
//! which cannot send headers — a stream token in `?access_token=`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use picture_domain::UserId;
use serde::Deserialize;

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::live::StreamAuth;

/// The user a stream is for.
#[derive(Debug, Clone)]
pub struct StreamUser(pub UserId);

#[derive(Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

impl FromRequest for StreamUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let token = web::Query::<TokenQuery>::from_query(request.query_string())
            .ok()
            .and_then(|query| query.into_inner().access_token);
        let (Some(token), false) = (token, request.headers().contains_key(AUTHORIZATION)) else {
            let bearer = AuthenticatedUser::from_request(request, payload);
            return Box::pin(async move { Ok(Self(bearer.await?.id)) });
        };
        let auth = request.app_data::<web::Data<StreamAuth>>().cloned();
        Box::pin(async move {
            let auth = auth.ok_or_else(|| ApiError::internal("no stream tokens"))?;
            match auth.tokens.verify(&token, auth.clock.now()) {
                Ok(user) => {
                    tracing::Span::current().record("user_id", tracing::field::display(&user));
                    Ok(Self(user))
                }
                Err(error) => {
                    tracing::debug!(%error, "stream token refused");
                    Err(ApiError::Unauthorized("Invalid or expired stream token"))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use actix_web::{App, HttpResponse, test};
    use picture_live::StreamTokens;
    use tracing_actix_web::TracingLogger;

    use super::*;
    use crate::clock::SystemClock;
    use crate::log_capture::LogCapture;
    use crate::telemetry::PictureRootSpan;

    async fn handler(user: StreamUser) -> HttpResponse {
        tracing::info!(user = %user.0, "streaming");
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn a_stream_token_opens_streams_and_never_reaches_the_log() {
        let tokens = StreamTokens::new(b"k".repeat(32), Duration::from_secs(60));
        let clock = Arc::new(SystemClock);
        let user = UserId::parse("alice").unwrap();
        let good = tokens.mint(&user, picture_domain::ports::Clock::now(&*clock));
        let expired = tokens.mint(&user, chrono::Utc::now() - chrono::Duration::seconds(120));
        let app = test::init_service(
            App::new()
                .wrap(crate::metrics::RequestMetrics)
                .wrap(TracingLogger::<PictureRootSpan>::new())
                .app_data(web::Data::new(StreamAuth { tokens, clock }))
                .route("/events", web::get().to(handler)),
        )
        .await;
        let (logs, _guard) = LogCapture::start();
        let call = |token: &str| {
            test::TestRequest::get()
                .uri(&format!("/events?access_token={token}&lastEventId=3"))
                .to_request()
        };
        assert_eq!(
            test::call_service(&app, call(&good.token)).await.status(),
            200
        );
        for refused in [expired.token.as_str(), "st1.garbage.1.x", "nonsense"] {
            let answer = test::call_service(&app, call(refused)).await;
            assert_eq!(answer.status(), 401, "{refused}");
        }
        let text = logs.text();
        assert!(text.contains("streaming"), "{text}");
        assert!(text.contains("request finished"), "{text}");
        for secret in [&good.token, &expired.token] {
            let signature = secret.rsplit('.').next().unwrap();
            assert!(!text.contains(signature), "a token reached the log: {text}");
        }
        assert!(!text.contains("access_token"), "{text}");
    }
}
