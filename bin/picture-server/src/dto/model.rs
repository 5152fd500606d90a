//! `Model`.

use picture_domain::Model;
use serde::Serialize;

use super::timestamp;

/// A catalogue model as the clients read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct ModelDto {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub replicate_id: String,
    pub version: Option<String>,
    pub default_width: u32,
    pub default_height: u32,
    pub default_steps: u32,
    pub default_guidance_scale: f64,
    pub min_width: u32,
    pub min_height: u32,
    pub max_width: u32,
    pub max_height: u32,
    pub max_steps: u32,
    pub supports_negative_prompt: bool,
    #[serde(rename = "supportsImg2Img")]
    pub supports_img2img: bool,
    pub supports_seed: bool,
    pub is_active: bool,
    pub is_default: bool,
    pub sort_order: i32,
    pub cost_per_generation: Option<f64>,
    pub estimated_time_seconds: Option<u32>,
    pub created_at: String,
    pub updated_at: String,
    /// Which provider serves the model: `replicate`, `openai` or `offline` (additive; the
    /// model's own name at that provider stays in `replicateId`).
    #[schema(example = "replicate")]
    pub provider: String,
}

impl From<Model> for ModelDto {
    fn from(model: Model) -> Self {
        let spec = model.spec;
        Self {
            id: model.id.to_string(),
            name: spec.name,
            display_name: spec.display_name,
            description: spec.description,
            replicate_id: spec.model_ref,
            version: spec.version,
            default_width: spec.default_width,
            default_height: spec.default_height,
            default_steps: spec.default_steps,
            default_guidance_scale: spec.default_guidance_scale,
            min_width: spec.min_width,
            min_height: spec.min_height,
            max_width: spec.max_width,
            max_height: spec.max_height,
            max_steps: spec.max_steps,
            supports_negative_prompt: spec.supports_negative_prompt,
            supports_img2img: spec.supports_img2img,
            supports_seed: spec.supports_seed,
            is_active: spec.is_active,
            is_default: spec.is_default,
            sort_order: spec.sort_order,
            cost_per_generation: spec.cost_per_generation,
            estimated_time_seconds: spec.estimated_time_seconds,
            created_at: timestamp(model.created_at),
            updated_at: timestamp(model.updated_at),
            provider: spec.provider.as_str().to_owned(),
        }
    }
}
