//! Generation requests: the raw input from a client, parsed into a [`GenerationRequest`] whose
//! every field is within the contract's bounds, then resolved against a model's defaults into
//! concrete [`GenerationParams`].
//!
//! Unlike the original backend, an explicit `0` is a value, not "missing": `guidanceScale: 0`
//! stays 0.

use crate::ids::ModelId;
use crate::model::Model;
use crate::text::{ModelVersion, NegativePrompt, Prompt, SourceImageUrl, Style};
use crate::validation::{Collector, ValidationErrors};

/// Smallest and largest accepted width or height, in pixels.
pub const DIMENSION_RANGE: (u32, u32) = (256, 2048);
/// Smallest and largest accepted number of inference steps.
pub const STEPS_RANGE: (u32, u32) = (1, 150);
/// Smallest and largest accepted guidance scale.
pub const GUIDANCE_RANGE: (f64, f64) = (0.0, 30.0);
/// Smallest and largest accepted image-to-image strength.
pub const STRENGTH_RANGE: (f64, f64) = (0.0, 1.0);
/// Largest magnitude of a seed (integers beyond it are not exact in JSON).
pub const MAX_SEED_MAGNITUDE: i64 = 9_007_199_254_740_991;

/// A generation request exactly as a client sent it (after JSON decoding, before validation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawGenerationRequest {
    /// `prompt` (required).
    pub prompt: Option<String>,
    /// `modelId` (required): a catalogue model's UUID.
    pub model_id: Option<String>,
    /// `negativePrompt`.
    pub negative_prompt: Option<String>,
    /// `width`.
    pub width: Option<f64>,
    /// `height`.
    pub height: Option<f64>,
    /// `steps`.
    pub steps: Option<f64>,
    /// `guidanceScale`.
    pub guidance_scale: Option<f64>,
    /// `seed`.
    pub seed: Option<f64>,
    /// `sourceImageUrl`.
    pub source_image_url: Option<String>,
    /// `generationStrength`.
    pub generation_strength: Option<f64>,
    /// `style`.
    pub style: Option<String>,
    /// `modelVersion`.
    pub model_version: Option<String>,
    /// `waitForResult`.
    pub wait_for_result: Option<bool>,
}

/// A validated generation request. Every present value is within its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// What to draw.
    pub prompt: Prompt,
    /// Which catalogue model.
    pub model_id: ModelId,
    /// What not to draw.
    pub negative_prompt: Option<NegativePrompt>,
    /// Requested width; the model's default when absent.
    pub width: Option<u32>,
    /// Requested height; the model's default when absent.
    pub height: Option<u32>,
    /// Requested steps; the model's default when absent.
    pub steps: Option<u32>,
    /// Requested guidance scale; the model's default when absent.
    pub guidance_scale: Option<f64>,
    /// Seed for reproducible output.
    pub seed: Option<i64>,
    /// Source image for image-to-image.
    pub source_image_url: Option<SourceImageUrl>,
    /// Image-to-image strength.
    pub generation_strength: Option<f64>,
    /// Style hint.
    pub style: Option<Style>,
    /// Provider model version overriding the catalogue's.
    pub model_version: Option<ModelVersion>,
    /// Whether the client waits for the image within the request.
    pub wait_for_result: bool,
}

/// The concrete parameters of one generation after applying the model's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Inference steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance_scale: f64,
    /// Seed, if any.
    pub seed: Option<i64>,
    /// Image-to-image strength, if any.
    pub generation_strength: Option<f64>,
}

fn integer_in(field: &str, value: f64, (min, max): (u32, u32)) -> Result<u32, ValidationErrors> {
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(ValidationErrors::single(format!(
            "{field} must be an integer number"
        )));
    }
    if value < f64::from(min) {
        return Err(ValidationErrors::single(format!(
            "{field} must not be less than {min}"
        )));
    }
    if value > f64::from(max) {
        return Err(ValidationErrors::single(format!(
            "{field} must not be greater than {max}"
        )));
    }
    // In range and integral, so the conversion is exact.
    Ok(value as u32)
}

fn number_in(field: &str, value: f64, (min, max): (f64, f64)) -> Result<f64, ValidationErrors> {
    if !value.is_finite() {
        return Err(ValidationErrors::single(format!(
            "{field} must be a number conforming to the specified constraints"
        )));
    }
    if value < min {
        return Err(ValidationErrors::single(format!(
            "{field} must not be less than {min}"
        )));
    }
    if value > max {
        return Err(ValidationErrors::single(format!(
            "{field} must not be greater than {max}"
        )));
    }
    Ok(value)
}

fn seed(value: f64) -> Result<i64, ValidationErrors> {
    let limit = MAX_SEED_MAGNITUDE as f64;
    if !value.is_finite() || value.fract() != 0.0 || value.abs() > limit {
        return Err(ValidationErrors::single(
            "seed must be an integer number between -9007199254740991 and 9007199254740991",
        ));
    }
    Ok(value as i64)
}

fn optional<T, U>(
    value: Option<T>,
    parse: impl FnOnce(T) -> Result<U, ValidationErrors>,
) -> Result<Option<U>, ValidationErrors> {
    value.map(parse).transpose()
}

impl GenerationRequest {
    /// Parses a raw request, reporting every invalid field at once.
    ///
    /// # Errors
    /// A [`ValidationErrors`] with one message per invalid or missing field.
    pub fn parse(raw: RawGenerationRequest) -> Result<Self, ValidationErrors> {
        Self::parse_with_own_files(raw, None)
    }

    /// [`parse`](Self::parse), also accepting a `sourceImageUrl` of this server's own files
    /// under `own_files` ([`SourceImageUrl::parse_with_own_files`]).
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_with_own_files(
        raw: RawGenerationRequest,
        own_files: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let prompt = raw
            .prompt
            .ok_or_else(|| ValidationErrors::single("prompt must be a string"))
            .and_then(Prompt::parse);
        let model_id = raw
            .model_id
            .ok_or_else(|| ValidationErrors::single("modelId must be a string"))
            .and_then(|id| {
                id.parse::<ModelId>()
                    .map_err(|_| ValidationErrors::single("modelId must be a UUID"))
            });
        let negative_prompt = optional(raw.negative_prompt, NegativePrompt::parse);
        let width = optional(raw.width, |v| integer_in("width", v, DIMENSION_RANGE));
        let height = optional(raw.height, |v| integer_in("height", v, DIMENSION_RANGE));
        let steps = optional(raw.steps, |v| integer_in("steps", v, STEPS_RANGE));
        let guidance_scale = optional(raw.guidance_scale, |v| {
            number_in("guidanceScale", v, GUIDANCE_RANGE)
        });
        let seed = optional(raw.seed, seed);
        let source_image_url = optional(raw.source_image_url, |url| {
            SourceImageUrl::parse_with_own_files(url, own_files)
        });
        let generation_strength = optional(raw.generation_strength, |v| {
            number_in("generationStrength", v, STRENGTH_RANGE)
        });
        let style = optional(raw.style, Style::parse);
        let model_version = optional(raw.model_version, ModelVersion::parse);
        Collector::default()
            .note(&prompt)
            .note(&model_id)
            .note(&negative_prompt)
            .note(&width)
            .note(&height)
            .note(&steps)
            .note(&guidance_scale)
            .note(&seed)
            .note(&source_image_url)
            .note(&generation_strength)
            .note(&style)
            .note(&model_version)
            .finish()?;
        Ok(Self {
            prompt: prompt?,
            model_id: model_id?,
            negative_prompt: negative_prompt?,
            width: width?,
            height: height?,
            steps: steps?,
            guidance_scale: guidance_scale?,
            seed: seed?,
            source_image_url: source_image_url?,
            generation_strength: generation_strength?,
            style: style?,
            model_version: model_version?,
            wait_for_result: raw.wait_for_result.unwrap_or(false),
        })
    }

    /// The concrete parameters for `model`: requested values win, the model's defaults fill
    /// the gaps. An explicit 0 is kept.
    pub fn resolve(&self, model: &Model) -> GenerationParams {
        GenerationParams {
            width: self.width.unwrap_or(model.spec.default_width),
            height: self.height.unwrap_or(model.spec.default_height),
            steps: self.steps.unwrap_or(model.spec.default_steps),
            guidance_scale: self
                .guidance_scale
                .unwrap_or(model.spec.default_guidance_scale),
            seed: self.seed,
            generation_strength: self.generation_strength,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::sample_model;

    fn raw() -> RawGenerationRequest {
        RawGenerationRequest {
            prompt: Some("a lighthouse at dusk".into()),
            model_id: Some("6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50".into()),
            ..RawGenerationRequest::default()
        }
    }

    #[test]
    fn minimal_request_parses_and_takes_model_defaults() {
        let request = GenerationRequest::parse(raw()).unwrap();
        assert!(!request.wait_for_result);
        let params = request.resolve(&sample_model());
        assert_eq!((params.width, params.height, params.steps), (1024, 1024, 4));
        assert_eq!(params.guidance_scale, 3.5);
        assert_eq!(params.seed, None);
    }

    #[test]
    fn explicit_zero_is_a_value_not_missing() {
        let request = GenerationRequest::parse(RawGenerationRequest {
            guidance_scale: Some(0.0),
            seed: Some(0.0),
            generation_strength: Some(0.0),
            ..raw()
        })
        .unwrap();
        let params = request.resolve(&sample_model());
        assert_eq!(params.guidance_scale, 0.0);
        assert_eq!(params.seed, Some(0));
        assert_eq!(params.generation_strength, Some(0.0));
    }

    #[test]
    fn bounds_are_inclusive() {
        let ok = GenerationRequest::parse(RawGenerationRequest {
            width: Some(256.0),
            height: Some(2048.0),
            steps: Some(150.0),
            guidance_scale: Some(30.0),
            generation_strength: Some(1.0),
            ..raw()
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let errors = GenerationRequest::parse(RawGenerationRequest {
            prompt: None,
            model_id: Some("nope".into()),
            width: Some(255.0),
            height: Some(2049.0),
            steps: Some(1.5),
            guidance_scale: Some(f64::NAN),
            generation_strength: Some(1.01),
            seed: Some(1e300),
            ..RawGenerationRequest::default()
        })
        .unwrap_err();
        assert_eq!(
            errors.messages(),
            [
                "prompt must be a string",
                "modelId must be a UUID",
                "width must not be less than 256",
                "height must not be greater than 2048",
                "steps must be an integer number",
                "guidanceScale must be a number conforming to the specified constraints",
                "seed must be an integer number between -9007199254740991 and 9007199254740991",
                "generationStrength must not be greater than 1",
            ]
        );
    }
}
