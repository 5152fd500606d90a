//! The renderer's behaviour through its port, on images made in code.

mod formats;
mod placeholders;
mod refusals;
mod variants;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageEncoder, RgbaImage};
use picture_domain::variant::{OutputFormat, Resize, VariantSpec};

use crate::sample_photo::photo;
use crate::{ImagingSettings, Renderer};

/// A renderer with the default limits on 2 threads.
fn renderer() -> Renderer {
    Renderer::new(ImagingSettings {
        threads: 2,
        ..ImagingSettings::default()
    })
}

/// A spec of a box (either side optional).
fn spec(
    width: Option<u32>,
    height: Option<u32>,
    resize: Resize,
    quality: u8,
    format: OutputFormat,
) -> VariantSpec {
    VariantSpec {
        width,
        height,
        resize,
        quality,
        format,
    }
}

/// `image` as PNG bytes (RGB or RGBA as it is).
fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .unwrap();
    out
}

/// A photo-like PNG.
fn photo_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    png(&DynamicImage::ImageRgb8(photo(width, height, seed)))
}

/// A photo-like JPEG at quality 90.
fn photo_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let image = photo(width, height, seed);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A `size`×`size` RGBA image: the left half fully transparent (black), the right half
/// opaque red.
fn half_transparent(size: u32) -> RgbaImage {
    RgbaImage::from_fn(size, size, |x, _| {
        if x < size / 2 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([230, 20, 20, 255])
        }
    })
}

/// `bytes` decoded by the `image` crate (its own decoders, not the renderer's path).
fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}
