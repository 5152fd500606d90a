//! The `{id}` path segment as a typed id: a malformed id is answered 404 `not_found` in the
//! contract's error shape (as an unknown one is) before the handler runs.

use std::fmt;
use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use picture_domain::{BatchId, BoardId, GenerationId, ImageId, ModelId, TagId};

use crate::error::ApiError;

/// An id type a route takes from its path, with the name its 404 message uses.
pub trait PathResource: FromStr {
    /// The resource's name in `"{NAME} with id {id} not found"`.
    const NAME: &'static str;
}

impl PathResource for GenerationId {
    const NAME: &'static str = "Generation";
}

impl PathResource for ImageId {
    const NAME: &'static str = "Image";
}

impl PathResource for ModelId {
    const NAME: &'static str = "Model";
}

impl PathResource for TagId {
    const NAME: &'static str = "Tag";
}

impl PathResource for BoardId {
    const NAME: &'static str = "Board";
}

impl PathResource for BatchId {
    const NAME: &'static str = "Batch";
}

/// The route's one path parameter parsed as `T`, with the segment as the client sent it (for
/// the 404 message when the id is well formed but unknown).
#[derive(Debug)]
pub struct PathId<T> {
    id: T,
    raw: String,
}

impl<T: PathResource + Copy> PathId<T> {
    /// The parsed id.
    pub fn get(&self) -> T {
        self.id
    }
}

impl<T: PathResource> PathId<T> {
    /// The 404 `not_found` of this id: `"{NAME} with id {raw} not found"`.
    pub fn not_found(&self) -> ApiError {
        not_found::<T>(&self.raw)
    }
}

impl<T> fmt::Display for PathId<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

fn not_found<T: PathResource>(raw: &str) -> ApiError {
    ApiError::NotFound(format!("{} with id {raw} not found", T::NAME))
}

impl<T: PathResource + 'static> FromRequest for PathId<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    /// Decodes the segment as `web::Path<String>` does, then parses it.
    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = match web::Path::<String>::extract(request).into_inner() {
            Ok(raw) => raw.into_inner(),
            Err(error) => return ready(Err(error)),
        };
        ready(match raw.parse::<T>() {
            Ok(id) => Ok(Self { id, raw }),
            Err(_) => Err(not_found::<T>(&raw).into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test};
    use serde_json::Value;

    use super::*;

    async fn show(id: PathId<ImageId>) -> HttpResponse {
        HttpResponse::Ok().body(id.get().to_string())
    }

    #[actix_web::test]
    async fn a_malformed_id_is_a_404_in_the_contract_shape() {
        let app = test::init_service(App::new().route("/images/{id}", web::get().to(show))).await;
        let id = ImageId::new_random();
        let served = test::call_service(
            &app,
            test::TestRequest::get()
                .uri(&format!("/images/{id}"))
                .to_request(),
        )
        .await;
        assert_eq!(served.status(), 200);
        assert_eq!(test::read_body(served).await, id.to_string());

        let refused = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/images/not%20a-uuid")
                .to_request(),
        )
        .await;
        assert_eq!(refused.status(), 404);
        let body: Value = test::read_body_json(refused).await;
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["statusCode"], 404);
        assert_eq!(body["message"], "Image with id not a-uuid not found");
    }
}
