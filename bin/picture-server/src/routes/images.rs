//! The gallery: list, get, delete, archive, publish, favourite, batches, likes, and the
//! parameters of an image's generation.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use picture_domain::ports::{BatchAction, ImageChange, ImageQuery};
use picture_domain::services::{ImageService, ReadGenerations};
use picture_domain::{GalleryCursor, GenerationId, ImageId};
use serde::Deserialize;

use crate::auth::AuthenticatedUser;
use crate::dto::{AffectedDto, CountDto, ErrorDto, GenerationParamsDto, ImageDto, LikesDto};
use crate::error::ApiError;

/// `GET /images` query, as the clients send it. Unknown parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    page: Option<String>,
    limit: Option<String>,
    archived: Option<String>,
    favorites_only: Option<String>,
    tag_ids: Option<String>,
    cursor: Option<String>,
}

/// Response header carrying the cursor of the next page when this one is full.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

fn number(name: &str, raw: Option<&str>, default: u32, max: u32) -> Result<u32, String> {
    let Some(raw) = raw else { return Ok(default) };
    let value: u32 = raw
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be a number conforming to the specified constraints"))?;
    if value < 1 {
        return Err(format!("{name} must not be less than 1"));
    }
    if value > max {
        return Err(format!("{name} must not be greater than {max}"));
    }
    Ok(value)
}

impl ListQuery {
    fn parse(&self) -> Result<ImageQuery, ApiError> {
        let page = number("page", self.page.as_deref(), 1, 1_000_000);
        let limit = number("limit", self.limit.as_deref(), 20, 100);
        let after = self
            .cursor
            .as_deref()
            .map(|raw| raw.parse::<GalleryCursor>().map_err(|e| e.to_string()))
            .transpose();
        match (page, limit, after) {
            (Ok(page), Ok(limit), Ok(after)) => Ok(ImageQuery {
                archived: self.archived.as_deref() == Some("true"),
                favorites_only: self.favorites_only.as_deref() == Some("true"),
                page,
                limit,
                after,
            }),
            (page, limit, after) => Err(ApiError::Validation(
                [page.err(), limit.err(), after.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

/// About the size of one image's JSON (a little more than a typical one).
const IMAGE_JSON_BYTES: usize = 768;

fn image_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Image with id {id} not found"))
}

/// A page of the caller's images, newest first (a bare array, as the original).
#[utoipa::path(get, path = "/api/v1/images", tag = "images", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "1 to 100"), ("archived" = Option<String>, Query, description = "`true` for archived images"), ("favoritesOnly" = Option<String>, Query), ("tagIds" = Option<String>, Query, description = "Accepted, ignored (no tags yet)"), ("cursor" = Option<String>, Query, description = "Start after this position (the `X-Next-Cursor` of the previous page) instead of at `page`: as fast deep in a large gallery as on its first page")),
    responses((status = 200, description = "The caller's images, newest first", body = [ImageDto], headers(("x-next-cursor" = String, description = "Cursor of the next page; present when this page is full"))), (status = 400, description = "Invalid input", body = ErrorDto), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn list(
    user: AuthenticatedUser,
    query: web::Query<ListQuery>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let parsed = query.parse()?;
    // Tags are not stored yet, so no image carries the requested tags.
    if query
        .tag_ids
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
    {
        return Ok(HttpResponse::Ok().json(Vec::<ImageDto>::new()));
    }
    let found = images.list(&user.id, parsed).await?;
    let mut response = HttpResponse::Ok();
    if found.len() == parsed.limit as usize
        && let Some(last) = found.last()
    {
        response.insert_header((NEXT_CURSOR_HEADER, GalleryCursor::after(last).to_string()));
    }
    let page: Vec<ImageDto> = found.iter().map(ImageDto::from).collect();
    // Serialised into a buffer sized for the page, not one grown (and copied) a dozen times.
    let mut body = Vec::with_capacity(IMAGE_JSON_BYTES * page.len().max(1));
    serde_json::to_writer(&mut body, &page)
        .map_err(|e| ApiError::internal(format!("serialising a page of images: {e}")))?;
    Ok(response.insert_header(ContentType::json()).body(body))
}

/// One image the caller owns, or a public one; 404 otherwise.
#[utoipa::path(get, path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The image (own or public)", body = ImageDto), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn get(
    user: AuthenticatedUser,
    id: web::Path<String>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id: ImageId = id.parse().map_err(|_| image_not_found(&id))?;
    let image = images
        .get(&user.id, image_id)
        .await?
        .ok_or_else(|| image_not_found(&id))?;
    Ok(HttpResponse::Ok().json(ImageDto::from(&image)))
}

/// Deletes one of the caller's images and its stored file; 204, or 404.
#[utoipa::path(delete, path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 204, description = "Deleted with its file"), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn delete(
    user: AuthenticatedUser,
    id: web::Path<String>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id: ImageId = id.parse().map_err(|_| image_not_found(&id))?;
    if images.delete(&user.id, image_id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(image_not_found(&id))
    }
}

/// `PATCH /images/:id/{archive,unarchive,publish,unpublish}`: the changed image.
pub async fn change(
    user: AuthenticatedUser,
    id: web::Path<String>,
    change: ImageChange,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id: ImageId = id.parse().map_err(|_| image_not_found(&id))?;
    let image = images
        .change(&user.id, image_id, change)
        .await?
        .ok_or_else(|| image_not_found(&id))?;
    Ok(HttpResponse::Ok().json(ImageDto::from(&image)))
}

/// Handler of one fixed [`ImageChange`].
macro_rules! change_route {
    ($name:ident, $change:expr, $doc:literal, $path:literal) => {
        #[doc = $doc]
        #[utoipa::path(patch, path = $path, tag = "images", security(("bearer" = [])),
            params(("id" = String, Path, description = "The image id")),
            responses(
                (status = 200, description = "The changed image", body = ImageDto),
                (status = 401, description = "No valid token", body = ErrorDto),
                (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
        pub async fn $name(
            user: AuthenticatedUser,
            id: web::Path<String>,
            images: web::Data<ImageService>,
        ) -> Result<HttpResponse, ApiError> {
            change(user, id, $change, images).await
        }
    };
}

change_route!(
    archive,
    ImageChange::Archive,
    "`PATCH /images/:id/archive`.",
    "/api/v1/images/{id}/archive"
);
change_route!(
    unarchive,
    ImageChange::Unarchive,
    "`PATCH /images/:id/unarchive`.",
    "/api/v1/images/{id}/unarchive"
);
change_route!(
    publish,
    ImageChange::Publish,
    "`PATCH /images/:id/publish`.",
    "/api/v1/images/{id}/publish"
);
change_route!(
    unpublish,
    ImageChange::Unpublish,
    "`PATCH /images/:id/unpublish`.",
    "/api/v1/images/{id}/unpublish"
);

/// `PATCH /images/:id/favorite` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FavoriteBody {
    is_favorite: bool,
}

/// `PATCH /images/:id/favorite {isFavorite}`.
#[utoipa::path(patch, path = "/api/v1/images/{id}/favorite", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), request_body = FavoriteBody, responses((status = 200, description = "The changed image", body = ImageDto), (status = 400, description = "Invalid input", body = ErrorDto), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn favorite(
    user: AuthenticatedUser,
    id: web::Path<String>,
    body: web::Json<FavoriteBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Favorite(body.is_favorite), images).await
}

/// `GET /images/archived/count`: `{count}`.
#[utoipa::path(get, path = "/api/v1/images/archived/count", tag = "images", security(("bearer" = [])), responses((status = 200, description = "How many archived images", body = CountDto), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn archived_count(
    user: AuthenticatedUser,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let count = images.archived_count(&user.id).await?;
    Ok(HttpResponse::Ok().json(CountDto { count }))
}

/// Most ids one batch request may name.
pub const MAX_BATCH: usize = 100;

/// `POST /images/batch/*` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchBody {
    image_ids: Vec<String>,
}

async fn batch(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    action: BatchAction,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    if body.image_ids.len() > MAX_BATCH {
        return Err(ApiError::Validation(vec![format!(
            "imageIds must contain no more than {MAX_BATCH} elements"
        )]));
    }
    // Ids that are not UUIDs cannot name any image of the caller's.
    let ids: Vec<ImageId> = body
        .image_ids
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let affected = images.batch(&user.id, &ids, action).await?;
    Ok(HttpResponse::Created().json(AffectedDto { affected }))
}

/// `POST /images/batch/archive {imageIds}`: `{affected}`.
#[utoipa::path(post, path = "/api/v1/images/batch/archive", tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn batch_archive(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Archive, images).await
}

/// `POST /images/batch/restore {imageIds}`: `{affected}`.
#[utoipa::path(post, path = "/api/v1/images/batch/restore", tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn batch_restore(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Restore, images).await
}

/// `POST /images/batch/delete {imageIds}`: `{affected}`; stored files are deleted too.
#[utoipa::path(post, path = "/api/v1/images/batch/delete", tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn batch_delete(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Delete, images).await
}

async fn like_state(
    user: AuthenticatedUser,
    id: web::Path<String>,
    liked: Option<bool>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id: ImageId = id.parse().map_err(|_| image_not_found(&id))?;
    let likes = match liked {
        Some(liked) => images.set_like(&user.id, image_id, liked).await?,
        None => images.likes(&user.id, image_id).await?,
    }
    .ok_or_else(|| image_not_found(&id))?;
    let body = LikesDto {
        liked: likes.liked,
        like_count: likes.count,
    };
    Ok(match liked {
        Some(true) => HttpResponse::Created().json(body),
        _ => HttpResponse::Ok().json(body),
    })
}

/// `POST /images/:id/like`: 201 `{liked: true, likeCount}`; idempotent.
#[utoipa::path(post, path = "/api/v1/images/{id}/like", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 201, description = "Liked", body = LikesDto), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn like(
    user: AuthenticatedUser,
    id: web::Path<String>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, Some(true), images).await
}

/// `DELETE /images/:id/like`: `{liked: false, likeCount}`.
#[utoipa::path(delete, path = "/api/v1/images/{id}/like", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "Not liked", body = LikesDto), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn unlike(
    user: AuthenticatedUser,
    id: web::Path<String>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, Some(false), images).await
}

/// `GET /images/:id/likes`: `{liked, likeCount}`.
#[utoipa::path(get, path = "/api/v1/images/{id}/likes", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "Likes of the image", body = LikesDto), (status = 401, description = "No valid token", body = ErrorDto), (status = 404, description = "Not the caller's, or unknown", body = ErrorDto)))]
pub async fn likes(
    user: AuthenticatedUser,
    id: web::Path<String>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, None, images).await
}

/// `GET /images/generation/:generationId`: the generation's parameters, or 204 when the caller
/// has no such generation.
#[utoipa::path(get, path = "/api/v1/images/generation/{id}", tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The generation's parameters", body = GenerationParamsDto), (status = 204, description = "No such generation of the caller's"), (status = 401, description = "No valid token", body = ErrorDto)))]
pub async fn generation_params(
    user: AuthenticatedUser,
    id: web::Path<String>,
    generations: web::Data<ReadGenerations>,
) -> Result<HttpResponse, ApiError> {
    let Ok(generation_id) = id.parse::<GenerationId>() else {
        return Ok(HttpResponse::NoContent().finish());
    };
    Ok(match generations.find(&user.id, generation_id).await? {
        Some(generation) => HttpResponse::Ok().json(GenerationParamsDto {
            steps: generation.record.params.steps,
            guidance_scale: generation.record.params.guidance_scale,
            generation_time_seconds: generation.generation_time_seconds,
            status: generation.status.as_str(),
        }),
        None => HttpResponse::NoContent().finish(),
    })
}
