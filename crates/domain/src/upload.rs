//! Pictures users upload themselves: what the inspector makes of their bytes, and why it may
//! refuse them.

/// An uploaded file after inspection: its format and size read from its bytes (never from its
/// name or declared type), and the bytes with their metadata (EXIF, GPS location, XMP, text
/// chunks) removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedImage {
    /// The bytes to store, metadata removed.
    pub bytes: Vec<u8>,
    /// `png`, `jpeg` or `webp`: the key's extension and the `format` column.
    pub extension: &'static str,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    /// Width in pixels, from the image's header.
    pub width: u32,
    /// Height in pixels, from the image's header.
    pub height: u32,
}

impl InspectedImage {
    /// How many pixels decoding it would produce.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Why the inspector refused a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not a PNG, JPEG or WebP image (whatever the name or declared type say).
    #[error("only PNG, JPEG and WebP images are accepted")]
    Unsupported,
    /// The bytes start like a PNG, JPEG or WebP image but are not a whole, readable one
    /// (truncated, or a broken structure). The message is safe to show.
    #[error("the image is damaged: {0}")]
    Malformed(String),
}
