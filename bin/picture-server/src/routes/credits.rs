//! `GET /credits/balance` and `GET /generate/credits`: what the caller has.

use actix_web::{HttpResponse, web};
use picture_domain::services::CreditService;
use serde_json::json;

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;

/// The caller's balance with the freemium rule in force.
pub async fn balance(
    user: AuthenticatedUser,
    credits: web::Data<CreditService>,
) -> Result<HttpResponse, ApiError> {
    let overview = credits.overview(&user.id).await?;
    let policy = credits.policy();
    Ok(HttpResponse::Ok().json(json!({
        "balance": overview.credits.balance.get(),
        "freeGenerationsRemaining": overview.free_generations_remaining,
        "freeGenerationsLimit": policy.free_generations(),
        "creditsPerGeneration": policy.credits_per_generation().get(),
        "enforcement": policy.enforcement().as_str(),
    })))
}

/// The final version's shape: balance, earned, spent and the price.
pub async fn generate_credits(
    user: AuthenticatedUser,
    credits: web::Data<CreditService>,
) -> Result<HttpResponse, ApiError> {
    let overview = credits.overview(&user.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "balance": overview.credits.balance.get(),
        "totalEarned": overview.credits.total_earned.get(),
        "totalSpent": overview.credits.total_spent.get(),
        "creditsPerGeneration": credits.policy().credits_per_generation().get(),
    })))
}
