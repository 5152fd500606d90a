//! The gallery: list, get, delete, archive, publish, favourite, batches, likes, and the
//! parameters of an image's generation.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use picture_domain::ports::{BatchAction, ImageChange, ImageQuery};
use picture_domain::services::{ImageService, ReadGenerations};
use picture_domain::{GalleryCursor, GenerationId, ImageId, TagId};
use serde::Deserialize;

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::PathId;
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

/// The largest page of the gallery: the mobile image-detail screen asks for 1000 (the
/// original had no maximum); keyset paging keeps a page this size cheap. Above: 400.
const MAX_LIMIT: u32 = 1000;

/// Response header carrying the cursor of the next page when this one is full.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

/// A page or limit query value: `default` when absent, else a whole number from 1 to `max`
/// (the messages name the parameter).
pub(crate) fn number(name: &str, raw: Option<&str>, default: u32, max: u32) -> Result<u32, String> {
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

/// Most tags one gallery request may filter by.
pub const MAX_TAG_FILTER: usize = 20;

/// `tagIds=a,b`: comma-separated tag ids (blank entries skipped), at most [`MAX_TAG_FILTER`].
fn tag_ids(raw: Option<&str>) -> Result<Vec<TagId>, String> {
    let ids = raw
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse()
                .map_err(|_| "each value in tagIds must be a UUID".to_owned())
        })
        .collect::<Result<Vec<TagId>, _>>()?;
    if ids.len() > MAX_TAG_FILTER {
        return Err(format!(
            "tagIds must contain no more than {MAX_TAG_FILTER} elements"
        ));
    }
    Ok(ids)
}

impl ListQuery {
    fn parse(&self) -> Result<ImageQuery, ApiError> {
        let page = number("page", self.page.as_deref(), 1, 1_000_000);
        let limit = number("limit", self.limit.as_deref(), 20, MAX_LIMIT);
        let after = self
            .cursor
            .as_deref()
            .map(|raw| raw.parse::<GalleryCursor>().map_err(|e| e.to_string()))
            .transpose();
        let tags = tag_ids(self.tag_ids.as_deref());
        match (page, limit, after, tags) {
            (Ok(page), Ok(limit), Ok(after), Ok(tag_ids)) => Ok(ImageQuery {
                archived: self.archived.as_deref() == Some("true"),
                favorites_only: self.favorites_only.as_deref() == Some("true"),
                page,
                limit,
                after,
                tag_ids,
            }),
            (page, limit, after, tags) => Err(ApiError::Validation(
                [page.err(), limit.err(), after.err(), tags.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

/// About the size of one image's JSON (a little more than a typical one).
const IMAGE_JSON_BYTES: usize = 768;

/// A page of the caller's images, newest first (a bare array, as the original).
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "1 to 1000 (default 20); above: 400 validation_failed"), ("archived" = Option<String>, Query, description = "`true` for archived images"), ("favoritesOnly" = Option<String>, Query), ("tagIds" = Option<String>, Query, description = "Comma-separated ids of the caller's tags (at most 20): only images carrying every one of them (all, not any, as the original); works with `cursor` paging"), ("cursor" = Option<String>, Query, description = "Start after this position (the `X-Next-Cursor` of the previous page) instead of at `page`: as fast deep in a large gallery as on its first page")),
    responses((status = 200, description = "The caller's images, newest first", body = [ImageDto], headers(("x-next-cursor" = String, description = "Cursor of the next page; present when this page is full"))), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized))]
#[get("/images")]
pub async fn list(
    user: AuthenticatedUser,
    query: web::Query<ListQuery>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let parsed = query.parse()?;
    let limit = parsed.limit;
    let found = images.list(&user.id, parsed).await?;
    let mut response = HttpResponse::Ok();
    if found.len() == limit as usize
        && let Some(last) = found.last()
    {
        response.insert_header((NEXT_CURSOR_HEADER, GalleryCursor::after(last).to_string()));
    }
    let page: Vec<ImageDto> = found.iter().map(ImageDto::from).collect();
    // Serialised into a buffer sized for the page, not one grown (and copied) a dozen times.
    let mut body = Vec::with_capacity(IMAGE_JSON_BYTES * page.len().max(1));
    serde_json::to_writer(&mut body, &page)
        .map_err(|e| ApiError::internal_while("serialising a page of images", e))?;
    Ok(response.insert_header(ContentType::json()).body(body))
}

/// One image the caller owns, or a public one; 404 otherwise.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The image (own or public)", body = ImageDto), Unauthorized, NotFound))]
#[get("/images/{id}")]
pub async fn get(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id = id.get();
    let image = images
        .get(&user.id, image_id)
        .await?
        .ok_or_else(|| id.not_found())?;
    Ok(HttpResponse::Ok().json(ImageDto::from(&image)))
}

/// Deletes one of the caller's images and its stored file; 204, or 404.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 204, description = "Deleted with its file"), Unauthorized, NotFound))]
#[delete("/images/{id}")]
pub async fn delete(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id = id.get();
    if images.delete(&user.id, image_id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(id.not_found())
    }
}

/// `PATCH /images/:id/{archive,unarchive,publish,unpublish}`: the changed image.
pub async fn change(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    change: ImageChange,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id = id.get();
    let image = images
        .change(&user.id, image_id, change)
        .await?
        .ok_or_else(|| id.not_found())?;
    Ok(HttpResponse::Ok().json(ImageDto::from(&image)))
}

/// `PATCH /images/:id/archive`.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "The image id")),
    responses((status = 200, description = "The changed image", body = ImageDto), Unauthorized, NotFound))]
#[patch("/images/{id}/archive")]
pub async fn archive(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Archive, images).await
}

/// `PATCH /images/:id/unarchive`.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "The image id")),
    responses((status = 200, description = "The changed image", body = ImageDto), Unauthorized, NotFound))]
#[patch("/images/{id}/unarchive")]
pub async fn unarchive(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Unarchive, images).await
}

/// `PATCH /images/:id/publish`.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "The image id")),
    responses((status = 200, description = "The changed image", body = ImageDto), Unauthorized, NotFound))]
#[patch("/images/{id}/publish")]
pub async fn publish(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Publish, images).await
}

/// `PATCH /images/:id/unpublish`.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "The image id")),
    responses((status = 200, description = "The changed image", body = ImageDto), Unauthorized, NotFound))]
#[patch("/images/{id}/unpublish")]
pub async fn unpublish(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Unpublish, images).await
}

/// `PATCH /images/:id/favorite` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FavoriteBody {
    is_favorite: bool,
}

/// `PATCH /images/:id/favorite {isFavorite}`.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), request_body = FavoriteBody, responses((status = 200, description = "The changed image", body = ImageDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/images/{id}/favorite")]
pub async fn favorite(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    body: web::Json<FavoriteBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    change(user, id, ImageChange::Favorite(body.is_favorite), images).await
}

/// `GET /images/archived/count`: `{count}`.
#[utoipa::path(tag = "images", security(("bearer" = [])), responses((status = 200, description = "How many archived images", body = CountDto), Unauthorized))]
#[get("/images/archived/count")]
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
#[utoipa::path(tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized))]
#[post("/images/batch/archive")]
pub async fn batch_archive(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Archive, images).await
}

/// `POST /images/batch/restore {imageIds}`: `{affected}`.
#[utoipa::path(tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized))]
#[post("/images/batch/restore")]
pub async fn batch_restore(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Restore, images).await
}

/// `POST /images/batch/delete {imageIds}`: `{affected}`; stored files are deleted too.
#[utoipa::path(tag = "images", security(("bearer" = [])), request_body = BatchBody, responses((status = 201, description = "How many of the caller's images changed", body = AffectedDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized))]
#[post("/images/batch/delete")]
pub async fn batch_delete(
    user: AuthenticatedUser,
    body: web::Json<BatchBody>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    batch(user, body, BatchAction::Delete, images).await
}

async fn like_state(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    liked: Option<bool>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    let image_id = id.get();
    let found = match liked {
        Some(liked) => images.set_like(&user.id, image_id, liked).await?,
        None => images.likes(&user.id, image_id).await?,
    }
    .ok_or_else(|| id.not_found())?;
    let body = LikesDto {
        liked: found.liked,
        like_count: found.count,
    };
    Ok(match liked {
        Some(true) => HttpResponse::Created().json(body),
        _ => HttpResponse::Ok().json(body),
    })
}

/// `POST /images/:id/like`: 201 `{liked: true, likeCount}`; idempotent.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 201, description = "Liked", body = LikesDto), Unauthorized, NotFound))]
#[post("/images/{id}/like")]
pub async fn like(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, Some(true), images).await
}

/// `DELETE /images/:id/like`: `{liked: false, likeCount}`.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "Not liked", body = LikesDto), Unauthorized, NotFound))]
#[delete("/images/{id}/like")]
pub async fn unlike(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, Some(false), images).await
}

/// `GET /images/:id/likes`: `{liked, likeCount}`.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "Likes of the image", body = LikesDto), Unauthorized, NotFound))]
#[get("/images/{id}/likes")]
pub async fn likes(
    user: AuthenticatedUser,
    id: PathId<ImageId>,
    images: web::Data<ImageService>,
) -> Result<HttpResponse, ApiError> {
    like_state(user, id, None, images).await
}

/// `GET /images/generation/:generationId`: the generation's parameters, or 204 when the caller
/// has no such generation.
#[utoipa::path(tag = "images", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The generation's parameters", body = GenerationParamsDto), (status = 204, description = "No such generation of the caller's"), Unauthorized))]
#[get("/images/generation/{id}")]
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
