//! Uploaded images: recognised from their bytes, sized from their headers, and stripped of
//! their metadata in place — losslessly (no re-encoding: the pixels are the bytes the user
//! sent) and without a second copy of the file in memory.
//!
//! What goes: JPEG `APP1`–`APP15` segments (EXIF with its GPS location, XMP, Photoshop/IPTC,
//! maker notes) and comments, except an ICC colour profile (`APP2 ICC_PROFILE`) and Adobe's
//! colour transform flag (`APP14 Adobe`), which decoding needs; the EXIF orientation is kept
//! as a new minimal EXIF block holding nothing else, so phone photos stay upright. PNG `eXIf`,
//! `tEXt`, `zTXt`, `iTXt` and `tIME` chunks. WebP `EXIF` and `XMP ` chunks (and their flags in
//! `VP8X`). Bytes after the end of the image (JPEG `EOI`, PNG `IEND`, the RIFF size) go too.
//!
//! A file that starts like one of the formats but whose structure is broken or cut short is
//! refused ([`InspectError::Malformed`]).

use picture_domain::ports::ImageInspector;
use picture_domain::{InspectError, InspectedImage};

use crate::format::ImageFormat;

mod exif;
mod jpeg;
mod png;
mod webp;

#[cfg(test)]
mod tests;

/// The [`ImageInspector`] of uploads.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadInspector;

impl ImageInspector for UploadInspector {
    fn inspect(&self, mut bytes: Vec<u8>) -> Result<InspectedImage, InspectError> {
        if bytes.is_empty() {
            return Err(InspectError::Empty);
        }
        let format = ImageFormat::sniff(&bytes).ok_or(InspectError::Unsupported)?;
        let orientation = match format {
            ImageFormat::Jpeg => jpeg::strip(&mut bytes)?,
            ImageFormat::Png => png::strip(&mut bytes).map(|()| 1)?,
            ImageFormat::Webp => webp::strip(&mut bytes).map(|()| 1)?,
        };
        let size = imagesize::blob_size(&bytes)
            .map_err(|_| malformed("its width and height cannot be read"))?;
        let (Ok(width), Ok(height)) = (u32::try_from(size.width), u32::try_from(size.height))
        else {
            return Err(malformed("its width and height cannot be read"));
        };
        if width == 0 || height == 0 {
            return Err(malformed("it has no pixels"));
        }
        // Orientations 5 to 8 turn the image a quarter: it is shown with width and height
        // swapped, and clients lay it out by these.
        let (width, height) = if orientation >= 5 {
            (height, width)
        } else {
            (width, height)
        };
        Ok(InspectedImage {
            bytes,
            extension: format.extension(),
            content_type: format.content_type(),
            width,
            height,
        })
    }
}

/// A [`InspectError::Malformed`] saying `why`.
fn malformed(why: &str) -> InspectError {
    InspectError::Malformed(why.to_owned())
}

/// The image ends before its structure does.
fn cut_short() -> InspectError {
    malformed("it is cut short")
}

/// Rewrites a buffer in place, front to back: the ranges it keeps move towards the start. A
/// range kept never starts before the previous one ended, so nothing is overwritten before it
/// is read; [`finish`](Self::finish) cuts off what is left behind.
struct Compactor {
    written: usize,
}

impl Compactor {
    fn new() -> Self {
        Self { written: 0 }
    }

    /// Keeps `bytes[range]` (which must start at or after everything read so far).
    fn keep(&mut self, bytes: &mut [u8], range: std::ops::Range<usize>) {
        let length = range.len();
        bytes.copy_within(range, self.written);
        self.written += length;
    }

    /// Writes `new` in place of data that ends at `until`, if it fits there.
    fn insert(&mut self, bytes: &mut [u8], new: &[u8], until: usize) -> bool {
        let end = self.written + new.len();
        if end > until {
            return false;
        }
        bytes[self.written..end].copy_from_slice(new);
        self.written = end;
        true
    }

    /// How much has been kept.
    fn len(&self) -> usize {
        self.written
    }

    fn finish(self, bytes: &mut Vec<u8>) {
        bytes.truncate(self.written);
    }
}
