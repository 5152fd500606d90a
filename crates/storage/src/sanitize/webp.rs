//! WebP: RIFF chunks walked one by one; `EXIF` and `XMP ` dropped.

use picture_domain::InspectError;

use super::{Compactor, cut_short, malformed};

/// `VP8X` flags of the chunks dropped here.
const EXIF_AND_XMP_FLAGS: u8 = 0x08 | 0x04;

/// Strips the metadata of the WebP in `bytes` in place and fixes the RIFF size. Bytes past the
/// RIFF size are dropped.
pub(super) fn strip(bytes: &mut Vec<u8>) -> Result<(), InspectError> {
    let declared = bytes.get(4..8).ok_or_else(cut_short)?;
    let declared = u32::from_le_bytes([declared[0], declared[1], declared[2], declared[3]]);
    let riff_end = usize::try_from(declared)
        .ok()
        .and_then(|n| n.checked_add(8))
        .ok_or_else(cut_short)?;
    if riff_end > bytes.len() {
        return Err(cut_short());
    }
    let mut out = Compactor::new();
    out.keep(bytes, 0..12);
    let mut at = 12;
    let mut has_image = false;
    while at < riff_end {
        let head = bytes.get(at..at + 8).ok_or_else(cut_short)?;
        let kind: [u8; 4] = [head[0], head[1], head[2], head[3]];
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let size = usize::try_from(size).map_err(|_| cut_short())?;
        // Chunks are padded to an even size; the last one's padding may be missing.
        let data_end = at.checked_add(8 + size).ok_or_else(cut_short)?;
        if data_end > riff_end {
            return Err(cut_short());
        }
        let end = (data_end + (size & 1)).min(riff_end);
        match &kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                if size < 10 {
                    return Err(malformed("its header is broken"));
                }
                let flags_at = out.len() + 8;
                out.keep(bytes, at..end);
                bytes[flags_at] &= !EXIF_AND_XMP_FLAGS;
            }
            _ => {
                has_image |= matches!(&kind, b"VP8 " | b"VP8L");
                out.keep(bytes, at..end);
            }
        }
        at = end;
    }
    if !has_image {
        return Err(malformed("it has no image data"));
    }
    let riff_size = u32::try_from(out.len() - 8).map_err(|_| cut_short())?;
    bytes[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out.finish(bytes);
    Ok(())
}
