//! `GET /profiles/me`, `PATCH /profiles/me`.

use actix_web::{HttpResponse, get, patch, web};
use picture_domain::ProfileChange;
use picture_domain::services::{ProfileService, ProfileUpdateError};

use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::{ErrorDto, ProfileChangeBody, ProfileDto};
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

/// Changes the caller's user name and/or avatar (absent: unchanged, `null`: cleared) and
/// answers the profile as `GET /profiles/me` does. The profile is created first for a new user.
#[utoipa::path(tag = "profiles", security(("bearer" = [])), request_body = ProfileChangeBody,
    responses((status = 200, description = "The changed profile", body = ProfileDto),
        (status = 400, description = "Invalid user name or avatar URL, unknown field, malformed JSON", body = ErrorDto),
        Unauthorized,
        (status = 409, description = "Another user has this user name (compared regardless of case)", body = ErrorDto)))]
#[patch("/profiles/me")]
pub async fn update_me(
    user: AuthenticatedUser,
    body: web::Json<serde_json::Map<String, serde_json::Value>>,
    profiles: web::Data<ProfileService>,
) -> Result<HttpResponse, ApiError> {
    // Read as an object first: serde would otherwise take a JSON array as the fields in order.
    let body: ProfileChangeBody = serde_json::from_value(body.into_inner().into())
        .map_err(|e| ApiError::Validation(vec![e.to_string()]))?;
    let change = ProfileChange::parse(body.into())?;
    let profile = profiles
        .update(&user.id, user.email.as_deref(), &change)
        .await
        .map_err(|error| match error {
            ProfileUpdateError::UsernameTaken => {
                ApiError::Conflict("Username is already taken".into())
            }
            ProfileUpdateError::Repository(error) => error.into(),
        })?;
    Ok(HttpResponse::Ok().json(ProfileDto::from(profile)))
}
