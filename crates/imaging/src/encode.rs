//! Encoding a bitmap: lossy WebP (libwebp), JPEG and PNG (the `image` crate).

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use picture_domain::ports::RenderError;
use picture_domain::variant::OutputFormat;

use crate::bitmap::{Bitmap, Channels};

/// `bitmap` encoded as `format` at `quality` (1 to 100; PNG ignores it). The same bitmap
/// always gives the same bytes.
///
/// # Errors
/// [`RenderError::Failed`] if the encoder refuses (e.g. WebP beyond 16383 pixels a side).
pub(crate) fn encode(
    bitmap: &Bitmap,
    format: OutputFormat,
    quality: u8,
) -> Result<Vec<u8>, RenderError> {
    match format {
        OutputFormat::Webp => webp(bitmap, quality),
        OutputFormat::Jpeg => jpeg(bitmap, quality),
        OutputFormat::Png => png(bitmap),
    }
}

/// Lossy WebP through libwebp (built from the sources bundled in `libwebp-sys`), with its
/// default method (4) on one thread; an alpha channel is kept, compressed losslessly.
fn webp(bitmap: &Bitmap, quality: u8) -> Result<Vec<u8>, RenderError> {
    let mut config = webp::WebPConfig::new()
        .map_err(|()| RenderError::Failed("libwebp rejected its default config".to_owned()))?;
    config.lossless = 0;
    config.quality = f32::from(quality.clamp(1, 100));
    config.thread_level = 0;
    let encoder = match bitmap.channels {
        Channels::Rgb => webp::Encoder::from_rgb(&bitmap.data, bitmap.width, bitmap.height),
        Channels::Rgba => webp::Encoder::from_rgba(&bitmap.data, bitmap.width, bitmap.height),
    };
    encoder
        .encode_advanced(&config)
        .map(|memory| memory.to_vec())
        .map_err(|error| RenderError::Failed(format!("WebP encoding: {error:?}")))
}

/// Baseline JPEG; transparency is composited on white first.
fn jpeg(bitmap: &Bitmap, quality: u8) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    let rgb;
    let pixels = match bitmap.channels {
        Channels::Rgb => &bitmap.data,
        Channels::Rgba => {
            rgb = on_white(&bitmap.data);
            &rgb
        }
    };
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(pixels, bitmap.width, bitmap.height, ExtendedColorType::Rgb8)
        .map_err(|error| RenderError::Failed(format!("JPEG encoding: {error}")))?;
    Ok(out)
}

/// PNG at the encoder's default compression, RGB or RGBA as the bitmap is.
fn png(bitmap: &Bitmap) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    let color = match bitmap.channels {
        Channels::Rgb => ExtendedColorType::Rgb8,
        Channels::Rgba => ExtendedColorType::Rgba8,
    };
    PngEncoder::new(&mut out)
        .write_image(&bitmap.data, bitmap.width, bitmap.height, color)
        .map_err(|error| RenderError::Failed(format!("PNG encoding: {error}")))?;
    Ok(out)
}

/// Straight-alpha RGBA composited over opaque white, as RGB.
pub(crate) fn on_white(rgba: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
    for pixel in rgba.chunks_exact(4) {
        let alpha = u32::from(pixel[3]);
        for &channel in &pixel[..3] {
            let blended = (u32::from(channel) * alpha + 255 * (255 - alpha) + 127) / 255;
            rgb.push(u8::try_from(blended).unwrap_or(u8::MAX));
        }
    }
    rgb
}
