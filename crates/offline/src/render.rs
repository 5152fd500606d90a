//! Drawing the preview: a deterministic function of (prompt, seed, width, height) to PNG bytes.

/// Largest side drawn, in pixels.
pub const MAX_SIDE: u32 = 2048;

/// Why a preview could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A side is 0 or larger than [`MAX_SIDE`].
    #[error("cannot draw a {0}×{1} preview")]
    Size(u32, u32),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// A small deterministic generator (SplitMix64), seeded from the inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn colour(&mut self) -> [f32; 3] {
        [self.unit(), self.unit(), self.unit()].map(|c| 0.15 + 0.8 * c)
    }
}

/// FNV-1a over the prompt, mixed with the seed.
fn seed_of(prompt: &str, seed: Option<i64>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in prompt.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ seed.map_or(0, |s| s as u64).rotate_left(17)
}

struct Blob {
    x: f32,
    y: f32,
    radius: f32,
    colour: [f32; 3],
}

/// Draws the preview for `prompt` and `seed` at `width × height` and encodes it as PNG.
///
/// # Errors
/// [`RenderError::Size`] for a side of 0 or above [`MAX_SIDE`]; [`RenderError::Encode`] if the
/// encoder fails.
pub fn render_png(
    prompt: &str,
    seed: Option<i64>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, RenderError> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(RenderError::Size(width, height));
    }
    let mut rng = Rng(seed_of(prompt, seed));
    let top = rng.colour();
    let bottom = rng.colour();
    let blobs: Vec<Blob> = (0..6)
        .map(|_| Blob {
            x: rng.unit(),
            y: rng.unit(),
            radius: 0.08 + 0.25 * rng.unit(),
            colour: rng.colour(),
        })
        .collect();
    let (w, h) = (width as f32, height as f32);
    let scale = w.min(h);
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for row in 0..height {
        let t = row as f32 / h;
        for column in 0..width {
            let mut rgb = [0.0f32; 3];
            for (c, value) in rgb.iter_mut().enumerate() {
                *value = top[c] * (1.0 - t) + bottom[c] * t;
            }
            for blob in &blobs {
                let dx = (column as f32 - blob.x * w) / scale;
                let dy = (row as f32 - blob.y * h) / scale;
                let distance = (dx * dx + dy * dy).sqrt() / blob.radius;
                if distance < 1.0 {
                    let weight = 0.7 * (1.0 - distance * distance);
                    for (c, value) in rgb.iter_mut().enumerate() {
                        *value = *value * (1.0 - weight) + blob.colour[c] * weight;
                    }
                }
            }
            pixels.extend(rgb.map(|v| (v.clamp(0.0, 1.0) * 255.0) as u8));
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder
        .write_header()
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimensions(png_bytes: &[u8]) -> (u32, u32) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        (info.width, info.height)
    }

    #[test]
    fn the_preview_is_a_png_of_the_requested_size() {
        let bytes = render_png("a lighthouse", Some(1), 320, 200).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(dimensions(&bytes), (320, 200));
    }

    #[test]
    fn the_same_inputs_draw_the_same_image_and_others_differ() {
        let a = render_png("a lighthouse", Some(7), 64, 64).unwrap();
        assert_eq!(a, render_png("a lighthouse", Some(7), 64, 64).unwrap());
        assert_ne!(a, render_png("a lighthouse", Some(8), 64, 64).unwrap());
        assert_ne!(a, render_png("a lighthouse!", Some(7), 64, 64).unwrap());
    }

    #[test]
    fn impossible_sizes_are_errors() {
        assert_eq!(render_png("x", None, 0, 10), Err(RenderError::Size(0, 10)));
        assert!(render_png("x", None, MAX_SIDE + 1, 10).is_err());
    }
}
