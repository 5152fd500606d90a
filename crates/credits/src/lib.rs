#![doc = include_str!("../README.md")]

mod client;
mod config;
pub mod settings;
mod wire;

pub use client::{InvalidBaseUrl, RemoteCredits};
pub use config::CreditsConfig;
