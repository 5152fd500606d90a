#![doc = include_str!("../README.md")]

mod answer;
mod catalogue;
mod client;
mod config;
mod errors;
pub mod settings;

use picture_domain::ProviderName;

pub use answer::{ImagesAnswer, MalformedAnswer};
pub use catalogue::catalogue_models;
pub use client::{BuildError, OpenAiImagesProvider};
pub use config::OpenAiImagesConfig;
pub use settings::OpenAiImagesSettings;

/// The name this provider is registered under, stored with its models and generations.
pub const PROVIDER: ProviderName = ProviderName::from_static(PROVIDER_LABEL);

/// [`PROVIDER`] as text, for metric labels.
const PROVIDER_LABEL: &str = "openai";
