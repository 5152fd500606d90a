//! Error answers many routes document the same way, declared once: a handler lists them in its
//! `#[utoipa::path(responses(...))]` by name (`Unauthorized`, `NotFound`).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The error body every error answer carries, described as `ErrorDto`.
fn error_body(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorDto")))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build();
    BTreeMap::from([(status.to_owned(), RefOr::T(response))])
}

/// 401 `unauthorized`: the route needs a valid bearer token.
pub struct Unauthorized;

impl IntoResponses for Unauthorized {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_body("401", "No valid token")
    }
}

/// 404 `not_found`: the id is unknown, malformed, or someone else's.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_body("404", "Not the caller's, or unknown")
    }
}
