//! The model's `input` object, built from the generation request for the model's family.
//!
//! Replicate models take different inputs: flux models an `aspect_ratio` instead of a size,
//! Seedream a custom size, Nano Banana a list of source images. Unknown models get the common
//! Stable-Diffusion-style names (`width`, `height`, `num_inference_steps`, `guidance_scale`, …).

use picture_domain::ports::ProviderRequest;
use serde_json::{Map, Value, json};

/// Flux's aspect ratios and their 1-megapixel sizes (cog-flux `ASPECT_RATIOS`).
const FLUX_ASPECT_RATIOS: [(&str, u32, u32); 11] = [
    ("1:1", 1024, 1024),
    ("16:9", 1344, 768),
    ("21:9", 1536, 640),
    ("3:2", 1216, 832),
    ("2:3", 832, 1216),
    ("4:5", 896, 1088),
    ("5:4", 1088, 896),
    ("3:4", 896, 1152),
    ("4:3", 1152, 896),
    ("9:16", 768, 1344),
    ("9:21", 640, 1536),
];

/// The flux aspect ratio closest to `width × height`.
pub(crate) fn flux_aspect_ratio(width: u32, height: u32) -> &'static str {
    let wanted = (f64::from(width.max(1)) / f64::from(height.max(1))).ln();
    FLUX_ASPECT_RATIOS
        .iter()
        .min_by(|a, b| {
            let distance = |(_, w, h): &(&str, u32, u32)| {
                (wanted - (f64::from(*w) / f64::from(*h)).ln()).abs()
            };
            distance(a).total_cmp(&distance(b))
        })
        .map_or("1:1", |(name, _, _)| name)
}

enum Family {
    FluxSchnell,
    Flux,
    Seedream,
    NanoBanana,
    Generic,
}

fn family(model_ref: &str) -> Family {
    let name = model_ref.to_ascii_lowercase();
    if name.contains("flux-schnell") {
        Family::FluxSchnell
    } else if name.starts_with("black-forest-labs/flux") {
        Family::Flux
    } else if name.contains("seedream") {
        Family::Seedream
    } else if name.contains("nano-banana") {
        Family::NanoBanana
    } else {
        Family::Generic
    }
}

/// The `input` object for `request`.
pub(crate) fn model_input(request: &ProviderRequest) -> Value {
    let p = &request.params;
    let mut input = Map::new();
    input.insert("prompt".into(), json!(request.prompt));
    let mut put = |key: &str, value: Value| {
        input.insert(key.to_owned(), value);
    };
    match family(&request.model_ref) {
        Family::FluxSchnell => {
            put("aspect_ratio", json!(flux_aspect_ratio(p.width, p.height)));
            put("num_inference_steps", json!(p.steps.clamp(1, 4)));
            put("num_outputs", json!(1));
            put("output_format", json!("png"));
        }
        Family::Flux => {
            put("aspect_ratio", json!(flux_aspect_ratio(p.width, p.height)));
            put("num_inference_steps", json!(p.steps));
            put("guidance", json!(p.guidance_scale.clamp(0.0, 10.0)));
            put("num_outputs", json!(1));
            put("output_format", json!("png"));
            if let Some(source) = &request.source_image_url {
                put("image", json!(source));
                if let Some(strength) = p.generation_strength {
                    put("prompt_strength", json!(strength));
                }
            }
        }
        Family::Seedream => {
            put("aspect_ratio", json!("custom"));
            put("width", json!(p.width));
            put("height", json!(p.height));
            put("guidance_scale", json!(p.guidance_scale));
        }
        Family::NanoBanana => {
            put("output_format", json!("png"));
            if let Some(source) = &request.source_image_url {
                put("image_input", json!([source]));
            }
        }
        Family::Generic => {
            put("width", json!(p.width));
            put("height", json!(p.height));
            put("num_inference_steps", json!(p.steps));
            put("guidance_scale", json!(p.guidance_scale));
            put("num_outputs", json!(1));
            if let Some(source) = &request.source_image_url {
                put("image", json!(source));
                if let Some(strength) = p.generation_strength {
                    put("prompt_strength", json!(strength));
                }
            }
        }
    }
    if let Some(seed) = p.seed {
        put("seed", json!(seed));
    }
    if let Some(negative) = &request.negative_prompt {
        put("negative_prompt", json!(negative));
    }
    Value::Object(input)
}

#[cfg(test)]
mod tests {
    use picture_domain::{GenerationId, GenerationParams};

    use super::*;

    fn request(model_ref: &str) -> ProviderRequest {
        ProviderRequest {
            generation_id: GenerationId::new_random(),
            model_ref: model_ref.into(),
            model_version: None,
            prompt: "a cat riding a narwhal".into(),
            negative_prompt: None,
            source_image_url: None,
            params: GenerationParams {
                width: 1344,
                height: 768,
                steps: 28,
                guidance_scale: 0.0,
                seed: Some(42),
                generation_strength: None,
            },
            webhook_url: None,
            wait: false,
        }
    }

    #[test]
    fn sizes_map_to_the_nearest_flux_aspect_ratio() {
        assert_eq!(flux_aspect_ratio(1024, 1024), "1:1");
        assert_eq!(flux_aspect_ratio(1344, 768), "16:9");
        assert_eq!(flux_aspect_ratio(768, 1344), "9:16");
        assert_eq!(flux_aspect_ratio(2048, 256), "21:9");
        assert_eq!(flux_aspect_ratio(1000, 1010), "1:1");
    }

    #[test]
    fn flux_schnell_gets_an_aspect_ratio_and_at_most_four_steps() {
        let input = model_input(&request("black-forest-labs/flux-schnell"));
        assert_eq!(
            input,
            json!({"prompt": "a cat riding a narwhal", "aspect_ratio": "16:9",
                   "num_inference_steps": 4, "num_outputs": 1, "output_format": "png",
                   "seed": 42})
        );
    }

    #[test]
    fn unknown_models_get_the_common_names_and_a_negative_prompt_when_given() {
        let mut r = request("stability-ai/sdxl");
        r.negative_prompt = Some("blurry".into());
        r.source_image_url = Some("https://example.com/in.png".into());
        r.params.generation_strength = Some(0.0);
        let input = model_input(&r);
        assert_eq!(input["width"], 1344);
        assert_eq!(input["height"], 768);
        assert_eq!(input["num_inference_steps"], 28);
        assert_eq!(input["guidance_scale"], 0.0);
        assert_eq!(input["negative_prompt"], "blurry");
        assert_eq!(input["image"], "https://example.com/in.png");
        assert_eq!(input["prompt_strength"], 0.0);
    }

    #[test]
    fn seedream_and_nano_banana_get_their_own_inputs() {
        let seedream = model_input(&request("bytedance/seedream-3"));
        assert_eq!(seedream["aspect_ratio"], "custom");
        assert_eq!(seedream["width"], 1344);
        let mut banana = request("google/nano-banana");
        banana.source_image_url = Some("https://example.com/in.png".into());
        let input = model_input(&banana);
        assert_eq!(input["image_input"], json!(["https://example.com/in.png"]));
        assert!(input.get("width").is_none());
    }
}
