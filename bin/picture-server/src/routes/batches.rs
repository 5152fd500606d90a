//! Batches: `POST /batch`, `GET /batch`, `GET /batch/:id`, `GET /batch/:id/progress`,
//! `POST /batch/:id/retry`, `POST /batch/:id/cancel` and `DELETE /batch/:id`.
//!
//! Unlike the original, a batch runs: each prompt is a generation queued until a batch worker
//! runs it through the same pipeline as `POST /generate`, billed like one (free slots first,
//! then 10 credits each), decided for the whole batch at creation — one that cannot be paid in
//! full is a 402 and nothing is held. Another user's batch is a 404 (never a 403); cancel and
//! delete answer 204; an empty batch is a 400 (the original's was a 500).

mod bodies;

use actix_web::{HttpResponse, delete, get, post, web};
use picture_domain::BatchId;
use picture_domain::services::batches::BatchService;
use serde::Serialize;

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{BatchDto, BatchProgressDto, BatchWithItemsDto, ErrorDto, PathId};
use crate::error::ApiError;

pub use bodies::{BatchListQuery, CreateBatchBody};

/// `POST /batch/:id/retry`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AffectedDto {
    /// How many failed items were queued again.
    pub affected: u32,
}

/// Creates a batch: every prompt queued as a generation with the shared settings, each billed
/// like a single generation, the whole batch paid for at once (402 with `details {required,
/// balance, freeGenerationsRemaining, items}` when it cannot be, and nothing is held).
#[utoipa::path(tag = "batch", security(("bearer" = [])), request_body = CreateBatchBody,
    responses((status = 201, description = "The batch, its items queued", body = BatchWithItemsDto),
        (status = 400, description = "Invalid input: no prompts, more than 50, a bad field (`validation_failed`, every message)", body = ErrorDto),
        (status = 402, description = "The batch cannot be paid in full (`insufficient_credits`)", body = ErrorDto),
        (status = 404, description = "No active model with `sharedSettings.modelId`", body = ErrorDto),
        Unauthorized))]
#[post("/batch")]
pub async fn create(
    user: AuthenticatedUser,
    body: web::Json<CreateBatchBody>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner().parse()?;
    let created = batches
        .create(&user.id, request)
        .await
        .map_err(|e| ApiError::from_batch(e, ""))?;
    Ok(HttpResponse::Created().json(BatchWithItemsDto::from(&created.detail)))
}

/// The caller's batches, newest first, with their counts.
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(BatchListQuery),
    responses((status = 200, description = "One page of batches", body = [BatchDto]), (status = 400, description = "Invalid paging", body = ErrorDto), Unauthorized))]
#[get("/batch")]
pub async fn list(
    user: AuthenticatedUser,
    query: web::Query<BatchListQuery>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    let (page, limit) = query.parse()?;
    let found = batches
        .list(&user.id, page, limit)
        .await
        .map_err(|e| ApiError::from_batch(e, ""))?;
    Ok(HttpResponse::Ok().json(found.iter().map(BatchDto::from).collect::<Vec<_>>()))
}

/// One of the caller's batches with its items in order (`imageUrl` once completed).
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(("id" = String, Path, description = "The batch id (a UUID)")),
    responses((status = 200, description = "The batch and its items", body = BatchWithItemsDto), Unauthorized, NotFound))]
#[get("/batch/{id}")]
pub async fn get(
    user: AuthenticatedUser,
    id: PathId<BatchId>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    let detail = batches
        .get(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_batch(e, &id.to_string()))?;
    Ok(HttpResponse::Ok().json(BatchWithItemsDto::from(&detail)))
}

/// Where one of the caller's batches stands (the progress tracker polls this).
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(("id" = String, Path, description = "The batch id (a UUID)")),
    responses((status = 200, description = "The batch's counts and status", body = BatchProgressDto), Unauthorized, NotFound))]
#[get("/batch/{id}/progress")]
pub async fn progress(
    user: AuthenticatedUser,
    id: PathId<BatchId>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    let summary = batches
        .progress(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_batch(e, &id.to_string()))?;
    Ok(HttpResponse::Ok().json(BatchProgressDto::from(&summary)))
}

/// Queues the batch's failed items again (each billed again; an item retried 3 times is left
/// failed): how many.
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(("id" = String, Path, description = "The batch id (a UUID)")),
    responses((status = 201, description = "How many items were queued again", body = AffectedDto),
        (status = 402, description = "The retried items cannot be paid (`insufficient_credits`)", body = ErrorDto),
        Unauthorized, NotFound))]
#[post("/batch/{id}/retry")]
pub async fn retry(
    user: AuthenticatedUser,
    id: PathId<BatchId>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    let affected = batches
        .retry(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_batch(e, &id.to_string()))?;
    Ok(HttpResponse::Created().json(AffectedDto { affected }))
}

/// Cancels the batch's items that have not ended: queued ones at once (their free slot or hold
/// given back), running ones at the provider too. Completed items keep their images.
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(("id" = String, Path, description = "The batch id (a UUID)")),
    responses((status = 204, description = "Cancelled (or nothing left to cancel)"), Unauthorized, NotFound))]
#[post("/batch/{id}/cancel")]
pub async fn cancel(
    user: AuthenticatedUser,
    id: PathId<BatchId>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    batches
        .cancel(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_batch(e, &id.to_string()))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the batch after cancelling what still runs; its generations and images (paid for)
/// stay in the caller's history and gallery.
#[utoipa::path(tag = "batch", security(("bearer" = [])), params(("id" = String, Path, description = "The batch id (a UUID)")),
    responses((status = 204, description = "Deleted"), Unauthorized, NotFound))]
#[delete("/batch/{id}")]
pub async fn remove(
    user: AuthenticatedUser,
    id: PathId<BatchId>,
    batches: web::Data<BatchService>,
) -> Result<HttpResponse, ApiError> {
    batches
        .delete(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_batch(e, &id.to_string()))?;
    Ok(HttpResponse::NoContent().finish())
}
