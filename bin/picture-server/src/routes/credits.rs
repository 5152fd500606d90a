//! `GET /credits/balance` and `GET /generate/credits`: what the caller has.

use actix_web::{HttpResponse, get, web};
use picture_domain::services::CreditService;

use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::{CreditBalanceDto, ErrorDto, GenerateCreditsDto};
use crate::error::ApiError;

/// The caller's balance with the freemium rule in force.
#[utoipa::path(tag = "credits", security(("bearer" = [])), responses((status = 200, description = "The caller's credits and free tier", body = CreditBalanceDto), Unauthorized, (status = 503, description = "credits_unavailable", body = ErrorDto)))]
#[get("/credits/balance")]
pub async fn balance(
    user: AuthenticatedUser,
    credits: web::Data<CreditService>,
) -> Result<HttpResponse, ApiError> {
    let overview = credits.overview(&user.id).await?;
    Ok(HttpResponse::Ok().json(CreditBalanceDto::new(&overview, credits.policy())))
}

/// The final version's shape: balance, earned, spent and the price.
#[utoipa::path(tag = "credits", security(("bearer" = [])), responses((status = 200, description = "Balance, earned and spent", body = GenerateCreditsDto), Unauthorized, (status = 503, description = "credits_unavailable", body = ErrorDto)))]
#[get("/generate/credits")]
pub async fn generate_credits(
    user: AuthenticatedUser,
    credits: web::Data<CreditService>,
) -> Result<HttpResponse, ApiError> {
    let overview = credits.overview(&user.id).await?;
    Ok(HttpResponse::Ok().json(GenerateCreditsDto {
        balance: overview.credits.balance.get(),
        total_earned: overview.credits.total_earned.get(),
        total_spent: overview.credits.total_spent.get(),
        credits_per_generation: credits.policy().credits_per_generation().get(),
    }))
}
