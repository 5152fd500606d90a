//! Models of the catalogue: what a client can pick, with its provider reference and defaults.

use chrono::{DateTime, Utc};

use crate::ids::ModelId;
use crate::provider_name::ProviderName;

/// Everything that describes a model, without its identity and timestamps. The seed data and
/// the catalogue's upsert are written in these terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Unique short name, e.g. `flux-schnell`.
    pub name: String,
    /// Name shown to users.
    pub display_name: String,
    /// Description shown to users.
    pub description: Option<String>,
    /// The provider that serves it.
    pub provider: ProviderName,
    /// The model as its provider names it, e.g. `black-forest-labs/flux-schnell` on
    /// Replicate or `gpt-image-1` on an OpenAI-compatible API (stored in the `replicate_id`
    /// column and sent as `replicateId`, the clients' name for it).
    pub model_ref: String,
    /// Provider version pinned by default.
    pub version: Option<String>,
    /// Default width in pixels.
    pub default_width: u32,
    /// Default height in pixels.
    pub default_height: u32,
    /// Default inference steps.
    pub default_steps: u32,
    /// Default guidance scale.
    pub default_guidance_scale: f64,
    /// Smallest width the model handles.
    pub min_width: u32,
    /// Smallest height the model handles.
    pub min_height: u32,
    /// Largest width the model handles.
    pub max_width: u32,
    /// Largest height the model handles.
    pub max_height: u32,
    /// Largest number of steps.
    pub max_steps: u32,
    /// Whether a negative prompt is forwarded.
    pub supports_negative_prompt: bool,
    /// Whether a source image can be given.
    pub supports_img2img: bool,
    /// Whether a seed is honoured.
    pub supports_seed: bool,
    /// Whether clients may pick it.
    pub is_active: bool,
    /// Whether it is the default model (exactly one active model is).
    pub is_default: bool,
    /// Position in listings after the default.
    pub sort_order: i32,
    /// Indicative provider cost in USD (display only; the charge is the freemium price).
    pub cost_per_generation: Option<f64>,
    /// Typical duration, in seconds.
    pub estimated_time_seconds: Option<u32>,
}

/// A model of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Its id.
    pub id: ModelId,
    /// Its description.
    pub spec: ModelSpec,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_model() -> Model {
        Model {
            id: ModelId::new_random(),
            spec: ModelSpec {
                name: "sample".into(),
                display_name: "Sample".into(),
                description: None,
                provider: ProviderName::REPLICATE,
                model_ref: "owner/sample".into(),
                version: None,
                default_width: 1024,
                default_height: 1024,
                default_steps: 4,
                default_guidance_scale: 3.5,
                min_width: 256,
                min_height: 256,
                max_width: 2048,
                max_height: 2048,
                max_steps: 50,
                supports_negative_prompt: true,
                supports_img2img: false,
                supports_seed: true,
                is_active: true,
                is_default: false,
                sort_order: 0,
                cost_per_generation: None,
                estimated_time_seconds: None,
            },
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }
}
