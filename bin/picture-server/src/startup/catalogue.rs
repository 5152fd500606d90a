//! The model catalogue this server seeds: the providers its settings configure, and the
//! models of each (see [`picture_domain::catalog_seed::catalogue`]).

use picture_domain::ProviderName;
use picture_domain::catalog_seed::{Catalogue, catalogue};

use crate::settings::Settings;

/// The providers the settings configure, as start-up registers them: the offline
/// renderer always, Replicate with a token, the OpenAI-compatible API with a base URL.
pub fn configured_providers(settings: &Settings) -> Vec<ProviderName> {
    let mut names = vec![ProviderName::OFFLINE];
    if settings.replicate().is_some() {
        names.push(ProviderName::REPLICATE);
    }
    if settings.openai.is_some() {
        names.push(picture_openai::PROVIDER);
    }
    names
}

/// The catalogue of a server with these settings: the seeded models, then the configured
/// OpenAI-compatible models.
pub fn of(settings: &Settings) -> Catalogue {
    let extra = settings
        .openai
        .as_ref()
        .map(picture_openai::catalogue_models)
        .unwrap_or_default();
    catalogue(&configured_providers(settings), extra)
}
