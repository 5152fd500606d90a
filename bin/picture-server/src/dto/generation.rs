//! `ImageGeneration`, the generate request and its response.

use picture_domain::services::GenerationView;
use picture_domain::{Generation, RawGenerationRequest};
use serde::{Deserialize, Serialize};

use super::image::ImageDto;
use super::timestamp;

/// `POST /generate` body, as the clients send it. Unknown fields are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct GenerateBody {
    #[schema(
        required = true,
        min_length = 1,
        max_length = 10000,
        pattern = "^[^\\u0000]*\\S[^\\u0000]*$",
        example = "a lighthouse at dusk"
    )]
    pub prompt: Option<String>,
    #[schema(required = true, format = Uuid, example = "6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50")]
    pub model_id: Option<String>,
    #[schema(max_length = 10000, pattern = "^[^\\u0000]*$", example = "blurry")]
    pub negative_prompt: Option<String>,
    #[schema(value_type = Option<u32>, minimum = 256, maximum = 2048, example = 512)]
    pub width: Option<f64>,
    #[schema(value_type = Option<u32>, minimum = 256, maximum = 2048, example = 512)]
    pub height: Option<f64>,
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 150, example = 4)]
    pub steps: Option<f64>,
    #[schema(minimum = 0, maximum = 30, example = 3.5)]
    pub guidance_scale: Option<f64>,
    #[schema(value_type = Option<i64>, minimum = -9007199254740991_i64,
        maximum = 9007199254740991_i64, example = 42)]
    pub seed: Option<f64>,
    #[schema(
        max_length = 2048,
        pattern = "^https?://[A-Za-z0-9.:-]+(/[!-~]*)?$",
        example = "https://example.com/source.png"
    )]
    pub source_image_url: Option<String>,
    #[schema(minimum = 0, maximum = 1, example = 0.8)]
    pub generation_strength: Option<f64>,
    #[schema(max_length = 200, pattern = "^[^\\u0000]*$", example = "watercolour")]
    pub style: Option<String>,
    #[schema(max_length = 500, pattern = "^[^\\u0000]*$")]
    pub model_version: Option<String>,
    #[schema(example = true)]
    pub wait_for_result: Option<bool>,
}

impl From<GenerateBody> for RawGenerationRequest {
    fn from(body: GenerateBody) -> Self {
        Self {
            prompt: body.prompt,
            model_id: body.model_id,
            negative_prompt: body.negative_prompt,
            width: body.width,
            height: body.height,
            steps: body.steps,
            guidance_scale: body.guidance_scale,
            seed: body.seed,
            source_image_url: body.source_image_url,
            generation_strength: body.generation_strength,
            style: body.style,
            model_version: body.model_version,
            wait_for_result: body.wait_for_result,
        }
    }
}

/// A generation as the clients read it (the original's `ImageGeneration` row).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct GenerationDto {
    pub id: String,
    pub user_id: String,
    pub model_id: Option<String>,
    pub batch_id: Option<String>,
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub model: Option<String>,
    pub style: Option<String>,
    pub source_image_url: Option<String>,
    pub width: u32,
    pub height: u32,
    pub steps: u32,
    pub guidance_scale: f64,
    pub seed: Option<i64>,
    pub generation_strength: Option<f64>,
    pub status: &'static str,
    pub replicate_prediction_id: Option<String>,
    pub error_message: Option<String>,
    pub generation_time_seconds: Option<i32>,
    pub retry_count: i32,
    pub priority: i32,
    pub created_at: String,
    pub completed_at: Option<String>,
}

impl From<&Generation> for GenerationDto {
    fn from(g: &Generation) -> Self {
        let r = &g.record;
        Self {
            id: r.id.to_string(),
            user_id: r.user_id.as_str().to_owned(),
            model_id: r.model_id.map(|id| id.to_string()),
            batch_id: None,
            prompt: r.prompt.clone(),
            negative_prompt: r.negative_prompt.clone(),
            model: r.model_name.clone(),
            style: r.style.clone(),
            source_image_url: r.source_image_url.clone(),
            width: r.params.width,
            height: r.params.height,
            steps: r.params.steps,
            guidance_scale: r.params.guidance_scale,
            seed: r.params.seed,
            generation_strength: r.params.generation_strength,
            status: g.status.as_str(),
            replicate_prediction_id: g.prediction_id.as_ref().map(|p| p.as_str().to_owned()),
            error_message: g.error_message.clone(),
            generation_time_seconds: g.generation_time_seconds,
            retry_count: 0,
            priority: 0,
            created_at: timestamp(r.created_at),
            completed_at: g.completed_at.map(timestamp),
        }
    }
}

/// `GET /generate/:id/status`: the generation, its image when completed (the key is absent
/// otherwise), and the credits it cost.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct GenerationStatusDto<'a> {
    #[serde(flatten)]
    pub generation: GenerationDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageDto<'a>>,
    pub credits_used: i64,
}

impl<'a> From<&'a GenerationView> for GenerationStatusDto<'a> {
    fn from(view: &'a GenerationView) -> Self {
        Self {
            generation: GenerationDto::from(&view.generation),
            image: view.image.as_ref().map(ImageDto::from),
            credits_used: view.generation.credits_used,
        }
    }
}

/// `POST /generate`'s answer (201), sync and async alike.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct GenerateResponseDto<'a> {
    pub generation_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageDto<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    pub credits_used: i64,
    pub free_generations_remaining: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_balance: Option<i64>,
}
