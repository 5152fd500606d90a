//! The body of `POST /boards/:id/thumbnail`: the web client's multipart field `thumbnail`, or
//! the original's JSON `{dataUrl: "data:image/png;base64,…"}`. Either is read with a byte
//! limit as it arrives (a 5 MB image, or its base64 in JSON, and nothing much larger), so an
//! oversized body is refused before it is all in memory.

use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::services::boards::MAX_THUMBNAIL_BYTES;
use serde::Deserialize;

use crate::error::ApiError;
use crate::routes::uploads::{Part, malformed, next, part, read_file, skip_text, unexpected};

/// Room for the JSON around the base64 of a thumbnail, or for the part headers and boundary
/// around a multipart one.
const ENVELOPE_BYTES: usize = 64 * 1024;

/// Largest JSON body: the base64 of a [`MAX_THUMBNAIL_BYTES`] image and its envelope.
pub const MAX_JSON_THUMBNAIL_BODY: usize = MAX_THUMBNAIL_BYTES.div_ceil(3) * 4 + ENVELOPE_BYTES;

/// `POST /boards/:id/thumbnail` JSON body (the original's).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailJson {
    /// `data:image/png;base64,…` (the prefix may be left out); at most 5 MB decoded.
    data_url: String,
}

/// `POST /boards/:id/thumbnail` multipart body (the web client's), as documented.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form only; the handler streams the body"
)]
pub struct ThumbnailForm {
    /// A PNG, JPEG or WebP image of at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    pub thumbnail: Vec<u8>,
}

fn declared_length(request: &HttpRequest) -> Option<usize> {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Whether the body is multipart (else it is read as JSON).
pub fn is_multipart(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        })
}

/// The bytes of the multipart field `thumbnail` (other text fields are skipped).
///
/// # Errors
/// 413 past [`MAX_THUMBNAIL_BYTES`]; 400 without the field, with two, or for a malformed body.
pub async fn from_multipart(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
    if declared_length(request).is_some_and(|n| n > MAX_THUMBNAIL_BYTES + ENVELOPE_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut multipart = Multipart::new(request.headers(), payload);
    let mut thumbnail = None;
    while let Some(field) = next(&mut multipart).await {
        let mut field = field.map_err(malformed)?;
        match part(&field, "thumbnail")? {
            Part::File(_) if thumbnail.is_some() => return Err(unexpected("thumbnail")),
            Part::File(_) => {
                thumbnail = Some(read_file(&mut field, MAX_THUMBNAIL_BYTES as u64, 0).await?);
            }
            Part::Other => skip_text(&mut field).await?,
        }
    }
    thumbnail.ok_or_else(|| ApiError::Validation(vec!["No thumbnail uploaded".into()]))
}

/// The decoded image of a JSON `{dataUrl}` body.
///
/// # Errors
/// 413 for a body past [`MAX_JSON_THUMBNAIL_BODY`] or an image past [`MAX_THUMBNAIL_BYTES`];
/// 400 for malformed JSON or base64.
pub async fn from_json(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
    if declared_length(request).is_some_and(|n| n > MAX_JSON_THUMBNAIL_BODY) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = next(&mut payload).await {
        let chunk = chunk.map_err(|error| match error {
            actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge,
            other => ApiError::Validation(vec![format!("invalid JSON body: {other}")]),
        })?;
        if body.len() + chunk.len() > MAX_JSON_THUMBNAIL_BODY {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let json: ThumbnailJson =
        serde_json::from_slice(&body).map_err(|e| ApiError::Validation(vec![e.to_string()]))?;
    decode_data_url(&json.data_url)
}

/// The bytes of a base64 `data:` URL (or of bare base64).
fn decode_data_url(raw: &str) -> Result<Vec<u8>, ApiError> {
    let encoded = match raw.strip_prefix("data:") {
        Some(rest) => match rest.split_once(',') {
            Some((meta, data)) if meta.ends_with(";base64") => data,
            _ => {
                return Err(ApiError::Validation(vec![
                    "dataUrl must be a base64 data URL".into(),
                ]));
            }
        },
        None => raw,
    };
    let encoded = encoded.trim();
    if encoded.len() / 4 * 3 > MAX_THUMBNAIL_BYTES + 3 {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| ApiError::Validation(vec!["dataUrl must be a base64 data URL".into()]))?;
    if bytes.len() > MAX_THUMBNAIL_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_decode_with_or_without_their_prefix() {
        assert_eq!(
            decode_data_url("data:image/png;base64,aGVsbG8=").unwrap(),
            b"hello"
        );
        assert_eq!(decode_data_url("aGVsbG8=").unwrap(), b"hello");
        for bad in ["data:image/png,hello", "data:image/png;base64,***", "data:"] {
            assert!(
                matches!(decode_data_url(bad), Err(ApiError::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_data_url_past_five_megabytes_is_too_large() {
        let image = vec![0_u8; MAX_THUMBNAIL_BYTES + 1];
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&image));
        assert!(url.len() < MAX_JSON_THUMBNAIL_BODY);
        assert!(matches!(
            decode_data_url(&url),
            Err(ApiError::PayloadTooLarge)
        ));
        let fits = format!(
            "data:image/png;base64,{}",
            STANDARD.encode(vec![0_u8; MAX_THUMBNAIL_BYTES])
        );
        assert_eq!(decode_data_url(&fits).unwrap().len(), MAX_THUMBNAIL_BYTES);
    }
}
