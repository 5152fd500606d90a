//! Reading an uploaded file: its format, its size, and its bytes without metadata.

use crate::upload::{InspectError, InspectedImage};

/// Recognises uploaded images from their bytes and removes their metadata.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ImageInspector: Send + Sync {
    /// Inspects `bytes`: recognises PNG, JPEG or WebP from the magic numbers alone, reads the
    /// width and height from the header (without decoding pixels), and returns the bytes with
    /// every metadata block removed (EXIF and its GPS location, XMP, comments and text chunks)
    /// and the pixels untouched. It works on the buffer it is given, without a second copy.
    ///
    /// # Errors
    /// [`InspectError::Empty`] for no bytes; [`InspectError::Unsupported`] for anything that is
    /// not one of the three formats; [`InspectError::Malformed`] for a recognised format whose
    /// structure is broken or cut short, or whose size cannot be read.
    fn inspect(&self, bytes: Vec<u8>) -> Result<InspectedImage, InspectError>;
}
