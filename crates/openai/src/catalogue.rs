//! The catalogue models of this provider: one per configured model name.

use picture_domain::ModelSpec;

use crate::{OpenAiImagesConfig, PROVIDER};

/// Where these models sort after the seeded ones.
const FIRST_SORT_ORDER: i32 = 10;

/// One active catalogue model per name of [`OpenAiImagesConfig::models`], named after it and
/// served by this provider, in the configured order. The API takes a prompt and a size only:
/// no negative prompt, seed, steps or source image. Sizes from 256 to 2048 pixels are
/// offered; a size the server does not support is refused by it (the generation fails and
/// its access is given back).
pub fn catalogue_models(config: &OpenAiImagesConfig) -> Vec<ModelSpec> {
    config
        .models
        .iter()
        .zip(FIRST_SORT_ORDER..)
        .map(|(name, sort_order)| ModelSpec {
            name: name.clone(),
            display_name: name.clone(),
            description: Some(format!(
                "{name} on the OpenAI-compatible images API this server is configured with."
            )),
            provider: PROVIDER,
            model_ref: name.clone(),
            version: None,
            default_width: 1024,
            default_height: 1024,
            default_steps: 1,
            default_guidance_scale: 0.0,
            min_width: 256,
            min_height: 256,
            max_width: 2048,
            max_height: 2048,
            max_steps: 1,
            supports_negative_prompt: false,
            supports_img2img: false,
            supports_seed: false,
            is_active: true,
            is_default: false,
            sort_order,
            cost_per_generation: None,
            estimated_time_seconds: Some(20),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_configured_name_is_an_active_model_of_this_provider() {
        let config = OpenAiImagesConfig::new(
            "https://api.openai.com",
            vec!["gpt-image-1".into(), "dall-e-3".into()],
        );
        let models = catalogue_models(&config);
        let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["gpt-image-1", "dall-e-3"]);
        assert!(models.iter().all(|m| m.is_active && m.provider == PROVIDER));
        assert_eq!(models[1].model_ref, "dall-e-3");
        assert!(models[0].sort_order < models[1].sort_order);
    }
}
