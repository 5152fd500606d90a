//! Serving an original as it is stored.

use actix_web::HttpResponse;
use actix_web::http::header;
use picture_domain::ports::ObjectKey;
use picture_domain::variant::OutputFormat;
use picture_storage::IMAGE_CACHE_CONTROL;

use super::FileSource;
use crate::error::ApiError;

/// The object `key` of `source`, `None` when there is none. Local files are read whole (the
/// system's reasons not to — no such file, a folder, a name too long — are all "none", and
/// logged at debug level only: any client can provoke them); S3 objects are streamed as they
/// arrive from the bucket.
///
/// # Errors
/// 503 when the bucket cannot be reached.
pub(super) async fn serve(
    source: &FileSource,
    key: &ObjectKey,
    format: OutputFormat,
) -> Result<Option<HttpResponse>, ApiError> {
    let mut response = HttpResponse::Ok();
    response
        .content_type(format.content_type())
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    match source {
        FileSource::Local(store) => {
            let Ok(path) = store.path_of(key) else {
                return Ok(None);
            };
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::debug!(%error, "file not served");
                    return Ok(None);
                }
            };
            // An object stored with a `Cache-Control` of its own (a board's thumbnail) is
            // served with it; every other key never changes content.
            let cache_control = store
                .cache_control_of(key)
                .await
                .unwrap_or_else(|| IMAGE_CACHE_CONTROL.to_owned());
            Ok(Some(
                response
                    .insert_header((header::CACHE_CONTROL, cache_control))
                    .body(bytes),
            ))
        }
        FileSource::S3(store) => {
            let Some(stream) = store.get_stream(key).await.map_err(ApiError::unavailable)? else {
                return Ok(None);
            };
            // Every key in the bucket is written once (thumbnails get a new key each time).
            Ok(Some(
                response
                    .insert_header((header::CACHE_CONTROL, IMAGE_CACHE_CONTROL))
                    .streaming(stream),
            ))
        }
    }
}
