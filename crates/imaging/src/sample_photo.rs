//! Photo-like test images made in code: smooth gradients, soft shapes and deterministic
//! noise, so that encoders see the kind of detail a photograph has (not flat colour).
//! Shared by the crate's tests, its benchmark and its example.

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageError, Rgb, RgbImage};

/// A deterministic pseudo-random byte for pixel (`x`, `y`) of image `seed`.
fn noise(x: u32, y: u32, seed: u32) -> u32 {
    let mut h = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77) ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h & 0xFF
}

/// A `width`×`height` photo-like RGB image; another `seed` gives another picture.
pub fn photo(width: u32, height: u32, seed: u32) -> RgbImage {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let (phase_x, phase_y) = (f64::from(seed % 97) * 0.7, f64::from(seed % 89) * 1.3);
    let blob_x = 0.25 + 0.5 * f64::from(seed.wrapping_mul(37) % 100) / 100.0;
    let blob_y = 0.25 + 0.5 * f64::from(seed.wrapping_mul(61) % 100) / 100.0;
    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (f64::from(x) / w, f64::from(y) / h);
        let wave = ((u * 7.0 + phase_x).sin() * (v * 5.0 - phase_y).cos() + 1.0) / 2.0;
        let blob = (-((u - blob_x).powi(2) + (v - blob_y).powi(2)) * 12.0).exp();
        let grain = f64::from(noise(x, y, seed)) / 255.0 - 0.5;
        let channel = |base: f64| {
            let value = (base + grain * 0.12).clamp(0.0, 1.0) * 255.0;
            // In 0..=255 after the clamp: the conversion is exact.
            value.round() as u8
        };
        Rgb([
            channel(0.15 + 0.55 * u + 0.3 * blob),
            channel(0.25 + 0.45 * wave + 0.2 * blob),
            channel(0.7 - 0.5 * v + 0.1 * wave),
        ])
    })
}

/// [`photo`] encoded as PNG.
///
/// # Errors
/// As the PNG encoder.
pub fn photo_png(width: u32, height: u32, seed: u32) -> Result<Vec<u8>, ImageError> {
    let image = photo(width, height, seed);
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(
        image.as_raw(),
        width,
        height,
        ExtendedColorType::Rgb8,
    )?;
    Ok(png)
}
