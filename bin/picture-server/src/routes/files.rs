//! `GET /files/{key}`: images of the local file store (embedded default), public like the
//! original's bucket URLs.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use picture_domain::ports::ObjectKey;
use picture_storage::{ImageFormat, LocalStore};

use crate::dto::ErrorDto;
use crate::error::ApiError;

/// The file of `key` with its content type and long-lived cache headers; 404 for unknown or
/// unsafe keys.
#[utoipa::path(get, path = "/files/{key}", tag = "files", params(("key" = String, Path, description = "The stored key")), responses((status = 200, description = "The image bytes", content_type = "image/png"), (status = 404, description = "Unknown key", body = ErrorDto)))]
pub async fn file(
    key: web::Path<String>,
    store: web::Data<LocalStore>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("Cannot GET /files/{key}"));
    let object = ObjectKey::from_stored(key.as_str());
    let path = store.path_of(&object).map_err(|_| not_found())?;
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ImageFormat::from_extension)
        .ok_or_else(not_found)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
