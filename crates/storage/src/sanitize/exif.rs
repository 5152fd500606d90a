//! The one EXIF field an upload keeps: its orientation.

/// The orientation (1 to 8) in an EXIF block (the bytes after `Exif\0\0`: a TIFF header and
/// its first directory); `None` when absent or unreadable.
pub(super) fn orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let directory = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(directory)?);
    (0..entries).find_map(|n| {
        let entry = directory + 2 + n * 12;
        // Tag 0x0112, type SHORT, one value.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3 && u32_at(entry + 4)? == 1)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|value| (1..=8).contains(value))
    })
}

/// A JPEG `APP1` segment whose EXIF holds only `orientation` (36 bytes).
pub(super) fn orientation_segment(orientation: u16) -> [u8; 36] {
    let [high, low] = orientation.to_be_bytes();
    [
        0xFF, 0xE1, 0x00, 0x22, // APP1, length 34
        b'E', b'x', b'i', b'f', 0, 0, // EXIF identifier
        b'M', b'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // TIFF, big-endian, IFD0 at 8
        0x00, 0x01, // one entry
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, high, low, 0x00, 0x00, // orientation
        0x00, 0x00, 0x00, 0x00, // no next IFD
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orientation_is_read_in_both_byte_orders_and_survives_the_minimal_block() {
        let block = orientation_segment(6);
        assert_eq!(orientation(&block[10..]), Some(6));
        let little = [
            b'I', b'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,
        ];
        assert_eq!(orientation(&little), Some(8));
        assert_eq!(orientation(b"MM\0*\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b""), None);
    }
}
