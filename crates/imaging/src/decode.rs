//! Reading a source: its size from its header first, then its pixels within the limits.

use std::io::Cursor;

use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};
use imagesize::ImageType;
use picture_domain::ports::RenderError;

use crate::bitmap::{Bitmap, Channels};

/// What a source's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// PNG, JPEG or WebP.
    pub(crate) format: ImageFormat,
    /// Width in pixels (at least 1).
    pub(crate) width: u32,
    /// Height in pixels (at least 1).
    pub(crate) height: u32,
}

/// The format and size of `source` from its header alone (nothing is decompressed).
///
/// # Errors
/// [`RenderError::NotAnImage`] for anything but a PNG, JPEG or WebP header of a non-empty
/// image, and [`RenderError::TooManyPixels`] for more than `max_pixels` pixels.
pub(crate) fn read_header(source: &[u8], max_pixels: u64) -> Result<Header, RenderError> {
    let format = match imagesize::image_type(source) {
        Ok(ImageType::Png) => ImageFormat::Png,
        Ok(ImageType::Jpeg) => ImageFormat::Jpeg,
        Ok(ImageType::Webp) => ImageFormat::WebP,
        _ => return Err(RenderError::NotAnImage),
    };
    let size = imagesize::blob_size(source).map_err(|_| RenderError::NotAnImage)?;
    let (Ok(width), Ok(height)) = (u32::try_from(size.width), u32::try_from(size.height)) else {
        return Err(RenderError::NotAnImage);
    };
    if width == 0 || height == 0 {
        return Err(RenderError::NotAnImage);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(RenderError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(Header {
        format,
        width,
        height,
    })
}

/// The image's decoder may allocate at most this many bytes a pixel of the limit (a 16-bit
/// RGBA source needs 8).
const ALLOC_BYTES_PER_PIXEL: u64 = 8;

/// The pixels of `source`, whose header was read as `header`, as 8-bit RGB or RGBA as the
/// source has transparency or not.
///
/// The decoder is held to the header's size (so a decoder that disagrees with the header
/// cannot produce more) and to an allocation budget of the pixel limit.
///
/// # Errors
/// [`RenderError::NotAnImage`] for data that does not decode (garbage, truncated), and
/// [`RenderError::TooManyPixels`] when the decoder hits the limits.
pub(crate) fn decode(
    source: &[u8],
    header: Header,
    max_pixels: u64,
) -> Result<Bitmap, RenderError> {
    if header.format == ImageFormat::Jpeg && !jpeg_is_complete(source) {
        return Err(RenderError::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(header.width);
    limits.max_image_height = Some(header.height);
    limits.max_alloc = Some(max_pixels.saturating_mul(ALLOC_BYTES_PER_PIXEL));
    let mut reader = ImageReader::with_format(Cursor::new(source), header.format);
    reader.limits(limits);
    let image = reader.decode().map_err(|error| match error {
        ImageError::Limits(_) => RenderError::TooManyPixels {
            width: header.width,
            height: header.height,
            limit: max_pixels,
        },
        _ => RenderError::NotAnImage,
    })?;
    Ok(into_bitmap(image))
}

/// Whether a JPEG has its end-of-image marker after its first scan. The JPEG decoder fills a
/// truncated image's missing rows with grey instead of failing; a truncated upload must not
/// become a variant. (`FF D9` cannot occur inside entropy-coded data, where `FF` is stuffed.)
fn jpeg_is_complete(source: &[u8]) -> bool {
    const START_OF_SCAN: [u8; 2] = [0xFF, 0xDA];
    const END_OF_IMAGE: [u8; 2] = [0xFF, 0xD9];
    let first_scan = source.windows(2).position(|w| w == START_OF_SCAN);
    let last_end = source.windows(2).rposition(|w| w == END_OF_IMAGE);
    matches!((first_scan, last_end), (Some(scan), Some(end)) if end > scan)
}

/// 8-bit RGBA if the image has an alpha channel, else 8-bit RGB.
fn into_bitmap(image: DynamicImage) -> Bitmap {
    let (width, height) = (image.width(), image.height());
    if image.color().has_alpha() {
        Bitmap {
            width,
            height,
            channels: Channels::Rgba,
            data: image.into_rgba8().into_raw(),
        }
    } else {
        Bitmap {
            width,
            height,
            channels: Channels::Rgb,
            data: image.into_rgb8().into_raw(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::jpeg_is_complete;

    #[test]
    fn a_jpeg_is_complete_with_an_end_marker_after_its_first_scan() {
        assert!(jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9
        ]));
        assert!(jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 0xFF, 0xD9, 0, 0
        ]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 3]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1]));
        assert!(!jpeg_is_complete(&[]));
    }
}
