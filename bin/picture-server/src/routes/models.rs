//! `GET /models`, `GET /models/:id` (public).

use actix_web::{HttpResponse, web};
use picture_domain::ModelId;
use picture_domain::services::ModelService;

use crate::dto::ModelDto;
use crate::error::ApiError;

/// The active models, default first, then by sort order.
pub async fn list(models: web::Data<ModelService>) -> Result<HttpResponse, ApiError> {
    let list: Vec<ModelDto> = models.active().await?.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One model, active or not; 404 for an unknown or malformed id.
pub async fn get(
    models: web::Data<ModelService>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("Model with id {id} not found"));
    let model_id: ModelId = id.parse().map_err(|_| not_found())?;
    let model = models.by_id(model_id).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(ModelDto::from(model)))
}
