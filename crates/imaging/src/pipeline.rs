//! The blocking work of one call: header, decode, crop and resize, encode.

use picture_domain::ports::{RenderError, RenderedImage};
use picture_domain::variant::{VariantSpec, plan};

use crate::bitmap::{Bitmap, Channels};
use crate::deadline::Deadline;
use crate::{decode, encode, resize};

/// The long side of the copy a blurhash is computed from.
const BLURHASH_SIDE: u32 = 32;
/// Blurhash components across and down (as the clients' placeholders use).
const BLURHASH_COMPONENTS: (u32, u32) = (4, 3);

/// `source` decoded within `max_pixels`, stopping early at `deadline`.
fn decoded(source: &[u8], max_pixels: u64, deadline: Deadline) -> Result<Bitmap, RenderError> {
    let header = decode::read_header(source, max_pixels)?;
    let bitmap = decode::decode(source, header, max_pixels)?;
    deadline.check()?;
    Ok(bitmap)
}

/// The variant `spec` of `source`: [`plan`]'s crop and size, encoded as `spec.format`.
pub(crate) fn render(
    source: &[u8],
    spec: &VariantSpec,
    max_pixels: u64,
    deadline: Deadline,
) -> Result<RenderedImage, RenderError> {
    let bitmap = decoded(source, max_pixels, deadline)?;
    let plan = plan(bitmap.width, bitmap.height, spec);
    let bitmap = resize::crop_and_resize(bitmap, plan.crop, plan.width, plan.height)?;
    deadline.check()?;
    let bytes = encode::encode(&bitmap, spec.format, spec.quality)?;
    Ok(RenderedImage {
        bytes,
        width: bitmap.width,
        height: bitmap.height,
        format: spec.format,
    })
}

/// The 4×3 blurhash of `source`, from a copy at most [`BLURHASH_SIDE`] pixels on its long
/// side, transparency composited on white.
pub(crate) fn blurhash(
    source: &[u8],
    max_pixels: u64,
    deadline: Deadline,
) -> Result<String, RenderError> {
    let bitmap = decoded(source, max_pixels, deadline)?;
    let (width, height) = within(bitmap.width, bitmap.height, BLURHASH_SIDE);
    let small = resize::crop_and_resize(bitmap, None, width, height)?;
    deadline.check()?;
    // A blurhash has no transparency: transparent pixels count as white, as in JPEG variants.
    let rgb = match small.channels {
        Channels::Rgba => encode::on_white(&small.data),
        Channels::Rgb => small.data,
    };
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], u8::MAX])
        .collect();
    let (x, y) = BLURHASH_COMPONENTS;
    blurhash::encode(x, y, width, height, &rgba)
        .map_err(|error| RenderError::Failed(format!("blurhash: {error}")))
}

/// `width`×`height` scaled down (never up) so that the long side is at most `side`, each
/// side at least 1.
fn within(width: u32, height: u32, side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= side {
        return (width, height);
    }
    let scaled = |d: u32| {
        let d = (u64::from(d) * u64::from(side) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(d).unwrap_or(side).max(1)
    };
    (scaled(width), scaled(height))
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn blurhash_copies_keep_the_proportions() {
        assert_eq!(within(1024, 768, 32), (32, 24));
        assert_eq!(within(768, 1024, 32), (24, 32));
        assert_eq!(within(20, 10, 32), (20, 10));
        assert_eq!(within(10_000, 1, 32), (32, 1));
    }
}
