//! Rendering image variants and blurhash placeholders (CPU work, off the async workers).

use async_trait::async_trait;

use crate::variant::{OutputFormat, VariantSpec};

/// A rendered variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedImage {
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Their format.
    pub format: OutputFormat,
}

/// Why an image could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The source is not a PNG, JPEG or WebP image that decodes.
    #[error("the object is not an image that can be read")]
    NotAnImage,
    /// The source has more pixels than the renderer decodes (a decompression bomb, or simply
    /// too large): nothing was decoded.
    #[error("the image has {width}×{height} pixels; at most {limit} are rendered")]
    TooManyPixels {
        /// Its width, from its header.
        width: u32,
        /// Its height, from its header.
        height: u32,
        /// The most pixels rendered.
        limit: u64,
    },
    /// Rendering took longer than the time limit (the answer was given up; the work stops at
    /// its next step and still counts against the pool until then).
    #[error("rendering took longer than the time limit")]
    TimedOut,
    /// Every render slot stayed busy for the whole time limit.
    #[error("the renderer is busy")]
    Busy,
    /// The encoder failed (a fault of the renderer, not of the input).
    #[error("rendering failed: {0}")]
    Failed(String),
}

/// Renders variants and placeholders.
///
/// Contract: every call runs on a bounded pool of threads (never on the caller's async worker),
/// at most the pool's size at once; a call that waits for a slot or runs longer than the
/// renderer's time limit ends with [`RenderError::Busy`] or [`RenderError::TimedOut`]. The
/// source's size is read from its header first, and a source of more pixels than the limit is
/// refused with [`RenderError::TooManyPixels`] before anything is decoded.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ImageRenderer: Send + Sync {
    /// Renders `spec` of the image `source` (PNG, JPEG or WebP): the crop and size of
    /// [`plan`](crate::variant::plan) for the source's size, encoded as `spec.format` at
    /// `spec.quality`. Images with transparency encoded as JPEG are composited on white.
    /// The same source and spec always give the same bytes.
    ///
    /// # Errors
    /// As the trait's contract says, and [`RenderError::NotAnImage`] for undecodable bytes.
    async fn render(
        &self,
        source: Vec<u8>,
        spec: VariantSpec,
    ) -> Result<RenderedImage, RenderError>;

    /// The blurhash of the image `source` (4×3 components, as the clients' placeholders use),
    /// computed from a small downscaled copy.
    ///
    /// # Errors
    /// As [`render`](Self::render).
    async fn blurhash(&self, source: Vec<u8>) -> Result<String, RenderError>;
}
