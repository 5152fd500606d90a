//! Routes. Handlers are thin: parse, call a domain service, shape the answer.

pub(crate) mod admin;
pub(crate) mod credits;
pub(crate) mod files;
pub(crate) mod generate;
pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod images;
pub(crate) mod models;
pub(crate) mod profiles;
pub(crate) mod webhook;

use actix_web::web;

pub use admin::AdminKey;
pub use files::file;
pub use health::{health, ready};
pub use webhook::MAX_WEBHOOK_BYTES;

/// The routes under `/api/v1` (also served under `/api` for the mobile client).
pub fn api(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(health::api_health))
        .route("/models", web::get().to(models::list))
        .route("/models/{id}", web::get().to(models::get))
        .route("/profiles/me", web::get().to(profiles::me))
        .service(
            web::resource("/generate/webhook")
                .app_data(web::PayloadConfig::new(MAX_WEBHOOK_BYTES))
                .route(web::post().to(webhook::webhook)),
        )
        .route("/generate", web::post().to(generate::generate))
        .route(
            "/generate/credits",
            web::get().to(credits::generate_credits),
        )
        .route("/generate/history", web::get().to(history::history))
        .route("/credits/balance", web::get().to(credits::balance))
        .route("/admin/credits/grant", web::post().to(admin::grant))
        .route("/generate/{id}/status", web::get().to(generate::status))
        .route(
            "/generate/{id}/cancel",
            web::post().to(generate::cancel_post),
        )
        .route("/generate/{id}", web::delete().to(generate::cancel))
        .route("/images", web::get().to(images::list))
        .route(
            "/images/archived/count",
            web::get().to(images::archived_count),
        )
        .route(
            "/images/batch/archive",
            web::post().to(images::batch_archive),
        )
        .route(
            "/images/batch/restore",
            web::post().to(images::batch_restore),
        )
        .route("/images/batch/delete", web::post().to(images::batch_delete))
        .route(
            "/images/generation/{id}",
            web::get().to(images::generation_params),
        )
        .route("/images/{id}", web::get().to(images::get))
        .route("/images/{id}", web::delete().to(images::delete))
        .route("/images/{id}/archive", web::patch().to(images::archive))
        .route("/images/{id}/unarchive", web::patch().to(images::unarchive))
        .route("/images/{id}/publish", web::patch().to(images::publish))
        .route("/images/{id}/unpublish", web::patch().to(images::unpublish))
        .route("/images/{id}/favorite", web::patch().to(images::favorite))
        .route("/images/{id}/like", web::post().to(images::like))
        .route("/images/{id}/like", web::delete().to(images::unlike))
        .route("/images/{id}/likes", web::get().to(images::likes));
}
