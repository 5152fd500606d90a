//! Liveness and readiness.

use crate::dto::{HealthDto, ReadyChecks, ReadyDto, timestamp};
use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use picture_domain::ErrorChain;
use picture_persistence::Database;

/// `GET /health`: the process is up. No dependency is checked.
#[utoipa::path(tag = "health",
    responses((status = 200, description = "The process is up", body = HealthDto)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    up()
}

/// The answer of both health routes.
fn up() -> HttpResponse {
    HttpResponse::Ok().json(HealthDto {
        status: "ok",
        service: "picture-backend",
        timestamp: timestamp(Utc::now()),
    })
}

/// `GET /api/v1/health`: the same as [`health`] under the API prefix.
#[utoipa::path(tag = "health",
    responses((status = 200, description = "The process is up", body = HealthDto)))]
#[get("/health")]
pub async fn api_health() -> HttpResponse {
    up()
}

/// `GET /ready`: 200 when the database answers, 503 otherwise.
#[utoipa::path(tag = "health", responses(
    (status = 200, description = "Ready to serve", body = ReadyDto),
    (status = 503, description = "A dependency is down", body = ReadyDto)))]
#[get("/ready")]
pub async fn ready(database: web::Data<Database>) -> HttpResponse {
    match database.ping().await {
        Ok(()) => HttpResponse::Ok().json(ReadyDto {
            status: "ready",
            checks: ReadyChecks { database: "ok" },
        }),
        Err(error) => {
            tracing::warn!(error = %ErrorChain(&error), "readiness check failed");
            HttpResponse::ServiceUnavailable().json(ReadyDto {
                status: "unavailable",
                checks: ReadyChecks {
                    database: "unavailable",
                },
            })
        }
    }
}
