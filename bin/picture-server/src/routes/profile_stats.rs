//! `GET /profiles/stats`, `GET /profiles/rate-limits`.

use actix_web::{HttpResponse, get, web};
use picture_domain::services::{GenerationLimits, ProfileService};

use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::{ProfileStatsDto, RateLimitsDto};
use crate::error::ApiError;

/// The counts the profile tab shows for the caller.
#[utoipa::path(tag = "profiles", security(("bearer" = [])), responses((status = 200, description = "The caller's counts", body = ProfileStatsDto), Unauthorized))]
#[get("/profiles/stats")]
pub async fn stats(
    user: AuthenticatedUser,
    profiles: web::Data<ProfileService>,
) -> Result<HttpResponse, ApiError> {
    let stats = profiles.stats(&user.id).await?;
    Ok(HttpResponse::Ok().json(ProfileStatsDto::from(stats)))
}

/// The generation limits this server enforces on the caller and what is left of them now
/// (read from the same counters that refuse a start with 429), in the original's snake_case.
#[utoipa::path(tag = "profiles", security(("bearer" = [])), responses((status = 200, description = "The caller's limits and usage", body = RateLimitsDto), Unauthorized))]
#[get("/profiles/rate-limits")]
pub async fn rate_limits(
    user: AuthenticatedUser,
    profiles: web::Data<ProfileService>,
    limits: web::Data<GenerationLimits>,
) -> Result<HttpResponse, ApiError> {
    let status = limits.status(&user.id).await?;
    let counts = profiles.stats(&user.id).await?;
    Ok(HttpResponse::Ok().json(RateLimitsDto::new(&status, &counts)))
}
