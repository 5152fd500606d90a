//! Serving a variant: from storage or rendered once, with an `ETag` and `Vary: Accept` when
//! its format came from the `Accept` header.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use picture_domain::ports::ObjectKey;
use picture_domain::services::{VARIANT_CACHE_CONTROL, VariantService};
use picture_domain::variant::VariantRequest;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The variant `wanted` of the image `original`; 304 when `If-None-Match` names it.
///
/// # Errors
/// As [`VariantService::variant`], as HTTP answers.
pub(super) async fn serve(
    request: &HttpRequest,
    variants: &VariantService,
    original: &ObjectKey,
    wanted: VariantRequest,
) -> Result<HttpResponse, ApiError> {
    let variant = variants.variant(original, &wanted.spec).await?;
    let etag = etag_of(&variant.key);
    let not_modified = is_named(request, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, VARIANT_CACHE_CONTROL))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if wanted.negotiated {
        response.insert_header((header::VARY, "Accept"));
    }
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response
        .content_type(variant.format.content_type())
        .body(variant.bytes))
}

/// The strong `ETag` of the variant stored under `key`: its key names the original (whose
/// content never changes), the rendering's version and every parameter, so the key alone
/// identifies the bytes.
fn etag_of(key: &ObjectKey) -> String {
    let digest = Sha256::digest(key.as_str().as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn is_named(request: &HttpRequest, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn etags_are_quoted_and_differ_per_key() {
        let a = etag_of(&ObjectKey::from_stored(
            "users/u/images/a.png.variants/v1-64x64-cover-q80.webp",
        ));
        let b = etag_of(&ObjectKey::from_stored(
            "users/u/images/a.png.variants/v1-64x64-cover-q85.webp",
        ));
        assert!(
            a.starts_with('"') && a.ends_with('"') && a.len() == 34,
            "{a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn if_none_match_lists_weak_tags_and_stars() {
        let etag = "\"abc\"";
        let with = |value: &str| {
            is_named(
                &TestRequest::default()
                    .insert_header((header::IF_NONE_MATCH, value))
                    .to_http_request(),
                etag,
            )
        };
        assert!(with("\"abc\""));
        assert!(with("\"x\", W/\"abc\""));
        assert!(with("*"));
        assert!(!with("\"abcd\""));
        assert!(!is_named(&TestRequest::default().to_http_request(), etag));
    }
}
