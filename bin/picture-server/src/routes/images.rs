//! `GET /images`, `GET /images/:id`, `DELETE /images/:id`.

use actix_web::{HttpResponse, web};
use picture_domain::ImageId;
use picture_domain::ports::ImageQuery;
use picture_domain::services::ImageService;
use serde::Deserialize;

use crate::auth::AuthenticatedUser;
use crate::dto::ImageDto;
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
}

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
        match (page, limit) {
            (Ok(page), Ok(limit)) => Ok(ImageQuery {
                archived: self.archived.as_deref() == Some("true"),
                favorites_only: self.favorites_only.as_deref() == Some("true"),
                page,
                limit,
            }),
            (page, limit) => Err(ApiError::Validation(
                [page.err(), limit.err()].into_iter().flatten().collect(),
            )),
        }
    }
}

fn image_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Image with id {id} not found"))
}

/// A page of the caller's images, newest first (a bare array, as the original).
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
    let page: Vec<ImageDto> = images
        .list(&user.id, parsed)
        .await?
        .iter()
        .map(ImageDto::from)
        .collect();
    Ok(HttpResponse::Ok().json(page))
}

/// One image the caller owns, or a public one; 404 otherwise.
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
