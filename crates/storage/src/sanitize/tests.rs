use picture_domain::ports::ImageInspector;
use picture_domain::{InspectError, InspectedImage};

use super::UploadInspector;
use super::exif::orientation_segment;

/// A location that must never survive.
const GPS: &[u8] = b"GPS 52.5200N 13.4050E";

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An EXIF block holding `orientation` and a GPS text (little-endian TIFF).
fn exif(orientation: u16) -> Vec<u8> {
    let mut tiff = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(GPS);
    tiff
}

/// A JPEG of `width`×`height` with every kind of metadata, entropy data with stuffed bytes and
/// restart markers, two scans, and bytes after its end.
pub(crate) fn jpeg(width: u16, height: u16, orientation: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0"));
    out.extend(segment(0xE1, &exif(orientation)));
    out.extend(segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>",
    ));
    out.extend(segment(0xED, b"Photoshop 3.0\0IPTC GPS"));
    out.extend(segment(0xFE, b"a comment about GPS"));
    out.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01profile"));
    out.extend(segment(0xDB, &[0; 65]));
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend(segment(0xC0, &frame));
    out.extend(segment(0xC4, &[0; 20]));
    out.extend(segment(0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0]));
    out.extend_from_slice(&[
        0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0x00, 0x78,
    ]);
    out.extend(segment(0xC4, &[1; 20]));
    out.extend(segment(0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0]));
    out.extend_from_slice(&[0x9A, 0xBC]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out.extend_from_slice(b"trailer GPS");
    out
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 4]);
    out
}

/// A PNG of `width`×`height` with text, time and EXIF chunks, and bytes after its end.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend(chunk(b"IHDR", &header));
    out.extend(chunk(b"tEXt", b"Comment\0GPS"));
    out.extend(chunk(b"eXIf", GPS));
    out.extend(chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0GPS"));
    out.extend(chunk(b"zTXt", b"Raw\0\0GPS"));
    out.extend(chunk(b"tIME", &[7, 234, 1, 1, 0, 0, 0]));
    out.extend(chunk(b"iCCP", b"icc\0\0profile"));
    out.extend(chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3, 4]));
    out.extend(chunk(b"IEND", &[]));
    out.extend_from_slice(b"trailer GPS");
    out
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A WebP of `width`×`height` (extended format) with EXIF and XMP, and bytes after its end.
pub(crate) fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut header = vec![0x10 | 0x08 | 0x04, 0, 0, 0];
    header.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    header.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &header));
    body.extend(riff_chunk(b"EXIF", GPS));
    let bits = (width - 1) | ((height - 1) << 14);
    let mut lossless = vec![0x2F];
    lossless.extend_from_slice(&bits.to_le_bytes());
    lossless.extend_from_slice(&[1, 2, 3]);
    body.extend(riff_chunk(b"VP8L", &lossless));
    body.extend(riff_chunk(b"XMP ", b"<x:xmpmeta>GPS</x:xmpmeta>"));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out.extend_from_slice(b"trailer GPS");
    out
}

fn inspect(bytes: Vec<u8>) -> Result<InspectedImage, InspectError> {
    UploadInspector.inspect(bytes)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_jpeg_loses_every_metadata_segment_and_keeps_its_colours_scans_and_orientation() {
    let original = jpeg(640, 480, 6);
    let image = inspect(original.clone()).unwrap();
    assert_eq!(image.extension, "jpeg");
    assert_eq!(image.content_type, "image/jpeg");
    // Orientation 6 shows it turned a quarter.
    assert_eq!((image.width, image.height), (480, 640));
    let bytes = &image.bytes;
    assert!(!contains(bytes, b"GPS"), "{bytes:?}");
    assert!(!contains(bytes, b"xmpmeta") && !contains(bytes, b"comment"));
    assert!(contains(bytes, &orientation_segment(6)));
    assert!(contains(bytes, b"ICC_PROFILE") && contains(bytes, b"JFIF"));
    // Everything from the first table on is unchanged, up to the end of the image.
    let tables = original.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
    let end = original.len() - b"trailer GPS".len();
    assert!(bytes.ends_with(&original[tables..end]));
    assert_eq!(bytes[..2], [0xFF, 0xD8]);
}

#[test]
fn an_upright_jpeg_keeps_no_exif_at_all() {
    let image = inspect(jpeg(10, 20, 1)).unwrap();
    assert!(!contains(&image.bytes, b"Exif"));
    assert_eq!((image.width, image.height), (10, 20));
    // Stripping what is already stripped changes nothing.
    let again = inspect(image.bytes.clone()).unwrap();
    assert_eq!(again, image);
}

#[test]
fn a_png_loses_its_text_time_and_exif_chunks_and_keeps_the_rest() {
    let image = inspect(png(300, 200)).unwrap();
    assert_eq!(
        (image.extension, image.width, image.height),
        ("png", 300, 200)
    );
    let bytes = &image.bytes;
    assert!(!contains(bytes, b"GPS"));
    for gone in [b"tEXt", b"eXIf", b"iTXt", b"zTXt", b"tIME"] {
        assert!(!contains(bytes, gone));
    }
    assert!(contains(bytes, b"iCCP") && contains(bytes, b"IDAT"));
    assert!(bytes.ends_with(&chunk(b"IEND", &[])));
}

#[test]
fn a_webp_loses_exif_and_xmp_with_their_flags_and_its_size_is_fixed() {
    let image = inspect(webp(1000, 700)).unwrap();
    assert_eq!(
        (image.extension, image.width, image.height),
        ("webp", 1000, 700)
    );
    let bytes = &image.bytes;
    assert!(!contains(bytes, b"GPS") && !contains(bytes, b"EXIF") && !contains(bytes, b"XMP "));
    let size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    assert_eq!(size as usize, bytes.len() - 8);
    // VP8X flags: alpha kept, EXIF and XMP cleared.
    assert_eq!(bytes[20], 0x10);
    assert!(contains(bytes, b"VP8L"));
}

#[test]
fn anything_but_the_three_formats_is_unsupported_whatever_it_claims() {
    for bytes in [
        b"<!DOCTYPE html><html>".to_vec(),
        b"GIF89a\x01\0\x01\0".to_vec(),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        b"%PDF-1.7".to_vec(),
        vec![0x89, b'P', b'N'],
    ] {
        assert_eq!(inspect(bytes), Err(InspectError::Unsupported));
    }
    assert_eq!(inspect(Vec::new()), Err(InspectError::Empty));
}

#[test]
fn images_cut_anywhere_are_refused_as_malformed() {
    for whole in [png(8, 8), jpeg(8, 8, 3), webp(8, 8)] {
        let trailer = b"trailer GPS".len();
        for cut in 4..whole.len() - trailer {
            let mut part = whole[..cut].to_vec();
            if part.starts_with(b"RIFF") && cut >= 8 {
                // Claim the whole size, as a cut-off download would.
                part[4..8].copy_from_slice(&whole[4..8]);
            }
            assert!(
                matches!(
                    inspect(part),
                    Err(InspectError::Malformed(_) | InspectError::Unsupported)
                ),
                "cut at {cut} of {}",
                whole.len()
            );
        }
    }
}

#[test]
fn broken_structures_are_malformed_not_a_panic() {
    let mut no_header = png(4, 4);
    no_header[12..16].copy_from_slice(b"tEXt");
    assert!(matches!(
        inspect(no_header),
        Err(InspectError::Malformed(_))
    ));
    let mut huge_chunk = png(4, 4);
    huge_chunk[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        inspect(huge_chunk),
        Err(InspectError::Malformed(_))
    ));
    let zero_size = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00];
    assert!(matches!(
        inspect(zero_size.to_vec()),
        Err(InspectError::Malformed(_))
    ));
    let no_scan = [0xFF, 0xD8, 0xFF, 0xD9];
    assert!(matches!(
        inspect(no_scan.to_vec()),
        Err(InspectError::Malformed(_))
    ));
    let no_pixels = png(0, 4);
    assert!(matches!(
        inspect(no_pixels),
        Err(InspectError::Malformed(_))
    ));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_bytes_after_a_magic_number_never_panic(
            magic in 0usize..3,
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut bytes = [
                b"\x89PNG\r\n\x1a\n".to_vec(),
                vec![0xFF, 0xD8, 0xFF],
                b"RIFF\0\0\0\0WEBP".to_vec(),
            ][magic].clone();
            bytes.extend(tail);
            if let Ok(image) = inspect(bytes.clone()) {
                prop_assert!(image.bytes.len() <= bytes.len());
            }
        }
    }
}
