//! The OpenAPI 3.1 document: its head is declared here; its paths and schemas are collected from
//! the handlers' `#[utoipa::path]` annotations as the routes are mounted (see
//! [`crate::routes`]). Served at `/api/docs/openapi.json` with Swagger UI at `/api/docs/` (its assets
//! are compiled into the binary: the page works without internet access).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

/// The document's head: information, tags and the security scheme. Paths and schemas are
/// added by the mounted routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Picture API",
        description = "AI image generation backend: generations, gallery, credits. Errors keep the NestJS shape plus a stable `code`.",
        license(name = "MIT")
    ),
    modifiers(&BearerAuth),
    components(schemas(
        crate::dto::GenerationEventDto,
        crate::dto::ReadyEventDto,
        crate::dto::ResyncEventDto,
        crate::dto::CreditBalanceDto
    )),
    tags(
        (name = "generate", description = "Start, follow and cancel generations"),
        (name = "images", description = "The caller's gallery"),
        (name = "credits", description = "Balance and free tier"),
        (name = "models", description = "The model catalogue (public)"),
        (name = "profiles", description = "The caller's profile"),
        (name = "tags", description = "The caller's tags and the tags on their images"),
        (name = "boards", description = "Mood boards: the caller's, and public ones"),
        (name = "board-items", description = "The images and texts on mood boards"),
        (name = "events", description = "Live progress over Server-Sent Events: one generation's events, the caller's events, stream tokens, the unfinished generations"),
        (name = "batch", description = "Batches of prompts generated with shared settings, run by a durable queue"),
        (name = "admin", description = "Operator routes (X-Service-Key)"),
        (name = "health", description = "Liveness and readiness"),
        (name = "files", description = "Locally stored images")
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme the handlers refer to as `bearer`, and the stream token
/// (`?access_token=`) the event streams also take as `stream_token`.
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
        components.add_security_scheme(
            "stream_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "access_token",
                "A short-lived token from POST /generate/events/token (event streams only)",
            ))),
        );
    }
}

/// The docs page serving `document`, to be registered before the `/api` alias scope.
pub fn docs(document: utoipa::openapi::OpenApi) -> SwaggerUi {
    SwaggerUi::new("/api/docs/{_:.*}").url("/api/docs/openapi.json", document)
}
