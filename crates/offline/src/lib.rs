#![doc = include_str!("../README.md")]

mod provider;
mod render;

pub use provider::OfflineRenderer;
pub use render::{MAX_SIDE, RenderError, render_png};
