//! Tags on the caller's images: `GET /tags/image/:imageId`,
//! `POST /tags/image/:imageId/:tagId`, `DELETE /tags/image/:imageId/:tagId`.
//!
//! Only the caller's own tags go on the caller's own images: another user's image (public or
//! not) or tag is a 404, as a missing or malformed id is. Adding a tag twice, or removing one
//! that is not there, is no error: 204 either way (the original answered an empty 201/200,
//! which both clients' JSON parsing reported as a failure; they read 204 as success).

use actix_web::{HttpResponse, delete, get, post, web};
use picture_domain::services::TagService;
use picture_domain::{ImageId, TagId};

use super::responses::{NotFound, Unauthorized};
use super::tags::tag_error;
use crate::auth::AuthenticatedUser;
use crate::dto::{PathId, TagDto};
use crate::error::ApiError;

/// The `{imageId}/{tagId}` pair of a link route. A malformed id is the 404 of that resource.
fn link_ids(path: &(String, String)) -> Result<(ImageId, TagId), ApiError> {
    let (image, tag) = path;
    let image_id = image
        .parse()
        .map_err(|_| ApiError::NotFound(format!("Image with id {image} not found")))?;
    let tag_id = tag
        .parse()
        .map_err(|_| ApiError::NotFound(format!("Tag with id {tag} not found")))?;
    Ok((image_id, tag_id))
}

/// The tags on one of the caller's images, by name.
#[utoipa::path(tag = "tags", security(("bearer" = [])), params(("imageId" = String, Path, description = "The image id (a UUID)")), responses((status = 200, description = "The image's tags, by name", body = [TagDto]), Unauthorized, NotFound))]
#[get("/tags/image/{imageId}")]
pub async fn of_image(
    user: AuthenticatedUser,
    image: PathId<ImageId>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let raw = image.to_string();
    let found = tags
        .of_image(&user.id, image.get())
        .await
        .map_err(|e| tag_error(e, "", &raw))?;
    Ok(HttpResponse::Ok().json(found.into_iter().map(TagDto::from).collect::<Vec<_>>()))
}

/// Puts one of the caller's tags on one of their images: 204, also when it was already there.
#[utoipa::path(tag = "tags", security(("bearer" = [])), params(("imageId" = String, Path, description = "The image id (a UUID)"), ("tagId" = String, Path, description = "The tag id (a UUID)")), responses((status = 204, description = "The tag is on the image"), Unauthorized, NotFound))]
#[post("/tags/image/{imageId}/{tagId}")]
pub async fn add(
    user: AuthenticatedUser,
    path: web::Path<(String, String)>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let (image, tag) = link_ids(&path)?;
    tags.link(&user.id, image, tag)
        .await
        .map_err(|e| tag_error(e, &path.1, &path.0))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Takes one of the caller's tags off one of their images: 204, also when it was not there.
#[utoipa::path(tag = "tags", security(("bearer" = [])), params(("imageId" = String, Path, description = "The image id (a UUID)"), ("tagId" = String, Path, description = "The tag id (a UUID)")), responses((status = 204, description = "The tag is not on the image"), Unauthorized, NotFound))]
#[delete("/tags/image/{imageId}/{tagId}")]
pub async fn remove(
    user: AuthenticatedUser,
    path: web::Path<(String, String)>,
    tags: web::Data<TagService>,
) -> Result<HttpResponse, ApiError> {
    let (image, tag) = link_ids(&path)?;
    tags.unlink(&user.id, image, tag)
        .await
        .map_err(|e| tag_error(e, &path.1, &path.0))?;
    Ok(HttpResponse::NoContent().finish())
}
