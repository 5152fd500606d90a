#![doc = include_str!("../README.md")]

pub mod catalog_seed;
pub mod credits;
pub mod error;
pub mod explore;
pub mod freemium;
pub mod gallery_cursor;
pub mod generation;
pub mod ids;
pub mod image;
pub mod log_text;
pub mod model;
pub mod money;
pub mod params;
pub mod ports;
pub mod profile;
pub mod provider_name;
pub mod services;
pub mod text;
pub mod validation;

pub use credits::CreditAmount;
pub use error::{ErrorChain, RepositoryError};
pub use explore::{ExploreCursor, ExploreSort, SearchTerms, SearchTooLong, UnknownSort};
pub use freemium::{AccessDecision, Enforcement, FreemiumPolicy, InsufficientCredits};
pub use gallery_cursor::{GalleryCursor, InvalidCursor};
pub use generation::{Billing, Generation, GenerationStatus, NewGeneration};
pub use ids::{GenerationId, ImageId, ModelId, PredictionId, UserId};
pub use image::{Image, NewImage};
pub use log_text::LogSafe;
pub use model::{Model, ModelSpec};
pub use money::Ledger;
pub use params::{GenerationParams, GenerationRequest, RawGenerationRequest};
pub use profile::{NewProfile, Profile};
pub use provider_name::{InvalidProviderName, ProviderName};
pub use text::{ModelVersion, NegativePrompt, Prompt, SourceImageUrl, Style};
pub use validation::ValidationErrors;
