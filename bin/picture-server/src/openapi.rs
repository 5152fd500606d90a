//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! DTOs' schemas, served at `/api/docs/openapi.json` with Swagger UI at `/api/docs/` (its assets
//! are compiled into the binary: the page works without internet access).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::routes::{
    admin, credits, files, generate, health, history, images, models, profiles, webhook,
};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Picture API",
        description = "AI image generation backend: generations, gallery, credits. Errors keep the NestJS shape plus a stable `code`.",
        license(name = "MIT")
    ),
    paths(
        health::health,
        health::api_health,
        health::ready,
        crate::metrics::render,
        models::list,
        models::get,
        profiles::me,
        generate::generate,
        generate::status,
        generate::cancel,
        generate::cancel_post,
        webhook::webhook,
        history::history,
        credits::balance,
        credits::generate_credits,
        admin::grant,
        images::list,
        images::get,
        images::delete,
        images::archive,
        images::unarchive,
        images::publish,
        images::unpublish,
        images::favorite,
        images::archived_count,
        images::batch_archive,
        images::batch_restore,
        images::batch_delete,
        images::like,
        images::unlike,
        images::likes,
        images::generation_params,
        files::file,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "generate", description = "Start, follow and cancel generations"),
        (name = "images", description = "The caller's gallery"),
        (name = "credits", description = "Balance and free tier"),
        (name = "models", description = "The model catalogue (public)"),
        (name = "profiles", description = "The caller's profile"),
        (name = "admin", description = "Operator routes (X-Service-Key)"),
        (name = "health", description = "Liveness and readiness"),
        (name = "files", description = "Locally stored images")
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme the handlers refer to as `bearer`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The docs page and the document, to be registered before the `/api` alias scope.
pub fn docs() -> SwaggerUi {
    SwaggerUi::new("/api/docs/{_:.*}").url("/api/docs/openapi.json", ApiDoc::openapi())
}
