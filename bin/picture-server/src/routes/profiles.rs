//! `GET /profiles/me`.

use actix_web::{HttpResponse, get, web};
use picture_domain::services::ProfileService;

use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::ProfileDto;
use crate::error::ApiError;

/// The caller's profile, created from the token's claims on the first call.
#[utoipa::path(tag = "profiles", security(("bearer" = [])), responses((status = 200, description = "The caller's profile", body = ProfileDto), Unauthorized))]
#[get("/profiles/me")]
pub async fn me(
    user: AuthenticatedUser,
    profiles: web::Data<ProfileService>,
) -> Result<HttpResponse, ApiError> {
    let profile = profiles.me(&user.id, user.email.as_deref()).await?;
    Ok(HttpResponse::Ok().json(ProfileDto::from(profile)))
}
