//! `GET /models`, `GET /models/:id` (public).

use actix_web::{HttpResponse, get, web};
use picture_domain::ModelId;
use picture_domain::services::ModelService;

use crate::dto::PathId;
use crate::dto::{ErrorDto, ModelDto};
use crate::error::ApiError;

/// The active models, default first, then by sort order.
#[utoipa::path(tag = "models", responses((status = 200, description = "The active models, default first", body = [ModelDto])))]
#[get("/models")]
pub async fn list(models: web::Data<ModelService>) -> Result<HttpResponse, ApiError> {
    let list: Vec<ModelDto> = models.active().await?.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One model, active or not; 404 for an unknown or malformed id.
#[utoipa::path(tag = "models", params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The model", body = ModelDto), (status = 404, description = "Unknown model", body = ErrorDto)))]
#[get("/models/{id}")]
pub async fn get(
    models: web::Data<ModelService>,
    id: PathId<ModelId>,
) -> Result<HttpResponse, ApiError> {
    let model = models
        .by_id(id.get())
        .await?
        .ok_or_else(|| id.not_found())?;
    Ok(HttpResponse::Ok().json(ModelDto::from(model)))
}
