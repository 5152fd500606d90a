//! `GET /models`, `GET /models/:id` (public).

use actix_web::{HttpResponse, web};
use picture_domain::ModelId;
use picture_domain::services::ModelService;

use crate::dto::{ErrorDto, ModelDto};
use crate::error::ApiError;

/// The active models, default first, then by sort order.
#[utoipa::path(get, path = "/api/v1/models", tag = "models", responses((status = 200, description = "The active models, default first", body = [ModelDto])))]
pub async fn list(models: web::Data<ModelService>) -> Result<HttpResponse, ApiError> {
    let list: Vec<ModelDto> = models.active().await?.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One model, active or not; 404 for an unknown or malformed id.
#[utoipa::path(get, path = "/api/v1/models/{id}", tag = "models", params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The model", body = ModelDto), (status = 404, description = "Unknown model", body = ErrorDto)))]
pub async fn get(
    models: web::Data<ModelService>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("Model with id {id} not found"));
    let model_id: ModelId = id.parse().map_err(|_| not_found())?;
    let model = models.by_id(model_id).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(ModelDto::from(model)))
}
