//! Routes. Handlers are thin: parse, call a domain service, shape the answer.
//!
//! A route is declared once, on its handler: `#[utoipa::path(...)]` (its documentation) over
//! the actix attribute (its method and path). It is mounted by one `.service(handler)` line
//! below, which also puts it in the OpenAPI document: no other list of routes or paths exists.
//! Order matters where paths overlap (actix tries them in turn).

pub(crate) mod admin;
pub(crate) mod batches;
pub(crate) mod board_items;
pub(crate) mod boards;
pub(crate) mod credits;
pub(crate) mod events;
pub(crate) mod explore;
pub(crate) mod files;
pub(crate) mod generate;
pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod image_tags;
pub(crate) mod images;
pub(crate) mod models;
pub(crate) mod profile_stats;
pub(crate) mod profiles;
pub(crate) mod responses;
pub(crate) mod tags;
pub(crate) mod uploads;
pub(crate) mod webhook;

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

pub use admin::AdminKey;
pub use webhook::MAX_WEBHOOK_BYTES;

/// The routes at the root: health, readiness, metrics and the stored files.
pub fn root(config: &mut ServiceConfig<'_>, files: &web::Data<files::Files>) {
    config
        .app_data(files.clone())
        .service(files::file)
        .service(health::health)
        .service(health::ready)
        .service(crate::metrics::render);
}

/// The routes under `/api/v1` (also served under `/api` for the mobile client).
pub fn api(config: &mut ServiceConfig<'_>) {
    config
        .service(health::api_health)
        .service(models::list)
        .service(models::get)
        .service(profiles::me)
        .service(profiles::update_me)
        .service(profile_stats::stats)
        .service(profile_stats::rate_limits)
        .service(webhook::webhook)
        .service(generate::generate)
        .service(credits::generate_credits)
        .service(history::history)
        .service(credits::balance)
        .service(admin::grant)
        .service(events::user_events)
        .service(events::stream_token)
        .service(events::active)
        .service(events::generation_events)
        .service(generate::status)
        .service(generate::cancel_post)
        .service(generate::cancel)
        .service(images::list)
        .service(images::archived_count)
        .service(images::batch_archive)
        .service(images::batch_restore)
        .service(images::batch_delete)
        .service(images::generation_params)
        .service(images::get)
        .service(images::delete)
        .service(images::archive)
        .service(images::unarchive)
        .service(images::publish)
        .service(images::unpublish)
        .service(images::favorite)
        .service(images::like)
        .service(images::unlike)
        .service(images::likes)
        .service(tags::list)
        .service(tags::create)
        .service(tags::update)
        .service(tags::delete)
        .service(image_tags::of_image)
        .service(image_tags::add)
        .service(image_tags::remove)
        .service(uploads::upload)
        .service(uploads::upload_multiple)
        .service(uploads::delete)
        .service(explore::feed)
        .service(explore::search)
        .service(boards::list)
        .service(boards::public)
        .service(boards::create)
        .service(boards::get)
        .service(boards::update)
        .service(boards::visibility)
        .service(boards::delete)
        .service(boards::duplicate)
        .service(boards::set_thumbnail)
        .service(board_items::update_many)
        .service(board_items::delete_many)
        .service(board_items::list)
        .service(board_items::exists)
        .service(board_items::check)
        .service(board_items::add_image)
        .service(board_items::add_text)
        .service(board_items::add)
        .service(board_items::add_image_to_body_board)
        .service(board_items::add_text_to_body_board)
        .service(board_items::get)
        .service(board_items::update)
        .service(board_items::restack)
        .service(board_items::delete)
        .service(batches::create)
        .service(batches::list)
        .service(batches::get)
        .service(batches::progress)
        .service(batches::retry)
        .service(batches::cancel)
        .service(batches::remove);
}

/// [`api`] mounted on a plain actix scope: the `/api` alias serves the same routes without
/// documenting them a second time.
pub fn api_alias(config: &mut web::ServiceConfig) {
    api(&mut ServiceConfig::new(config));
}
