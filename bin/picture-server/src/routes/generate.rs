//! `POST /generate`, `GET /generate/:id/status`, `DELETE /generate/:id`,
//! `POST /generate/:id/cancel`.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use picture_domain::ports::RecordedResponse;
use picture_domain::services::{
    CancelGeneration, GenerateError, GenerationLimits, IdempotencyKey, KeyedStart, ReadGenerations,
    StartGeneration, Started,
};
use picture_domain::{GenerationId, GenerationRequest, GenerationStatus};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::PathId;
use crate::dto::{ErrorDto, GenerateBody, GenerateResponseDto, GenerationStatusDto, ImageDto};
use crate::error::ApiError;

mod own_source;

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` header with the hash of the canonical body, if the client sent one.
fn idempotency_key(
    request: &HttpRequest,
    body: &Value,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(header) = request.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = header
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::Validation(vec![format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            )])
        })?;
    // serde_json's maps are sorted, so equal bodies serialise equally whatever their key order.
    let request_hash = format!("{:x}", Sha256::digest(body.to_string().as_bytes()));
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash,
    }))
}

/// The 201 body of a started generation.
fn started_body(started: &Started) -> GenerateResponseDto<'_> {
    let generation = &started.view.generation;
    GenerateResponseDto {
        generation_id: generation.record.id.to_string(),
        status: generation.status.as_str(),
        image: started.view.image.as_ref().map(ImageDto::from),
        error_message: generation
            .error_message
            .clone()
            .filter(|_| generation.status == GenerationStatus::Failed),
        credits_used: generation.credits_used,
        free_generations_remaining: started.free_generations_remaining,
        credit_balance: started.credit_balance.map(|b| b.get()),
    }
}

/// `recorded` as an HTTP answer (JSON, as every recorded answer is); marked
/// `Idempotent-Replayed: true` when it answers a retry.
fn answer(recorded: RecordedResponse, replayed: bool) -> Result<HttpResponse, ApiError> {
    let code = StatusCode::from_u16(recorded.status).map_err(ApiError::internal)?;
    let mut response = HttpResponse::build(code);
    response.content_type(ContentType::json());
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    Ok(response.body(recorded.body))
}

/// The header that marks a replayed answer (Stripe's name).
const REPLAYED: &str = "Idempotent-Replayed";

/// Starts a generation; 201 with its state (completed or failed when the client waited and it
/// finished in time, processing otherwise). With an `Idempotency-Key`, a retry with the same
/// body answers the first answer again, byte for byte, and starts nothing new.
#[utoipa::path(tag = "generate", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body within IDEMPOTENCY_KEY_TTL_SECS (24 h) gets the first 201 again, byte for byte, with `Idempotent-Replayed: true`; refusals are not kept")),
    request_body = GenerateBody,
    responses(
        (status = 201, description = "Started (completed or failed when waited for and finished in time)", body = GenerateResponseDto,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, replayed"))),
        (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized,
        (status = 402, description = "insufficient_credits", body = ErrorDto),
        (status = 404, description = "Unknown or inactive model", body = ErrorDto),
        (status = 409, description = "Idempotency-Key reused with another body, or its first request still running", body = ErrorDto),
        (status = 413, description = "Body too large", body = ErrorDto),
        (status = 429, description = "rate_limited", body = ErrorDto),
        (status = 502, description = "provider_error", body = ErrorDto),
        (status = 503, description = "provider_unavailable or credits_unavailable", body = ErrorDto)))]
#[post("/generate")]
pub async fn generate(
    user: AuthenticatedUser,
    http: HttpRequest,
    body: web::Json<Value>,
    service: web::Data<StartGeneration>,
    limits: web::Data<GenerationLimits>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = idempotency_key(&http, &body)?;
    let parsed: GenerateBody =
        serde_json::from_value(body).map_err(|e| ApiError::Validation(vec![e.to_string()]))?;
    let own_files = own_source::own_files_prefix(&http);
    let request = GenerationRequest::parse_with_own_files(parsed.into(), own_files.as_deref())?;
    let request = own_source::resolve(request, &http).await?;
    limits.check(&user.id).await?.map_err(|limited| {
        metrics::counter!("picture_rate_limited_total", "limit" => "generations").increment(1);
        ApiError::RateLimited {
            retry_after: limited.retry_after.as_secs().max(1),
        }
    })?;
    let model_id = request.model_id;
    let refused = |error| match error {
        GenerateError::ModelNotFound => {
            ApiError::NotFound(format!("Model with id {model_id} not found"))
        }
        other => other.into(),
    };
    let Some(key) = key else {
        let started = service.start(&user.id, request).await.map_err(refused)?;
        return Ok(HttpResponse::Created().json(started_body(&started)));
    };
    match service
        .start_once(&user.id, request, &key)
        .await
        .map_err(refused)?
    {
        KeyedStart::Replay(recorded) => answer(recorded, true),
        KeyedStart::First(started) => {
            // Rendered once: these bytes are the answer and every retry's.
            let body = serde_json::to_vec(&started_body(&started)).map_err(ApiError::internal)?;
            let recorded = RecordedResponse {
                status: StatusCode::CREATED.as_u16(),
                body,
            };
            service.record_answer(&user.id, &key, &recorded).await;
            answer(recorded, false)
        }
    }
}

/// The caller's generation, its image when completed, and what it cost.
#[utoipa::path(tag = "generate", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 200, description = "The generation, its image when completed, what it cost", body = GenerationStatusDto), Unauthorized, NotFound))]
#[get("/generate/{id}/status")]
pub async fn status(
    user: AuthenticatedUser,
    id: PathId<GenerationId>,
    service: web::Data<ReadGenerations>,
) -> Result<HttpResponse, ApiError> {
    let generation_id = id.get();
    let view = service
        .status(&user.id, generation_id)
        .await?
        .ok_or_else(|| id.not_found())?;
    Ok(HttpResponse::Ok().json(GenerationStatusDto::from(&view)))
}

/// `POST /generate/:id/cancel`, as [`cancel`].
#[utoipa::path(tag = "generate", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 204, description = "Cancelled, or already finished"), Unauthorized, NotFound))]
#[post("/generate/{id}/cancel")]
pub async fn cancel_post(
    user: AuthenticatedUser,
    id: PathId<GenerationId>,
    service: web::Data<CancelGeneration>,
) -> Result<HttpResponse, ApiError> {
    cancel_generation(user, id, service).await
}

/// Cancels a pending or processing generation (its hold or free slot is given back); a
/// finished one is left as it is. 204 either way; 404 for another user's or an unknown id.
#[utoipa::path(tag = "generate", security(("bearer" = [])), params(("id" = String, Path, description = "The id (a UUID)")), responses((status = 204, description = "Cancelled, or already finished"), Unauthorized, NotFound))]
#[delete("/generate/{id}")]
pub async fn cancel(
    user: AuthenticatedUser,
    id: PathId<GenerationId>,
    service: web::Data<CancelGeneration>,
) -> Result<HttpResponse, ApiError> {
    cancel_generation(user, id, service).await
}

/// What both cancel routes do.
async fn cancel_generation(
    user: AuthenticatedUser,
    id: PathId<GenerationId>,
    service: web::Data<CancelGeneration>,
) -> Result<HttpResponse, ApiError> {
    let generation_id = id.get();
    if service.cancel(&user.id, generation_id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(id.not_found())
    }
}
