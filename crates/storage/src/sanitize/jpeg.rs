//! JPEG: marker segments walked one by one, entropy-coded data copied as it is.

use picture_domain::InspectError;

use super::{Compactor, cut_short, exif, malformed};

/// Whether the segment with `marker` and `payload` (after its length) is kept.
fn kept(marker: u8, payload: &[u8]) -> bool {
    match marker {
        // JFIF (not its JFXX extension, which may carry a thumbnail).
        0xE0 => payload.starts_with(b"JFIF\0"),
        // An ICC colour profile, needed to show the colours right.
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        // Adobe's colour transform flag, needed to decode CMYK and YCCK images.
        0xEE => payload.starts_with(b"Adobe"),
        // Other application segments (EXIF, XMP, IPTC, maker notes…) and comments.
        0xE1..=0xEF | 0xFE => false,
        _ => true,
    }
}

/// Strips the metadata of the JPEG in `bytes` in place; returns its EXIF orientation (1 when
/// it has none), which is kept in a minimal EXIF block of its own.
pub(super) fn strip(bytes: &mut Vec<u8>) -> Result<u16, InspectError> {
    let length = bytes.len();
    let mut out = Compactor::new();
    out.keep(bytes, 0..2);
    let mut at = 2;
    let mut orientation = None;
    let mut frames = 0;
    loop {
        // At a marker: `0xFF`, maybe fill bytes `0xFF`, then the marker's code.
        if bytes.get(at) != Some(&0xFF) {
            return Err(malformed("its segments are broken"));
        }
        let mut code_at = at + 1;
        while bytes.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let marker = *bytes.get(code_at).ok_or_else(cut_short)?;
        match marker {
            0xD9 => {
                if frames == 0 {
                    return Err(malformed("it has no image data"));
                }
                out.keep(bytes, code_at - 1..code_at + 1);
                break;
            }
            0xD0..=0xD7 | 0x01 => {
                out.keep(bytes, code_at - 1..code_at + 1);
                at = code_at + 1;
                continue;
            }
            0x00 | 0xD8 => return Err(malformed("its segments are broken")),
            _ => {}
        }
        let size = bytes.get(code_at + 1..code_at + 3).ok_or_else(cut_short)?;
        let size = usize::from(u16::from_be_bytes([size[0], size[1]]));
        if size < 2 {
            return Err(malformed("its segments are broken"));
        }
        let end = code_at + 1 + size;
        if end > length {
            return Err(cut_short());
        }
        let payload = &bytes[code_at + 3..end];
        if marker == 0xE1 && orientation.is_none() {
            orientation = payload
                .strip_prefix(b"Exif\0\0")
                .and_then(exif::orientation);
            if let Some(turned) = orientation.filter(|o| *o != 1) {
                // In place of the block it comes from, which is at least as long.
                if !out.insert(bytes, &exif::orientation_segment(turned), end) {
                    orientation = Some(1);
                }
            }
        } else if kept(marker, payload) {
            out.keep(bytes, code_at - 1..end);
        }
        at = end;
        if marker == 0xDA {
            frames += 1;
            at = skip_entropy_coded(bytes, at, &mut out)?;
        }
    }
    let orientation = orientation.unwrap_or(1);
    out.finish(bytes);
    Ok(orientation)
}

/// Copies the entropy-coded data starting at `from` (where stuffed `0xFF 0x00` bytes and
/// restart markers belong to the data) and returns where the next marker starts.
fn skip_entropy_coded(
    bytes: &mut [u8],
    from: usize,
    out: &mut Compactor,
) -> Result<usize, InspectError> {
    let mut at = from;
    loop {
        let next = bytes[at..]
            .iter()
            .position(|b| *b == 0xFF)
            .map(|offset| at + offset)
            .ok_or_else(cut_short)?;
        match bytes.get(next + 1) {
            None => return Err(cut_short()),
            Some(0x00 | 0xD0..=0xD7) => at = next + 2,
            Some(0xFF) => at = next + 1,
            Some(_) => {
                out.keep(bytes, from..next);
                return Ok(next);
            }
        }
    }
}
