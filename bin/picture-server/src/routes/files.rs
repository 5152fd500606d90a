//! `GET /files/{key}`: stored images, public like the original's bucket URLs — read from the
//! local file store (embedded default) or streamed from the S3 bucket — and their variants
//! (`?width&height&resize&quality&format`, the convention of Supabase Storage's image
//! transformations that the mobile client already appends).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use picture_domain::ports::ObjectKey;
use picture_domain::services::VariantService;
use picture_domain::variant::{OutputFormat, RawVariantQuery, VariantRequest, VariantSettings};
use picture_storage::{LocalStore, S3Store};
use serde::Deserialize;

use crate::dto::ErrorDto;
use crate::error::ApiError;

mod original;
mod variant;

/// Where `/files/{key}` reads objects from: the store images are kept in.
#[derive(Clone)]
pub enum FileSource {
    /// Files under the data directory.
    Local(LocalStore),
    /// The S3 bucket (originals are streamed from it).
    S3(Arc<S3Store>),
}

/// What the files route needs: the store, the variant service and which variants may exist.
pub struct Files {
    /// Where originals are read.
    pub source: FileSource,
    /// Variants, from storage or rendered.
    pub variants: VariantService,
    /// The allowed sizes and the default quality.
    pub settings: VariantSettings,
}

/// The variant parameters; any other query parameter is ignored.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariantQuery {
    /// Width in pixels, 1 to 8192: rounded up to the next allowed size (64, 128, 256, 384,
    /// 512, 768, 1024 by default; the largest above it). Never enlarged.
    width: Option<String>,
    /// Height in pixels, as `width`.
    height: Option<String>,
    /// With both sizes: `cover` (default: crop to the box), `contain` (fit inside, no
    /// padding) or `fill` (stretch).
    resize: Option<String>,
    /// 1 to 100 (default 80), rounded up to a multiple of 5; PNG ignores it.
    quality: Option<String>,
    /// `webp`, `jpeg`, `png` or `origin` (the original's format). Default: WebP when `Accept`
    /// names `image/webp`, else JPEG (the answer then has `Vary: Accept`).
    format: Option<String>,
}

impl From<VariantQuery> for RawVariantQuery {
    fn from(query: VariantQuery) -> Self {
        Self {
            width: query.width,
            height: query.height,
            resize: query.resize,
            quality: query.quality,
            format: query.format,
        }
    }
}

/// The object of `key` — or, with any variant parameter, its variant — with its content type
/// and long-lived cache headers. 404 for unknown or unsafe keys, any key that does not end in
/// an image extension, and any path the system cannot read as a file.
#[utoipa::path(
    tag = "files",
    params(("key" = String, Path, description = "The stored key"), VariantQuery),
    responses(
        (status = 200, description = "The image, or its variant (`Cache-Control: public, max-age=31536000, immutable`, `ETag`)", content_type = "image/png"),
        (status = 304, description = "The variant named by `If-None-Match`"),
        (status = 400, description = "A bad variant parameter (`validation_failed`), an object that is not an image (`invalid_image`), or an image with too many pixels (`image_too_large`)", body = ErrorDto),
        (status = 404, description = "Unknown key", body = ErrorDto),
        (status = 503, description = "Every render slot is busy (`renderer_busy`) or the store is unavailable", body = ErrorDto),
    )
)]
#[get("/files/{key:.*}")]
pub async fn file(
    request: HttpRequest,
    key: web::Path<String>,
    query: web::Query<VariantQuery>,
    files: web::Data<Files>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("Cannot GET /files/{key}"));
    let object = ObjectKey::from_stored(key.as_str());
    let format = key
        .rsplit_once('.')
        .and_then(|(_, extension)| OutputFormat::from_extension(extension))
        .ok_or_else(not_found)?;
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let raw = RawVariantQuery::from(query.into_inner());
    match VariantRequest::parse(&raw, accept, format, &files.settings)? {
        None => original::serve(&files.source, &object, format)
            .await?
            .ok_or_else(not_found),
        Some(wanted) => variant::serve(&request, &files.variants, &object, wanted).await,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};

    use super::*;
    use crate::error::configure_extractors;
    use crate::log_capture::LogCapture;

    #[actix_web::test]
    async fn system_errors_are_a_404_logged_at_debug_level_only() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("users/alice.png/images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::write(images.join("x.png"), b"\x89PNG").unwrap();
        let store = LocalStore::new(dir.path(), "http://localhost");
        let app = test::init_service(
            App::new()
                .configure(configure_extractors)
                .app_data(web::Data::new(store))
                .service(file),
        )
        .await;
        let (logs, _guard) = LogCapture::start();

        let served = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/files/users/alice.png/images/x.png")
                .to_request(),
        )
        .await;
        assert_eq!(served.status(), 200);
        for (path, system_error) in [
            (
                "/files/users/alice.png/images/x.png/child.png",
                "Not a directory",
            ),
            ("/files/users/alice.png", "Is a directory"),
        ] {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(response.status(), 404, "{path}");
            let body: serde_json::Value = test::read_body_json(response).await;
            assert_eq!(body["code"], "not_found", "{path}");
            assert!(
                logs.text().contains(system_error),
                "{path}: {}",
                logs.text()
            );
        }
        for line in logs.lines() {
            let level = line["level"].as_str().unwrap_or_default();
            assert!(level == "DEBUG" || level == "TRACE", "{line}");
        }
    }
}
