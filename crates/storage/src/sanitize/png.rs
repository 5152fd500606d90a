//! PNG: chunks walked one by one; text, time and EXIF chunks dropped.

use picture_domain::InspectError;

use super::{Compactor, cut_short, malformed};

/// The chunks that carry metadata: EXIF (with GPS), text of any kind, the modification time.
const DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

/// Strips the metadata of the PNG in `bytes` in place. It must start with `IHDR`, hold image
/// data and end with `IEND` (anything after that is dropped).
pub(super) fn strip(bytes: &mut Vec<u8>) -> Result<(), InspectError> {
    let mut out = Compactor::new();
    out.keep(bytes, 0..8);
    let mut at = 8;
    let mut has_data = false;
    loop {
        let head = bytes.get(at..at + 8).ok_or_else(cut_short)?;
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let size = usize::try_from(size).map_err(|_| cut_short())?;
        // Length, type, data, CRC.
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(size))
            .ok_or_else(cut_short)?;
        if end > bytes.len() {
            return Err(cut_short());
        }
        if at == 8 && &kind != b"IHDR" {
            return Err(malformed("it does not start with a header"));
        }
        has_data |= &kind == b"IDAT";
        if !DROPPED.contains(&&kind) {
            out.keep(bytes, at..end);
        }
        at = end;
        if &kind == b"IEND" {
            break;
        }
    }
    if !has_data {
        return Err(malformed("it has no image data"));
    }
    out.finish(bytes);
    Ok(())
}
