#![doc = include_str!("../README.md")]

mod bitmap;
mod deadline;
mod decode;
mod encode;
mod pipeline;
mod renderer;
mod resize;
mod settings;

#[cfg(test)]
mod sample_photo;
#[cfg(test)]
mod tests;

pub use renderer::Renderer;
pub use settings::ImagingSettings;
