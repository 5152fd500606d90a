//! The models seeded into the catalogue on start: the Replicate models of the original backend,
//! an offline preview model (which is not AI and says so), and the models of other configured
//! providers; [`catalogue`] decides which of them this server offers and which one is the
//! default, from the providers it has.

use crate::model::ModelSpec;
use crate::provider_name::ProviderName;

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
    (provider, model_ref): (ProviderName, &str),
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
        provider,
        model_ref: model_ref.to_owned(),
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
            (ProviderName::REPLICATE, "black-forest-labs/flux-schnell"),
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
            (ProviderName::REPLICATE, "bytedance/seedream-3"),
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
            (ProviderName::REPLICATE, "google/nano-banana"),
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
            (ProviderName::OFFLINE, "offline/preview"),
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

/// What the catalogue holds on a server: every model it seeds, each active only when this
/// server can serve it, and the default.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// The models to store, in seed order; a model of a provider this server lacks is stored
    /// inactive.
    pub specs: Vec<ModelSpec>,
    /// The name of the default model (one of the active ones).
    pub default: String,
    /// The providers this server has: a stored model of another provider that `specs` does
    /// not name is made inactive (it could not be served).
    pub registered: Vec<ProviderName>,
    /// The providers whose models all come from settings (`extra`): a stored model of theirs
    /// that `specs` does not name was removed from the settings and is made inactive.
    pub managed: Vec<ProviderName>,
}

/// The catalogue of a server whose registered providers are `registered`, with `extra` models
/// (those of providers configured by settings, e.g. the OpenAI-compatible models; their
/// providers become [`Catalogue::managed`]) after [`seed_models`]:
/// - a model whose provider is registered is offered as it is;
/// - when no provider but the offline renderer is registered (the embedded default), every
///   seeded model is offered and rendered offline — its `provider` says `offline`, so nobody
///   mistakes the placeholder for the model's output;
/// - otherwise a model whose provider is missing is stored inactive: never offered, never
///   sent anywhere. The offline preview is always the offline renderer's.
///
/// The default is flux-schnell when Replicate is registered, else the first extra model, else
/// the offline preview.
pub fn catalogue(registered: &[ProviderName], extra: Vec<ModelSpec>) -> Catalogue {
    let has = |provider: &ProviderName| registered.contains(provider);
    let mut managed: Vec<ProviderName> = extra.iter().map(|s| s.provider.clone()).collect();
    managed.sort();
    managed.dedup();
    let only_offline = registered.iter().all(|p| *p == ProviderName::OFFLINE);
    let default = if has(&ProviderName::REPLICATE) {
        DEFAULT_REPLICATE_MODEL.to_owned()
    } else {
        extra.iter().find(|spec| spec.is_active).map_or_else(
            || OFFLINE_PREVIEW_MODEL.to_owned(),
            |spec| spec.name.clone(),
        )
    };
    let specs = seed_models()
        .into_iter()
        .chain(extra)
        .map(|spec| {
            if has(&spec.provider) {
                spec
            } else if only_offline {
                ModelSpec {
                    provider: ProviderName::OFFLINE,
                    ..spec
                }
            } else {
                ModelSpec {
                    is_active: false,
                    ..spec
                }
            }
        })
        .collect();
    Catalogue {
        specs,
        default,
        registered: registered.to_vec(),
        managed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(name: &str) -> ModelSpec {
        ModelSpec {
            name: name.to_owned(),
            provider: ProviderName::from_static("openai"),
            model_ref: name.to_owned(),
            ..seed_models().remove(0)
        }
    }

    fn offered(catalogue: &Catalogue) -> Vec<(&str, &str)> {
        catalogue
            .specs
            .iter()
            .filter(|s| s.is_active)
            .map(|s| (s.name.as_str(), s.provider.as_str()))
            .collect()
    }

    #[test]
    fn the_seed_has_unique_names_and_active_non_default_models() {
        let models = seed_models();
        let mut names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), models.len());
        assert!(names.contains(&DEFAULT_REPLICATE_MODEL));
        assert!(names.contains(&OFFLINE_PREVIEW_MODEL));
        assert!(models.iter().all(|m| !m.is_default && m.is_active));
    }

    #[test]
    fn the_offline_model_says_it_is_not_ai_and_belongs_to_the_offline_renderer() {
        let offline = seed_models()
            .into_iter()
            .find(|m| m.name == OFFLINE_PREVIEW_MODEL)
            .unwrap();
        assert!(offline.display_name.contains("not AI"));
        assert_eq!(offline.provider, ProviderName::OFFLINE);
    }

    #[test]
    fn the_embedded_default_renders_every_model_offline_and_says_so() {
        let c = catalogue(&[ProviderName::OFFLINE], vec![]);
        assert_eq!(c.default, OFFLINE_PREVIEW_MODEL);
        assert_eq!(
            offered(&c),
            [
                ("flux-schnell", "offline"),
                ("seedream-3", "offline"),
                ("nano-banana", "offline"),
                ("offline-preview", "offline")
            ]
        );
    }

    #[test]
    fn with_replicate_its_models_go_to_it_and_the_preview_stays_offline() {
        let c = catalogue(&[ProviderName::OFFLINE, ProviderName::REPLICATE], vec![]);
        assert_eq!(c.default, DEFAULT_REPLICATE_MODEL);
        assert_eq!(
            offered(&c),
            [
                ("flux-schnell", "replicate"),
                ("seedream-3", "replicate"),
                ("nano-banana", "replicate"),
                ("offline-preview", "offline")
            ]
        );
    }

    #[test]
    fn without_replicate_but_with_another_provider_replicate_models_are_not_offered() {
        let openai = ProviderName::from_static("openai");
        let c = catalogue(
            &[ProviderName::OFFLINE, openai],
            vec![extra("gpt-image-1"), extra("dall-e-3")],
        );
        assert_eq!(c.default, "gpt-image-1");
        assert_eq!(
            offered(&c),
            [
                ("offline-preview", "offline"),
                ("gpt-image-1", "openai"),
                ("dall-e-3", "openai")
            ]
        );
        assert_eq!(
            c.specs.len(),
            6,
            "the missing provider's models are stored inactive"
        );
    }

    #[test]
    fn all_three_side_by_side() {
        let openai = ProviderName::from_static("openai");
        let c = catalogue(
            &[ProviderName::OFFLINE, ProviderName::REPLICATE, openai],
            vec![extra("gpt-image-1")],
        );
        assert_eq!(c.default, DEFAULT_REPLICATE_MODEL);
        assert_eq!(offered(&c).len(), 5);
        assert_eq!(offered(&c)[4], ("gpt-image-1", "openai"));
    }
}
