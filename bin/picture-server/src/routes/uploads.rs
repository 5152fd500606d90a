//! Uploads: `POST /upload` (multipart field `file`), `POST /upload/multiple` (field `files`, at
//! most 10) and `DELETE /upload/:id`.
//!
//! The body is read as it arrives, part by part, chunk by chunk: a file is held in memory only
//! up to `UPLOAD_MAX_BYTES` (reading stops there with a 413), one file at a time, and its
//! metadata is stripped in that same buffer before it goes to the store. The body's deadline
//! (`REQUEST_BODY_TIMEOUT_SECS`) applies as to any request. A refused request stores nothing:
//! `/upload` stores its file only once the whole body has been read, and `/upload/multiple`
//! takes back the files it stored when a later one is refused.

use std::future::poll_fn;
use std::pin::Pin;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use futures_core::Stream;
use picture_domain::services::{ImageService, UploadService};
use picture_domain::{Image, ImageId, UserId};

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{ErrorDto, ImageDto, PathId};
use crate::error::ApiError;

/// Most files one `POST /upload/multiple` takes.
pub const MAX_FILES: usize = 10;

/// Room for the part headers and boundaries around the files of a body.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// Largest non-file part read (and ignored).
const MAX_TEXT_PART: usize = 64 * 1024;

/// `POST /upload` body, as documented (the handler streams it).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form only; the handler streams the body"
)]
pub struct UploadForm {
    /// The image: PNG, JPEG or WebP, recognised from its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// `POST /upload/multiple` body, as documented (the handler streams it).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form only; the handler streams the body"
)]
pub struct UploadManyForm {
    /// Up to 10 images, each as for `POST /upload`.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// The next item of a stream.
pub(super) async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// A multipart body the parser refused: a deadline or size the body broke, else a 400.
pub(super) fn malformed(error: MultipartError) -> ApiError {
    match error {
        MultipartError::Payload(PayloadError::Overflow) => ApiError::PayloadTooLarge,
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => ApiError::Validation(vec![
            "The body must be multipart/form-data with a boundary".into(),
        ]),
        other => {
            tracing::debug!(error = %other, "malformed multipart body");
            ApiError::Validation(vec!["The multipart body is malformed".into()])
        }
    }
}

pub(super) fn unexpected(name: &str) -> ApiError {
    ApiError::Validation(vec![format!("Unexpected field {name}")])
}

/// Refuses a body declared larger than `files` files can make, before reading any of it.
fn check_declared_length(
    request: &HttpRequest,
    max_bytes: u64,
    files: u64,
) -> Result<(), ApiError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let most = max_bytes
        .saturating_mul(files)
        .saturating_add(MULTIPART_OVERHEAD);
    match declared {
        Some(length) if length > most => Err(ApiError::PayloadTooLarge),
        _ => Ok(()),
    }
}

/// Reads a file part, refusing it as soon as it is over `max_bytes`. `reserve` is the
/// capacity to start with (the declared body length when there is one file, so the buffer
/// never grows by copying).
pub(super) async fn read_file(
    field: &mut Field,
    max_bytes: u64,
    reserve: usize,
) -> Result<Vec<u8>, ApiError> {
    let limit = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(reserve.min(limit));
    while let Some(chunk) = next(field).await {
        let chunk = chunk.map_err(malformed)?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads and drops a part that is not a file (clients may add text fields).
pub(super) async fn skip_text(field: &mut Field) -> Result<(), ApiError> {
    let mut read = 0;
    while let Some(chunk) = next(field).await {
        read += chunk.map_err(malformed)?.len();
        if read > MAX_TEXT_PART {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    Ok(())
}

/// What a part is: the file field wanted (with its file name), another file (refused), or a
/// text field (skipped).
pub(super) enum Part {
    File(Option<String>),
    Other,
}

pub(super) fn part(field: &Field, wanted: &str) -> Result<Part, ApiError> {
    let name = field.name().unwrap_or_default();
    let file_name = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .map(str::to_owned);
    if name == wanted {
        Ok(Part::File(file_name))
    } else if file_name.is_some() {
        Err(unexpected(name))
    } else {
        Ok(Part::Other)
    }
}

fn declared_length(request: &HttpRequest) -> usize {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Uploads one picture into the caller's gallery, stored like a generated image (no
/// generation, `model` null). The type is recognised from the bytes, never from the name or
/// declared type; the width and height are read from them; EXIF and other metadata (GPS
/// location) are removed before storing.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored image", body = ImageDto),
        (status = 400, description = "No file, an empty, damaged or cut-short image, more than 40 megapixels (`image_too_large`), or a malformed body", body = ErrorDto),
        Unauthorized,
        (status = 413, description = "Over `UPLOAD_MAX_BYTES` (default 10 MiB)", body = ErrorDto),
        (status = 415, description = "Not a PNG, JPEG or WebP image (`unsupported_media_type`)", body = ErrorDto),
        (status = 503, description = "The store failed (`storage_error`); nothing was recorded", body = ErrorDto)))]
#[post("/upload")]
pub async fn upload(
    request: HttpRequest,
    user: AuthenticatedUser,
    payload: web::Payload,
    uploads: web::Data<UploadService>,
) -> Result<HttpResponse, ApiError> {
    let max_bytes = uploads.limits().max_bytes;
    check_declared_length(&request, max_bytes, 1)?;
    let mut multipart = Multipart::new(request.headers(), payload);
    let mut file = None;
    while let Some(field) = next(&mut multipart).await {
        let mut field = field.map_err(malformed)?;
        match part(&field, "file")? {
            Part::File(_) if file.is_some() => return Err(unexpected("file")),
            Part::File(name) => {
                let bytes = read_file(&mut field, max_bytes, declared_length(&request)).await?;
                file = Some((name, bytes));
            }
            Part::Other => skip_text(&mut field).await?,
        }
    }
    let (name, bytes) =
        file.ok_or_else(|| ApiError::Validation(vec!["No file uploaded".into()]))?;
    let image = uploads.upload(&user.id, name.as_deref(), bytes).await?;
    Ok(HttpResponse::Created().json(ImageDto::from(&image)))
}

/// Stores each file of `multipart` as it arrives into `stored`.
async fn upload_each(
    multipart: &mut Multipart,
    user: &UserId,
    uploads: &UploadService,
    stored: &mut Vec<Image>,
) -> Result<(), ApiError> {
    let max_bytes = uploads.limits().max_bytes;
    while let Some(field) = next(multipart).await {
        let mut field = field.map_err(malformed)?;
        match part(&field, "files")? {
            Part::File(_) if stored.len() == MAX_FILES => {
                return Err(ApiError::Validation(vec![format!(
                    "Unexpected field files: at most {MAX_FILES} files"
                )]));
            }
            Part::File(name) => {
                let bytes = read_file(&mut field, max_bytes, 0).await?;
                stored.push(uploads.upload(user, name.as_deref(), bytes).await?);
            }
            Part::Other => skip_text(&mut field).await?,
        }
    }
    Ok(())
}

/// Uploads up to 10 pictures at once (field `files`), each as `POST /upload` does. All or
/// nothing: when one is refused, those already stored are taken back and the answer is that
/// file's refusal (the original skipped it silently).
#[utoipa::path(tag = "images", security(("bearer" = [])),
    request_body(content = UploadManyForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored images, in the order sent", body = [ImageDto]),
        (status = 400, description = "No files, more than 10, or one refused as by `POST /upload`", body = ErrorDto),
        Unauthorized,
        (status = 413, description = "A file over `UPLOAD_MAX_BYTES`", body = ErrorDto),
        (status = 415, description = "A file that is not a PNG, JPEG or WebP image", body = ErrorDto),
        (status = 503, description = "The store failed; nothing was kept", body = ErrorDto)))]
#[post("/upload/multiple")]
pub async fn upload_multiple(
    request: HttpRequest,
    user: AuthenticatedUser,
    payload: web::Payload,
    uploads: web::Data<UploadService>,
) -> Result<HttpResponse, ApiError> {
    check_declared_length(&request, uploads.limits().max_bytes, MAX_FILES as u64)?;
    let mut multipart = Multipart::new(request.headers(), payload);
    let mut stored = Vec::new();
    match upload_each(&mut multipart, &user.id, &uploads, &mut stored).await {
        Ok(()) if stored.is_empty() => Err(ApiError::Validation(vec!["No files uploaded".into()])),
        Ok(()) => {
            Ok(HttpResponse::Created().json(stored.iter().map(ImageDto::from).collect::<Vec<_>>()))
        }
        Err(error) => {
            uploads.take_back(&user.id, &stored).await;
            Err(error)
        }
    }
}

/// Deletes one of the caller's images and its stored file (the original's route for uploads;
/// the same as `DELETE /images/:id`): 204, or 404.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 204, description = "Deleted with its file"), Unauthorized, NotFound))]
#[delete("/upload/{id}")]
pub async fn delete(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    if images.delete(&user.id, id.get()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(id.not_found())
    }
}
