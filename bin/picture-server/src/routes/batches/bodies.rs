//! The request body and query of the batch routes, as the mobile client sends them.

use picture_domain::batch::{RawBatchPrompt, RawBatchRequest};
use picture_domain::{BatchRequest, ValidationErrors};
use serde::Deserialize;

use crate::error::ApiError;
use crate::routes::images::number;

/// Most batches one page lists.
pub const MAX_BATCH_PAGE: u32 = 100;

/// One prompt of `POST /batch`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchPromptBody {
    /// What to draw (required, not blank).
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 10000,
        pattern = "^[^\\u0000]*\\S[^\\u0000]*$",
        example = "a lighthouse at dusk"
    )]
    text: Option<String>,
    /// What not to draw.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = "^[^\\u0000]*$", example = "blurry")]
    negative_prompt: Option<String>,
    /// Seed for reproducible output.
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = -9007199254740991_i64,
        maximum = 9007199254740991_i64, example = 42)]
    seed: Option<f64>,
    /// Accepted, as by the original backend; not applied to the images.
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The settings every prompt of `POST /batch` shares.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedSettingsBody {
    /// A catalogue model's UUID (required).
    #[serde(default)]
    #[schema(required = true, format = Uuid, example = "6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50")]
    model_id: Option<String>,
    /// A provider model version; `""` and `null` mean the catalogue's.
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\u0000]*$")]
    model_version: Option<String>,
    /// Pixels, 256 to 2048 (default: the model's).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 256, maximum = 2048, example = 512)]
    width: Option<f64>,
    /// Pixels, 256 to 2048 (default: the model's).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 256, maximum = 2048, example = 512)]
    height: Option<f64>,
    /// 1 to 150 (default: the model's).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 150, example = 4)]
    steps: Option<f64>,
    /// A float, 0 to 30 (default: the model's).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 30, example = 7.5)]
    guidance_scale: Option<f64>,
}

/// `POST /batch` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBatchBody {
    /// 1 to 50 prompts.
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 50)]
    prompts: Option<Vec<BatchPromptBody>>,
    /// The shared settings (required).
    #[serde(default)]
    #[schema(required = true)]
    shared_settings: Option<SharedSettingsBody>,
    /// The batch's name (default: "Batch " and the creation time).
    #[serde(default)]
    #[schema(
        max_length = 200,
        pattern = "^[^\\u0000]*$",
        example = "Quick: a fox (2x)"
    )]
    batch_name: Option<String>,
}

impl CreateBatchBody {
    /// The validated request (every invalid field reported at once).
    pub fn parse(self) -> Result<BatchRequest, ValidationErrors> {
        let Some(shared) = self.shared_settings else {
            return Err(ValidationErrors::single(
                "sharedSettings must be an object with modelId",
            ));
        };
        BatchRequest::parse(RawBatchRequest {
            prompts: self.prompts.map(|prompts| {
                prompts
                    .into_iter()
                    .map(|p| RawBatchPrompt {
                        text: p.text,
                        negative_prompt: p.negative_prompt,
                        seed: p.seed,
                        tags: p.tags.unwrap_or_default(),
                    })
                    .collect()
            }),
            model_id: shared.model_id,
            model_version: shared.model_version,
            width: shared.width,
            height: shared.height,
            steps: shared.steps,
            guidance_scale: shared.guidance_scale,
            batch_name: self.batch_name,
        })
    }
}

/// `GET /batch` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct BatchListQuery {
    /// 1-based page (default 1).
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Batches per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

impl BatchListQuery {
    /// `(page, limit)`.
    pub fn parse(&self) -> Result<(u32, u32), ApiError> {
        let page = number("page", self.page.as_deref(), 1, u32::MAX);
        let limit = number("limit", self.limit.as_deref(), 20, MAX_BATCH_PAGE);
        match (page, limit) {
            (Ok(page), Ok(limit)) => Ok((page, limit)),
            (page, limit) => Err(ApiError::Validation(
                [page.err(), limit.err()].into_iter().flatten().collect(),
            )),
        }
    }
}
