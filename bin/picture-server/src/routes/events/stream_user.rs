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
use crate::live::LiveStreams;

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
        let streams = request.app_data::<web::Data<LiveStreams>>().cloned();
        Box::pin(async move {
            let streams = streams.ok_or_else(|| ApiError::internal("no live streams"))?;
            match streams.tokens.verify(&token, streams.clock.now()) {
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
