//! Decoded pixels as the resizer and the encoders share them.

/// How a bitmap's pixels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channels {
    /// 3 bytes a pixel, no transparency.
    Rgb,
    /// 4 bytes a pixel, straight (not premultiplied) alpha.
    Rgba,
}

/// 8-bit sRGB pixels, row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bitmap {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// The layout of `data`.
    pub(crate) channels: Channels,
    /// `width × height` pixels of 3 or 4 bytes as `channels` says.
    pub(crate) data: Vec<u8>,
}
