#![doc = include_str!("../README.md")]

mod client;
mod config;
mod errors;
mod input;
mod prediction;
mod progress;
pub mod settings;
mod webhook;

pub use client::ReplicateProvider;
pub use config::ReplicateConfig;
pub use prediction::{Prediction, PredictionError};
pub use settings::ReplicateSettings;
pub use webhook::{TOLERANCE_SECS, WebhookError, WebhookHeaders, WebhookVerifier};
