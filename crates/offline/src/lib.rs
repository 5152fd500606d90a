#![doc = include_str!("../README.md")]

mod provider;
mod render;

pub use provider::OfflineRenderer;
pub use render::{RenderError, render_png};
