//! The models seeded into the catalogue on start: the Replicate models of the original backend
//! and an offline preview model, which is not AI and says so.

use crate::model::ModelSpec;

/// Name of the offline preview model (the default when no provider token is configured).
pub const OFFLINE_PREVIEW_MODEL: &str = "offline-preview";
/// Name of the default model when Replicate is configured.
pub const DEFAULT_REPLICATE_MODEL: &str = "flux-schnell";

#[expect(
    clippy::too_many_arguments,
    reason = "a table row, read column by column"
)]
fn spec(
    name: &str,
    display_name: &str,
    description: &str,
    replicate_id: &str,
    version: Option<&str>,
    size: u32,
    steps: u32,
    guidance: f64,
    (min, max, max_steps): (u32, u32, u32),
    (img2img, seed): (bool, bool),
    sort_order: i32,
    cost: f64,
    estimated_time_seconds: u32,
) -> ModelSpec {
    ModelSpec {
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        description: Some(description.to_owned()),
        replicate_id: replicate_id.to_owned(),
        version: version.map(str::to_owned),
        default_width: size,
        default_height: size,
        default_steps: steps,
        default_guidance_scale: guidance,
        min_width: min,
        min_height: min,
        max_width: max,
        max_height: max,
        max_steps,
        supports_negative_prompt: false,
        supports_img2img: img2img,
        supports_seed: seed,
        is_active: true,
        is_default: false,
        sort_order,
        cost_per_generation: Some(cost),
        estimated_time_seconds: Some(estimated_time_seconds),
    }
}

/// The seed: flux-schnell, seedream-3 and nano-banana (original §4.12) and the offline preview.
/// `is_default` is false everywhere; the catalogue's seeding sets the default.
pub fn seed_models() -> Vec<ModelSpec> {
    vec![
        spec(
            DEFAULT_REPLICATE_MODEL,
            "FLUX Schnell",
            "The fastest model from Black Forest Labs: good images in about 3 seconds.",
            "black-forest-labs/flux-schnell",
            Some("c846a69991daf4c0e5d016514849d14ee5b2e6846ce6b9d6f21369e564cfe51e"),
            1024,
            4,
            0.0,
            (256, 1440, 4),
            (false, true),
            0,
            0.003,
            3,
        ),
        spec(
            "seedream-3",
            "Seedream 3",
            "ByteDance's high-resolution model with strong typography, up to 2048 pixels.",
            "bytedance/seedream-3",
            Some("ed344813bc9f4996be6de4febd8b9c14c7849ad7b21ab047572e3620ee374ee7"),
            2048,
            1,
            2.5,
            (512, 2048, 1),
            (false, true),
            1,
            0.03,
            5,
        ),
        spec(
            "nano-banana",
            "Nano Banana",
            "Google's image model; edits a source image from a prompt.",
            "google/nano-banana",
            Some("d05a591283da31be3eea28d5634ef9e26989b351718b6489bd308426ebd0a3e8"),
            1024,
            1,
            0.0,
            (512, 2048, 1),
            (true, false),
            2,
            0.039,
            3,
        ),
        spec(
            OFFLINE_PREVIEW_MODEL,
            "Offline preview (not AI)",
            "A deterministic placeholder drawn on this server from the prompt, seed and size. \
             Not an AI model: it works without any provider, for development and demos.",
            "offline/preview",
            None,
            1024,
            1,
            0.0,
            (256, 2048, 1),
            (false, true),
            -1,
            0.0,
            1,
        ),
    ]
}

/// The default model: flux-schnell when a provider is configured, the offline preview otherwise.
pub fn default_model_name(provider_configured: bool) -> &'static str {
    if provider_configured {
        DEFAULT_REPLICATE_MODEL
    } else {
        OFFLINE_PREVIEW_MODEL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_has_unique_names_and_both_defaults() {
        let models = seed_models();
        let mut names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), models.len());
        assert!(names.contains(&default_model_name(true)));
        assert!(names.contains(&default_model_name(false)));
        assert!(models.iter().all(|m| !m.is_default && m.is_active));
    }

    #[test]
    fn the_offline_model_says_it_is_not_ai() {
        let offline = seed_models()
            .into_iter()
            .find(|m| m.name == OFFLINE_PREVIEW_MODEL)
            .unwrap();
        assert!(offline.display_name.contains("not AI"));
        assert!(offline.replicate_id.starts_with("offline/"));
    }
}
