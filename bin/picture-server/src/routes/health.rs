//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use picture_persistence::Database;
use serde_json::json;

use crate::dto::timestamp;

/// `GET /health`: the process is up. No dependency is checked.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "service": "picture-backend",
        "timestamp": timestamp(Utc::now()),
    }))
}

/// `GET /ready`: 200 when the database answers, 503 otherwise.
pub async fn ready(database: web::Data<Database>) -> HttpResponse {
    match database.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": {"database": "ok"},
        })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "checks": {"database": "unavailable"},
            }))
        }
    }
}
