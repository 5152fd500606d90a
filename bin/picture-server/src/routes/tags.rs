//! The caller's tags: `GET /tags`, `POST /tags`, `PATCH /tags/:id`, `DELETE /tags/:id`.
//!
//! Tags are the caller's own (the original's were global): another user's tag is a 404.
//! Names are trimmed, 1 to 50 characters, unique per user without regard to case (a clash is a
//! 409 `conflict` whose message says "already exists", which the mobile client looks for).
//! Colours are `#rrggbb` in either case, kept as sent; without one a tag has `color: null`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use picture_domain::services::{TagError, TagService};
use picture_domain::validation::Collector;
use picture_domain::{TagChange, TagColor, TagId, TagName, ValidationErrors};
use serde::{Deserialize, Deserializer};

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{ErrorDto, PathId, TagDto};
use crate::error::ApiError;

/// `POST /tags` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTagBody {
    /// 1 to 50 characters after trimming.
    name: String,
    /// `#rrggbb`; optional.
    #[serde(default)]
    color: Option<String>,
}

/// `PATCH /tags/:id` body: each field optional; `color: null` removes the colour.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTagBody {
    /// A new name, 1 to 50 characters after trimming.
    #[serde(default)]
    name: Option<String>,
    /// A new `#rrggbb` colour, or null to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    color: Option<Option<String>>,
}

/// A field that is present (even as null) becomes `Some`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn color(raw: Option<&str>) -> Result<Option<TagColor>, ValidationErrors> {
    raw.map(TagColor::parse).transpose()
}

/// The answer to a failed tag use case on tag `id` (as the client wrote it).
pub(super) fn tag_error(error: TagError, tag: &str, image: &str) -> ApiError {
    match error {
        TagError::TagNotFound => ApiError::NotFound(format!("Tag with id {tag} not found")),
        TagError::ImageNotFound => ApiError::NotFound(format!("Image with id {image} not found")),
        taken @ TagError::NameTaken(_) => ApiError::Conflict(taken.to_string()),
        TagError::Repository(error) => error.into(),
    }
}

/// The caller's tags, by name.
#[utoipa::path(tag = "tags", security(("bearer" = [])), responses((status = 200, description = "The caller's tags, by name", body = [TagDto]), Unauthorized))]
#[get("/tags")]
pub async fn list(
    user: AuthenticatedUser,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let found = tags
        .list(&user.id)
        .await
        .map_err(|e| tag_error(e, "", ""))?;
    Ok(HttpResponse::Ok().json(found.into_iter().map(TagDto::from).collect::<Vec<_>>()))
}

/// Creates a tag: 201 with the tag.
#[utoipa::path(tag = "tags", security(("bearer" = [])), request_body = CreateTagBody, responses((status = 201, description = "The new tag", body = TagDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, (status = 409, description = "The caller has a tag of this name (any case): `conflict`, \"… already exists\"", body = ErrorDto)))]
#[post("/tags")]
pub async fn create(
    user: AuthenticatedUser,
    body: web::Json<CreateTagBody>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let name = TagName::parse(&body.name);
    let color = color(body.color.as_deref());
    Collector::default().note(&name).note(&color).finish()?;
    let (name, color) = (name?, color?);
    let tag = tags
        .create(&user.id, name, color)
        .await
        .map_err(|e| tag_error(e, "", ""))?;
    Ok(HttpResponse::Created().json(TagDto::from(tag)))
}

/// Renames or recolours one of the caller's tags.
#[utoipa::path(tag = "tags", security(("bearer" = [])), params(("id" = String, Path, description = "The tag id (a UUID)")), request_body = UpdateTagBody, responses((status = 200, description = "The changed tag", body = TagDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "Another of the caller's tags has this name: `conflict`", body = ErrorDto)))]
#[patch("/tags/{id}")]
pub async fn update(
    user: AuthenticatedUser,
    id: PathId<TagId>,
    body: web::Json<UpdateTagBody>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.as_deref().map(TagName::parse).transpose();
    let new_color = body.color.as_ref().map(|c| color(c.as_deref())).transpose();
    Collector::default().note(&name).note(&new_color).finish()?;
    let change = TagChange {
        name: name?,
        color: new_color?,
    };
    let raw = id.to_string();
    let tag = tags
        .update(&user.id, id.get(), change)
        .await
        .map_err(|e| tag_error(e, &raw, ""))?;
    Ok(HttpResponse::Ok().json(TagDto::from(tag)))
}

/// Deletes one of the caller's tags and takes it off their images: 204.
#[utoipa::path(tag = "tags", security(("bearer" = [])), params(("id" = String, Path, description = "The tag id (a UUID)")), responses((status = 204, description = "Deleted, with its links to images"), Unauthorized, NotFound))]
#[delete("/tags/{id}")]
pub async fn delete(
    user: AuthenticatedUser,
    id: PathId<TagId>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let raw = id.to_string();
    tags.delete(&user.id, id.get())
        .await
        .map_err(|e| tag_error(e, &raw, ""))?;
    Ok(HttpResponse::NoContent().finish())
}
