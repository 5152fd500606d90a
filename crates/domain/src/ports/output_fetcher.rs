//! Fetching a provider's output into checked image bytes.

use async_trait::async_trait;

use crate::ports::ImageSource;

/// Checked image bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `png`, `jpeg` or `webp`, read from the bytes.
    pub extension: &'static str,
    /// Its MIME type.
    pub content_type: &'static str,
    /// Width in pixels, read from the image.
    pub width: u32,
    /// Height in pixels, read from the image.
    pub height: u32,
}

/// Why an output was refused; the text is safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// Downloads or decodes outputs.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OutputFetcher: Send + Sync {
    /// The image at `source`: only from allowed hosts, with a time limit and a size cap, and
    /// only PNG, JPEG or WebP.
    ///
    /// # Errors
    /// [`FetchError`] saying why the output is refused.
    async fn fetch(&self, source: &ImageSource) -> Result<FetchedImage, FetchError>;
}
