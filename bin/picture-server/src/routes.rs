//! Routes. Handlers are thin: parse, call a domain service, shape the answer.

mod health;
mod models;
mod profiles;

use actix_web::web;

pub use health::{health, ready};

/// The routes under `/api/v1` (also served under `/api` for the mobile client).
pub fn api(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(health))
        .route("/models", web::get().to(models::list))
        .route("/models/{id}", web::get().to(models::get))
        .route("/profiles/me", web::get().to(profiles::me));
}
