//! `POST /generate`, `GET /generate/:id/status`, `DELETE /generate/:id`,
//! `POST /generate/:id/cancel`.

use actix_web::{HttpResponse, web};
use picture_domain::services::{GenerateError, GenerationService};
use picture_domain::{GenerationId, GenerationRequest, GenerationStatus};

use crate::auth::AuthenticatedUser;
use crate::dto::{GenerateBody, GenerateResponseDto, GenerationStatusDto, ImageDto};
use crate::error::ApiError;

fn generation_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Generation with id {id} not found"))
}

/// Starts a generation; 201 with its state (completed or failed when the client waited and it
/// finished in time, processing otherwise).
pub async fn generate(
    user: AuthenticatedUser,
    body: web::Json<GenerateBody>,
    service: web::Data<GenerationService>,
) -> Result<HttpResponse, ApiError> {
    let request = GenerationRequest::parse(body.into_inner().into())?;
    let model_id = request.model_id;
    let started = service
        .start(&user.id, request)
        .await
        .map_err(|error| match error {
            GenerateError::ModelNotFound => {
                ApiError::NotFound(format!("Model with id {model_id} not found"))
            }
            other => other.into(),
        })?;
    let generation = &started.view.generation;
    Ok(HttpResponse::Created().json(GenerateResponseDto {
        generation_id: generation.record.id.to_string(),
        status: generation.status.as_str(),
        image: started.view.image.as_ref().map(ImageDto::from),
        error_message: generation
            .error_message
            .clone()
            .filter(|_| generation.status == GenerationStatus::Failed),
        credits_used: generation.credits_used,
        free_generations_remaining: started.free_generations_remaining,
    }))
}

/// The caller's generation, its image when completed, and what it cost.
pub async fn status(
    user: AuthenticatedUser,
    id: web::Path<String>,
    service: web::Data<GenerationService>,
) -> Result<HttpResponse, ApiError> {
    let generation_id: GenerationId = id.parse().map_err(|_| generation_not_found(&id))?;
    let view = service
        .status(&user.id, generation_id)
        .await?
        .ok_or_else(|| generation_not_found(&id))?;
    Ok(HttpResponse::Ok().json(GenerationStatusDto::from(&view)))
}

/// Cancels a pending or processing generation (its hold or free slot is given back); a
/// finished one is left as it is. 204 either way; 404 for another user's or an unknown id.
pub async fn cancel(
    user: AuthenticatedUser,
    id: web::Path<String>,
    service: web::Data<GenerationService>,
) -> Result<HttpResponse, ApiError> {
    let generation_id: GenerationId = id.parse().map_err(|_| generation_not_found(&id))?;
    if service.cancel(&user.id, generation_id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(generation_not_found(&id))
    }
}
