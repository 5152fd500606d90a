//! Source images that are this server's own files: a remix on an image-to-image model sends
//! the image's own `publicUrl`, which on the embedded default is `http://` (`PUBLIC_BASE_URL`
//! + `/files/…`). Such a URL is resolved to the stored object, never fetched over the network.
//!
//! What the provider then receives: when the URL is `https://` (the server is reachable from
//! outside), the URL itself — the provider downloads it like any other, and no image bytes
//! travel in the request. Otherwise the provider could not reach it (a `localhost` or LAN
//! address), so it receives a `data:` URI of the stored bytes, which Replicate and the
//! OpenAI-compatible API accept in place of a URL. The generation records the URL either way.

use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::GenerationRequest;
use picture_domain::ports::{ObjectKey, ObjectStore};
use picture_storage::{ImageFormat, LocalStore};

use crate::error::ApiError;
use crate::routes::files::{FileSource, Files};

/// The largest stored file handed to a provider inline (its data URI is a third larger).
pub const MAX_INLINE_SOURCE_BYTES: u64 = 10 * 1024 * 1024;

/// The prefix of this server's own file URLs (`{PUBLIC_BASE_URL}/files/`), when it serves
/// files (the local store).
pub fn own_files_prefix(http: &HttpRequest) -> Option<String> {
    local_store(http).map(|store| store.public_url(&ObjectKey::from_stored("")))
}

/// The local file store, when the server keeps its files on this machine.
fn local_store(http: &HttpRequest) -> Option<&LocalStore> {
    match &http.app_data::<web::Data<Files>>()?.source {
        FileSource::Local(store) => Some(store),
        FileSource::S3(_) => None,
    }
}

fn not_stored() -> ApiError {
    ApiError::Validation(vec![
        "sourceImageUrl names no stored image of this server".into(),
    ])
}

/// Checks that an own-file source of `request` is a stored image, and when its URL is not
/// `https://`, hands the provider its bytes as a data URI. Other sources pass unchanged.
///
/// # Errors
/// 400 `validation_failed` when the file is not a stored image or is over
/// [`MAX_INLINE_SOURCE_BYTES`].
pub async fn resolve(
    mut request: GenerationRequest,
    http: &HttpRequest,
) -> Result<GenerationRequest, ApiError> {
    let Some(source) = request.source_image_url.take() else {
        return Ok(request);
    };
    let (Some(key), Some(store)) = (source.own_key(), local_store(http)) else {
        request.source_image_url = Some(source);
        return Ok(request);
    };
    let path = store.path_of(key).map_err(|_| not_stored())?;
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ImageFormat::from_extension)
        .ok_or_else(not_stored)?;
    let metadata = tokio::fs::metadata(&path).await.map_err(|_| not_stored())?;
    if !metadata.is_file() {
        return Err(not_stored());
    }
    if source.as_str().starts_with("https://") {
        request.source_image_url = Some(source);
        return Ok(request);
    }
    if metadata.len() > MAX_INLINE_SOURCE_BYTES {
        return Err(ApiError::Validation(vec![format!(
            "sourceImageUrl names a file over {MAX_INLINE_SOURCE_BYTES} bytes"
        )]));
    }
    let bytes = tokio::fs::read(&path).await.map_err(|_| not_stored())?;
    let data = format!(
        "data:{};base64,{}",
        format.content_type(),
        STANDARD.encode(&bytes)
    );
    request.source_image_url = Some(source.with_provider_input(data));
    Ok(request)
}
